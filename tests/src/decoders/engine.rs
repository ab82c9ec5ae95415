//! The engine's own input path: gossip and sync requests from a peer into a real engine.

use myco_dna::{chain, Record};
use myco_node::engine::{Engine, EngineConfig, GossipMessage, Input, PeerId, SyncRequest};
use myco_node::store::MemoryStore;
use serde_bytes::ByteBuf;

use super::wire::{gossip_seeds, sync_request_seeds};
use super::{chain_of_two, key, pod_dna, NOW};

/// Frames of engine input: a kind byte (even: gossip, odd: a sync request) and a two-byte
/// big-endian length, then that many bytes; a short last frame takes what is left.
fn frames(mut bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while let [kind, high, low, rest @ ..] = bytes {
        let len = (usize::from(*high) << 8 | usize::from(*low)).min(rest.len());
        out.push((*kind, &rest[..len]));
        bytes = &rest[len..];
    }
    out
}

/// Gossip and sync requests from one peer into a real engine hosting a pod (as key 1, a
/// founder), over the in-memory store. Besides never panicking, the engine must store only
/// records that pass system validation, in unbroken chains.
pub fn engine(bytes: &[u8]) {
    engine_stores(bytes);
}

/// Runs [`engine`]'s input and returns the pod's records the engine then holds.
pub fn engine_stores(bytes: &[u8]) -> Vec<Record> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let mut engine = Engine::new(
        EngineConfig::default(),
        key(1),
        PeerId(vec![1]),
        Some("DK".into()),
        MemoryStore::new(),
    );
    let peer = PeerId(vec![2]);
    engine.handle(
        NOW,
        Input::JoinPod {
            dna: Box::new(dna),
            membrane_proof: Vec::new(),
        },
    );
    engine.handle(
        NOW,
        Input::PeerJoined {
            peer: peer.clone(),
            pod,
        },
    );
    for (n, (kind, frame)) in frames(bytes).into_iter().enumerate() {
        let input = if kind % 2 == 0 {
            Input::Gossip {
                from: peer.clone(),
                message_id: vec![n as u8],
                bytes: frame.to_vec(),
            }
        } else {
            Input::Request {
                from: peer.clone(),
                request_id: n as u64,
                bytes: frame.to_vec(),
            }
        };
        engine.handle(NOW + n as u64, input);
    }
    let mut stored = engine
        .pod_records(&pod)
        .expect("the in-memory store does not fail");
    stored.sort_by_key(|r| (r.action().author, r.action().seq));
    for chain in stored.chunk_by(|a, b| a.action().author == b.action().author) {
        if let Err((at, error)) = chain::validate_chain(chain) {
            panic!("the engine stored an invalid chain (record {at}): {error}");
        }
    }
    stored
}

/// Frames `messages` the way [`engine`] reads them.
pub fn engine_input(messages: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (kind, bytes) in messages {
        let len = u16::try_from(bytes.len()).expect("seed frames are small");
        out.push(*kind);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

pub(super) fn engine_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let chain = chain_of_two(&dna);
    let push = SyncRequest::Push {
        pod,
        records: vec![ByteBuf::from(chain[0].to_bytes())],
    };
    let gossip = |r: &Record| {
        (
            0,
            GossipMessage::Record(ByteBuf::from(r.to_bytes())).to_bytes(),
        )
    };
    let mut seeds = vec![engine_input(&[
        (1, push.to_bytes()),
        gossip(&chain[1]),
        (1, sync_request_seeds()[0].clone()),
    ])];
    seeds.extend(
        gossip_seeds()
            .into_iter()
            .chain(sync_request_seeds())
            .enumerate()
            .map(|(n, bytes)| engine_input(&[((n >= 3) as u8, bytes)])),
    );
    seeds
}
