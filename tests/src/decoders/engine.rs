//! The engine's own input path: sequences of gossip, sync requests, responses, timers and
//! peer events from several peers into one real engine.

use myco_dna::{chain, Record};
use myco_node::engine::{
    Engine, EngineConfig, GossipMessage, Input, Output, PeerId, SyncRequest, Timer,
};
use myco_node::store::MemoryStore;
use serde_bytes::ByteBuf;

use super::wire::{gossip_seeds, sync_request_seeds, sync_response_seeds};
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

/// The peers a fuzzed engine hears from: a founder's node (key 2's, which the seeds' chains
/// belong to) and strangers.
const PEERS: u8 = 4;

/// A stateful run: a sequence of inputs from several peers into one real engine hosting a pod
/// (as key 1, a founder), over the in-memory store. Each frame's kind byte picks the input —
/// low two bits: gossip, a sync request, a response to one of the engine's own outstanding
/// requests, or a timer or peer event — and the peer it comes from (the next two bits); time
/// moves on with every input, by more for timers. Besides never panicking, the engine must
/// store only records that pass system validation, in unbroken chains.
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
    engine.handle(
        NOW,
        Input::JoinPod {
            dna: Box::new(dna),
            membrane_proof: Vec::new(),
        },
    );
    let peer_of = |kind: u8| PeerId(vec![2 + (kind >> 2) % PEERS]);
    for n in 0..PEERS {
        engine.handle(
            NOW,
            Input::PeerJoined {
                peer: PeerId(vec![2 + n]),
                pod,
            },
        );
    }
    // The engine's own requests not answered yet: (peer, token).
    let mut asked: std::collections::VecDeque<(PeerId, u64)> = Default::default();
    let mut now = NOW;
    for (n, (kind, frame)) in frames(bytes).into_iter().enumerate() {
        let peer = peer_of(kind);
        now += 1_000;
        let input = match kind % 4 {
            0 => Input::Gossip {
                from: peer,
                message_id: vec![n as u8],
                bytes: frame.to_vec(),
            },
            1 => Input::Request {
                from: peer,
                request_id: n as u64,
                bytes: frame.to_vec(),
            },
            2 => match asked.pop_front() {
                // Answered by whoever the engine asked, or by a peer it did not ask.
                Some((to, token)) => Input::Response {
                    from: if kind & 0x40 == 0 { to } else { peer },
                    token,
                    bytes: frame.to_vec(),
                },
                None => Input::Response {
                    from: peer,
                    token: u64::from(kind),
                    bytes: frame.to_vec(),
                },
            },
            _ => match frame.first().copied().unwrap_or(0) % 5 {
                0 => {
                    now += 1_000_000;
                    Input::Timer(Timer::Sync)
                }
                1 => {
                    now += 30_000_000;
                    Input::Timer(Timer::Sweep)
                }
                2 => Input::PeerLeft { peer },
                3 => Input::PeerJoined { peer, pod },
                _ => match asked.pop_front() {
                    Some((peer, token)) => Input::RequestFailed { peer, token },
                    None => Input::Timer(Timer::Sync),
                },
            },
        };
        for output in engine.handle(now, input) {
            if let Output::Request { to, token, .. } = output {
                if asked.len() < 64 {
                    asked.push_back((to, token));
                }
            }
        }
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
    // A sync round: the timer makes the engine ask its peers, whose answers follow; then a
    // sweep, a peer leaving and one coming back.
    let responses = sync_response_seeds();
    let mut round = vec![(3, vec![0])];
    round.extend(responses.iter().take(3).map(|r| (2, r.clone())));
    round.extend([
        (3, vec![1]),
        (3 | 4, vec![2]),
        (3 | 4, vec![3]),
        (3, vec![4]),
    ]);
    seeds.push(engine_input(&round));
    seeds.extend(
        gossip_seeds()
            .into_iter()
            .chain(sync_request_seeds())
            .enumerate()
            .map(|(n, bytes)| engine_input(&[((n >= 3) as u8, bytes)])),
    );
    seeds
}
