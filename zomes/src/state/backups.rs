//! Backups: the passed schedules that name an archivist, and the backups archivists listed.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, KeyHash, Timestamp};
use serde::Serialize;

use super::input::{Fact, Input};
use super::proposals::Effect;
use crate::governance::BackupPlan;

/// A passed backup schedule that names an archivist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScheduleState {
    /// The schedule, in cron form (UTC).
    pub schedule: String,
    /// The approve_replica decision naming the archivist.
    #[serde(serialize_with = "super::ids::text")]
    pub archivist_approval: ActionHash,
    /// Days each backup is kept.
    pub retention_days: u32,
    /// When the decision was written.
    pub decided_at: Timestamp,
}

/// One backup an archivist listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackupState {
    /// The listing record.
    #[serde(serialize_with = "super::ids::text")]
    pub listing: ActionHash,
    /// The archivist that took it.
    #[serde(serialize_with = "super::ids::text")]
    pub archivist: KeyHash,
    /// The schedule decision it was taken under.
    #[serde(serialize_with = "super::ids::text")]
    pub schedule: ActionHash,
    /// When it was taken.
    pub taken_at: Timestamp,
    /// When the archivist deletes it.
    pub expires_at: Timestamp,
    /// The encrypted file's size, in bytes.
    pub bytes: u64,
    /// The encrypted file's blake2b-256, in hex.
    pub blake2b: String,
    /// Records in it.
    pub records: u64,
    /// Records in it by type.
    pub counts: BTreeMap<String, u64>,
    /// Chains in it.
    pub chains: usize,
}

/// Folds the passed schedules that name an archivist, by decision.
pub(super) fn fold_schedules(effects: &[Effect]) -> BTreeMap<ActionHash, ScheduleState> {
    effects
        .iter()
        .filter_map(|effect| {
            let plan = BackupPlan::of(&effect.kind)?;
            Some((
                effect.decision,
                ScheduleState {
                    schedule: plan.schedule,
                    archivist_approval: plan.archivist,
                    retention_days: plan.retention_days,
                    decided_at: effect.at,
                },
            ))
        })
        .collect()
}

/// Folds the backup listings readable here, newest first.
pub(super) fn fold_backups(input: &Input) -> Vec<BackupState> {
    let mut backups: Vec<BackupState> = input
        .items()
        .iter()
        .filter_map(|item| {
            let Fact::BackupListing(Some(listing)) = &item.fact else {
                return None;
            };
            Some(BackupState {
                listing: item.hash,
                archivist: item.author,
                schedule: listing.schedule,
                taken_at: listing.taken_at,
                expires_at: listing.expires_at,
                bytes: listing.bytes,
                blake2b: listing.blake2b.iter().map(|b| format!("{b:02x}")).collect(),
                records: listing.records(),
                counts: listing.counts.clone(),
                chains: listing.heads.len(),
            })
        })
        .collect();
    backups.sort_by_key(|b| std::cmp::Reverse((b.taken_at, b.listing)));
    backups
}
