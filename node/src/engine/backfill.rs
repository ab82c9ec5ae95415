//! Backfill: entries that became visible after this node stored their record without them.
//!
//! Content under a cultural protocol that needs a steward's approval is served to no one but
//! its author until the Approval exists, so members who synced it earlier hold its signed
//! action only. Once this node accepts the Approval, it wants the entries of the approved
//! content (and of the content's updates it holds stripped) and asks members for them: at
//! once, then on every sync round until they arrive. A record that arrives again with its
//! entry fills the stripped copy, after the same checks any entry gets (the entry matches the
//! signed entry hash, this node may see it) and never when the entry was purged.

use myco_dna::chain::check_record_shape;
use myco_dna::{ActionBody, ActionHash, DnaHash, Record, Visibility};
use myco_zomes::codec::{decode, is_entry};
use myco_zomes::content::{Approval, APPROVAL, CONTENT};
use myco_zomes::ZOME_CONTENT;

use super::io::{Event, PeerId};
use super::messages::SyncRequest;
use super::{Asked, Engine};
use crate::store::{ChainId, Store, StoreError};

/// Most entries wanted at once, over all pods; beyond it the newest wants are dropped (they
/// come back with the next restart's resume, or the next approval).
pub(crate) const MAX_WANTED_ENTRIES: usize = 4096;

/// Most hashes asked for in one request.
const HASHES_PER_REQUEST: usize = 256;

/// What became of a record that arrived again while this node holds it without its entry.
pub(crate) enum Filled {
    /// The entry is stored now.
    Stored,
    /// Nothing to do: this node may not see it, the entry was purged, or it is held already.
    Ignored,
    /// The entry does not match the signed action: the sender is at fault.
    Mismatch(String),
}

impl<S: Store> Engine<S> {
    /// After an Approval is accepted (or found on resume): want the approved content's entry,
    /// and the entries of its updates that are held stripped. With `scan_updates` off only
    /// the content itself is checked (resume, where scanning every author is too slow).
    pub(crate) fn want_approved(&mut self, pod: DnaHash, approval: &Record, scan_updates: bool) {
        if !is_entry(approval, ZOME_CONTENT, APPROVAL) {
            return;
        }
        let Ok(Some(approval)) = decode::<Approval>(approval, "approval") else {
            return;
        };
        if let Err(error) = self.want_content(pod, &approval.content, scan_updates) {
            tracing::debug!(%error, "cannot read the approved content");
        }
    }

    fn want_content(
        &mut self,
        pod: DnaHash,
        content: &ActionHash,
        scan_updates: bool,
    ) -> Result<(), StoreError> {
        let Some(held) = self.store.get(content)? else {
            return Ok(());
        };
        let stripped = held.entry.is_none();
        if stripped {
            self.want(pod, &held)?;
        }
        if scan_updates || stripped {
            let chain = ChainId::of(&held);
            let updates: Vec<Record> = self
                .store
                .typed_records(&chain, ZOME_CONTENT, CONTENT)?
                .into_iter()
                .filter(|r| r.action().seq > held.action().seq && r.entry.is_none())
                .filter(|r| {
                    matches!(&r.action().body, ActionBody::Update { original, .. } if original == content)
                })
                .collect();
            for update in updates {
                self.want(pod, &update)?;
            }
        }
        Ok(())
    }

    fn want(&mut self, pod: DnaHash, record: &Record) -> Result<(), StoreError> {
        let private = record
            .action()
            .body
            .entry_ref()
            .is_none_or(|e| e.visibility == Visibility::Private);
        let hash = record.hash();
        if private || self.store.was_purged(&hash)? {
            return Ok(());
        }
        if self.wanted_entries.len() < MAX_WANTED_ENTRIES {
            self.wanted_entries.insert(hash, pod);
        }
        Ok(())
    }

    /// Asks `peer` for the entries this node wants in `pod`, if any.
    pub(crate) fn ask_for_entries(&mut self, now: u64, peer: &PeerId, pod: DnaHash) {
        let hashes: Vec<ActionHash> = self
            .wanted_entries
            .iter()
            .filter(|(_, p)| **p == pod)
            .map(|(h, _)| *h)
            .take(HASHES_PER_REQUEST)
            .collect();
        if hashes.is_empty() {
            return;
        }
        let binding = self.binding(now, &pod);
        let request = SyncRequest::Get {
            pod,
            binding,
            hashes,
        };
        self.request(now, peer, Asked::Get { pod }, request);
    }

    /// Asks for what an accepted Approval released: from the content author's node, which
    /// surely holds it, when it is connected, and from one other pod peer.
    pub(crate) fn ask_after_approval(&mut self, now: u64, pod: DnaHash, approval: &Record) {
        let Ok(Some(approval)) = decode::<Approval>(approval, "approval") else {
            return;
        };
        let Some(view) = self.pods.get(&pod) else {
            return;
        };
        let author = match self.store.get(&approval.content) {
            Ok(Some(content)) => Some(content.action().author),
            _ => None,
        };
        let peers: Vec<PeerId> = view.peers.iter().cloned().collect();
        let mut ask: Vec<PeerId> = view
            .bound
            .iter()
            .filter(|(peer, agent)| Some(**agent) == author && view.peers.contains(*peer))
            .map(|(peer, _)| peer.clone())
            .take(1)
            .collect();
        if !peers.is_empty() {
            let other = &peers[(self.sync_round as usize) % peers.len()];
            if !ask.contains(other) {
                ask.push(other.clone());
            }
        }
        for peer in ask {
            self.ask_for_entries(now, &peer, pod);
        }
    }

    /// A record that arrived again while this node holds it without its entry.
    pub(crate) fn fill_entry(&mut self, pod: DnaHash, record: &Record) -> Filled {
        if let Err(error) = check_record_shape(record) {
            return Filled::Mismatch(error.to_string());
        }
        let visible = self.pods.get(&pod).is_some_and(|v| {
            v.is_current_member(&self.agent) && v.entry_visible_to(record, &self.agent)
        });
        if !visible {
            return Filled::Ignored;
        }
        let hash = record.hash();
        match self.store.fill_entry(record) {
            Ok(true) => {
                self.wanted_entries.remove(&hash);
                self.event(Event::EntryFilled { pod, hash });
                Filled::Stored
            }
            Ok(false) => {
                self.wanted_entries.remove(&hash);
                Filled::Ignored
            }
            Err(error) => {
                self.event(Event::StoreFailed {
                    detail: format!("filling the entry of {hash}: {error}"),
                });
                Filled::Ignored
            }
        }
    }
}
