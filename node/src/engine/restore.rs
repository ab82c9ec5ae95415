//! An archivist's side of an emergency restore (`docs/governance.md`, "Emergency restore").
//!
//! When a passed emergency decision authorises restoring a backup this node listed, the
//! engine asks the driver to open that backup ([`Output::RestorePodBackup`]); the driver
//! checks the file against the listing's size and hash and decrypts it. The backup must hold
//! as many records as its listing counts. Every record it holds that this node lacks then
//! goes through the validation a peer's record goes through ([`Engine::ingest`]): nothing in
//! a backup is trusted for being in it. An entry purged here since the backup was taken
//! does not come back (its record is restored without it). The archivist signs one
//! `governance/restore_receipt`, and for [`RESTORE_WINDOW_DAYS`] after the decision it serves
//! the pod to current members as a member does; outside such a window an archivist serves
//! members its own chain only.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, DnaHash, Record, Timestamp};
use myco_zomes::codec::decode;
use myco_zomes::governance::{
    BackupListing, RestoreReceipt, DAY_MICROS, RESTORE_RECEIPT, RESTORE_WINDOW_DAYS,
};

use super::ingest::Incoming;
use super::{Engine, Output};
use crate::store::{ChainId, Store};

/// How long a restore waits after a failure before the next try, in µs.
pub const RESTORE_RETRY_MICROS: u64 = 10 * 60 * 1_000_000;

/// Restores asked of the driver and not answered yet, and those waiting after a failure.
#[derive(Debug, Default)]
pub(crate) struct RestoreRuns {
    /// Pod → the decision a restore was asked for under, and the records its listing counts.
    asked: BTreeMap<DnaHash, (ActionHash, u64)>,
    /// Decision → no new try before this time.
    failed_until: BTreeMap<ActionHash, u64>,
}

/// The end of the window a restore authorisation decided at `decided_at` opens.
fn window_end(decided_at: Timestamp) -> u64 {
    decided_at
        .0
        .saturating_add(RESTORE_WINDOW_DAYS.saturating_mul(DAY_MICROS))
}

impl<S: Store> Engine<S> {
    /// True if a restore authorisation in force at `now` names a backup this node listed in
    /// `pod`: it then serves the pod to current members.
    pub(crate) fn serving_restore(&self, now: u64, pod: &DnaHash) -> bool {
        let Some(view) = self.pods.get(pod) else {
            return false;
        };
        let me = self.agent.key_hash();
        view.restore_authorisations.values().any(|(listing, at)| {
            view.listing_authors.get(listing) == Some(&me) && now < window_end(*at)
        })
    }

    /// Asks the driver to open the backups that passed restore authorisations name, for
    /// those this node listed and has not restored yet.
    pub(crate) fn ask_for_authorised_restores(&mut self, now: u64) {
        let me = self.agent.key_hash();
        let mut due = Vec::new();
        for (pod, view) in &self.pods {
            if self.restores.asked.contains_key(pod) {
                continue;
            }
            let next = view
                .restore_authorisations
                .iter()
                .find(|(decision, (listing, at))| {
                    !view.restore_receipts.contains(*decision)
                        && view.listing_authors.get(listing) == Some(&me)
                        && now < window_end(*at)
                        && self
                            .restores
                            .failed_until
                            .get(*decision)
                            .is_none_or(|t| *t <= now)
                });
            if let Some((decision, (listing, _))) = next {
                due.push((*pod, *decision, *listing));
            }
        }
        for (pod, decision, listing_hash) in due {
            let listing = match self.store.get(&listing_hash) {
                Ok(Some(record)) => decode::<BackupListing>(&record, "backup listing")
                    .ok()
                    .flatten(),
                _ => None,
            };
            let Some(listing) = listing else {
                self.restore_failed(
                    now,
                    pod,
                    decision,
                    "its backup listing is not readable here",
                );
                continue;
            };
            tracing::info!(%pod, %decision, listing = %listing_hash, "an emergency restore is authorised; opening the backup");
            self.restores
                .asked
                .insert(pod, (decision, listing.records()));
            self.emit(Output::RestorePodBackup {
                pod,
                decision,
                listing: Box::new(listing),
            });
        }
    }

    /// The driver opened the backup: its records go through validation, and the archivist
    /// signs the receipt.
    pub(crate) fn restore_from_backup(
        &mut self,
        now: u64,
        pod: DnaHash,
        decision: ActionHash,
        records: Vec<Record>,
    ) {
        let Some((_, listed)) = self
            .restores
            .asked
            .get(&pod)
            .copied()
            .filter(|(asked, _)| *asked == decision)
        else {
            tracing::warn!(%pod, "a restore nobody asked for was reported; ignored");
            return;
        };
        self.restores.asked.remove(&pod);
        if records.len() as u64 != listed {
            let reason = format!(
                "the backup holds {} records but its listing counts {listed}",
                records.len()
            );
            self.restore_failed(now, pod, decision, &reason);
            return;
        }
        let Some((listing, _)) = self
            .pods
            .get(&pod)
            .and_then(|v| v.restore_authorisations.get(&decision))
            .copied()
        else {
            return;
        };
        // Chains are kept whole from Genesis, so a record at or below this node's head of its
        // chain is held (or forks it, which the backup cannot mend): one read, not one per
        // record. Ingest screens what remains as it screens a peer's records.
        let heads = self.store.heads().unwrap_or_default();
        let held = |record: &Record| {
            heads
                .get(&ChainId::of(record))
                .is_some_and(|head| head.seq >= record.action().seq)
        };
        let mut batch = Vec::new();
        for record in records {
            if record.action().pod != pod || held(&record) {
                continue; // Another pod's record is no part of this restore; a held one is here.
            }
            let purged = self.store.was_purged(&record.hash()).unwrap_or(true);
            let record = if purged {
                record.without_entry()
            } else {
                record
            };
            batch.push(Incoming::new(record, None));
        }
        let filled = batch.len() as u64;
        tracing::info!(%pod, %decision, records = listed, filled, "restoring the backup's records through validation");
        self.ingest(now, pod, batch);
        let receipt = RestoreReceipt {
            decision,
            listing,
            records: listed,
            filled,
            restored_at: Timestamp(now),
        };
        self.author_governance(now, pod, RESTORE_RECEIPT, &receipt);
        if let Some(view) = self.pods.get_mut(&pod) {
            view.restore_receipts.insert(decision);
        }
    }

    /// The backup could not be opened, or did not match its listing: tries again after
    /// [`RESTORE_RETRY_MICROS`].
    pub(crate) fn restore_failed(
        &mut self,
        now: u64,
        pod: DnaHash,
        decision: ActionHash,
        reason: &str,
    ) {
        if self
            .restores
            .asked
            .get(&pod)
            .is_some_and(|(d, _)| *d == decision)
        {
            self.restores.asked.remove(&pod);
        }
        self.restores
            .failed_until
            .insert(decision, now + RESTORE_RETRY_MICROS);
        tracing::warn!(%pod, %decision, reason, "an emergency restore failed; the next try is in ten minutes");
    }
}
