//! Purging: deletion and narrowing updates remove entry bytes from every store that may no
//! longer hold them. The signed action stays, so chains still verify.

use myco_dna::chain::{check_hash, check_signature};
use myco_dna::{ActionBody, ActionHash, DnaHash, Record, SignedAction, Visibility};

use super::io::{Event, GossipVerdict};
use super::Engine;
use crate::store::Store;

impl<S: Store> Engine<S> {
    /// After a record is accepted: a Delete purges its target's entry everywhere; an Update
    /// that narrows visibility to Private purges the replaced entry everywhere but at its
    /// author. (A narrowing from Public to Pod leaves members' copies, since members may still
    /// read it; non-members purge on the Withdraw notice gossiped by the author.)
    pub(crate) fn purge_after(&mut self, pod: DnaHash, record: &Record) {
        let author = record.action().author;
        match &record.action().body {
            ActionBody::Delete { target } => self.purge(pod, target),
            ActionBody::Update { original, entry }
                if entry.visibility == Visibility::Private && author != self.agent =>
            {
                self.purge(pod, original)
            }
            _ => {}
        }
    }

    fn purge(&mut self, pod: DnaHash, hash: &ActionHash) {
        self.wanted_entries.remove(hash);
        match self.store.purge_entry(hash) {
            Ok(true) => self.event(Event::Purged { pod, hash: *hash }),
            Ok(false) => {}
            Err(error) => self.event(Event::StoreFailed {
                detail: format!("purge of {hash}: {error}"),
            }),
        }
    }

    /// A Withdraw notice from gossip: the signed action of a Delete or narrowing Update. It
    /// must be authentic and name a record of the same author; then whoever may no longer hold
    /// the named entry purges it.
    pub(crate) fn on_withdraw(&mut self, signed: &SignedAction) -> GossipVerdict {
        if check_hash(signed).is_err() || check_signature(signed).is_err() {
            return GossipVerdict::Reject;
        }
        let action = &signed.action;
        let (target, narrowed_to) = match &action.body {
            ActionBody::Delete { target } => (*target, None),
            ActionBody::Update { original, entry } => (*original, Some(entry.visibility)),
            _ => return GossipVerdict::Reject,
        };
        let Ok(Some(held)) = self.store.get(&target) else {
            return GossipVerdict::Ignore;
        };
        if held.action().author != action.author || held.action().pod != action.pod {
            return GossipVerdict::Reject;
        }
        let member = self
            .pods
            .get(&action.pod)
            .is_some_and(|v| v.is_current_member(&self.agent));
        let must_purge = match narrowed_to {
            None => true,
            Some(Visibility::Private) => action.author != self.agent,
            Some(Visibility::Pod) => !member,
            Some(Visibility::Public) => false,
        };
        if must_purge {
            self.purge(action.pod, &target);
        }
        GossipVerdict::Accept
    }
}
