//! Store faults are node faults (issue point "store faults never become verdicts"): with a
//! fault-injecting [`MemoryStore`], a failed read while screening, judging, reading the
//! validation context or serving is never a refusal, never "not held", never "no earlier
//! records", and never a penalty for the sender; the record is judged again once the store
//! answers.

use myco_dna::{ActionBody, ChainAuthor, Entry, Timestamp};
use myco_zomes::governance::{Choice, ProposalKind};

use super::messages::{BindingTerms, GossipMessage, SessionBinding, SyncRequest, SyncResponse};
use super::test_support::*;
use super::*;
use crate::daemon::Write;
use crate::store::{FaultSwitch, MemoryStore};

/// Asserts no output refuses, warrants or penalises anything, and that a store fault was
/// reported.
fn assert_no_verdict(outputs: &[Output]) {
    for output in outputs {
        match output {
            Output::Event(Event::Rejected { reason, .. }) => {
                panic!("a store fault became a refusal: {reason}")
            }
            Output::Event(Event::Warrant(_)) => panic!("a store fault became a warrant"),
            Output::GossipVerdict {
                verdict: GossipVerdict::Reject,
                ..
            } => panic!("a store fault penalised the sender"),
            Output::Event(Event::Accepted { hash, .. }) => {
                panic!("{hash} was accepted on a failed read")
            }
            _ => {}
        }
    }
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::Event(Event::StoreFailed { .. }))),
        "the fault was not reported: {outputs:?}"
    );
}

/// Sync timer: what a store fault interrupted is judged again.
fn next_round(engine: &mut Engine<MemoryStore>, now: u64) -> Vec<Output> {
    engine.handle(now, Input::Timer(Timer::Sync))
}

fn faults(engine: &Engine<MemoryStore>) -> FaultSwitch {
    engine.store().faults()
}

#[test]
fn a_store_fault_while_screening_gossip_is_ignored_and_the_record_judged_again() {
    let mut author = engine(1);
    let mut reader = engine(2);
    let genesis = chain_of(&author);
    assert_eq!(accepted(&feed(&mut reader, T0 + 1, 1, &genesis)).len(), 1);
    let story = write_story(
        &mut author,
        T0 + 10,
        "public story",
        myco_dna::Visibility::Public,
    );
    faults(&reader).fail_reads(true);
    let bytes = GossipMessage::Record(serde_bytes::ByteBuf::from(story.to_bytes())).to_bytes();
    let outputs = reader.handle(
        T0 + 20,
        Input::Gossip {
            from: PeerId(vec![1]),
            message_id: vec![7],
            bytes,
        },
    );
    assert_no_verdict(&outputs);
    assert!(outputs.iter().any(|o| matches!(
        o,
        Output::GossipVerdict {
            verdict: GossipVerdict::Ignore,
            ..
        }
    )));
    faults(&reader).fail_reads(false);
    assert_eq!(
        accepted(&next_round(&mut reader, T0 + 30)),
        vec![story.hash()]
    );
}

#[test]
fn a_failed_index_query_voids_the_verdict_so_a_double_vote_never_passes() {
    let mut founder = engine(1);
    let mut member = engine(2);
    let proposal = write(
        &mut founder,
        T0 + 10,
        Write::Propose {
            kind: ProposalKind::ApproveBackupSchedule {
                schedule: "every night at 02:00".into(),
                archivist: None,
                retention_days: 0,
            },
            text: "back the archive up nightly".into(),
            checkpoint: None,
        },
    );
    let vote = Write::Vote {
        proposal: proposal.hash(),
        choice: Choice::Yes,
    };
    write(&mut founder, T0 + 20, vote.clone());
    let chain = chain_of(&founder);
    assert_eq!(accepted(&feed(&mut member, T0 + 30, 1, &chain)).len(), 3);

    // A second vote on the same proposal, signed by the founder: the engine that wrote the
    // first refuses to write it, so it is signed here, as a misbehaving node would.
    let (body, entry): (ActionBody, Option<Entry>) = vote.build(T0 + 40, &dna(), Vec::new).unwrap();
    let head = chain.last().unwrap();
    let double = ChainAuthor::resume(key(1), &head.signed).next(Timestamp(T0 + 40), body, entry);

    faults(&member).fail_queries(true);
    let outputs = feed(&mut member, T0 + 41, 1, std::slice::from_ref(&double));
    assert_no_verdict(&outputs);
    assert!(member.store().get(&double.hash()).unwrap().is_none());

    faults(&member).fail_queries(false);
    let outputs = next_round(&mut member, T0 + 50);
    assert!(accepted(&outputs).is_empty());
    let refusal = outputs.iter().find_map(|o| match o {
        Output::Event(Event::Rejected { reason, .. }) => Some(reason.clone()),
        _ => None,
    });
    assert!(
        refusal
            .as_deref()
            .is_some_and(|r| r.contains("already voted")),
        "the double vote was not refused once the store answered: {refusal:?}"
    );
}

#[test]
fn serving_during_a_store_fault_says_the_node_cannot_read_rather_than_not_held() {
    let asker = engine(1);
    let mut server = engine(2);
    feed(&mut server, T0 + 1, 1, &chain_of(&asker));
    let pod = dna().dna_hash();
    let binding = SessionBinding::sign(
        &key(1),
        BindingTerms {
            agent: *asker.agent(),
            peer: vec![1],
            pod,
            region: Some("DK".into()),
            expires: Timestamp(T0 + 3_600_000_000),
        },
    );
    let genesis = chain_of(&asker)[0].hash();
    faults(&server).fail_reads(true);
    let request = SyncRequest::Get {
        pod,
        binding,
        hashes: vec![genesis],
    };
    let outputs = server.handle(
        T0 + 10,
        Input::Request {
            from: PeerId(vec![1]),
            request_id: 9,
            bytes: request.to_bytes(),
        },
    );
    let answer = outputs.iter().find_map(|o| match o {
        Output::Respond { response, .. } => Some(response.clone()),
        _ => None,
    });
    match answer {
        Some(SyncResponse::Refused { reason }) => {
            assert!(reason.contains("cannot read its store"), "{reason}")
        }
        other => panic!("expected a refusal naming the store, got {other:?}"),
    }
}

#[test]
fn a_have_notice_during_a_store_fault_is_ignored_without_asking_anyone() {
    let author = engine(1);
    let mut reader = engine(2);
    feed(&mut reader, T0 + 1, 1, &chain_of(&author));
    faults(&reader).fail_reads(true);
    let notice = GossipMessage::Have {
        pod: dna().dna_hash(),
        hash: ActionHash([5; 32]),
        author: author.agent().key_hash(),
        seq: 1,
    };
    let outputs = reader.handle(
        T0 + 10,
        Input::Gossip {
            from: PeerId(vec![1]),
            message_id: vec![1],
            bytes: notice.to_bytes(),
        },
    );
    assert!(!outputs.iter().any(|o| matches!(o, Output::Request { .. })));
    assert!(outputs.iter().any(|o| matches!(
        o,
        Output::GossipVerdict {
            verdict: GossipVerdict::Ignore,
            ..
        }
    )));
}
