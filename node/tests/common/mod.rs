//! A small in-memory network for driving several engines in tests: seeded, and able to lose,
//! duplicate and reorder messages. Every byte a node receives is kept, so tests can scan it.

#![allow(dead_code)]

use std::collections::BTreeMap;

use myco_dna::{ActionBody, DnaHash, DnaManifest, Entry, EntryRef, SigningKey, Visibility};
use myco_node::engine::{Engine, EngineConfig, Event, Input, Output, PeerId};
use myco_node::store::MemoryStore;
use rand::{Rng, SeedableRng};

/// Virtual start time (µs).
pub const T0: u64 = 1_780_000_000_000_000;
/// One second in µs.
pub const SECOND: u64 = 1_000_000;

/// One node of the test network.
pub struct Node {
    pub engine: Engine<MemoryStore>,
    pub peer: PeerId,
    pub seed: u8,
    /// False while partitioned: nothing reaches it and nothing it sends gets out.
    pub online: bool,
    /// Every message body it received, in order.
    pub received: Vec<Vec<u8>>,
    pub events: Vec<Event>,
    /// Peers its engine asked to disconnect (for flooding).
    pub disconnected: Vec<PeerId>,
}

/// Something in flight.
#[derive(Clone)]
struct Delivery {
    to: usize,
    input: Input,
    network: bool,
}

/// The network.
pub struct Net {
    pub nodes: Vec<Node>,
    queue: BTreeMap<(u64, u64), Delivery>,
    seq: u64,
    rng: rand::rngs::StdRng,
    pub now: u64,
    /// Per-mille chance a message is lost.
    pub loss_pm: u32,
    /// Per-mille chance a message is delivered twice.
    pub dup_pm: u32,
    /// Largest extra delay (µs); different delays reorder messages.
    pub jitter: u64,
    /// When false, published gossip goes nowhere: only sync moves records.
    pub gossip: bool,
}

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn example(name: &str) -> DnaManifest {
    let path = format!("{}/../dna/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    myco_zomes::load_dna(&std::fs::read_to_string(path).expect("example exists")).expect("valid")
}

/// A config that sweeps and syncs often, so tests need little virtual time.
pub fn test_config() -> EngineConfig {
    EngineConfig {
        sync_interval_micros: 200_000,
        request_timeout_micros: 2 * SECOND,
        limbo_ttl_micros: 120 * SECOND,
        ..EngineConfig::default()
    }
}

impl Net {
    pub fn new(seed: u64, seeds: &[u8]) -> Self {
        let nodes = seeds
            .iter()
            .map(|s| {
                let peer = PeerId(vec![0xa0, *s]);
                Node {
                    engine: Engine::new(
                        test_config(),
                        key(*s),
                        peer.clone(),
                        Some("EU".into()),
                        MemoryStore::new(),
                    ),
                    peer,
                    seed: *s,
                    online: true,
                    received: Vec::new(),
                    events: Vec::new(),
                    disconnected: Vec::new(),
                }
            })
            .collect();
        Net {
            nodes,
            queue: BTreeMap::new(),
            seq: 0,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            now: T0,
            loss_pm: 0,
            dup_pm: 0,
            jitter: 5_000,
            gossip: true,
        }
    }

    pub fn index(&self, seed: u8) -> usize {
        self.nodes
            .iter()
            .position(|n| n.seed == seed)
            .expect("node exists")
    }

    fn schedule(&mut self, at: u64, delivery: Delivery) {
        self.seq += 1;
        self.queue.insert((at, self.seq), delivery);
    }

    fn send(&mut self, from: usize, to: usize, input: Input) {
        if !self.nodes[from].online || !self.nodes[to].online {
            return;
        }
        if self.rng.gen_range(0..1000) < self.loss_pm {
            return;
        }
        let copies = if self.rng.gen_range(0..1000) < self.dup_pm {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = 1_000 + self.rng.gen_range(0..=self.jitter);
            self.schedule(
                self.now + delay,
                Delivery {
                    to,
                    input: input.clone(),
                    network: true,
                },
            );
        }
    }

    /// Hands an input to a node now and routes what comes out.
    pub fn input(&mut self, node: usize, input: Input) {
        let outputs = self.nodes[node].engine.handle(self.now, input);
        self.route(node, outputs);
    }

    fn peer_index(&self, peer: &PeerId) -> Option<usize> {
        self.nodes.iter().position(|n| &n.peer == peer)
    }

    fn route(&mut self, from: usize, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Request { to, token, request } => {
                    if let Some(j) = self.peer_index(&to) {
                        let input = Input::Request {
                            from: self.nodes[from].peer.clone(),
                            request_id: token,
                            bytes: request.to_bytes(),
                        };
                        self.send(from, j, input);
                    }
                }
                Output::Respond {
                    to,
                    request_id,
                    response,
                } => {
                    if let Some(j) = self.peer_index(&to) {
                        let input = Input::Response {
                            from: self.nodes[from].peer.clone(),
                            token: request_id,
                            bytes: response.to_bytes(),
                        };
                        self.send(from, j, input);
                    }
                }
                Output::Publish { pod, message } => {
                    if !self.gossip {
                        continue;
                    }
                    let bytes = message.to_bytes();
                    let id = myco_dna::blake2b_256(&bytes).to_vec();
                    for j in 0..self.nodes.len() {
                        let hosts = self.nodes[j].engine.pods().any(|d| d.dna_hash() == pod);
                        if j != from && hosts {
                            let input = Input::Gossip {
                                from: self.nodes[from].peer.clone(),
                                message_id: id.clone(),
                                bytes: bytes.clone(),
                            };
                            self.send(from, j, input);
                        }
                    }
                }
                Output::GossipVerdict { .. } => {}
                Output::SetTimer { at, timer } => self.schedule(
                    at.max(self.now),
                    Delivery {
                        to: from,
                        input: Input::Timer(timer),
                        network: false,
                    },
                ),
                Output::Event(event) => self.nodes[from].events.push(event),
                Output::Disconnect { peer, .. } => self.nodes[from].disconnected.push(peer),
                // No node here is an archivist under a backup schedule.
                Output::TakePodBackup { .. } | Output::RestorePodBackup { .. } => {}
            }
        }
    }

    /// Runs until virtual time `until`.
    pub fn run_until(&mut self, until: u64) {
        while let Some((&(at, seq), _)) = self.queue.iter().next() {
            if at > until {
                break;
            }
            let delivery = self.queue.remove(&(at, seq)).expect("just seen");
            self.now = at;
            if delivery.network {
                if !self.nodes[delivery.to].online {
                    continue;
                }
                if let Input::Request { bytes, .. }
                | Input::Response { bytes, .. }
                | Input::Gossip { bytes, .. } = &delivery.input
                {
                    self.nodes[delivery.to].received.push(bytes.clone());
                }
            }
            self.input(delivery.to, delivery.input);
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, micros: u64) {
        let until = self.now + micros;
        self.run_until(until);
    }

    /// Tells every pair of nodes hosting `pod` about each other.
    pub fn connect(&mut self, pod: DnaHash) {
        let hosts: Vec<usize> = (0..self.nodes.len())
            .filter(|i| self.nodes[*i].engine.pods().any(|d| d.dna_hash() == pod))
            .collect();
        for &a in &hosts {
            for &b in &hosts {
                if a != b {
                    let peer = self.nodes[b].peer.clone();
                    self.input(a, Input::PeerJoined { peer, pod });
                }
            }
        }
    }

    /// Each of `seeds` joins the pod of `dna` with no membrane proof, then every node meets
    /// every other on it.
    pub fn join_all(&mut self, seeds: &[u8], dna: &DnaManifest) {
        for &seed in seeds {
            self.join(seed, dna, vec![]);
        }
        self.connect(dna.dna_hash());
    }

    pub fn join(&mut self, seed: u8, dna: &DnaManifest, membrane_proof: Vec<u8>) {
        let i = self.index(seed);
        self.input(
            i,
            Input::JoinPod {
                dna: Box::new(dna.clone()),
                membrane_proof,
            },
        );
    }

    /// Writes a Create of `value` as `seed`.
    pub fn create<T: serde::Serialize>(
        &mut self,
        seed: u8,
        pod: DnaHash,
        zome: &str,
        entry_type: &str,
        visibility: Visibility,
        value: &T,
    ) {
        let entry: Entry = myco_zomes::codec::encode(value);
        let entry_ref = EntryRef {
            zome: zome.into(),
            entry_type: entry_type.into(),
            entry_hash: entry.hash(),
            visibility,
        };
        let i = self.index(seed);
        self.input(
            i,
            Input::Author {
                pod,
                body: ActionBody::Create(entry_ref),
                entry: Some(entry),
            },
        );
    }

    /// Writes an Update of `original` to the content `value` with `visibility`, as `seed`.
    pub fn update<T: serde::Serialize>(
        &mut self,
        seed: u8,
        pod: DnaHash,
        original: myco_dna::ActionHash,
        visibility: Visibility,
        value: &T,
    ) {
        let entry: Entry = myco_zomes::codec::encode(value);
        let entry_ref = EntryRef {
            zome: "content".into(),
            entry_type: "content".into(),
            entry_hash: entry.hash(),
            visibility,
        };
        let i = self.index(seed);
        self.input(
            i,
            Input::Author {
                pod,
                body: ActionBody::Update {
                    original,
                    entry: entry_ref,
                },
                entry: Some(entry),
            },
        );
    }

    /// Writes a Delete of `target` as `seed`.
    pub fn delete(&mut self, seed: u8, pod: DnaHash, target: myco_dna::ActionHash) {
        let i = self.index(seed);
        self.input(
            i,
            Input::Author {
                pod,
                body: ActionBody::Delete { target },
                entry: None,
            },
        );
    }

    /// The hash of the record whose entry contains `marker`, from `seed`'s store.
    pub fn written(&self, seed: u8, marker: &[u8]) -> myco_dna::ActionHash {
        self.nodes[self.index(seed)]
            .engine
            .store()
            .records()
            .find(|r| r.entry.as_ref().is_some_and(|e| contains(&e.0, marker)))
            .expect("written")
            .hash()
    }

    /// Asserts that each of `seeds` holds the record `hash`, with its entry or without.
    pub fn assert_entry_held(
        &self,
        seeds: &[u8],
        pod: &DnaHash,
        hash: &myco_dna::ActionHash,
        with_entry: bool,
        why: &str,
    ) {
        for &seed in seeds {
            assert_eq!(
                self.holdings(seed, pod).get(hash),
                Some(&with_entry),
                "node {seed}: {why}"
            );
        }
    }

    /// Whether node `n`'s store holds `marker` in any entry.
    pub fn holds_bytes(&self, n: usize, marker: &[u8]) -> bool {
        self.nodes[n]
            .engine
            .store()
            .records()
            .filter_map(|r| r.entry.as_ref())
            .any(|e| contains(&e.0, marker))
    }

    /// The hashes of every record of `pod` a node holds, with whether it holds the entry.
    pub fn holdings(&self, seed: u8, pod: &DnaHash) -> BTreeMap<myco_dna::ActionHash, bool> {
        let node = &self.nodes[self.index(seed)];
        node.engine
            .store()
            .records()
            .filter(|r| &r.action().pod == pod)
            // Private entries stay with their author by design: compare what is shared.
            .map(|r| {
                (
                    r.hash(),
                    r.entry.is_some()
                        && r.action()
                            .body
                            .entry_ref()
                            .is_some_and(|e| e.visibility != Visibility::Private),
                )
            })
            .collect()
    }

    /// Refusals of local writes a node reported.
    pub fn refusals(&self, seed: u8) -> Vec<String> {
        self.nodes[self.index(seed)]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::AuthorRefused { reason, .. } => Some(reason.to_string()),
                _ => None,
            })
            .collect()
    }

    /// Offenders of the warrants a node issued.
    pub fn warranted(&self, seed: u8) -> Vec<myco_dna::KeyHash> {
        self.nodes[self.index(seed)]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Warrant(w) => Some(w.offender().key_hash()),
                _ => None,
            })
            .collect()
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A story with a marker in its body, consenting to everything.
pub fn story(dna: &DnaManifest, marker: &str, creator: u8) -> myco_zomes::content::Content {
    let _ = creator;
    myco_zomes::content::Content {
        title: marker.into(),
        body: format!("{marker} body text"),
        blob: None,
        kind: "story".into(),
        consent: myco_zomes::content::Consent {
            public_sharing: true,
            community_sharing: true,
            ..Default::default()
        },
        revenue_share: None,
        principles: dna.properties.required_principles.clone(),
        protocols: vec![],
        attribution: None,
    }
}
