//! System validation refuses each kind of broken chain with a reason that names the check.

mod common;

use common::{chain, key, resign};
use myco_dna::chain::{check_fork, validate_chain};
use myco_dna::limits::MAX_ENTRY_BYTES;
use myco_dna::{
    ActionBody, Entry, EntryRef, Record, SystemError, Timestamp, Visibility, Warrant, WarrantError,
};

fn refusal(records: &[Record]) -> (usize, SystemError) {
    validate_chain(records).expect_err("chain must be refused")
}

#[test]
fn a_sound_chain_is_accepted() {
    validate_chain(&chain(1, 40)).unwrap();
}

#[test]
fn a_bad_signature_is_refused() {
    let mut records = chain(1, 5);
    records[3].signed.signature.0[10] ^= 0x20;
    let (index, err) = refusal(&records);
    assert_eq!((index, err.check()), (3, "signature"), "{err}");
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn a_record_signed_by_someone_else_is_refused() {
    let mut records = chain(1, 3);
    records[2] = Record {
        signed: myco_dna::SignedAction::sign(records[2].action().clone(), &key(99)),
        entry: records[2].entry.clone(),
    };
    let (_, err) = refusal(&records);
    assert_eq!(err.check(), "signature");
}

#[test]
fn a_wrong_seq_is_refused() {
    let mut records = chain(1, 4);
    records[2] = resign(&records[2], &key(1), |a| a.seq = 5);
    let (index, err) = refusal(&records);
    assert_eq!((index, err.check()), (2, "seq"), "{err}");
    assert!(err.to_string().contains("expected seq 2, got 5"), "{err}");
}

#[test]
fn a_wrong_prev_is_refused() {
    let mut records = chain(1, 4);
    let wrong = records[0].hash();
    records[2] = resign(&records[2], &key(1), |a| a.prev = Some(wrong));
    let (index, err) = refusal(&records);
    assert_eq!((index, err.check()), (2, "prev"), "{err}");
}

#[test]
fn a_missing_prev_after_genesis_is_refused() {
    let mut records = chain(1, 3);
    records[1] = resign(&records[1], &key(1), |a| a.prev = None);
    let (_, err) = refusal(&records);
    assert_eq!(err.check(), "prev", "{err}");
}

#[test]
fn a_timestamp_that_goes_backwards_is_refused() {
    let mut records = chain(1, 4);
    let earlier = Timestamp(records[1].action().timestamp.0 - 1);
    records[2] = resign(&records[2], &key(1), |a| a.timestamp = earlier);
    let (index, err) = refusal(&records);
    assert_eq!((index, err.check()), (2, "timestamp"), "{err}");
}

#[test]
fn equal_timestamps_are_allowed() {
    let mut records = chain(1, 2);
    let same = records[0].action().timestamp;
    records[1] = resign(&records[1], &key(1), |a| a.timestamp = same);
    validate_chain(&records).unwrap();
}

#[test]
fn a_chain_with_no_genesis_is_refused() {
    let records = chain(1, 5);
    let (index, err) = refusal(&records[1..]);
    assert_eq!((index, err.check()), (0, "genesis"), "{err}");
    assert!(err.to_string().contains("no genesis"), "{err}");
}

#[test]
fn a_create_at_seq_zero_is_refused() {
    let records = chain(1, 2);
    let bad = resign(&records[1], &key(1), |a| {
        a.seq = 0;
        a.prev = None;
    });
    let (_, err) = refusal(&[bad]);
    assert_eq!(err.check(), "genesis", "{err}");
}

#[test]
fn a_second_genesis_is_refused() {
    let mut records = chain(1, 3);
    records[2] = resign(&records[2], &key(1), |a| {
        a.body = ActionBody::Genesis {
            membrane_proof: Vec::new(),
        }
    });
    records[2].entry = None;
    let (_, err) = refusal(&records);
    assert_eq!(err.check(), "genesis", "{err}");
}

#[test]
fn an_entry_over_the_size_bound_is_refused() {
    let mut records = chain(1, 2);
    let big = Entry(vec![7; MAX_ENTRY_BYTES + 1]);
    let entry_ref = EntryRef {
        zome: "content".into(),
        entry_type: "story".into(),
        entry_hash: big.hash(),
        visibility: Visibility::Pod,
    };
    records[1] = resign(&records[1], &key(1), |a| {
        a.body = ActionBody::Create(entry_ref)
    });
    records[1].entry = Some(big);
    let (index, err) = refusal(&records);
    assert_eq!((index, err.check()), (1, "size"), "{err}");
    assert!(
        err.to_string().contains("over the 65536-byte bound"),
        "{err}"
    );
}

#[test]
fn entry_bytes_that_do_not_match_the_action_are_refused() {
    let mut records = chain(1, 2);
    records[1].entry = Some(Entry(b"swapped content".to_vec()));
    let (_, err) = refusal(&records);
    assert_eq!(err.check(), "entry_hash", "{err}");
}

#[test]
fn an_action_from_another_chain_is_refused() {
    let mut records = chain(1, 3);
    let other = chain(2, 3);
    records[2] = other[2].clone();
    let (_, err) = refusal(&records);
    assert_eq!(err.check(), "chain", "{err}");
}

#[test]
fn a_fork_yields_a_warrant_that_an_independent_verifier_accepts() {
    let records = chain(1, 4);
    let fork = resign(&records[2], &key(1), |a| {
        a.body = ActionBody::Delete {
            target: records[1].hash(),
        }
    });
    let err = check_fork(&records[2].signed, &fork.signed).expect_err("fork must be detected");
    assert_eq!(err.check(), "fork");
    let SystemError::Fork { warrant, .. } = err else {
        unreachable!("checked above")
    };
    // The verifier needs nothing but the warrant's bytes.
    let received = Warrant::from_bytes(&warrant.to_bytes()).unwrap();
    assert_eq!(received.verify().unwrap(), records[2].action().author);
    assert_eq!(received.offender(), &records[2].action().author);
}

#[test]
fn the_same_action_twice_is_not_a_fork() {
    let records = chain(1, 3);
    check_fork(&records[2].signed, &records[2].signed).unwrap();
}

#[test]
fn a_forged_warrant_is_refused() {
    let records = chain(1, 4);
    // Same slot, but the second action is signed by someone else: no proof against the author.
    let forged = Warrant::fork(
        records[2].signed.clone(),
        resign(&records[2], &key(9), |a| a.timestamp = Timestamp(5)).signed,
    );
    assert!(matches!(forged.verify(), Err(WarrantError::Evidence(_))));
    // Two actions at different seqs are no fork.
    let not_a_fork = Warrant::fork(records[1].signed.clone(), records[2].signed.clone());
    assert_eq!(not_a_fork.verify(), Err(WarrantError::NotSameSlot));
    let identical = Warrant::Fork {
        first: records[1].signed.clone(),
        second: records[1].signed.clone(),
    };
    assert_eq!(identical.verify(), Err(WarrantError::Identical));
}
