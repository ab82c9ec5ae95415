//! An archivist's governed backups (`docs/governance.md`, "Backups").
//!
//! Each sync round, for every pod this node is an approved archivist of, the engine finds the
//! newest passed approve_backup_schedule decision naming its approval, and works out when
//! that schedule next fires after the last backup listed under it (or after the decision, for
//! the first). Once that time has come it asks the driver for one backup
//! ([`Output::TakePodBackup`]) and waits for the answer; the driver's
//! [`Input::PodBackupTaken`] becomes a signed `governance/backup_listing` in the pod. A
//! schedule missed while the node was down is caught up once, not once per missed time.
//! Without a passed schedule naming this node, nothing here ever asks for a backup.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, DnaHash};
use myco_zomes::governance::{next_backup, parse_schedule, BackupListing, BACKUP_LISTING};

use super::{Engine, Output};
use crate::store::Store;

/// How long a pod waits after a failed backup before the next try, in µs.
pub const BACKUP_RETRY_MICROS: u64 = 10 * 60 * 1_000_000;

/// Backups asked for and not answered yet, and pods waiting after a failure.
#[derive(Debug, Default)]
pub(crate) struct BackupRuns {
    /// Pod → the schedule decision a backup was asked for under.
    asked: BTreeMap<DnaHash, ActionHash>,
    /// Pod → no new try before this time.
    failed_until: BTreeMap<DnaHash, u64>,
}

impl<S: Store> Engine<S> {
    /// Asks for the backups that are due (see the module docs).
    pub(crate) fn ask_for_due_backups(&mut self, now: u64) {
        let pods: Vec<DnaHash> = self.pods.keys().copied().collect();
        for pod in pods {
            if self.backups.asked.contains_key(&pod)
                || self
                    .backups
                    .failed_until
                    .get(&pod)
                    .is_some_and(|t| *t > now)
            {
                continue;
            }
            let Some((schedule, retention_days)) = self.due_backup(now, &pod) else {
                continue;
            };
            tracing::info!(%pod, %schedule, "a pod backup is due under its schedule");
            self.backups.asked.insert(pod, schedule);
            self.emit(Output::TakePodBackup {
                pod,
                schedule,
                retention_days,
            });
        }
    }

    /// The schedule whose backup of `pod` is due at `now`, and its retention.
    fn due_backup(&self, now: u64, pod: &DnaHash) -> Option<(ActionHash, u32)> {
        let view = self.pods.get(pod)?;
        let me = self.agent.key_hash();
        let node = self.local_peer.text();
        let approved_here = |approval: &ActionHash| {
            view.replica_approvals
                .get(approval)
                .is_some_and(|a| a.agent == me && a.node == node)
                && !view.revoked_replicas.contains_key(approval)
        };
        let (schedule, (decided_at, plan)) = view
            .backup_plans
            .iter()
            .filter(|(_, (_, plan))| approved_here(&plan.archivist))
            .max_by_key(|(decision, (at, _))| (*at, **decision))?;
        if !self.has_chain(pod) {
            return None; // The Genesis citing the approval comes first; the listing needs it.
        }
        let since = view
            .listed_backups
            .get(schedule)
            .copied()
            .unwrap_or(*decided_at);
        let cron = parse_schedule(&plan.schedule).ok()?;
        let next = next_backup(&cron, since)?;
        (next.0 <= now).then_some((*schedule, plan.retention_days))
    }

    /// The driver took the backup: lists it in the pod.
    pub(crate) fn pod_backup_taken(&mut self, now: u64, pod: DnaHash, listing: BackupListing) {
        if self.backups.asked.get(&pod) != Some(&listing.schedule) {
            tracing::warn!(%pod, "a pod backup nobody asked for was reported; not listed");
            return;
        }
        self.backups.asked.remove(&pod);
        let taken_at = listing.taken_at;
        let schedule = listing.schedule;
        self.author_governance(now, pod, BACKUP_LISTING, &listing);
        // Even if the listing was refused, this backup is not asked for again at once.
        if let Some(view) = self.pods.get_mut(&pod) {
            let newest = view.listed_backups.entry(schedule).or_insert(taken_at);
            *newest = (*newest).max(taken_at);
        }
    }

    /// The driver could not take the backup: tries again after [`BACKUP_RETRY_MICROS`].
    pub(crate) fn pod_backup_failed(&mut self, now: u64, pod: DnaHash, reason: &str) {
        self.backups.asked.remove(&pod);
        self.backups
            .failed_until
            .insert(pod, now + BACKUP_RETRY_MICROS);
        tracing::warn!(%pod, reason, "a pod backup failed; the next try is in ten minutes");
    }
}
