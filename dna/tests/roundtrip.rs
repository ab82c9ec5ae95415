//! Property tests: every type round-trips through its encodings, and tampering is caught.

mod common;

use std::collections::BTreeSet;

use myco_dna::chain::{check_record, decode_and_check};
use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor};
use myco_dna::{
    Action, ActionBody, ActionHash, AgentKey, DnaHash, Entry, EntryHash, EntryRef, KeyHash, Record,
    SignedAction, SigningKey, Timestamp, Visibility, Warrant,
};
use proptest::prelude::*;

fn visibility() -> impl Strategy<Value = Visibility> {
    prop_oneof![
        Just(Visibility::Public),
        Just(Visibility::Pod),
        Just(Visibility::Private)
    ]
}

fn name() -> impl Strategy<Value = String> {
    "[a-z_]{1,20}"
}

fn body() -> impl Strategy<Value = (ActionBody, Option<Entry>)> {
    let entry_bytes = proptest::collection::vec(any::<u8>(), 0..600);
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|proof| (
            ActionBody::Genesis {
                membrane_proof: proof
            },
            None
        )),
        (name(), name(), visibility(), entry_bytes.clone()).prop_map(
            |(zome, entry_type, visibility, bytes)| {
                let entry = Entry(bytes);
                let entry_ref = EntryRef {
                    zome,
                    entry_type,
                    entry_hash: entry.hash(),
                    visibility,
                };
                (ActionBody::Create(entry_ref), Some(entry))
            }
        ),
        (any::<[u8; 32]>(), name(), visibility(), entry_bytes).prop_map(
            |(original, entry_type, visibility, bytes)| {
                let entry = Entry(bytes);
                let entry = (
                    EntryRef {
                        zome: "content".into(),
                        entry_type,
                        entry_hash: entry.hash(),
                        visibility,
                    },
                    entry,
                );
                (
                    ActionBody::Update {
                        original: ActionHash(original),
                        entry: entry.0,
                    },
                    Some(entry.1),
                )
            }
        ),
        any::<[u8; 32]>().prop_map(|target| (
            ActionBody::Delete {
                target: ActionHash(target)
            },
            None
        )),
    ]
}

prop_compose! {
    fn record()(seed in any::<[u8; 32]>(), pod in any::<[u8; 32]>(), seq in 1u64..1_000_000,
                prev in any::<[u8; 32]>(), ts in any::<u64>(), (body, entry) in body()) -> Record {
        let key = SigningKey::from_bytes(&seed);
        let is_genesis = matches!(body, ActionBody::Genesis { .. });
        let action = Action {
            pod: DnaHash(pod),
            author: myco_dna::agent_key_of(&key),
            seq: if is_genesis { 0 } else { seq },
            prev: if is_genesis { None } else { Some(ActionHash(prev)) },
            timestamp: Timestamp(ts),
            body,
        };
        Record { signed: SignedAction::sign(action, &key), entry }
    }
}

fn cbor_round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = to_canonical_cbor(value);
    let back: T = from_canonical_cbor("value", &bytes).expect("decodes");
    assert_eq!(&back, value);
}

proptest! {
    #[test]
    fn identifiers_round_trip_through_text_and_cbor(bytes in any::<[u8; 32]>()) {
        macro_rules! both {
            ($t:ty) => {{
                let id = <$t>::from_slice(&bytes).unwrap();
                prop_assert_eq!(id.to_string().parse::<$t>().unwrap(), id);
                cbor_round_trip(&id);
            }};
        }
        both!(AgentKey);
        both!(KeyHash);
        both!(ActionHash);
        both!(EntryHash);
        both!(DnaHash);
    }

    #[test]
    fn records_round_trip_and_pass_system_checks(record in record()) {
        let bytes = record.to_bytes();
        prop_assert_eq!(&Record::from_bytes(&bytes).unwrap(), &record);
        prop_assert!(check_record(&record).is_ok());
        cbor_round_trip(&record);
        cbor_round_trip(&record.signed);
        cbor_round_trip(record.action());
        cbor_round_trip(&record.action().body);
        cbor_round_trip(&record.action().timestamp);
        if let Some(entry) = &record.entry {
            cbor_round_trip(entry);
        }
    }

    #[test]
    fn a_flipped_bit_anywhere_is_caught(record in record(), position in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = record.to_bytes();
        let i = position.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let err = decode_and_check(&bytes).expect_err("tampered record must be refused");
        prop_assert!(KNOWN_CHECKS.contains(&err.check()), "unexpected check {}", err.check());
    }

    #[test]
    fn fork_warrants_round_trip_and_verify(a in record(), content in any::<u64>()) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut first = a.action().clone();
        first.author = myco_dna::agent_key_of(&key);
        let mut second = first.clone();
        second.timestamp = Timestamp(first.timestamp.0 ^ (content | 1));
        let warrant = Warrant::fork(SignedAction::sign(first, &key), SignedAction::sign(second, &key));
        let back = Warrant::from_bytes(&warrant.to_bytes()).unwrap();
        prop_assert_eq!(&back, &warrant);
        prop_assert_eq!(back.verify().unwrap(), myco_dna::agent_key_of(&key));
    }
}

const KNOWN_CHECKS: [&str; 11] = [
    "decode",
    "hash",
    "signature",
    "entry_hash",
    "size",
    "genesis",
    "seq",
    "prev",
    "timestamp",
    "chain",
    "fork",
];

#[test]
fn flipping_every_bit_of_every_record_kind_is_caught_and_named() {
    let mut seen = BTreeSet::new();
    for record in common::one_of_each() {
        let original = record.to_bytes();
        for i in 0..original.len() {
            for bit in 0..8 {
                let mut bytes = original.clone();
                bytes[i] ^= 1 << bit;
                let err = decode_and_check(&bytes).expect_err(&format!(
                    "flip of bit {bit} in byte {i} of a {} was not caught",
                    record.action().body.kind()
                ));
                assert!(KNOWN_CHECKS.contains(&err.check()), "{err}");
                seen.insert(err.check());
            }
        }
    }
    // Tampering is caught by the check that owns each part of the record.
    for check in ["decode", "hash", "signature", "entry_hash"] {
        assert!(
            seen.contains(check),
            "no flip was caught by `{check}`: {seen:?}"
        );
    }
}
