//! Restore without forking, on engines driven through the in-memory network: a node put back
//! on an old copy of its store writes nothing in a pod until the pod's peers have told it
//! how far its chain goes and it has fetched the rest; a node recreated with no store writes
//! no second Genesis where its chain exists; with nobody answering, writes are refused with
//! the reason.

mod common;

use std::collections::BTreeSet;

use common::*;
use myco_dna::{DnaHash, DnaManifest, Visibility};
use myco_node::engine::{Engine, Event, Input, Output, SyncRequest, WriteRefusal};
use myco_node::store::{ChainId, MemoryStore, Store};

/// A net of `seeds` in the territory pod, met and synced, where seed 1 has written `stories`.
fn pod_with_stories(seeds: &[u8], stories: usize) -> (Net, DnaManifest, DnaHash) {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(11, seeds);
    net.join_all(seeds, &dna);
    net.run_for(2 * SECOND);
    write_stories(&mut net, &dna, 0..stories);
    (net, dna, pod)
}

fn write_stories(net: &mut Net, dna: &DnaManifest, range: std::ops::Range<usize>) {
    for n in range {
        net.create(
            1,
            dna.dna_hash(),
            "content",
            "content",
            Visibility::Pod,
            &story(dna, &format!("story {n}"), 1),
        );
        net.run_for(SECOND / 10);
    }
    net.run_for(3 * SECOND);
}

/// Seed 1's chain in `pod` as node `seed` holds it, by hash.
fn chain_at(net: &Net, seed: u8, pod: DnaHash) -> Vec<myco_dna::ActionHash> {
    let chain = ChainId {
        pod,
        author: myco_dna::agent_key_of(&key(1)),
    };
    let store = net.nodes[net.index(seed)].engine.store();
    store
        .range(&chain, 0, 10_000)
        .expect("reads")
        .iter()
        .map(|r| r.hash())
        .collect()
}

/// Puts node 1 back on `store`, as a restore does, waiting to be anchored.
fn restore(net: &mut Net, dna: &DnaManifest, store: MemoryStore) {
    let i = net.index(1);
    let peer = net.nodes[i].peer.clone();
    let mut engine = Engine::new(test_config(), key(1), peer, Some("EU".into()), store);
    engine.resume_pod(dna.clone()).expect("resumes");
    engine.require_anchor(net.now, BTreeSet::new());
    net.nodes[i].engine = engine;
    net.nodes[i].events.clear();
}

fn write_story(net: &mut Net, dna: &DnaManifest, marker: &str) {
    net.create(
        1,
        dna.dna_hash(),
        "content",
        "content",
        Visibility::Pod,
        &story(dna, marker, 1),
    );
}

fn last_refusal(net: &Net) -> Option<WriteRefusal> {
    net.nodes[net.index(1)]
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::AuthorRefused { reason, .. } => Some(reason.clone()),
            _ => None,
        })
}

#[test]
fn a_node_restored_from_an_old_copy_fetches_its_newer_records_before_it_writes() {
    let (mut net, dna, pod) = pod_with_stories(&[1, 2, 3], 3);
    let backup = net.nodes[net.index(1)].engine.store().clone();
    write_stories(&mut net, &dna, 3..13);
    let full = chain_at(&net, 2, pod);
    assert_eq!(full.len(), 14, "Genesis and 13 stories on the member");

    restore(&mut net, &dna, backup);
    assert_eq!(chain_at(&net, 1, pod).len(), 4, "the copy is old");
    // Before any peer is heard from, a write is refused as waiting, and nothing is stored.
    write_story(&mut net, &dna, "too early");
    let refusal = last_refusal(&net).expect("refused");
    assert!(
        matches!(refusal, WriteRefusal::Anchoring { .. }),
        "{refusal:?}"
    );
    assert!(refusal.to_string().contains("retry"), "{refusal}");
    assert_eq!(chain_at(&net, 1, pod).len(), 4);

    net.connect(pod);
    net.run_for(3 * SECOND);
    let node = &net.nodes[net.index(1)];
    assert!(
        node.events
            .iter()
            .any(|e| matches!(e, Event::Anchored { next_seq: 14, .. })),
        "anchored after fetching the 10 newer records: {:?}",
        node.events
    );
    assert_eq!(
        chain_at(&net, 1, pod),
        full,
        "the same chain, hash for hash"
    );

    write_story(&mut net, &dna, "after the restore");
    net.run_for(3 * SECOND);
    let mine = chain_at(&net, 1, pod);
    assert_eq!(mine.len(), 15, "the write lands at seq 14");
    assert_eq!(chain_at(&net, 2, pod), mine, "and replicates");
    for seed in [1, 2, 3] {
        assert!(
            net.warranted(seed).is_empty(),
            "node {seed} warranted someone"
        );
    }
}

#[test]
fn a_recreated_agent_joins_again_without_a_second_genesis() {
    let (mut net, dna, pod) = pod_with_stories(&[1, 2], 2);
    let full = chain_at(&net, 2, pod);
    // The store is lost: the agent is recreated (its key from the phrase) with nothing.
    let i = net.index(1);
    net.nodes[i].engine = Engine::new(
        test_config(),
        key(1),
        net.nodes[i].peer.clone(),
        Some("EU".into()),
        MemoryStore::new(),
    );
    net.nodes[i].engine.require_anchor(net.now, BTreeSet::new());
    net.join(1, &dna, vec![]);
    assert!(chain_at(&net, 1, pod).is_empty(), "no Genesis written yet");
    net.connect(pod);
    net.run_for(3 * SECOND);
    assert_eq!(
        chain_at(&net, 1, pod),
        full,
        "the chain came back from the member, and no second Genesis was written"
    );
    assert!(net.warranted(2).is_empty());
    write_story(&mut net, &dna, "back");
    net.run_for(2 * SECOND);
    assert_eq!(chain_at(&net, 2, pod).len(), full.len() + 1);
    assert!(net.warranted(2).is_empty());
}

#[test]
fn with_no_member_answering_a_write_is_refused_with_the_way_out() {
    let (mut net, dna, pod) = pod_with_stories(&[1, 2], 1);
    let backup = net.nodes[net.index(1)].engine.store().clone();
    restore(&mut net, &dna, backup);
    let member = net.index(2);
    net.nodes[member].online = false;
    net.connect(pod);
    net.run_for(40 * SECOND);
    // Its connection drops, as a real node's does when the peer goes away.
    let gone = net.nodes[member].peer.clone();
    let me = net.nodes[net.index(1)].peer.clone();
    net.input(net.index(1), Input::PeerLeft { peer: gone });
    net.input(member, Input::PeerLeft { peer: me });
    write_story(&mut net, &dna, "alone");
    let refusal = last_refusal(&net).expect("refused");
    assert!(
        matches!(refusal, WriteRefusal::Unanchored { answered: 0, .. }),
        "{refusal:?}"
    );
    let text = refusal.to_string();
    assert!(text.contains("--accept-fork-risk"), "{text}");
    assert!(text.contains("no member"), "{text}");
    assert_eq!(chain_at(&net, 1, pod).len(), 2, "nothing was stored");

    // The member comes back: the wait ends and the write goes through.
    net.nodes[member].online = true;
    net.connect(pod);
    net.run_for(3 * SECOND);
    write_story(&mut net, &dna, "together");
    net.run_for(2 * SECOND);
    assert_eq!(
        chain_at(&net, 2, pod).len(),
        3,
        "{:?}",
        net.nodes[0].events.iter().rev().take(5).collect::<Vec<_>>()
    );
}

#[test]
fn a_lying_peer_cannot_make_a_restored_node_skip_its_newer_records() {
    // A peer claims the chain goes further than it does: the node keeps waiting rather than
    // writing at a seq the claim says is taken, and says so after the bound.
    let (mut net, dna, pod) = pod_with_stories(&[1, 2], 1);
    let backup = net.nodes[net.index(1)].engine.store().clone();
    restore(&mut net, &dna, backup);
    let i = net.index(1);
    let liar = net.nodes[net.index(2)].peer.clone();
    // The honest member is offline; a forged Heights answer is handed straight in.
    let member = net.index(2);
    net.nodes[member].online = false;
    let heights = myco_node::engine::SyncResponse::Heights {
        pod,
        heights: vec![myco_node::engine::Height {
            author: myco_dna::agent_key_of(&key(1)),
            seq: 40,
            hash: myco_dna::ActionHash::from_slice(&[7; 32]).expect("32 bytes"),
        }],
        more: false,
        own_only: false,
    };
    // Driven by hand: the liar's answers go straight to the node's engine.
    let now = net.now;
    let asked = net.nodes[i].engine.handle(
        now,
        Input::PeerJoined {
            peer: liar.clone(),
            pod,
        },
    );
    let token = asked
        .iter()
        .find_map(|o| match o {
            Output::Request {
                to,
                token,
                request: SyncRequest::Heights { .. },
            } if *to == liar => Some(*token),
            _ => None,
        })
        .expect("the node asks the new peer for heights");
    let answered = net.nodes[i].engine.handle(
        now + 1_000,
        Input::Response {
            from: liar,
            token,
            bytes: heights.to_bytes(),
        },
    );
    // It asks the liar for the claimed records; the liar never sends them.
    assert!(answered.iter().any(|o| matches!(
        o,
        Output::Request {
            request: SyncRequest::Range { .. },
            ..
        }
    )));
    net.run_for(40 * SECOND);
    write_story(&mut net, &dna, "on top of the lie");
    let refusal = last_refusal(&net).expect("refused");
    assert!(
        matches!(
            refusal,
            WriteRefusal::Unanchored {
                claimed_seq: Some(40),
                ..
            }
        ),
        "{refusal:?}"
    );
    assert!(refusal.to_string().contains("seq 40"), "{refusal}");
    assert_eq!(chain_at(&net, 1, pod).len(), 2);
}

#[test]
fn a_pod_of_one_is_anchored_at_once() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(3, &[1]);
    net.join(1, &dna, vec![]);
    write_stories(&mut net, &dna, 0..2);
    let backup = net.nodes[0].engine.store().clone();
    restore(&mut net, &dna, backup);
    write_story(&mut net, &dna, "solo");
    net.run_for(SECOND);
    assert_eq!(chain_at(&net, 1, pod).len(), 4);
}
