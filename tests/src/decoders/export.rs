//! The export file, as `myco export verify` reads it: a file a person was handed, or one that
//! was damaged on a disk.

use myco_node::export::{verify, Export};

use super::{agent_key_of, chain_of_two, key, pod_dna, refused};

/// An export file, checked as `myco export verify` checks it. What it accepts must verify
/// again once written back, so no two readings of one file disagree.
pub fn export(bytes: &[u8]) {
    match verify(bytes) {
        Ok(report) => {
            let again: Export =
                serde_json::from_slice(bytes).expect("a verified export parses as an export");
            assert_eq!(
                verify(&again.to_json()).as_ref(),
                Ok(&report),
                "export: a verified file written back verifies differently"
            );
        }
        Err(error) => refused("export", error),
    }
}

pub(super) fn export_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let text = myco_node::devnet::dna_with_founders(
        myco_node::devnet::TEMPLATES[0].1,
        &[
            agent_key_of(&key(1)).key_hash(),
            agent_key_of(&key(2)).key_hash(),
        ],
        "fuzz",
    );
    let mut whole = Export::new(&agent_key_of(&key(2)), super::NOW);
    whole.add_pod(&dna.dna_hash(), text, &chain_of_two(&dna), &[]);
    assert!(
        verify(&whole.to_json()).is_ok(),
        "the export seed is a sound export"
    );
    let empty = Export::new(&agent_key_of(&key(2)), super::NOW);
    vec![whole.to_json(), empty.to_json()]
}
