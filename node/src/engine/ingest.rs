//! The ingest pipeline: every record from gossip, sync, a push or limbo goes through here.
//!
//! decode → drop duplicates and blocked authors → shape checks → batch signature check →
//! chain position (fork? gap?) → app validation → one durable append for the whole batch →
//! effects (membership view, purges, events, gossip verdicts) → wake what waited in limbo.

use std::collections::BTreeMap;

use myco_dna::chain::{check_fork, check_record_shape, check_signatures, check_successor};
use myco_dna::{ActionHash, DnaHash, Record, SignedAction, SystemError, Verdict, Warrant};

use super::backfill::Filled;
use super::context::StoreContext;
use super::io::{Event, GossipVerdict, Output, PeerId};
use super::limbo::{Wait, Waiting};
use super::messages::{GossipMessage, SyncRequest};
use super::verdict::{refuse_with_warrant, Judgement, Refusal};
use super::{Asked, Engine};
use crate::store::{ChainId, Store, ValidRecord};

/// A record on its way in, and where it came from.
#[derive(Clone, Debug)]
pub(crate) struct Incoming {
    pub record: Record,
    pub from: Option<PeerId>,
    /// The gossip message that carried it, to report a verdict on.
    pub gossip: Option<(PeerId, Vec<u8>)>,
}

impl Incoming {
    pub fn new(record: Record, from: Option<PeerId>) -> Self {
        Incoming {
            record,
            from,
            gossip: None,
        }
    }
}

/// Why a record stopped at the cheap checks.
pub(crate) enum Screened {
    /// Not worth anything, but no fault (duplicate, unknown pod, blocked author).
    Ignore(Option<String>),
    /// Wrong for this pod: the sender is at fault.
    Reject(Refusal),
    /// It fails a shape check (hash, entry hash, size, genesis position).
    Malformed(SystemError),
    /// Held already, but without the entry this copy carries (see `backfill.rs`).
    Fill,
    /// This node's store failed: no verdict now; the record is tried again later.
    StoreFault(String),
}

/// How far the chain goes, counting records accepted earlier in the same batch.
type Heads = BTreeMap<ChainId, SignedAction>;

impl<S: Store> Engine<S> {
    pub(crate) fn on_gossip(&mut self, now: u64, from: PeerId, message_id: Vec<u8>, bytes: &[u8]) {
        let verdict = |engine: &mut Self, verdict| {
            engine.emit(Output::GossipVerdict {
                from: from.clone(),
                message_id: message_id.clone(),
                verdict,
            })
        };
        let message = match GossipMessage::from_bytes(bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(?from, %error, "undecodable gossip");
                return verdict(self, GossipVerdict::Reject);
            }
        };
        match message {
            GossipMessage::Record(bytes) => {
                let record = match Record::from_bytes(&bytes) {
                    Ok(record) => record,
                    Err(_) => return verdict(self, GossipVerdict::Reject),
                };
                let pod = record.action().pod;
                let Some(view) = self.pods.get(&pod) else {
                    return verdict(self, GossipVerdict::Ignore);
                };
                // Gossip may carry only what anyone may see: a non-public entry is a leak.
                let leaks = record.entry.is_some() && !view.entry_is_public(&record);
                let carries_proof = matches!(&record.action().body, myco_dna::ActionBody::Genesis { membrane_proof } if !membrane_proof.is_empty());
                if leaks || carries_proof {
                    return verdict(self, GossipVerdict::Reject);
                }
                let incoming = Incoming {
                    record,
                    from: Some(from.clone()),
                    gossip: Some((from.clone(), message_id.clone())),
                };
                self.ingest(now, pod, vec![incoming]);
            }
            GossipMessage::Have {
                pod,
                hash,
                author,
                seq,
            } => {
                let Some(view) = self.pods.get(&pod) else {
                    return verdict(self, GossipVerdict::Ignore);
                };
                let member = view.is_current_member(&self.agent);
                let sender_is_member = view
                    .bound
                    .get(&from)
                    .is_some_and(|agent| view.is_current_member(agent));
                if !member {
                    return verdict(self, GossipVerdict::Ignore);
                }
                match self.store.get(&hash) {
                    Ok(None) => {}
                    Ok(Some(_)) => return verdict(self, GossipVerdict::Ignore),
                    Err(error) => {
                        // Our disk, not the sender's fault: no verdict but Ignore.
                        self.store_fault(format!("reading {hash} for a Have notice: {error}"));
                        return verdict(self, GossipVerdict::Ignore);
                    }
                }
                if !self.pending_gossip.has_room(&from, sender_is_member) {
                    return verdict(self, GossipVerdict::Ignore);
                }
                let from_seq = self.next_seq_of(&pod, &author);
                if from_seq > seq {
                    return verdict(self, GossipVerdict::Ignore);
                }
                // The notice's seq is a stranger's number: never trust it in arithmetic.
                let wanted = seq.saturating_sub(from_seq).saturating_add(1);
                let limit = wanted.min(self.config.sync_batch as u64) as u32;
                if self.ask_range_of(now, &from, (pod, author), from_seq, limit) {
                    let overflow = self.pending_gossip.hold(
                        now,
                        hash,
                        from.clone(),
                        message_id.clone(),
                        sender_is_member,
                    );
                    if overflow.is_some() {
                        verdict(self, GossipVerdict::Ignore);
                    }
                } else {
                    verdict(self, GossipVerdict::Ignore);
                }
            }
            GossipMessage::Withdraw(signed) => {
                let outcome = self.on_withdraw(&signed);
                verdict(self, outcome);
            }
        }
    }

    /// Runs a batch of records of one pod through the pipeline, then whatever they wake.
    pub(crate) fn ingest(&mut self, now: u64, pod: DnaHash, batch: Vec<Incoming>) {
        let mut queue = batch;
        // Each round removes what it wakes from limbo, so this ends; the bound is a backstop.
        for _ in 0..1_000 {
            if queue.is_empty() {
                return;
            }
            let accepted = self.ingest_round(now, pod, std::mem::take(&mut queue));
            for record in &accepted {
                let chain = ChainId::of(record);
                for wait in [
                    Wait::Hash(record.hash()),
                    Wait::Seq(chain, record.action().seq),
                ] {
                    for waiting in self.limbo.wake(&wait) {
                        queue.push(Incoming::new(waiting.record, waiting.from));
                    }
                }
            }
        }
    }

    fn ingest_round(&mut self, now: u64, pod: DnaHash, batch: Vec<Incoming>) -> Vec<Record> {
        let mut candidates = Vec::with_capacity(batch.len());
        for incoming in batch {
            match self.screen(&pod, &incoming.record) {
                Ok(()) => candidates.push(incoming),
                Err(screened) => {
                    let (verdict, reason) = match screened {
                        Screened::Ignore(reason) => (GossipVerdict::Ignore, reason),
                        Screened::Fill => match self.fill_entry(pod, &incoming.record) {
                            Filled::Mismatch(reason) => (GossipVerdict::Reject, Some(reason)),
                            Filled::Stored | Filled::Ignored => (GossipVerdict::Ignore, None),
                        },
                        Screened::Reject(reason) => {
                            (GossipVerdict::Reject, Some(reason.to_string()))
                        }
                        Screened::Malformed(error) => {
                            self.warrant_if_signed(&incoming.record, &error);
                            (GossipVerdict::Reject, Some(error.to_string()))
                        }
                        Screened::StoreFault(detail) => {
                            self.retry_after_store_fault(pod, incoming, detail);
                            continue;
                        }
                    };
                    if let Some(reason) = reason {
                        self.event(Event::Rejected {
                            pod,
                            hash: incoming.record.hash(),
                            reason,
                        });
                    }
                    self.gossip_verdict(&incoming, verdict);
                }
            }
        }
        let signed: Vec<&SignedAction> = candidates.iter().map(|c| &c.record.signed).collect();
        let signatures = check_signatures(&signed);
        let mut checked = Vec::with_capacity(candidates.len());
        for (incoming, signature) in candidates.into_iter().zip(signatures) {
            match signature {
                Ok(()) => checked.push(incoming),
                Err(error) => {
                    // A bad signature proves nothing against the claimed author: only the
                    // sender is penalised.
                    self.event(Event::Rejected {
                        pod,
                        hash: incoming.record.hash(),
                        reason: error.to_string(),
                    });
                    self.gossip_verdict(&incoming, super::GossipVerdict::Reject);
                }
            }
        }
        checked.sort_by_key(|c| (ChainId::of(&c.record), c.record.action().seq));
        let mut pending: BTreeMap<ActionHash, Record> = BTreeMap::new();
        let mut heads: Heads = BTreeMap::new();
        let mut accepted: Vec<Incoming> = Vec::new();
        for incoming in checked {
            match self.judge(&pod, &incoming.record, &pending, &mut heads) {
                Judgement::Accept => {
                    heads.insert(
                        ChainId::of(&incoming.record),
                        incoming.record.signed.clone(),
                    );
                    pending.insert(incoming.record.hash(), incoming.record.clone());
                    accepted.push(incoming);
                }
                Judgement::Duplicate => {
                    self.gossip_verdict(&incoming, super::GossipVerdict::Ignore)
                }
                Judgement::Wait(waits) => self.park(now, pod, incoming, waits),
                Judgement::Refuse { reason, warrant } => {
                    self.event(Event::Rejected {
                        pod,
                        hash: incoming.record.hash(),
                        reason: reason.to_string(),
                    });
                    if let Some(warrant) = warrant {
                        self.issue_warrant(*warrant);
                    }
                    self.gossip_verdict(&incoming, super::GossipVerdict::Reject);
                }
                Judgement::StoreFault(detail) => {
                    self.retry_after_store_fault(pod, incoming, detail)
                }
            }
        }
        if accepted.is_empty() {
            return Vec::new();
        }
        // Every one of them passed the whole pipeline above.
        let valid: Vec<ValidRecord> = accepted
            .iter()
            .map(|a| ValidRecord::judged(a.record.clone()))
            .collect();
        if let Err(error) = self.store.append_batch(&valid) {
            self.event(Event::StoreFailed {
                detail: error.to_string(),
            });
            for incoming in &accepted {
                self.gossip_verdict(incoming, super::GossipVerdict::Ignore);
            }
            return Vec::new();
        }
        for incoming in &accepted {
            self.after_accept(pod, &incoming.record);
            self.gossip_verdict(incoming, super::GossipVerdict::Accept);
        }
        valid.into_iter().map(ValidRecord::into_record).collect()
    }

    /// Cheap checks before any signature: right pod, not held yet, author not blocked, sound
    /// shape. Errors carry the gossip verdict and, for real refusals, a reason.
    fn screen(&self, pod: &DnaHash, record: &Record) -> Result<(), Screened> {
        let Some(view) = self.pods.get(pod) else {
            return Err(Screened::Ignore(None));
        };
        if &record.action().pod != pod {
            return Err(Screened::Reject(Refusal::WrongPod));
        }
        let hash = record.hash();
        if self.limbo.contains(&hash) {
            return Err(Screened::Ignore(None));
        }
        match self.store.get(&hash) {
            Ok(None) => {}
            Ok(Some(held)) => {
                return Err(if held.entry.is_none() && record.entry.is_some() {
                    Screened::Fill
                } else {
                    Screened::Ignore(None)
                })
            }
            Err(error) => {
                return Err(Screened::StoreFault(format!(
                    "reading {hash} to see whether it is held: {error}"
                )))
            }
        }
        if view.blocked.contains(&record.action().author.key_hash()) {
            return Err(Screened::Ignore(Some(
                "the author is blocked in this pod by a warrant".into(),
            )));
        }
        check_record_shape(record).map_err(Screened::Malformed)
    }

    /// A record that fails its shape checks but carries its author's valid signature over the
    /// claimed hash proves that the author signed something invalid: warrant them.
    fn warrant_if_signed(&mut self, record: &Record, error: &SystemError) {
        if myco_dna::chain::check_signature(&record.signed).is_ok() {
            self.issue_warrant(Warrant::Invalid {
                record: Box::new(record.clone()),
                check: error.check().to_string(),
                reason: error.to_string(),
            });
        }
    }

    /// Where the record stands against its chain, then what the zomes say.
    pub(crate) fn judge(
        &self,
        pod: &DnaHash,
        record: &Record,
        pending: &BTreeMap<ActionHash, Record>,
        heads: &mut Heads,
    ) -> Judgement {
        let Some(view) = self.pods.get(pod) else {
            return Judgement::Refuse {
                reason: Refusal::NotHosted,
                warrant: None,
            };
        };
        let chain = ChainId::of(record);
        let action = record.action();
        let head = match heads.get(&chain) {
            Some(head) => Some(head.clone()),
            None => match self.store.head(&chain) {
                Ok(Some(head)) => match self.store.get_by_seq(&chain, head.seq) {
                    Ok(Some(head_record)) => Some(head_record.signed),
                    Ok(None) => return Judgement::Wait(vec![Wait::Seq(chain, head.seq)]),
                    Err(error) => {
                        return Judgement::StoreFault(format!("reading the chain head: {error}"))
                    }
                },
                Ok(None) => None,
                Err(error) => {
                    return Judgement::StoreFault(format!("reading the chain head: {error}"))
                }
            },
        };
        if let Some(head) = &head {
            heads.insert(chain, head.clone());
            if action.seq <= head.action.seq {
                let in_batch = pending
                    .values()
                    .find(|r| ChainId::of(r) == chain && r.action().seq == action.seq)
                    .map(|r| r.signed.clone());
                let held = match in_batch {
                    Some(held) => Some(held),
                    None => match self.store.get_by_seq(&chain, action.seq) {
                        Ok(held) => held.map(|r| r.signed),
                        Err(error) => {
                            return Judgement::StoreFault(format!(
                                "reading seq {} to compare it with a copy: {error}",
                                action.seq
                            ))
                        }
                    },
                };
                return match held {
                    Some(held) => match check_fork(&held, &record.signed) {
                        Ok(()) => Judgement::Duplicate,
                        Err(fork @ SystemError::Fork { .. }) => Judgement::Refuse {
                            warrant: match &fork {
                                SystemError::Fork { warrant, .. } => Some(warrant.clone()),
                                _ => None,
                            },
                            reason: Refusal::System(fork),
                        },
                        Err(other) => Judgement::Refuse {
                            reason: Refusal::System(other),
                            warrant: None,
                        },
                    },
                    None => Judgement::Duplicate,
                };
            }
            if action.seq > head.action.seq.saturating_add(1) {
                return Judgement::Wait(vec![Wait::Seq(chain, action.seq - 1)]);
            }
            if let Err(error) = check_successor(head, action) {
                return refuse_with_warrant(record, Refusal::System(error));
            }
        } else if action.seq != 0 {
            return Judgement::Wait(vec![Wait::Seq(chain, action.seq - 1)]);
        }
        let ctx = StoreContext::new(&self.store, *pod, chain, pending);
        let verdict = myco_zomes::validate(record, &view.dna, &ctx);
        if let Some(fault) = ctx.fault() {
            return Judgement::StoreFault(format!("reading what the record cites: {fault}"));
        }
        match verdict {
            Verdict::Valid => Judgement::Accept,
            Verdict::Invalid(breach) => refuse_with_warrant(record, Refusal::Rule(breach)),
            Verdict::MissingDeps(hashes) => {
                Judgement::Wait(hashes.into_iter().map(Wait::Hash).collect())
            }
        }
    }

    fn park(&mut self, now: u64, pod: DnaHash, incoming: Incoming, waits: Vec<Wait>) {
        let hash = incoming.record.hash();
        // Ask whoever sent it for what it waits on.
        if let Some(peer) = incoming.from.clone() {
            self.ask_for(now, pod, &peer, &waits);
        }
        self.gossip_verdict(&incoming, super::GossipVerdict::Ignore);
        let waiting = Waiting {
            pod,
            record: incoming.record,
            from: incoming.from,
            since: now,
            waits,
        };
        for evicted in self.limbo.insert(waiting, self.config.max_limbo) {
            self.event(Event::Abandoned {
                pod: evicted.pod,
                hash: evicted.record.hash(),
                reason: "limbo is full; the oldest waiting record was dropped".into(),
            });
        }
        tracing::debug!(%hash, "record waits for dependencies");
    }

    fn ask_for(&mut self, now: u64, pod: DnaHash, peer: &PeerId, waits: &[Wait]) {
        let member = self
            .pods
            .get(&pod)
            .is_some_and(|v| v.is_current_member(&self.agent));
        if !member {
            return;
        }
        let hashes: Vec<ActionHash> = waits
            .iter()
            .filter_map(|w| match w {
                Wait::Hash(h) => Some(*h),
                Wait::Seq(..) => None,
            })
            .collect();
        let binding = self.binding(now, &pod);
        if !hashes.is_empty() {
            let request = SyncRequest::Get {
                pod,
                binding: binding.clone(),
                hashes,
            };
            self.request(now, peer, Asked::Get { pod }, request);
        }
        for wait in waits {
            if let Wait::Seq(chain, _) = wait {
                let from_seq = self
                    .store
                    .head(chain)
                    .ok()
                    .flatten()
                    .map_or(0, |h| h.seq + 1);
                self.ask_range(now, peer, pod, chain.author.key_hash(), from_seq);
            }
        }
    }

    pub(crate) fn issue_warrant(&mut self, warrant: Warrant) {
        let offender = warrant.offender().key_hash();
        if let Some(view) = self.pods.get_mut(warrant.pod()) {
            if !view.blocked.insert(offender) {
                return;
            }
        }
        tracing::warn!(pod = %warrant.pod(), offender = %offender, "warrant issued; author blocked");
        // Kept, so the offender stays blocked after a restart.
        if let Err(error) = self.store.keep_warrant(&warrant) {
            self.event(Event::StoreFailed {
                detail: format!("keeping the warrant against {offender}: {error}"),
            });
        }
        // Pass it on to every peer that proved it is a current member, so all of them block
        // the offender. Each node passes a warrant on once: a second copy finds the author
        // blocked already.
        let pod = *warrant.pod();
        let members: Vec<PeerId> = self
            .pods
            .get(&pod)
            .map(|v| {
                v.bound
                    .iter()
                    .filter(|(_, a)| v.is_current_member(a))
                    .map(|(p, _)| p.clone())
                    .collect()
            })
            .unwrap_or_default();
        let bytes = serde_bytes::ByteBuf::from(warrant.to_bytes());
        for peer in members {
            let request = SyncRequest::Warrant {
                pod,
                warrant: bytes.clone(),
            };
            self.request(self.now, &peer, Asked::Push, request);
        }
        self.event(Event::Warrant(Box::new(warrant)));
    }

    /// A warrant from a peer: checked here before the offender is blocked. A fork proves
    /// itself; an invalid record is validated again against what this node holds.
    pub(crate) fn on_warrant(&mut self, warrant: Warrant) {
        if warrant.verify().is_err() {
            return;
        }
        let confirmed = match &warrant {
            Warrant::Fork { .. } => true,
            Warrant::Invalid { record, .. } => {
                let pod = record.action().pod;
                match self.pods.get(&pod) {
                    None => false,
                    Some(view) => {
                        if check_record_shape(record).is_err() {
                            true
                        } else {
                            let pending = BTreeMap::new();
                            let ctx =
                                StoreContext::new(&self.store, pod, ChainId::of(record), &pending);
                            let verdict = myco_zomes::validate(record, &view.dna, &ctx);
                            // A warrant confirmed through a failed read would block an author
                            // on our disk's word: it waits for the next copy instead.
                            ctx.fault().is_none() && matches!(verdict, Verdict::Invalid(_))
                        }
                    }
                }
            }
        };
        if confirmed {
            self.issue_warrant(warrant);
        }
    }

    /// What follows from a record being stored, whoever wrote it: the membership view learns
    /// from it, purges it calls for are done, it is reported, and gossip waiting on it is
    /// accepted.
    pub(crate) fn after_accept(&mut self, pod: DnaHash, record: &Record) {
        let empty = BTreeMap::new();
        if let Some(view) = self.pods.get_mut(&pod) {
            let ctx = StoreContext::new(&self.store, pod, ChainId::of(record), &empty);
            view.note(record, |h| super::view::proposal_kind_of(&ctx, h));
        }
        self.purge_after(pod, record);
        if myco_zomes::codec::is_entry(
            record,
            myco_zomes::ZOME_GOVERNANCE,
            myco_zomes::governance::DECISION,
        ) {
            self.after_replica_decision(self.now, pod, &record.hash());
        }
        if myco_zomes::codec::is_entry(
            record,
            myco_zomes::ZOME_CONTENT,
            myco_zomes::content::APPROVAL,
        ) {
            self.want_approved(pod, record, true);
            self.ask_after_approval(self.now, pod, record);
        }
        let action = record.action();
        self.event(Event::Accepted {
            pod,
            hash: record.hash(),
            author: action.author,
            seq: action.seq,
        });
        if let Some(waiting) = self.pending_gossip.release(&record.hash()) {
            for (from, message_id) in waiting {
                self.emit(Output::GossipVerdict {
                    from,
                    message_id,
                    verdict: super::GossipVerdict::Accept,
                });
            }
        }
    }

    fn gossip_verdict(&mut self, incoming: &Incoming, verdict: super::GossipVerdict) {
        if let Some((from, message_id)) = &incoming.gossip {
            self.emit(Output::GossipVerdict {
                from: from.clone(),
                message_id: message_id.clone(),
                verdict,
            });
        }
    }
}
