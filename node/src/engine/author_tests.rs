//! Local writes that cite what this node does not hold are refused with the real cause.

use myco_dna::ActionHash;

use super::io::{Event, Output, WriteRefusal};
use super::test_support::{dna, engine, T0};
use super::Input;
use crate::daemon::Write;

/// What `node` answers when its agent writes `write` at `now`.
fn author(
    node: &mut super::Engine<crate::store::MemoryStore>,
    now: u64,
    write: Write,
) -> Vec<Output> {
    let (body, entry) = write.build(now, &dna(), Vec::new).expect("builds");
    node.handle(
        now,
        Input::Author {
            pod: dna().dna_hash(),
            body,
            entry,
        },
    )
}

fn refusal(outputs: &[Output]) -> Option<&WriteRefusal> {
    outputs.iter().find_map(|o| match o {
        Output::Event(Event::AuthorRefused { reason, .. }) => Some(reason),
        _ => None,
    })
}

#[test]
fn deleting_a_record_this_node_never_held_names_the_hash_and_says_what_to_check() {
    let mut node = engine(1);
    let unknown = ActionHash::from_slice(&[0xab; 32]).expect("32 bytes");
    let outputs = author(&mut node, T0 + 10, Write::Delete { target: unknown });
    let reason = refusal(&outputs).expect("the write is refused");
    assert_eq!(
        reason,
        &WriteRefusal::NeedsRecords {
            missing: vec![unknown]
        }
    );
    let text = reason.to_string();
    assert!(text.contains(&unknown.to_string()), "{text}");
    assert!(text.contains("check the hash"), "{text}");
}

#[test]
fn deleting_a_deleted_story_is_refused_as_a_repeat() {
    let mut node = engine(1);
    let story =
        super::test_support::write_story(&mut node, T0 + 10, "words", myco_dna::Visibility::Pod);
    super::test_support::write(
        &mut node,
        T0 + 20,
        Write::Delete {
            target: story.hash(),
        },
    );
    let outputs = author(
        &mut node,
        T0 + 30,
        Write::Delete {
            target: story.hash(),
        },
    );
    let reason = refusal(&outputs).expect("the second delete is refused");
    assert!(matches!(reason, WriteRefusal::Repeated(_)), "{reason:?}");
    assert!(reason.to_string().contains("deleted already"), "{reason}");
}

#[test]
fn deciding_a_decided_proposal_is_refused_as_a_repeat() {
    use myco_zomes::governance::Decision;
    let proposal = ActionHash::from_slice(&[0x11; 32]).expect("32 bytes");
    let mut author = myco_dna::ChainAuthor::new(super::test_support::key(2), dna().dna_hash());
    let _genesis = author.genesis(myco_dna::Timestamp(T0), Vec::new());
    let decision = author.create(
        myco_dna::Timestamp(T0 + 1),
        myco_zomes::ZOME_GOVERNANCE,
        "decision",
        myco_dna::Visibility::Pod,
        myco_dna::Entry(myco_dna::encoding::to_canonical_cbor(&Decision {
            proposal,
            votes: Vec::new(),
        })),
    );
    let error = Write::Decide { proposal }
        .build(T0 + 2, &dna(), || vec![decision.clone()])
        .expect_err("a second decision is refused");
    assert!(
        error.to_string().contains("decided already")
            && error.to_string().contains(&decision.hash().to_string()),
        "{error}"
    );
}

/// A Pod-visible story, as a write.
fn pod_story(body: &str) -> Write {
    Write::Content {
        request: Box::new(crate::api::types::PublishRequest::story(
            "Harbour",
            body,
            "pod",
            &[],
            crate::api::types::ConsentBody::public(),
        )),
        visibility: myco_dna::Visibility::Pod,
    }
}

#[test]
fn a_blocked_agent_is_refused_with_the_reason_not_answered_as_written() {
    // An old copy of the data dir wrote seq 1 again, differently: when the other version
    // arrives by sync, the node sees its own fork, warrants itself, and is blocked.
    let mut node = engine(1);
    let genesis = super::test_support::chain_of(&node)[0].clone();
    let ours =
        super::test_support::write_story(&mut node, T0 + 10, "kept", myco_dna::Visibility::Pod);
    let dna = dna();
    let (body, entry) = pod_story("the other version")
        .build(T0 + 11, &dna, Vec::new)
        .expect("builds");
    let other = myco_dna::ChainAuthor::resume(super::test_support::key(1), &genesis.signed).next(
        myco_dna::Timestamp(T0 + 11),
        body,
        entry,
    );
    assert_eq!(other.action().seq, ours.action().seq);
    super::test_support::feed(&mut node, T0 + 12, 9, &[other]);

    let before = super::test_support::chain_of(&node).len();
    let outputs = author(&mut node, T0 + 20, pod_story("after"));
    let reason = refusal(&outputs).expect("the write is refused");
    assert_eq!(reason, &WriteRefusal::Blocked);
    assert!(reason.to_string().contains("warrant"), "{reason}");
    assert!(super::test_support::accepted(&outputs).is_empty());
    assert_eq!(super::test_support::chain_of(&node).len(), before);
}
