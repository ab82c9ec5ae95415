//! Saying why a node gets none of a pod's entries when the pod keeps its data in regions
//! this node does not declare, and what to set.

use myco_dna::DnaManifest;

/// Why this node (declaring `region`) receives none of `dna`'s Pod entries, if it does not:
/// the pod restricts where its data lives and this node is not in an allowed region.
pub fn residency_warning(dna: &DnaManifest, region: Option<&str>) -> Option<String> {
    let allowed = &dna.properties.allowed_regions;
    if allowed.is_empty() || region.is_some_and(|r| allowed.iter().any(|a| a == r)) {
        return None;
    }
    let declared = match region {
        Some(region) => format!("declares region {region}"),
        None => "declares no region".to_string(),
    };
    Some(format!(
        "pod {} ({}) keeps its data in {} only, and this node {declared}: it receives none of the pod's Pod entries. If this node is in one of them, restart it with --region {} (or set region in myco.toml)",
        dna.name,
        dna.dna_hash(),
        allowed.join(", "),
        allowed[0]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_outside_a_pods_regions_is_told_why_and_what_to_set() {
        let mut dna = crate::engine::test_support::dna();
        dna.properties.allowed_regions.clear();
        assert_eq!(residency_warning(&dna, None), None, "no rule, no warning");
        dna.properties.allowed_regions = vec!["DK".into(), "GL".into()];
        let missing = residency_warning(&dna, None).expect("warned");
        assert!(
            missing.contains("declares no region") && missing.contains("--region DK"),
            "{missing}"
        );
        let elsewhere = residency_warning(&dna, Some("SE")).expect("warned");
        assert!(elsewhere.contains("declares region SE"), "{elsewhere}");
        assert_eq!(residency_warning(&dna, Some("GL")), None);
    }
}
