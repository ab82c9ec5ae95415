//! Malformed input gets a clear, named error and never a panic.

mod common;

use myco_dna::limits::MAX_RECORD_BYTES;
use myco_dna::{DecodeError, Record, Warrant, WarrantError, RECORD_FORMAT_VERSION};

fn genesis_bytes() -> Vec<u8> {
    common::one_of_each()[0].to_bytes()
}

#[test]
fn an_empty_record_is_refused() {
    assert_eq!(
        Record::from_bytes(&[]),
        Err(DecodeError::Empty { what: "record" })
    );
}

#[test]
fn a_truncated_record_is_refused_at_every_length() {
    let bytes = genesis_bytes();
    for len in 1..bytes.len() {
        let err = Record::from_bytes(&bytes[..len]).expect_err("truncated record must fail");
        assert!(
            matches!(
                err,
                DecodeError::Malformed { .. } | DecodeError::Empty { .. }
            ),
            "at {len}: {err}"
        );
    }
    assert!(Record::from_bytes(&bytes[..bytes.len() - 1])
        .unwrap_err()
        .to_string()
        .contains("truncated"));
}

#[test]
fn an_unknown_format_version_is_refused_with_advice() {
    let mut bytes = genesis_bytes();
    bytes[0] = RECORD_FORMAT_VERSION + 1;
    let err = Record::from_bytes(&bytes).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnknownVersion {
            what: "record",
            version: 2,
            supported: 1
        }
    );
    assert!(err.to_string().contains("upgrade myco"), "{err}");
}

#[test]
fn malformed_cbor_is_refused() {
    let err = Record::from_bytes(&[RECORD_FORMAT_VERSION, 0xff, 0x00, 0x13]).unwrap_err();
    assert!(
        matches!(err, DecodeError::Malformed { what: "record", .. }),
        "{err}"
    );
}

#[test]
fn a_hash_of_the_wrong_length_is_refused_by_name() {
    // Replace the 32-byte `hash` byte string (0x58 0x20 …) by a 31-byte one (0x58 0x1f …).
    let bytes = genesis_bytes();
    let marker = b"dhashX\x20";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("hash field present")
        + 5;
    let mut shorter = bytes[..=at].to_vec();
    shorter.push(0x1f);
    shorter.extend_from_slice(&bytes[at + 3..]);
    let err = Record::from_bytes(&shorter).unwrap_err();
    assert!(
        err.to_string()
            .contains("wrong length for action hash: expected 32 bytes, got 31"),
        "{err}"
    );
}

#[test]
fn an_oversized_record_is_refused_before_decoding() {
    let mut bytes = vec![RECORD_FORMAT_VERSION];
    bytes.resize(MAX_RECORD_BYTES + 1, 0);
    let err = Record::from_bytes(&bytes).unwrap_err();
    assert!(matches!(err, DecodeError::TooLarge { .. }), "{err}");
}

#[test]
fn trailing_bytes_after_a_record_are_refused() {
    let mut bytes = genesis_bytes();
    bytes.push(0);
    assert!(matches!(
        Record::from_bytes(&bytes),
        Err(DecodeError::TrailingBytes { extra: 1, .. })
    ));
}

#[test]
fn garbage_warrant_bytes_are_refused() {
    assert!(matches!(
        Warrant::from_bytes(&[0x42, 0x00]),
        Err(WarrantError::Decode(_))
    ));
    assert!(matches!(
        Warrant::from_bytes(&[]),
        Err(WarrantError::Decode(DecodeError::Empty { .. }))
    ));
}

#[test]
fn random_bytes_never_panic_the_decoder() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let template = genesis_bytes();
    for _ in 0..20_000 {
        let mut bytes = template.clone();
        for _ in 0..rng.gen_range(1..8) {
            let i = rng.gen_range(0..bytes.len());
            bytes[i] = rng.gen();
        }
        bytes.truncate(rng.gen_range(0..=bytes.len()));
        let _ = myco_dna::chain::decode_and_check(&bytes);
    }
}
