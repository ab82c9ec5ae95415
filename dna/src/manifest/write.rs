//! A manifest written back as the TOML text [`DnaManifest::from_toml`] reads: how a node that
//! received a pod's DNA as canonical CBOR (from a member, when recovering) keeps it in its
//! pods list. Reading the text back gives the same manifest, so the same pod id.

use serde::Serialize;

use super::{Admission, BenefitModel, CulturalProtocol, DnaManifest, Territory, VoteRule};

#[derive(Serialize)]
struct TomlManifest<'a> {
    name: &'a str,
    network_seed: &'a str,
    zomes: &'a [String],
    territory: &'a Territory,
    properties: TomlProperties<'a>,
}

#[derive(Serialize)]
struct TomlProperties<'a> {
    founders: Vec<String>,
    admission: Admission,
    min_creator_share_bp: u16,
    required_principles: &'a [String],
    allowed_regions: &'a [String],
    benefit_model: BenefitModel,
    voting: TomlVoting,
    cultural_protocols: &'a [CulturalProtocol],
}

#[derive(Serialize)]
struct TomlVoting {
    threshold_bp: u16,
    window_secs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    emergency: Option<TomlVoteRule>,
}

#[derive(Serialize)]
struct TomlVoteRule {
    threshold_bp: u16,
    window_secs: u64,
}

impl From<&VoteRule> for TomlVoteRule {
    fn from(rule: &VoteRule) -> Self {
        TomlVoteRule {
            threshold_bp: rule.threshold_bp.0,
            window_secs: rule.window_secs,
        }
    }
}

impl DnaManifest {
    /// The manifest as TOML text that reads back as this very manifest.
    pub fn to_toml(&self) -> String {
        let p = &self.properties;
        let rule = TomlVoteRule::from(&p.voting.rule);
        let manifest = TomlManifest {
            name: &self.name,
            network_seed: &self.network_seed,
            zomes: &self.zomes,
            territory: &self.territory,
            properties: TomlProperties {
                founders: p.founders.iter().map(ToString::to_string).collect(),
                admission: p.admission,
                min_creator_share_bp: p.min_creator_share_bp.0,
                required_principles: &p.required_principles,
                allowed_regions: &p.allowed_regions,
                benefit_model: p.benefit_model,
                voting: TomlVoting {
                    threshold_bp: rule.threshold_bp,
                    window_secs: rule.window_secs,
                    emergency: p.voting.emergency.as_ref().map(TomlVoteRule::from),
                },
                cultural_protocols: &p.cultural_protocols,
            },
        };
        // Every field is a string, a number, a bool or a list or table of them: TOML can
        // hold each.
        toml::to_string(&manifest).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> Vec<String> {
        ["community-media", "storytelling", "territory-dk"]
            .iter()
            .map(|name| {
                let path = format!("{}/examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
                std::fs::read_to_string(path).expect("example")
            })
            .collect()
    }

    #[test]
    fn every_example_reads_back_as_the_same_pod() {
        for text in examples() {
            let dna = DnaManifest::from_toml(&text).expect("the example parses");
            let written = dna.to_toml();
            let back =
                DnaManifest::from_toml(&written).unwrap_or_else(|e| panic!("{e}\n{written}"));
            assert_eq!(back, dna);
            assert_eq!(back.dna_hash(), dna.dna_hash());
        }
    }

    #[test]
    fn founders_and_an_emergency_rule_survive() {
        let text = examples().remove(2);
        let mut dna = DnaManifest::from_toml(&text).expect("parses");
        dna.properties.founders.push(crate::KeyHash([7; 32]));
        dna.properties.voting.emergency = Some(VoteRule {
            threshold_bp: super::super::BasisPoints(9_000),
            window_secs: 60,
        });
        let back = DnaManifest::from_toml(&dna.to_toml()).expect("reads back");
        assert_eq!(back, dna);
    }
}
