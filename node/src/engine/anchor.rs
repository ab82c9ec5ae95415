//! Restore without forking. A node whose data dir may be older than its agent's chains
//! elsewhere (restored from a backup, or recreated from the recovery phrase) does not write
//! in a pod until the pod has anchored it: a member's peer has answered with its whole list
//! of chain heights (or said it holds no chain of this agent), and this node holds its own
//! chain as far as any peer said it goes, with the same record there. What the peers send is
//! ingested like any record: a height is only a claim, and a chain grows only by records
//! whose signatures and links check out.
//!
//! Until then, writes are refused with the reason (asking; after
//! [`EngineConfig::anchor_timeout_micros`], that no member answered, or what a peer claimed
//! and did not send), receipts owed wait, and a join that finds no chain of this agent here
//! writes its Genesis only once a member's peer says it holds none either. A node with no
//! other member to ask (a pod of one) is anchored at once.
//!
//! [`EngineConfig::anchor_timeout_micros`]: super::EngineConfig::anchor_timeout_micros

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{ActionHash, AgentKey, DnaHash, Timestamp};

use super::io::{Event, PeerId, WriteRefusal};
use super::messages::Height;
use super::Engine;
use crate::store::{ChainId, Store};

/// Receipts kept for pods not anchored yet; past this, the oldest are dropped (the purge
/// itself is done either way).
const MAX_HELD_RECEIPTS: usize = 10_000;

/// Whether this engine must be anchored before it writes, and where it is.
#[derive(Debug, Default)]
pub(crate) struct Anchoring {
    /// Set by [`Engine::require_anchor`]: pods not in `anchored` wait.
    required: bool,
    /// Pods anchored (before this start, or since).
    anchored: BTreeSet<DnaHash>,
    /// Pods waiting.
    waits: BTreeMap<DnaHash, AnchorWait>,
    /// Receipts owed in pods that wait.
    pub held_receipts: Vec<super::receipts::Due>,
}

/// One pod's wait.
#[derive(Debug)]
pub(crate) struct AnchorWait {
    /// When it began.
    since: u64,
    /// Members' peers that answered in full.
    answered: BTreeSet<PeerId>,
    /// The furthest a peer said this agent's chain goes: seq, hash, and who said so.
    claimed: Option<(u64, ActionHash, PeerId)>,
    /// The membrane proof of a join that waits to write its Genesis.
    genesis: Option<Vec<u8>>,
}

/// How far a pod's anchoring is, for `myco status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnchorStatus {
    /// How long it has waited, in µs.
    pub waited_micros: u64,
    /// Members' peers that answered in full.
    pub answered: usize,
    /// The seq a peer said this agent's chain reaches, if any did.
    pub claimed_seq: Option<u64>,
}

impl<S: Store> Engine<S> {
    /// Makes this engine wait, in every hosted pod but `anchored` (and in every pod it joins
    /// later), until the pod's peers confirm its agent's newest records: the daemon does this
    /// for a restored data dir. Pods with no other member are anchored at once.
    pub fn require_anchor(&mut self, now: u64, anchored: BTreeSet<DnaHash>) {
        self.anchoring.required = true;
        self.anchoring.anchored = anchored;
        let pods: Vec<DnaHash> = self.pods.keys().copied().collect();
        for pod in pods {
            self.begin_anchor(now, pod, None);
        }
    }

    /// True once [`Engine::require_anchor`] was called.
    pub fn anchor_required(&self) -> bool {
        self.anchoring.required
    }

    /// Where `pod`'s anchoring is, if it waits.
    pub fn anchor_status(&self, now: u64, pod: &DnaHash) -> Option<AnchorStatus> {
        self.anchoring.waits.get(pod).map(|wait| AnchorStatus {
            waited_micros: now.saturating_sub(wait.since),
            answered: wait.answered.len(),
            claimed_seq: wait.claimed.as_ref().map(|c| c.0),
        })
    }

    /// Starts `pod`'s wait if this engine must be anchored there; a join's Genesis
    /// (`genesis`: its membrane proof) waits with it. False if the pod need not wait.
    pub(crate) fn begin_anchor(
        &mut self,
        now: u64,
        pod: DnaHash,
        genesis: Option<Vec<u8>>,
    ) -> bool {
        if !self.anchoring.required || self.anchoring.anchored.contains(&pod) {
            return false;
        }
        if let Some(wait) = self.anchoring.waits.get_mut(&pod) {
            wait.genesis = wait.genesis.take().or(genesis);
            return true;
        }
        let me = self.agent.key_hash();
        let alone = self.pods.get(&pod).is_some_and(|view| {
            view.authors.keys().all(|a| *a == me) && view.authors.contains_key(&me)
        });
        if alone {
            // Nobody else holds this pod's records: there is no newer copy to wait for.
            self.anchoring.anchored.insert(pod);
            self.event(Event::Anchored {
                pod,
                next_seq: self.own_next_seq(&pod),
            });
            return false;
        }
        self.anchoring.waits.insert(
            pod,
            AnchorWait {
                since: now,
                answered: BTreeSet::new(),
                claimed: None,
                genesis,
            },
        );
        tracing::info!(%pod, "asking the pod's peers for this agent's newest records before writing");
        true
    }

    /// True if writes in `pod` wait for its anchoring.
    pub(crate) fn anchoring(&self, pod: &DnaHash) -> bool {
        self.anchoring.waits.contains_key(pod)
    }

    /// Why a write in `pod` must wait, if it must.
    pub(crate) fn anchor_refusal(&self, now: u64, pod: &DnaHash) -> Option<WriteRefusal> {
        let wait = self.anchoring.waits.get(pod)?;
        let waited = now.saturating_sub(wait.since);
        let have = self.own_next_seq(pod);
        let claimed = wait
            .claimed
            .as_ref()
            .map(|(seq, _, peer)| (*seq, peer.clone()));
        if waited < self.config.anchor_timeout_micros {
            return Some(WriteRefusal::Anchoring {
                waited_secs: waited / 1_000_000,
                bound_secs: self.config.anchor_timeout_micros / 1_000_000,
            });
        }
        Some(WriteRefusal::Unanchored {
            answered: wait.answered.len(),
            claimed_seq: claimed.map(|c| c.0),
            have,
            bound_secs: self.config.anchor_timeout_micros / 1_000_000,
        })
    }

    /// Notes what a member's peer said of this agent's chain in `pod` in one page of
    /// heights (`complete`: the last page).
    pub(crate) fn anchor_heard_heights(
        &mut self,
        now: u64,
        from: &PeerId,
        pod: DnaHash,
        heights: &[Height],
        complete: bool,
    ) {
        let Some(wait) = self.anchoring.waits.get_mut(&pod) else {
            return;
        };
        if let Some(own) = heights.iter().find(|h| h.author == self.agent) {
            if wait.claimed.as_ref().is_none_or(|(seq, ..)| own.seq > *seq) {
                wait.claimed = Some((own.seq, own.hash, from.clone()));
            }
        }
        if complete {
            wait.answered.insert(from.clone());
        }
        self.check_anchor(now, pod);
    }

    /// Notes that a member's peer (`member`, its agent) holds no chain of this agent in
    /// `pod`: it answered "not a member".
    pub(crate) fn anchor_heard_none(
        &mut self,
        now: u64,
        from: &PeerId,
        pod: DnaHash,
        member: &AgentKey,
    ) {
        let vouched = self.pods.get(&pod).is_some_and(|view| {
            view.is_current_member(member)
                || view.dna.properties.founders.contains(&member.key_hash())
        });
        let Some(wait) = self.anchoring.waits.get_mut(&pod) else {
            return;
        };
        if !vouched {
            tracing::debug!(?from, %member, "a \"not a member\" answer from a node this node cannot vouch for; not counted for anchoring");
            return;
        }
        wait.answered.insert(from.clone());
        self.check_anchor(now, pod);
    }

    /// Ends `pod`'s wait if a member's peer answered and this node holds its chain as far as
    /// any peer said, with the same record there; then writes what waited.
    pub(crate) fn check_anchor(&mut self, now: u64, pod: DnaHash) {
        let Some(wait) = self.anchoring.waits.get(&pod) else {
            return;
        };
        if wait.answered.is_empty() {
            return;
        }
        let next_seq = self.own_next_seq(&pod);
        if let Some((seq, hash, _)) = &wait.claimed {
            if next_seq <= *seq {
                return; // Still fetching.
            }
            let chain = ChainId {
                pod,
                author: self.agent,
            };
            let ours = self.store.get_by_seq(&chain, *seq).ok().flatten();
            if ours.is_none_or(|r| r.hash() != *hash) {
                // A peer holds another record at that seq: a fork, which the fetched
                // record turns into a warrant. No write until that is settled.
                return;
            }
        }
        let Some(wait) = self.anchoring.waits.remove(&pod) else {
            return;
        };
        self.anchoring.anchored.insert(pod);
        tracing::info!(%pod, next_seq, "the pod's peers confirmed this agent's newest records: writing again");
        self.event(Event::Anchored { pod, next_seq });
        if let (Some(proof), 0) = (wait.genesis, next_seq) {
            // No peer holds a chain of this agent here: the join goes ahead.
            self.write_genesis(now, pod, proof);
        }
        let (held, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.anchoring.held_receipts)
            .into_iter()
            .partition(|due| due.pod == pod);
        self.anchoring.held_receipts = kept;
        self.receipts_due.extend(held);
        self.write_receipts(now);
    }

    /// Keeps a receipt owed in a pod that waits, to write once it is anchored.
    pub(crate) fn hold_receipt(&mut self, due: super::receipts::Due) {
        if self.anchoring.held_receipts.len() >= MAX_HELD_RECEIPTS {
            self.anchoring.held_receipts.remove(0);
        }
        self.anchoring.held_receipts.push(due);
    }

    /// The seq this agent's next record in `pod` would have.
    fn own_next_seq(&self, pod: &DnaHash) -> u64 {
        let chain = ChainId {
            pod: *pod,
            author: self.agent,
        };
        self.store
            .head(&chain)
            .ok()
            .flatten()
            .map_or(0, |h| h.seq.saturating_add(1))
    }

    /// Writes this agent's Genesis in `pod`. It may wait on records this node does not hold
    /// yet (the Admit decision or a steward's grant): the pod's members judge it when it is
    /// pushed to them.
    pub(crate) fn write_genesis(&mut self, now: u64, pod: DnaHash, membrane_proof: Vec<u8>) {
        let record = myco_dna::ChainAuthor::new(self.key.clone(), pod)
            .genesis(Timestamp(now), membrane_proof);
        self.commit_local(now, pod, record, true);
    }
}
