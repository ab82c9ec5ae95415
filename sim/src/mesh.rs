//! Gossipsub, modelled as a mesh broadcast per pod topic: each node keeps D mesh peers and
//! pushes every message it accepted to them (eager push), and each heartbeat advertises the
//! ids it holds to a few non-mesh peers (IHAVE), who ask for what they miss (IWANT).
//!
//! As in gossipsub with `validate_messages`, a node forwards a message only after its engine
//! gave it [`GossipVerdict::Accept`]; duplicates are dropped by message id before the engine
//! sees them; rejected messages count against the peer that sent them, and a peer with too
//! many is graylisted (its messages dropped, and it leaves the mesh).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use myco_node::engine::GossipVerdict;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::scenario::GossipSpec;

/// A gossip message id: blake2b-256 of the message bytes.
pub type MsgId = [u8; 32];

/// Framing bytes counted on top of each gossip message's body.
pub const FRAME_BYTES: usize = 40;

/// What one node sends another on the topic.
#[derive(Clone, Debug)]
pub enum Wire {
    /// A whole message.
    Gossip {
        /// Its id.
        id: MsgId,
        /// Its bytes.
        bytes: Arc<Vec<u8>>,
    },
    /// Ids the sender holds.
    IHave(Vec<MsgId>),
    /// Ids the sender wants.
    IWant(Vec<MsgId>),
}

/// Gossip message `id` with `bytes`, from `from` to each of `to`.
fn gossip_sends(
    from: u32,
    id: MsgId,
    bytes: &Arc<Vec<u8>>,
    to: impl Iterator<Item = u32>,
) -> Vec<Send> {
    to.map(|to| Send {
        from,
        to,
        wire: Wire::Gossip {
            id,
            bytes: bytes.clone(),
        },
    })
    .collect()
}

impl Wire {
    /// Bytes on the wire.
    pub fn size(&self) -> usize {
        match self {
            Wire::Gossip { bytes, .. } => bytes.len() + FRAME_BYTES,
            Wire::IHave(ids) | Wire::IWant(ids) => ids.len() * 32 + 8,
        }
    }
}

/// One message to put on a link.
#[derive(Clone, Debug)]
pub struct Send {
    /// Sender.
    pub from: u32,
    /// Receiver.
    pub to: u32,
    /// What.
    pub wire: Wire,
}

/// One node's gossipsub state.
#[derive(Clone, Debug, Default)]
pub struct MeshNode {
    /// Mesh peers (eager push).
    pub mesh: BTreeSet<u32>,
    /// Every peer it is connected to on the topic.
    pub known: Vec<u32>,
    seen: BTreeSet<MsgId>,
    /// Messages handed to the engine, awaiting its verdict, with who sent them.
    pending: BTreeMap<MsgId, u32>,
    /// Ids accepted per heartbeat window, newest first.
    mcache: VecDeque<Vec<MsgId>>,
    penalties: BTreeMap<u32, u32>,
    graylisted: BTreeSet<u32>,
}

/// The gossip state of one pod's topic.
pub struct Mesh {
    spec: GossipSpec,
    /// Per node.
    pub nodes: Vec<MeshNode>,
    messages: BTreeMap<MsgId, Arc<Vec<u8>>>,
}

impl Mesh {
    /// A random mesh of degree about `spec.d` over `n` nodes, each also connected to about
    /// `connections` peers in all.
    pub fn build(n: usize, spec: &GossipSpec, connections: usize, rng: &mut ChaCha8Rng) -> Mesh {
        let mut nodes = vec![MeshNode::default(); n];
        let d = spec.d.min(n.saturating_sub(1));
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.shuffle(rng);
        for &i in &order {
            let mut tries = 0;
            while nodes[i as usize].mesh.len() < d && tries < 20 * d {
                tries += 1;
                let j = rng.gen_range(0..n as u32);
                if j == i
                    || nodes[j as usize].mesh.len() >= spec.d_hi
                    || nodes[i as usize].mesh.contains(&j)
                {
                    continue;
                }
                nodes[i as usize].mesh.insert(j);
                nodes[j as usize].mesh.insert(i);
            }
        }
        let mut known: Vec<BTreeSet<u32>> = nodes.iter().map(|m| m.mesh.clone()).collect();
        let want = connections.min(n.saturating_sub(1));
        for &i in &order {
            let mut tries = 0;
            while known[i as usize].len() < want && tries < 20 * want {
                tries += 1;
                let j = rng.gen_range(0..n as u32);
                if j != i {
                    known[i as usize].insert(j);
                    known[j as usize].insert(i);
                }
            }
        }
        for (node, peers) in nodes.iter_mut().zip(known) {
            node.known = peers.into_iter().collect();
        }
        Mesh {
            spec: spec.clone(),
            nodes,
            messages: BTreeMap::new(),
        }
    }

    /// Adds `peer` as a known topic peer of `node` (and back), outside the mesh.
    pub fn connect(&mut self, node: u32, peer: u32) {
        for (a, b) in [(node, peer), (peer, node)] {
            let known = &mut self.nodes[a as usize].known;
            if let Err(at) = known.binary_search(&b) {
                known.insert(at, b);
            }
        }
    }

    /// Node `n` publishes `bytes`: it sends them to its mesh peers.
    pub fn publish(&mut self, n: u32, bytes: Vec<u8>) -> (MsgId, Vec<Send>) {
        let id = myco_dna::blake2b_256(&bytes);
        let bytes = Arc::new(bytes);
        self.messages.insert(id, bytes.clone());
        let node = &mut self.nodes[n as usize];
        node.seen.insert(id);
        remember(node, id);
        let sends = gossip_sends(n, id, &bytes, node.mesh.iter().copied());
        (id, sends)
    }

    /// Sends `bytes` from `n` to chosen peers only, as a misbehaving node might.
    pub fn inject(&mut self, n: u32, bytes: Vec<u8>, to: &[u32]) -> Vec<Send> {
        let id = myco_dna::blake2b_256(&bytes);
        let bytes = Arc::new(bytes);
        self.messages.insert(id, bytes.clone());
        self.nodes[n as usize].seen.insert(id);
        gossip_sends(n, id, &bytes, to.iter().copied())
    }

    /// A message arrived at `n` from `from`: true if it is new and goes to the engine.
    pub fn receive(&mut self, n: u32, from: u32, id: MsgId) -> bool {
        let node = &mut self.nodes[n as usize];
        if node.graylisted.contains(&from) || !node.seen.insert(id) {
            return false;
        }
        node.pending.insert(id, from);
        true
    }

    /// The engine's verdict on a message at `n`: forward it if accepted, penalise its sender
    /// if rejected.
    pub fn verdict(&mut self, n: u32, id: MsgId, verdict: GossipVerdict) -> Vec<Send> {
        let Some(from) = self.nodes[n as usize].pending.remove(&id) else {
            return Vec::new();
        };
        match verdict {
            GossipVerdict::Accept => {
                let node = &mut self.nodes[n as usize];
                remember(node, id);
                let Some(bytes) = self.messages.get(&id) else {
                    return Vec::new();
                };
                gossip_sends(
                    n,
                    id,
                    bytes,
                    node.mesh.iter().copied().filter(|&to| to != from),
                )
            }
            GossipVerdict::Reject => {
                let limit = self.spec.graylist_after;
                let node = &mut self.nodes[n as usize];
                let count = node.penalties.entry(from).or_default();
                *count += 1;
                if *count >= limit && node.graylisted.insert(from) {
                    node.mesh.remove(&from);
                    self.nodes[from as usize].mesh.remove(&n);
                }
                Vec::new()
            }
            GossipVerdict::Ignore => Vec::new(),
        }
    }

    /// True if `n` graylisted `peer`.
    pub fn graylisted(&self, n: u32, peer: u32) -> bool {
        self.nodes[n as usize].graylisted.contains(&peer)
    }

    /// One heartbeat of `n`: repair the mesh, then advertise recent ids to `d_lazy` peers.
    pub fn heartbeat(&mut self, n: u32, online: &[bool], rng: &mut ChaCha8Rng) -> Vec<Send> {
        let spec = self.spec.clone();
        let i = n as usize;
        let dropped: Vec<u32> = self.nodes[i]
            .mesh
            .iter()
            .copied()
            .filter(|&p| !online[p as usize] || self.nodes[i].graylisted.contains(&p))
            .collect();
        for p in dropped {
            self.nodes[i].mesh.remove(&p);
            self.nodes[p as usize].mesh.remove(&n);
        }
        if self.nodes[i].mesh.len() < spec.d_lo {
            let mut candidates: Vec<u32> = self.nodes[i]
                .known
                .iter()
                .copied()
                .filter(|&p| {
                    online[p as usize]
                        && !self.nodes[i].mesh.contains(&p)
                        && !self.nodes[i].graylisted.contains(&p)
                        && self.nodes[p as usize].mesh.len() < spec.d_hi
                })
                .collect();
            candidates.shuffle(rng);
            let need = spec.d.saturating_sub(self.nodes[i].mesh.len());
            for p in candidates.into_iter().take(need) {
                self.nodes[i].mesh.insert(p);
                self.nodes[p as usize].mesh.insert(n);
            }
        }
        let node = &mut self.nodes[i];
        let ids: Vec<MsgId> = node.mcache.iter().flatten().copied().collect();
        node.mcache.push_front(Vec::new());
        node.mcache.truncate(spec.history.max(1));
        if ids.is_empty() {
            return Vec::new();
        }
        let mut lazy: Vec<u32> = node
            .known
            .iter()
            .copied()
            .filter(|p| online[*p as usize] && !node.mesh.contains(p))
            .collect();
        lazy.shuffle(rng);
        lazy.into_iter()
            .take(spec.d_lazy)
            .map(|to| Send {
                from: n,
                to,
                wire: Wire::IHave(ids.clone()),
            })
            .collect()
    }

    /// `n` got an IHAVE from `from`: ask for what it has not seen.
    pub fn on_ihave(&mut self, n: u32, from: u32, ids: &[MsgId]) -> Option<Send> {
        let node = &self.nodes[n as usize];
        if node.graylisted.contains(&from) {
            return None;
        }
        let wanted: Vec<MsgId> = ids
            .iter()
            .filter(|id| !node.seen.contains(*id))
            .copied()
            .collect();
        (!wanted.is_empty()).then_some(Send {
            from: n,
            to: from,
            wire: Wire::IWant(wanted),
        })
    }

    /// `n` got an IWANT from `from`: send what it still advertises.
    pub fn on_iwant(&mut self, n: u32, from: u32, ids: &[MsgId]) -> Vec<Send> {
        let node = &self.nodes[n as usize];
        ids.iter()
            .filter(|id| node.mcache.iter().any(|w| w.contains(id)))
            .filter_map(|id| self.messages.get(id).map(|b| (id, b)))
            .map(|(id, bytes)| Send {
                from: n,
                to: from,
                wire: Wire::Gossip {
                    id: *id,
                    bytes: bytes.clone(),
                },
            })
            .collect()
    }
}

fn remember(node: &mut MeshNode, id: MsgId) {
    if node.mcache.is_empty() {
        node.mcache.push_front(Vec::new());
    }
    node.mcache[0].push(id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_mesh_is_symmetric_and_near_degree_d() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mesh = Mesh::build(200, &GossipSpec::default(), 20, &mut rng);
        for (i, node) in mesh.nodes.iter().enumerate() {
            assert!(node.mesh.len() >= 4 && node.mesh.len() <= 12, "{i}");
            for p in &node.mesh {
                assert!(mesh.nodes[*p as usize].mesh.contains(&(i as u32)));
                assert!(node.known.contains(p));
            }
        }
    }

    #[test]
    fn a_duplicate_is_dropped_and_only_accepted_messages_are_forwarded() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut mesh = Mesh::build(10, &GossipSpec::default(), 9, &mut rng);
        let (id, sends) = mesh.publish(0, b"hello".to_vec());
        let to = sends[0].to;
        assert!(mesh.receive(to, 0, id));
        assert!(
            !mesh.receive(to, 0, id),
            "a duplicate never reaches the engine"
        );
        let forwarded = mesh.verdict(to, id, GossipVerdict::Accept);
        assert!(forwarded.iter().all(|s| s.to != 0));
        let (bad, sends) = mesh.publish(0, b"bad".to_vec());
        let to = sends[0].to;
        assert!(mesh.receive(to, 0, bad));
        assert!(mesh.verdict(to, bad, GossipVerdict::Reject).is_empty());
    }
}
