//! Purging: deletion and narrowing updates remove entry bytes from every store that may no
//! longer hold them. The signed action stays, so chains still verify.

use myco_dna::chain::{check_hash, check_signature};
use myco_dna::{ActionBody, ActionHash, DnaHash, Record, SignedAction, Visibility};

use super::io::{Event, GossipVerdict};
use super::Engine;
use crate::store::{Relation, Store};

/// Most versions of one story a purge walks.
const MAX_VERSIONS: usize = 256;
/// Most responses (comments, reactions) one revocation purges with its story: a bound on
/// the work of one input.
const MAX_RESPONSES: usize = 100_000;

impl<S: Store> Engine<S> {
    /// After a record is accepted:
    /// - a Delete purges, everywhere, every version of the story it names and the comments
    ///   and reactions on it;
    /// - an Update that narrows the visibility or consent of what it replaces (see
    ///   [`myco_zomes::content::narrows`]) purges every earlier version everywhere but at its
    ///   author, and the responses wider than the new visibility.
    ///
    /// Every purge of another author's entry that removed bytes here is answered with a
    /// deletion receipt, written once the input is handled ([`Engine::write_receipts`]).
    /// Non-members learn of a revocation of public content from the author's Withdraw notice.
    pub(crate) fn purge_after(&mut self, pod: DnaHash, record: &Record) {
        let author = record.action().author;
        let revocation = record.hash();
        match &record.action().body {
            ActionBody::Delete { target } => {
                let versions = self.story_versions(target);
                for version in &versions {
                    self.purge_version(pod, version, revocation, author);
                }
                self.purge_responses(pod, &versions, None);
            }
            ActionBody::Update { original, entry } if author != self.agent => {
                let Ok(Some(replaced)) = self.store.get(original) else {
                    return;
                };
                if !myco_zomes::content::narrows(&replaced, record) {
                    return;
                }
                let earlier = self.earlier_versions(original);
                for version in &earlier {
                    self.purge_version(pod, version, revocation, author);
                }
                self.purge_responses(pod, &earlier, Some(entry.visibility));
            }
            _ => {}
        }
    }

    /// `hash` and the versions it replaced, newest first (at most [`MAX_VERSIONS`]).
    fn earlier_versions(&self, hash: &ActionHash) -> Vec<ActionHash> {
        let mut out = vec![*hash];
        let mut at = *hash;
        while out.len() < MAX_VERSIONS {
            let Ok(Some(record)) = self.store.get(&at) else {
                break;
            };
            match &record.action().body {
                ActionBody::Update { original, .. } if !out.contains(original) => {
                    out.push(*original);
                    at = *original;
                }
                _ => break,
            }
        }
        out
    }

    /// Every version of the story `hash` is a version of: back to its Create, then forward
    /// through every Update held (at most [`MAX_VERSIONS`]).
    fn story_versions(&self, hash: &ActionHash) -> Vec<ActionHash> {
        let earlier = self.earlier_versions(hash);
        let root = *earlier.last().unwrap_or(hash);
        let mut out = vec![root];
        let mut next = 0;
        while next < out.len() && out.len() < MAX_VERSIONS {
            let at = out[next];
            next += 1;
            let updates = self
                .store
                .referring(&at, Relation::Version, None, MAX_VERSIONS)
                .unwrap_or_default();
            for update in updates {
                let hash = update.hash();
                if !out.contains(&hash) && out.len() < MAX_VERSIONS {
                    out.push(hash);
                }
            }
        }
        if !out.contains(hash) {
            out.push(*hash);
        }
        out
    }

    /// True if a later version of `record` held here takes back something it allowed: it is
    /// then no longer served with its entry, even by its author.
    pub(crate) fn superseded_by_narrowing(&self, record: &Record) -> bool {
        if !crate::store::references::is_content(record) {
            return false;
        }
        let mut frontier = vec![record.hash()];
        let mut seen = 0;
        while let Some(at) = frontier.pop() {
            let Ok(updates) = self
                .store
                .referring(&at, Relation::Version, None, MAX_VERSIONS)
            else {
                // When the index cannot be read, hold the entry back rather than risk it.
                return true;
            };
            for update in updates {
                if myco_zomes::content::narrows(record, &update) {
                    return true;
                }
                seen += 1;
                if seen < MAX_VERSIONS {
                    frontier.push(update.hash());
                }
            }
        }
        false
    }

    /// Purges one version of a story, and owes a receipt if that removed another author's
    /// bytes here.
    fn purge_version(
        &mut self,
        pod: DnaHash,
        version: &ActionHash,
        revocation: ActionHash,
        revoker: myco_dna::AgentKey,
    ) {
        if self.purge(pod, version) && revoker != self.agent {
            self.receipts_due.push(super::receipts::Due {
                pod,
                revocation,
                record: *version,
                purged_at: self.now,
            });
        }
    }

    /// Purges the comments and reactions on `versions`: all of them, or (`narrowed_to`) those
    /// wider than the story's new visibility. The story's author keeps those it may still
    /// read.
    fn purge_responses(
        &mut self,
        pod: DnaHash,
        versions: &[ActionHash],
        narrowed_to: Option<Visibility>,
    ) {
        let mut doomed = Vec::new();
        for version in versions {
            for relation in [Relation::Comment, Relation::Reaction] {
                let mut after: Option<ActionHash> = None;
                loop {
                    let page = self
                        .store
                        .referring(version, relation, after.as_ref(), 1024)
                        .unwrap_or_default();
                    let Some(last) = page.last() else { break };
                    after = Some(last.hash());
                    for response in &page {
                        let wider = response.action().body.entry_ref().is_some_and(|e| {
                            narrowed_to.is_none_or(|v| !v.is_at_least_as_wide_as(e.visibility))
                        });
                        if wider && doomed.len() < MAX_RESPONSES {
                            doomed.push(response.hash());
                        }
                    }
                    if page.len() < 1024 {
                        break;
                    }
                }
            }
        }
        for hash in doomed {
            self.purge(pod, &hash);
        }
    }

    /// Purges the entry of `hash`; true if bytes were removed.
    fn purge(&mut self, pod: DnaHash, hash: &ActionHash) -> bool {
        self.wanted_entries.remove(hash);
        match self.store.purge_entry(hash) {
            Ok(true) => {
                self.event(Event::Purged { pod, hash: *hash });
                true
            }
            Ok(false) => false,
            Err(error) => {
                self.event(Event::StoreFailed {
                    detail: format!("purge of {hash}: {error}"),
                });
                false
            }
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
