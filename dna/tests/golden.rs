//! Golden vectors: the canonical bytes and hashes of each record type are pinned, so a
//! dependency bump or a refactor cannot silently change what every node signs and hashes.
//!
//! If one of these fails, the wire format changed. That breaks every existing chain: bump
//! `RECORD_FORMAT_VERSION` and write a migration instead of updating the vector.

mod common;

use myco_dna::chain::check_record;
use myco_dna::Record;

/// (kind, action hash, blake2b-256 of the record's wire bytes, wire length).
const VECTORS: [(&str, &str, &str, usize); 4] = include!("golden/records.in");

#[test]
fn each_record_type_has_pinned_canonical_bytes_and_hash() {
    let records = common::one_of_each();
    let mut actual = Vec::new();
    for record in &records {
        let bytes = record.to_bytes();
        actual.push((
            record.action().body.kind(),
            record.hash().to_string(),
            hex::encode(myco_dna::blake2b_256(&bytes)),
            bytes.len(),
        ));
    }
    let expected: Vec<_> = VECTORS
        .iter()
        .map(|(kind, hash, bytes_hash, len)| {
            (*kind, hash.to_string(), bytes_hash.to_string(), *len)
        })
        .collect();
    assert_eq!(
        actual, expected,
        "canonical encoding changed; see this file's docs"
    );
}

#[test]
fn the_genesis_vector_bytes_are_pinned_in_full() {
    let genesis = &common::one_of_each()[0];
    let expected = include_str!("golden/genesis.hex").trim();
    assert_eq!(hex::encode(genesis.to_bytes()), expected);
    let decoded = Record::from_bytes(&hex::decode(expected).unwrap()).unwrap();
    assert_eq!(&decoded, genesis);
    check_record(&decoded).unwrap();
}
