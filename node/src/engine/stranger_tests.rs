//! Numbers and floods from strangers: a Have notice's seq is checked arithmetic, and a crowd
//! of identities sending fake Have notices cannot hold back a member's notice.

use myco_dna::{KeyHash, Visibility};

use super::messages::{GossipMessage, SyncRequest};
use super::test_support::*;
use super::*;
use crate::store::MemoryStore;

fn have(hash: ActionHash, author: KeyHash, seq: u64) -> Vec<u8> {
    GossipMessage::Have {
        pod: dna().dna_hash(),
        hash,
        author,
        seq,
    }
    .to_bytes()
}

fn gossip(
    engine: &mut Engine<MemoryStore>,
    now: u64,
    from: PeerId,
    id: Vec<u8>,
    bytes: Vec<u8>,
) -> Vec<Output> {
    engine.handle(
        now,
        Input::Gossip {
            from,
            message_id: id,
            bytes,
        },
    )
}

/// Two members who know each other's Genesis, the second bound to the first's binding (as
/// after one sync round).
fn two_members() -> (Engine<MemoryStore>, Engine<MemoryStore>) {
    // A small bound on held notices, so a crowd of a few hundred identities could fill it.
    let config = EngineConfig {
        max_pending_gossip: 256,
        ..EngineConfig::default()
    };
    let mut founder = engine(1);
    let mut member = engine_with(2, config);
    feed(&mut member, T0 + 1, 1, &chain_of(&founder));
    feed(&mut founder, T0 + 1, 2, &chain_of(&member));
    let heights = SyncRequest::Heights {
        pod: dna().dna_hash(),
        binding: binding_of(1),
        after: None,
    };
    member.handle(
        T0 + 2,
        Input::Request {
            from: PeerId(vec![1]),
            request_id: 1,
            bytes: heights.to_bytes(),
        },
    );
    (founder, member)
}

#[test]
fn a_have_notice_with_the_largest_seq_asks_one_bounded_range_and_never_overflows() {
    let (_, mut member) = two_members();
    let stranger = KeyHash([9; 32]);
    let outputs = gossip(
        &mut member,
        T0 + 10,
        PeerId(vec![1]),
        vec![1],
        have(ActionHash([3; 32]), stranger, u64::MAX),
    );
    let ranges: Vec<(u64, u32)> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Request {
                request:
                    SyncRequest::Range {
                        from_seq, limit, ..
                    },
                ..
            } => Some((*from_seq, *limit)),
            _ => None,
        })
        .collect();
    assert_eq!(ranges, vec![(0, EngineConfig::default().sync_batch as u32)]);
}

#[test]
fn a_crowd_of_strangers_sending_fake_have_notices_cannot_hold_back_a_members_notice() {
    let (mut founder, mut member) = two_members();
    // 300 identities that showed no binding, eight fake notices each, for chains nobody has.
    for sybil in 0..300u32 {
        let from = PeerId([vec![200], sybil.to_be_bytes().to_vec()].concat());
        for n in 0..8u8 {
            let mut hash = [n; 32];
            hash[..4].copy_from_slice(&sybil.to_be_bytes());
            let fake = have(ActionHash(hash), KeyHash(hash), 5);
            gossip(&mut member, T0 + 10, from.clone(), hash.to_vec(), fake);
        }
    }
    // The founder writes; its notice reaches the member, which asks the founder at once.
    let story = write_story(&mut founder, T0 + 20, "a members' story", Visibility::Pod);
    let notice = have(story.hash(), founder.agent().key_hash(), story.action().seq);
    let outputs = gossip(&mut member, T0 + 21, PeerId(vec![1]), vec![42], notice);
    let (token, request) = outputs
        .iter()
        .find_map(|o| match o {
            Output::Request { to, token, request } if to == &PeerId(vec![1]) => {
                Some((*token, request.clone()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("the member's notice was not followed up: {outputs:?}"));
    // The founder answers; the member stores the story and accepts the notice.
    let answer = founder.handle(
        T0 + 22,
        Input::Request {
            from: PeerId(vec![2]),
            request_id: 7,
            bytes: request.to_bytes(),
        },
    );
    let response = answer
        .iter()
        .find_map(|o| match o {
            Output::Respond { response, .. } => Some(response.clone()),
            _ => None,
        })
        .expect("the founder answers");
    let outputs = member.handle(
        T0 + 23,
        Input::Response {
            from: PeerId(vec![1]),
            token,
            bytes: response.to_bytes(),
        },
    );
    assert!(accepted(&outputs).contains(&story.hash()));
    assert!(outputs.iter().any(|o| matches!(
        o,
        Output::GossipVerdict { message_id, verdict: GossipVerdict::Accept, .. } if message_id == &vec![42]
    )));
}

/// The answer `engine` gives `from` for `request`.
fn answer_to(
    engine: &mut Engine<MemoryStore>,
    from: u8,
    request: SyncRequest,
) -> super::messages::SyncResponse {
    let outputs = engine.handle(
        T0 + 20,
        Input::Request {
            from: PeerId(vec![from]),
            request_id: 7,
            bytes: request.to_bytes(),
        },
    );
    outputs
        .into_iter()
        .find_map(|o| match o {
            Output::Respond { response, .. } => Some(response),
            _ => None,
        })
        .expect("an answer")
}

#[test]
fn a_pods_dna_goes_to_its_members_and_to_no_stranger() {
    use super::messages::SyncResponse;
    let (mut founder, _) = two_members();
    let pod = dna().dna_hash();
    // A member (agent 2, whose Genesis the founder holds) gets the DNA, which hashes to the pod.
    let given = answer_to(
        &mut founder,
        2,
        SyncRequest::Dna {
            pod,
            binding: binding_of(2),
        },
    );
    let SyncResponse::Dna { manifest, .. } = given else {
        panic!("a member is refused the DNA: {given:?}");
    };
    let dna: myco_dna::DnaManifest =
        myco_dna::encoding::from_canonical_cbor("DNA", &manifest).expect("decodes");
    assert_eq!(dna.dna_hash(), pod);
    // A stranger (agent 9, no Genesis in the pod) gets a refusal that holds nothing of it.
    let refused = answer_to(
        &mut founder,
        9,
        SyncRequest::Dna {
            pod,
            binding: binding_of(9),
        },
    );
    assert!(
        matches!(refused, SyncResponse::Refused { .. }),
        "{refused:?}"
    );
    let bytes = refused.to_bytes();
    assert!(
        !bytes
            .windows(dna.name.len())
            .any(|w| w == dna.name.as_bytes()),
        "the refusal names the pod"
    );
}
