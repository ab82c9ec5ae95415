//! Local authoring: the agent's own writes go through the same checks as a record from a
//! stranger — shape and size bounds, signature, chain position, the zomes — before anything
//! is stored or acknowledged. A write the pod would reject is refused with the reason, and
//! nothing is stored.

use std::collections::BTreeMap;

use myco_dna::{ActionBody, ChainAuthor, DnaHash, DnaManifest, Entry, Record, Timestamp};
use serde_bytes::ByteBuf;

use super::io::{Event, WriteRefusal};
use super::messages::{GossipMessage, SyncRequest};
use super::verdict::{Judgement, Refusal};
use super::{Asked, Engine};
use crate::store::{ChainId, Store};

/// Why a pod cannot be forgotten.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ForgetError {
    /// This node does not host it.
    #[error("this node does not host pod {0}")]
    NotHosted(DnaHash),
    /// This agent is a member: its Genesis is in the pod.
    #[error("this agent is a member of pod {0}: forgetting is for a pod that refused the join; a member leaves the pod instead")]
    Member(DnaHash),
    /// The store could not say.
    #[error("this node's store failed ({0}); check the disk, then retry")]
    Store(String),
}

impl<S: Store> Engine<S> {
    pub(crate) fn join_pod(&mut self, now: u64, dna: DnaManifest, membrane_proof: Vec<u8>) {
        let pod = dna.dna_hash();
        if !self.pods.contains_key(&pod) {
            if let Err(error) = self.resume_pod(dna) {
                self.event(Event::StoreFailed {
                    detail: error.to_string(),
                });
                return;
            }
            self.begin_anchor(now, pod, None);
        }
        let chain = ChainId {
            pod,
            author: self.agent,
        };
        if matches!(self.store.head(&chain), Ok(Some(_))) {
            return; // Already joined: hosting resumes.
        }
        if self.begin_anchor(now, pod, Some(membrane_proof.clone())) {
            // A restored agent may have a chain here on the pod's peers: its Genesis waits
            // until a member's peer says it holds none.
            return;
        }
        self.write_genesis(now, pod, membrane_proof);
    }

    /// Stops hosting `pod`, which this agent never joined (the pod refused its Genesis): the
    /// node no longer follows it, and nothing of it waits any more. A pod this agent is a
    /// member of is not forgotten: a member leaves with a Leave record.
    pub fn forget_pod(&mut self, pod: &DnaHash) -> Result<(), ForgetError> {
        if !self.pods.contains_key(pod) {
            return Err(ForgetError::NotHosted(*pod));
        }
        let chain = ChainId {
            pod: *pod,
            author: self.agent,
        };
        match self.store.head(&chain) {
            Ok(None) => {}
            Ok(Some(_)) => return Err(ForgetError::Member(*pod)),
            Err(error) => return Err(ForgetError::Store(error.to_string())),
        }
        self.pods.remove(pod);
        self.bindings.remove(pod);
        self.wanted_entries.retain(|_, p| p != pod);
        self.introduced.retain(|(_, p), _| p != pod);
        self.store_retry.retain(|(p, _)| p != pod);
        for queue in self.deferred.values_mut() {
            queue.retain(|(p, _)| p != pod);
        }
        Ok(())
    }

    /// Authors a governance entry with Pod visibility (a listing or a receipt an archivist
    /// signs), as [`Engine::author`] does.
    pub(crate) fn author_governance<T: serde::Serialize>(
        &mut self,
        now: u64,
        pod: DnaHash,
        entry_type: &str,
        value: &T,
    ) {
        let entry = myco_zomes::codec::encode(value);
        let body = ActionBody::Create(myco_dna::EntryRef {
            zome: myco_zomes::ZOME_GOVERNANCE.into(),
            entry_type: entry_type.into(),
            entry_hash: entry.hash(),
            visibility: myco_dna::Visibility::Pod,
        });
        self.author(now, pod, body, Some(entry));
    }

    pub(crate) fn author(
        &mut self,
        now: u64,
        pod: DnaHash,
        body: ActionBody,
        entry: Option<Entry>,
    ) {
        let Some(view) = self.pods.get(&pod) else {
            return self.refuse_write(pod, WriteRefusal::NotHosted(pod));
        };
        if view.blocked.contains(&self.agent.key_hash()) {
            // Stored here, it would be answered as written and never replicate.
            return self.refuse_write(pod, WriteRefusal::Blocked);
        }
        if let Some(refusal) = self.anchor_refusal(now, &pod) {
            return self.refuse_write(pod, refusal);
        }
        if let ActionBody::Delete { target } = &body {
            // Only a Delete purges an author's own entry, so a purge here means it was
            // deleted already: a second Delete would be a record that changes nothing.
            if self.store.was_purged(target).unwrap_or(false) {
                return self.refuse_write(
                    pod,
                    WriteRefusal::Repeated(format!(
                        "record {target} is deleted already; there is nothing more to delete"
                    )),
                );
            }
        }
        let chain = ChainId {
            pod,
            author: self.agent,
        };
        let head = match self.store.head(&chain) {
            Ok(Some(head)) => self.store.get_by_seq(&chain, head.seq),
            Ok(None) => Ok(None),
            Err(error) => Err(error),
        };
        let head = match head {
            Ok(Some(head)) => head,
            Ok(None) => return self.refuse_write(pod, WriteRefusal::NotJoined),
            Err(error) => {
                let detail = format!("reading this agent's chain head: {error}");
                return self.refuse_write(pod, WriteRefusal::Store(detail));
            }
        };
        let record =
            ChainAuthor::resume(self.key.clone(), &head.signed).next(Timestamp(now), body, entry);
        self.commit_local(now, pod, record, false);
    }

    pub(crate) fn commit_local(&mut self, now: u64, pod: DnaHash, record: Record, may_wait: bool) {
        // The checks a stranger's record meets before the chain and the zomes see it.
        if let Err(error) = myco_dna::chain::check_record_shape(&record)
            .and_then(|()| myco_dna::chain::check_signature(&record.signed))
        {
            return self.refuse_write(pod, WriteRefusal::Refused(Refusal::System(error)));
        }
        let mut heads = BTreeMap::new();
        let verdict = self.judge(&pod, &record, &BTreeMap::new(), &mut heads);
        match verdict {
            Judgement::Accept => {}
            Judgement::Wait(_) if may_wait => {}
            Judgement::Wait(waits) => {
                let missing = waits
                    .iter()
                    .filter_map(|wait| match wait {
                        super::limbo::Wait::Hash(hash) => Some(*hash),
                        super::limbo::Wait::Seq(..) => None,
                    })
                    .collect();
                return self.refuse_write(pod, WriteRefusal::NeedsRecords { missing });
            }
            Judgement::Duplicate => return,
            Judgement::Refuse { reason, .. } => {
                return self.refuse_write(pod, WriteRefusal::Refused(reason))
            }
            Judgement::StoreFault(detail) => {
                return self.refuse_write(pod, WriteRefusal::Store(detail))
            }
        }
        // Judged above exactly as a stranger's record would be.
        let valid = crate::store::ValidRecord::judged(record);
        if let Err(error) = self.store.append(&valid) {
            return self.refuse_write(pod, WriteRefusal::Store(error.to_string()));
        }
        self.after_local(now, pod, valid.record());
    }

    fn refuse_write(&mut self, pod: DnaHash, reason: WriteRefusal) {
        self.event(Event::AuthorRefused { pod, reason });
    }

    /// Announces a stored local record: the whole record on gossip if anyone may read it,
    /// otherwise only a Have notice; a Withdraw when it narrows or deletes public content;
    /// and a push of a Genesis to the pod's peers that may see it
    /// ([`PodView::may_receive_genesis`]; the others get it when they show a member binding).
    fn after_local(&mut self, now: u64, pod: DnaHash, record: &Record) {
        self.after_accept(pod, record);
        let action = record.action();
        let Some(view) = self.pods.get(&pod) else {
            return;
        };
        let message = match &action.body {
            ActionBody::Genesis { .. } => None,
            _ if view.entry_is_public(record) => {
                Some(GossipMessage::Record(ByteBuf::from(record.to_bytes())))
            }
            _ => Some(GossipMessage::Have {
                pod,
                hash: record.hash(),
                author: action.author.key_hash(),
                seq: action.seq,
            }),
        };
        if let Some(message) = message {
            self.emit(super::Output::Publish { pod, message });
        }
        if self.withdraws_public(record) {
            self.emit(super::Output::Publish {
                pod,
                message: GossipMessage::Withdraw(Box::new(record.signed.clone())),
            });
        }
        if matches!(action.body, ActionBody::Genesis { .. }) {
            let Some(view) = self.pods.get(&pod) else {
                return;
            };
            let peers: Vec<_> = view
                .peers
                .iter()
                .filter(|peer| view.may_receive_genesis(view.bound.get(*peer), record))
                .cloned()
                .collect();
            let records = vec![ByteBuf::from(record.to_bytes())];
            for peer in peers {
                self.request(
                    now,
                    &peer,
                    Asked::Push,
                    SyncRequest::Push {
                        pod,
                        records: records.clone(),
                    },
                );
            }
        }
    }

    /// True for a Delete of a public entry, or an Update that makes a public entry non-public.
    fn withdraws_public(&self, record: &Record) -> bool {
        let (target, still_public) = match &record.action().body {
            ActionBody::Delete { target } => (target, false),
            ActionBody::Update { original, entry } => {
                (original, entry.visibility == myco_dna::Visibility::Public)
            }
            _ => return false,
        };
        !still_public
            && self
                .store
                .get(target)
                .ok()
                .flatten()
                .and_then(|t| t.action().body.entry_ref().map(|e| e.visibility))
                == Some(myco_dna::Visibility::Public)
    }
}
