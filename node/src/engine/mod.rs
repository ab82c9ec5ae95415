//! # The pod engine: sans-IO, deterministic
//!
//! One [`Engine`] hosts one agent in one or more pods. It never touches a socket, a file, a
//! clock or an RNG: the driver (the daemon, or the simulator) hands it [`Input`]s with the
//! current time, and carries out the [`Output`]s it returns — requests to send, gossip to
//! publish, timers to set, events to report. Everything durable goes through the
//! [`Store`](crate::store::Store) it owns.
//!
//! ```text
//!   driver                        Engine::handle(now, input) -> Vec<Output>
//!   ──────                        ─────────────────────────────────────────
//!   gossip bytes      ─┐          decode → dedup → shape → batch signatures → chain position
//!   sync request/resp ─┤  Input   → app validation (zomes) → store (one flush per batch)
//!   local write       ─┤ ───────► → warrants, purges, limbo wake-ups, gossip verdicts
//!   peer joined/left  ─┤
//!   timer fired       ─┘ ◄─────── Output: Request / Respond / Publish / GossipVerdict /
//!                                          SetTimer / Event
//! ```
//!
//! The engine is the same code in the daemon and in `myco-sim`, which is what makes the
//! simulator's results worth trusting. A test (`sans_io_tests`) scans this module's source
//! and fails if it names a clock, a socket, a file or an RNG.
//!
//! ```
//! use myco_dna::SigningKey;
//! use myco_node::engine::{Engine, EngineConfig, Event, Input, Output, PeerId};
//! use myco_node::store::MemoryStore;
//!
//! let dna = myco_zomes::load_dna(include_str!("../../../dna/examples/territory-dk.toml")).unwrap();
//! let key = SigningKey::from_bytes(&[1; 32]);
//! let mut engine = Engine::new(EngineConfig::default(), key, PeerId(vec![1]), None, MemoryStore::new());
//! let outputs = engine.handle(1_000, Input::JoinPod { dna: Box::new(dna), membrane_proof: vec![] });
//! assert!(outputs.iter().any(|o| matches!(o, Output::Event(Event::Accepted { seq: 0, .. }))));
//! ```

mod anchor;
mod archivist;
mod author;
mod backfill;
mod backups;
mod config;
mod context;
mod electorate;
mod flood;
mod ingest;
mod invite;
mod io;
mod limbo;
mod messages;
mod pending;
mod purge;
mod receipts;
mod restore;
mod retry;
mod serve;
mod sync;
mod verdict;
mod view;

#[cfg(test)]
mod author_tests;
#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod sans_io_tests;
#[cfg(test)]
mod stranger_tests;
#[cfg(test)]
pub(crate) mod test_support;

pub use anchor::AnchorStatus;
pub use author::ForgetError;
pub use config::EngineConfig;
pub use electorate::{Electorate, ElectorateError};
pub use invite::InviteError;
pub use io::{Event, GossipVerdict, Input, Output, PeerId, Timer, WriteRefusal, MAX_PEER_ID_BYTES};
pub use messages::{
    BindingTerms, GossipMessage, Height, SessionBinding, SyncRequest, SyncResponse, BINDING_DOMAIN,
    MAX_GOSSIP_BYTES, MAX_HEIGHTS, MAX_ITEMS_PER_MESSAGE, MAX_SYNC_BYTES, MESSAGE_FORMAT_VERSION,
};
pub use pending::{MAX_PENDING_PER_MEMBER, MAX_PENDING_PER_STRANGER, MAX_WAITERS_PER_RECORD};
pub use retry::MAX_STORE_RETRIES;
pub use verdict::Refusal;
pub use view::HeardFrom;

use std::collections::BTreeMap;

use myco_dna::{ActionHash, AgentKey, DnaHash, Record, SigningKey, Timestamp};

use crate::store::{ChainId, Store, StoreError};
use limbo::Limbo;
use view::PodView;

/// Most votes on one proposal read to decide it.
pub const MAX_VOTES_READ: usize = 100_000;

/// What an outstanding request was for.
#[derive(Clone, Debug)]
pub(crate) enum Asked {
    Heights {
        pod: DnaHash,
    },
    Range {
        pod: DnaHash,
        author: myco_dna::KeyHash,
        limit: u32,
    },
    Get {
        pod: DnaHash,
    },
    Push,
    /// This agent's Genesis, pushed to a member that answered "not a member": once it is
    /// taken, the round starts again at once.
    Introduce {
        pod: DnaHash,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Outstanding {
    peer: PeerId,
    asked: Asked,
    sent_at: u64,
}

/// The deterministic pod engine. See the module docs.
pub struct Engine<S: Store> {
    config: EngineConfig,
    key: SigningKey,
    agent: AgentKey,
    local_peer: PeerId,
    region: Option<String>,
    store: S,
    pods: BTreeMap<DnaHash, PodView>,
    limbo: Limbo,
    outstanding: BTreeMap<u64, Outstanding>,
    next_token: u64,
    /// Chains a peer is ahead on that could not be asked for yet (the peer had
    /// `max_outstanding_per_peer` requests in flight): asked for as answers come back.
    deferred: BTreeMap<PeerId, std::collections::VecDeque<(DnaHash, myco_dna::KeyHash)>>,
    /// When this node last pushed its Genesis to a peer for a pod (see `sync.rs`): at most
    /// once per sync interval, so a peer that keeps refusing it costs nothing.
    introduced: BTreeMap<(PeerId, DnaHash), u64>,
    /// Records held without their entry whose entry this node may see now (see
    /// `backfill.rs`), and their pods.
    wanted_entries: BTreeMap<ActionHash, DnaHash>,
    /// Have notices whose record is being fetched: the verdict waits for it.
    pending_gossip: pending::PendingGossip,
    /// Records whose judgement a store fault interrupted, judged again next round.
    store_retry: Vec<(DnaHash, ingest::Incoming)>,
    bindings: BTreeMap<DnaHash, SessionBinding>,
    /// Each peer's allowance of sync requests (see `flood.rs`).
    limiter: flood::RequestLimiter,
    /// This node's own requests to each peer, paced at half that allowance.
    pacer: flood::RequestLimiter,
    /// Digests of session-binding signatures already verified (see `serve.rs`).
    verified_bindings: std::collections::BTreeSet<[u8; 32]>,
    sync_round: u64,
    /// The time of the input being handled.
    now: u64,
    timers_armed: bool,
    outputs: Vec<Output>,
    /// Deletion receipts owed for purges made while handling the current input.
    receipts_due: Vec<receipts::Due>,
    /// Whether writes wait for the pods' peers to confirm this agent's newest records
    /// (`anchor.rs`).
    anchoring: anchor::Anchoring,
    /// Pod backups this archivist asked the driver to take and has not heard back about,
    /// and pods whose last backup failed, until when they wait (`backups.rs`).
    backups: backups::BackupRuns,
    /// Emergency restores asked of the driver and not answered yet, and those that failed.
    restores: restore::RestoreRuns,
}

impl<S: Store> Engine<S> {
    /// An engine for the agent with `key`, on a node whose transport identity is `local_peer`
    /// and which declares `region` to pods that restrict where data lives.
    pub fn new(
        config: EngineConfig,
        key: SigningKey,
        local_peer: PeerId,
        region: Option<String>,
        store: S,
    ) -> Self {
        let pending_gossip = pending::PendingGossip::new(config.max_pending_gossip);
        Engine {
            agent: myco_dna::agent_key_of(&key),
            config,
            key,
            local_peer,
            region,
            store,
            pods: BTreeMap::new(),
            limbo: Limbo::default(),
            outstanding: BTreeMap::new(),
            next_token: 1,
            pending_gossip,
            store_retry: Vec::new(),
            wanted_entries: BTreeMap::new(),
            deferred: BTreeMap::new(),
            introduced: BTreeMap::new(),
            bindings: BTreeMap::new(),
            verified_bindings: std::collections::BTreeSet::new(),
            limiter: flood::RequestLimiter::default(),
            pacer: flood::RequestLimiter::default(),
            sync_round: 0,
            now: 0,
            timers_armed: false,
            outputs: Vec::new(),
            receipts_due: Vec::new(),
            anchoring: anchor::Anchoring::default(),
            backups: backups::BackupRuns::default(),
            restores: restore::RestoreRuns::default(),
        }
    }

    /// The hosted agent.
    pub fn agent(&self) -> &AgentKey {
        &self.agent
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// This node's transport identity, as its session bindings name it.
    pub fn local_peer(&self) -> &PeerId {
        &self.local_peer
    }

    /// The region this node declares to pods that restrict where data lives.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The DNAs of the hosted pods.
    pub fn pods(&self) -> impl Iterator<Item = &myco_dna::DnaManifest> {
        self.pods.values().map(|v| &v.dna)
    }

    /// True if `peer` showed a valid session binding of an agent that is a current member of
    /// a hosted pod. The daemon keeps connection slots for such peers.
    pub fn is_member_peer(&self, peer: &PeerId) -> bool {
        self.pods.values().any(|view| {
            view.bound
                .get(peer)
                .is_some_and(|agent| view.is_current_member(agent))
        })
    }

    /// The chain heights each peer last claimed for `pod`.
    pub fn heard_heights(&self, pod: &DnaHash) -> Vec<HeardFrom> {
        let Some(view) = self.pods.get(pod) else {
            return Vec::new();
        };
        view.heard_heights
            .iter()
            .map(|(peer, heard)| {
                let heights = heard
                    .chains
                    .iter()
                    .map(|(author, (seq, hash))| Height {
                        author: *author,
                        seq: *seq,
                        hash: *hash,
                    })
                    .collect();
                HeardFrom {
                    peer: peer.text(),
                    at: heard.at,
                    own_only: heard.own_only,
                    heights,
                }
            })
            .collect()
    }

    /// Records waiting for dependencies.
    pub fn limbo_len(&self) -> usize {
        self.limbo.len()
    }

    /// Resumes hosting a pod whose records are already in the store (after a restart):
    /// rebuilds what the engine knows of its members from the store (joins, departures,
    /// approvals, decisions, and the authors it warranted), without a full scan of records.
    pub fn resume_pod(&mut self, dna: myco_dna::DnaManifest) -> Result<(), StoreError> {
        let mut view = PodView::new(dna);
        let pod = view.hash;
        // Authors this node warranted stay blocked; a kept warrant is checked again first.
        for warrant in self.store.warrants(&pod)? {
            if warrant.verify().is_ok() && warrant.pod() == &pod {
                view.blocked.insert(warrant.offender().key_hash());
            }
        }
        let chains: Vec<ChainId> = self
            .store
            .heads()?
            .into_keys()
            .filter(|c| c.pod == pod)
            .collect();
        let empty = BTreeMap::new();
        let mut approvals = Vec::new();
        for chain in chains {
            if let Some(genesis) = self.store.get_by_seq(&chain, 0)? {
                view.note(&genesis, |_| None);
            }
            for (zome, entry_type) in [
                (myco_zomes::ZOME_MEMBERSHIP, myco_zomes::membership::LEAVE),
                (myco_zomes::ZOME_CONTENT, myco_zomes::content::APPROVAL),
                (
                    myco_zomes::ZOME_GOVERNANCE,
                    myco_zomes::governance::DECISION,
                ),
                (
                    myco_zomes::ZOME_GOVERNANCE,
                    myco_zomes::governance::BACKUP_LISTING,
                ),
            ] {
                for record in self.store.typed_records(&chain, zome, entry_type)? {
                    let ctx = context::StoreContext::new(&self.store, pod, chain, &empty);
                    view.note(&record, |h| view::proposal_kind_of(&ctx, h));
                    if entry_type == myco_zomes::content::APPROVAL {
                        approvals.push(record);
                    }
                }
            }
        }
        self.pods.insert(pod, view);
        for approval in approvals {
            self.want_approved(pod, &approval, false);
        }
        Ok(())
    }

    /// Every record of a pod this node holds, for folding the pod's state.
    pub fn pod_records(&self, pod: &DnaHash) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for chain in self.store.heads()?.into_keys().filter(|c| &c.pod == pod) {
            let mut from = 0;
            loop {
                let page = self.store.range(&chain, from, 1024)?;
                let Some(last) = page.last() else { break };
                from = last.action().seq + 1;
                out.extend(page);
            }
        }
        Ok(out)
    }

    /// The decisions and votes on `proposal` this node holds, through the reference index
    /// (at most [`MAX_VOTES_READ`] votes): what deciding it needs, without reading the pod.
    pub fn records_on_proposal(&self, proposal: &ActionHash) -> Vec<Record> {
        use crate::store::Relation;
        let mut out = self
            .store
            .referring(proposal, Relation::Decision, None, 16)
            .unwrap_or_default();
        let mut after: Option<ActionHash> = None;
        let mut votes = 0;
        while votes < MAX_VOTES_READ {
            let page = self
                .store
                .referring(proposal, Relation::Vote, after.as_ref(), 1024)
                .unwrap_or_default();
            let Some(last) = page.last() else { break };
            after = Some(last.hash());
            votes += page.len();
            let full = page.len() == 1024;
            out.extend(page);
            if !full {
                break;
            }
        }
        out
    }

    /// Handles one input at time `now` (µs since the Unix epoch) and returns what to do.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Output> {
        self.now = now;
        if !self.timers_armed {
            self.timers_armed = true;
            self.set_timer(now + self.config.sync_interval_micros, Timer::Sync);
            self.set_timer(now + self.config.limbo_ttl_micros / 4, Timer::Sweep);
        }
        match input {
            Input::JoinPod {
                dna,
                membrane_proof,
            } => self.join_pod(now, *dna, membrane_proof),
            Input::HostAsArchivist { dna } => self.host_as_archivist(now, *dna),
            Input::Author { pod, body, entry } => self.author(now, pod, body, entry),
            Input::Gossip {
                from,
                message_id,
                bytes,
            } => self.on_gossip(now, from, message_id, &bytes),
            Input::Request {
                from,
                request_id,
                bytes,
            } => self.on_request(now, from, request_id, &bytes),
            Input::Response { from, token, bytes } => self.on_response(now, from, token, &bytes),
            Input::RequestFailed { peer, token } => self.on_request_failed(&peer, token),
            Input::PeerJoined { peer, pod } => self.on_peer_joined(now, peer, pod),
            Input::PeerLeft { peer } => self.on_peer_left(&peer),
            Input::Timer(Timer::Sync) => self.on_sync_timer(now),
            Input::Timer(Timer::Sweep) => self.on_sweep(now),
            Input::PodBackupTaken { pod, listing } => self.pod_backup_taken(now, pod, *listing),
            Input::PodBackupFailed { pod, reason } => self.pod_backup_failed(now, pod, &reason),
            Input::PodBackupOpened {
                pod,
                decision,
                records,
            } => self.restore_from_backup(now, pod, decision, records),
            Input::PodBackupUnopened {
                pod,
                decision,
                reason,
            } => self.restore_failed(now, pod, decision, &reason),
        }
        self.write_receipts(now);
        std::mem::take(&mut self.outputs)
    }

    fn emit(&mut self, output: Output) {
        self.outputs.push(output);
    }

    fn event(&mut self, event: Event) {
        self.outputs.push(Output::Event(event));
    }

    fn set_timer(&mut self, at: u64, timer: Timer) {
        self.outputs.push(Output::SetTimer { at, timer });
    }

    /// This node's binding for `pod`, signed afresh when the old one is past half its life.
    fn binding(&mut self, now: u64, pod: &DnaHash) -> SessionBinding {
        let fresh = self
            .bindings
            .get(pod)
            .is_some_and(|b| b.terms.expires.0 > now + self.config.binding_ttl_micros / 2);
        if !fresh {
            let terms = BindingTerms {
                agent: self.agent,
                peer: self.local_peer.0.clone(),
                pod: *pod,
                region: self.region.clone(),
                expires: Timestamp(now + self.config.binding_ttl_micros),
            };
            self.bindings
                .insert(*pod, SessionBinding::sign(&self.key, terms));
        }
        // Inserted just above when missing or stale.
        self.bindings[pod].clone()
    }

    /// Sends a request if the peer has room for one more and this node's pace allows it;
    /// returns whether it was sent.
    fn request(&mut self, now: u64, peer: &PeerId, asked: Asked, request: SyncRequest) -> bool {
        let in_flight = self
            .outstanding
            .values()
            .filter(|o| &o.peer == peer)
            .count();
        if in_flight >= self.config.max_outstanding_per_peer {
            return false;
        }
        let (rate, burst) = (
            (self.config.peer_requests_per_sec / 2).max(1),
            (self.config.peer_request_burst / 2).max(1),
        );
        if !self.pacer.try_take(now, peer, rate, burst) {
            tracing::debug!(
                ?peer,
                "request held back: this node's pace to the peer is used up"
            );
            return false;
        }
        let token = self.next_token;
        self.next_token += 1;
        self.outstanding.insert(
            token,
            Outstanding {
                peer: peer.clone(),
                asked,
                sent_at: now,
            },
        );
        self.emit(Output::Request {
            to: peer.clone(),
            token,
            request,
        });
        true
    }
}
