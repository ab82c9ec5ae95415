//! One pod's world: its nodes, each running `myco_node::engine::Engine` over a `MemoryStore`,
//! the gossip mesh, the links, and the event loop that drives them in virtual time.
//!
//! Pods are independent (a node belongs to one pod), so a scenario with many pods runs one
//! world per pod, each seeded from (seed, pod index): the result does not depend on which
//! thread ran which pod.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, AgentKey, DnaHash, DnaManifest, KeyHash};
use myco_node::engine::{Engine, EngineConfig, Input, PeerId, Timer};
use myco_node::store::MemoryStore;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::adversary::{Adversary, Behaviour};
use crate::link::Partitions;
use crate::mesh::{Mesh, Wire};
use crate::metrics::{Metrics, PodResult};
use crate::queue::EventQueue;
use crate::scenario::{Scenario, ScenarioError};
use crate::setup::{self, micros, T0};
use crate::trace::Trace;

/// Something scheduled.
enum Ev {
    Net { from: u32, to: u32, msg: NetMsg },
    Timer { node: u32, timer: Timer },
    Write { node: u32, write: Write },
    Heartbeat { node: u32 },
    Attack { node: u32 },
    Timeout { rid: u64 },
    Churn { node: u32, online: bool },
    PartitionStart { index: usize },
    PartitionEnd,
}

#[derive(Clone, Copy)]
enum Write {
    Story,
    Proposal,
    Vote(usize),
}

/// What travels over a link.
#[derive(Clone)]
enum NetMsg {
    Topic(Wire),
    Request { rid: u64, bytes: Vec<u8> },
    Response { rid: u64, bytes: Vec<u8> },
}

impl NetMsg {
    fn size(&self) -> usize {
        match self {
            NetMsg::Topic(w) => w.size(),
            NetMsg::Request { bytes, .. } | NetMsg::Response { bytes, .. } => bytes.len() + 16,
        }
    }
}

/// A request in flight: who asked whom, and the requester engine's token (none for a
/// misbehaving node's own pushes).
struct Pending {
    requester: u32,
    target: u32,
    token: Option<u64>,
}

struct Node {
    engine: Engine<MemoryStore>,
    agent: AgentKey,
    role: Behaviour,
    adversary: Option<Adversary>,
}

/// One pod being simulated.
pub struct World<'a> {
    scenario: &'a Scenario,
    dna: DnaManifest,
    pod: DnaHash,
    nodes: Vec<Node>,
    by_key: BTreeMap<KeyHash, u32>,
    queue: EventQueue<Ev>,
    rng: ChaCha8Rng,
    now: u64,
    mesh: Mesh,
    partitions: Partitions,
    online: Vec<bool>,
    uplink: Vec<u64>,
    pending: BTreeMap<u64, Pending>,
    next_rid: u64,
    metrics: Metrics,
    trace: Trace,
    proposals: Vec<ActionHash>,
    /// When every scheduled disturbance is over (µs, absolute).
    calm_from: u64,
    writes_left: usize,
}

fn peer_id(n: u32) -> PeerId {
    PeerId(n.to_be_bytes().to_vec())
}

fn index_of(peer: &PeerId) -> Option<u32> {
    <[u8; 4]>::try_from(peer.0.as_slice())
        .ok()
        .map(u32::from_be_bytes)
}

mod actors;
mod net;

impl<'a> World<'a> {
    /// Builds pod `index` of `scenario` for `seed`, with every node joined and connected.
    pub fn new(
        scenario: &'a Scenario,
        base: &DnaManifest,
        seed: u64,
        index: usize,
    ) -> Result<World<'a>, ScenarioError> {
        let setup = setup::pod(scenario, base, seed, index)?;
        let mut rng = setup::rng_for(seed, "pod", index as u64);
        let config = EngineConfig {
            sync_interval_micros: scenario.engine.sync_interval_ms * 1_000,
            request_timeout_micros: scenario.engine.request_timeout_ms * 1_000,
            ..EngineConfig::default()
        };
        let region = setup.dna.properties.allowed_regions.first().cloned();
        let n = setup.keys.len();
        let mut nodes = Vec::with_capacity(n);
        let mut by_key = BTreeMap::new();
        for (i, (key, role)) in setup.keys.iter().zip(&setup.roles).enumerate() {
            let store = match (&setup.warm_store, role) {
                (Some(store), r) if *r != Behaviour::Reader => store.clone(),
                _ => MemoryStore::new(),
            };
            let agent = myco_dna::agent_key_of(key);
            by_key.insert(agent.key_hash(), i as u32);
            nodes.push(Node {
                engine: Engine::new(
                    config.clone(),
                    key.clone(),
                    peer_id(i as u32),
                    region.clone(),
                    store,
                ),
                agent,
                role: *role,
                adversary: role
                    .is_bad_member()
                    .then(|| Adversary::new(*role, key.clone())),
            });
        }
        let honest = setup
            .roles
            .iter()
            .map(|r| *r == Behaviour::Honest)
            .collect();
        let mesh = Mesh::build(n, &scenario.gossip, scenario.pods.connections, &mut rng);
        let mut world = World {
            scenario,
            pod: setup.pod,
            dna: setup.dna,
            nodes,
            by_key,
            queue: EventQueue::new(),
            rng,
            now: T0,
            mesh,
            partitions: Partitions::default(),
            online: vec![true; n],
            uplink: vec![0; n],
            pending: BTreeMap::new(),
            next_rid: 1,
            metrics: Metrics::new(honest),
            trace: Trace::default(),
            proposals: Vec::new(),
            calm_from: T0,
            writes_left: 0,
        };
        world.join_all(&setup.proofs);
        world.schedule_workload();
        Ok(world)
    }

    pub(super) fn join_all(&mut self, proofs: &[Vec<u8>]) {
        for i in 0..self.nodes.len() {
            let membrane_proof = proofs.get(i).cloned().unwrap_or_default();
            let dna = Box::new(self.dna.clone());
            self.input(
                i as u32,
                Input::JoinPod {
                    dna,
                    membrane_proof,
                },
            );
        }
        for i in 0..self.nodes.len() as u32 {
            for p in self.mesh.nodes[i as usize].known.clone() {
                let pod = self.pod;
                self.input(
                    i,
                    Input::PeerJoined {
                        peer: peer_id(p),
                        pod,
                    },
                );
            }
            let phase = self
                .rng
                .gen_range(0..self.scenario.gossip.heartbeat_ms * 1_000);
            self.queue.push(T0 + phase, Ev::Heartbeat { node: i });
        }
    }

    /// Runs to the scenario's end (or until it has settled), reporting virtual progress in
    /// µs through `progress`, and returns the pod's figures.
    pub fn run(mut self, progress: &mut dyn FnMut(u64)) -> PodResult {
        let sc = self.scenario;
        let end = T0 + micros(sc.duration_s);
        let settle = micros(sc.settle_s);
        let mut stop_at = u64::MAX;
        let mut events = 0u64;
        let mut next_check = T0;
        while let Some(at) = self.queue.peek_time() {
            if at > end || at > stop_at {
                break;
            }
            let Some((at, seq, ev)) = self.queue.pop() else {
                break;
            };
            self.now = at;
            events += 1;
            self.dispatch(seq, ev);
            if self.now >= next_check {
                // Checked every 100 ms of virtual time: cheap, and independent of event counts.
                next_check = self.now + 100_000;
                progress(self.now - T0);
                if settle > 0
                    && stop_at == u64::MAX
                    && self.now >= self.calm_from
                    && self.writes_left == 0
                    && self.metrics.converged()
                {
                    stop_at = self.now + settle;
                }
            }
        }
        progress(self.now - T0);
        let forkers: Vec<KeyHash> = self
            .nodes
            .iter()
            .filter(|n| n.role == Behaviour::Forker)
            .map(|n| n.agent.key_hash())
            .collect();
        let mut out = self.metrics.finish(&forkers, self.trace.finish());
        out.events = events;
        out.disturbed_until = self.calm_from - T0;
        out.last_delivery_at = out.last_delivery_at.saturating_sub(T0);
        out.simulated = self.now - T0;
        out.pod = self.pod.0;
        out
    }

    fn dispatch(&mut self, seq: u64, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::Net { from, to, msg } => {
                if !self.online[to as usize] {
                    return;
                }
                self.trace
                    .delivery(now, from, to, &net::msg_digest(&msg), msg.size());
                self.metrics.bytes(from, to, msg.size());
                self.deliver(from, to, msg);
            }
            Ev::Timer { node, timer } => {
                self.trace.event(now, node, 1, seq);
                self.input(node, Input::Timer(timer));
            }
            Ev::Write { node, write } => {
                self.trace.event(now, node, 2, seq);
                self.writes_left = self.writes_left.saturating_sub(1);
                self.write(node, write);
            }
            Ev::Heartbeat { node } => {
                let interval = self.scenario.gossip.heartbeat_ms * 1_000;
                self.queue.push(now + interval, Ev::Heartbeat { node });
                if self.online[node as usize] {
                    let sends = self.mesh.heartbeat(node, &self.online, &mut self.rng);
                    self.send_all(sends);
                }
            }
            Ev::Attack { node } => {
                self.trace.event(now, node, 3, seq);
                self.attack(node);
            }
            Ev::Timeout { rid } => {
                if let Some(p) = self.pending.remove(&rid) {
                    if let Some(token) = p.token {
                        let peer = peer_id(p.target);
                        self.input(p.requester, Input::RequestFailed { peer, token });
                    }
                }
            }
            Ev::Churn { node, online } => {
                self.trace.event(now, node, 4 + u8::from(online), seq);
                self.set_online(node, online);
            }
            Ev::PartitionStart { index } => {
                let part = &self.scenario.partitions[index];
                let side_a: Vec<bool> = (0..self.nodes.len())
                    .map(|_| self.rng.gen_bool(part.fraction))
                    .collect();
                self.partitions.start(side_a, part.one_way);
            }
            Ev::PartitionEnd => self.partitions.heal_all(),
        }
    }
}
