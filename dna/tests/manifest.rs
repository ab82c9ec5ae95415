//! DNA manifests: good ones parse and hash stably; bad values get errors that name the field.

use myco_dna::manifest::{Admission, BenefitModel};
use myco_dna::{DnaManifest, ManifestError, Visibility};

const GOOD: &str = include_str!("fixtures/river.toml");

const ZOMES: [&str; 4] = ["membership", "governance", "content", "value"];

fn field_error(text: &str) -> (String, String) {
    match DnaManifest::from_toml(text) {
        Err(ManifestError::Invalid { field, problem }) => (field, problem),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn a_good_manifest_parses_into_typed_properties() {
    let manifest = DnaManifest::from_toml(GOOD).unwrap();
    manifest.check_zomes(&ZOMES).unwrap();
    let p = &manifest.properties;
    assert_eq!(p.admission, Admission::Invite);
    assert_eq!(p.min_creator_share_bp.0, 7500);
    assert_eq!(p.benefit_model, BenefitModel::Contribution);
    assert_eq!(p.cultural_protocols[0].max_visibility, Visibility::Pod);
    assert_eq!(p.voting.emergency.unwrap().window_secs, 86400);
    assert_eq!(manifest.territory.parent.as_deref(), Some("EU"));
}

#[test]
fn the_pod_id_is_stable_and_depends_on_every_field() {
    let a = DnaManifest::from_toml(GOOD).unwrap().dna_hash();
    assert_eq!(a, DnaManifest::from_toml(GOOD).unwrap().dna_hash());
    assert_eq!(
        a.to_string(),
        include_str!("golden/manifest.dna").trim(),
        "manifest hashing changed: every pod id would change"
    );
    let other = DnaManifest::from_toml(&GOOD.replace("river-2026", "river-2027")).unwrap();
    assert_ne!(a, other.dna_hash());
}

#[test]
fn a_share_above_10000_bp_is_refused() {
    let (field, problem) = field_error(&GOOD.replace(
        "min_creator_share_bp = 7500",
        "min_creator_share_bp = 10001",
    ));
    assert_eq!(field, "properties.min_creator_share_bp");
    assert!(problem.contains("0 to 10000"), "{problem}");
}

#[test]
fn a_zero_threshold_is_refused() {
    let (field, problem) = field_error(&GOOD.replace("threshold_bp = 5000", "threshold_bp = 0"));
    assert_eq!(field, "properties.voting.threshold_bp");
    assert!(problem.contains("zero threshold"), "{problem}");
}

#[test]
fn an_emergency_rule_weaker_than_the_normal_rule_is_refused() {
    let (field, _) = field_error(&GOOD.replace("threshold_bp = 7500", "threshold_bp = 4000"));
    assert_eq!(field, "properties.voting.emergency.threshold_bp");
}

#[test]
fn an_unknown_zome_is_refused() {
    let manifest = DnaManifest::from_toml(&GOOD.replace("\"value\"]", "\"payments\"]")).unwrap();
    let err = manifest.check_zomes(&ZOMES).unwrap_err();
    assert!(err.to_string().contains("unknown zome `payments`"), "{err}");
}

#[test]
fn a_protocol_with_no_name_is_refused() {
    let (field, problem) = field_error(&GOOD.replace("name = \"sacred\"", "name = \"\""));
    assert_eq!(field, "properties.cultural_protocols[0].name");
    assert!(problem.contains("needs a name"), "{problem}");
}

#[test]
fn a_malformed_founder_key_hash_is_refused() {
    let (field, _) = field_error(&GOOD.replace("kh_0101", "kh_zz01"));
    assert_eq!(field, "properties.founders[0]");
}

#[test]
fn invite_admission_without_founders_is_refused() {
    let text = GOOD.replace(
        "founders = [\"kh_0101010101010101010101010101010101010101010101010101010101010101\"]",
        "founders = []",
    );
    let (field, _) = field_error(&text);
    assert_eq!(field, "properties.founders");
}

#[test]
fn unknown_fields_and_bad_toml_are_refused_with_the_parser_message() {
    let err = DnaManifest::from_toml(&GOOD.replace("network_seed", "network_sead")).unwrap_err();
    assert!(matches!(err, ManifestError::Syntax(_)), "{err}");
    assert!(err.to_string().contains("network_sead"), "{err}");
    let err = DnaManifest::from_toml("name = [unclosed").unwrap_err();
    assert!(matches!(err, ManifestError::Syntax(_)), "{err}");
    let err = DnaManifest::from_toml("").unwrap_err();
    assert!(err.to_string().contains("missing field"), "{err}");
}
