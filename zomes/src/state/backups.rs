//! Backups: the passed schedules that name an archivist, the backups archivists listed, and
//! the emergency restores authorised from them.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, KeyHash, Timestamp};
use serde::Serialize;

use super::input::{Fact, Input};
use super::proposals::Effect;
use crate::governance::{restore_listing, BackupPlan, EmergencyMeasure, ProposalKind};

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

/// A passed emergency decision authorising a restore, and its archivist's receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestoreState {
    /// The decision.
    #[serde(serialize_with = "super::ids::text")]
    pub decision: ActionHash,
    /// The backup listing it names.
    #[serde(serialize_with = "super::ids::text")]
    pub listing: ActionHash,
    /// When the decision was written.
    pub decided_at: Timestamp,
    /// The archivist's receipt, once it restored the backup.
    pub receipt: Option<RestoreReceiptState>,
}

/// What an archivist's restore receipt says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestoreReceiptState {
    /// The archivist.
    #[serde(serialize_with = "super::ids::text")]
    pub archivist: KeyHash,
    /// Records in the backup.
    pub records: u64,
    /// Records it lacked and took from the backup, validated.
    pub filled: u64,
    /// When it restored.
    pub restored_at: Timestamp,
}

/// Folds the passed restore authorisations and the receipts for them, oldest first.
pub(super) fn fold_restores(input: &Input, effects: &[Effect]) -> Vec<RestoreState> {
    let mut receipts: BTreeMap<ActionHash, RestoreReceiptState> = BTreeMap::new();
    for item in input.items() {
        let Fact::RestoreReceipt(Some(receipt)) = &item.fact else {
            continue;
        };
        receipts
            .entry(receipt.decision)
            .or_insert(RestoreReceiptState {
                archivist: item.author,
                records: receipt.records,
                filled: receipt.filled,
                restored_at: receipt.restored_at,
            });
    }
    effects
        .iter()
        .filter_map(|effect| {
            let ProposalKind::Emergency(EmergencyMeasure::AuthoriseRestore { backup }) =
                &effect.kind
            else {
                return None;
            };
            Some(RestoreState {
                decision: effect.decision,
                listing: restore_listing(backup).ok()?,
                decided_at: effect.at,
                receipt: receipts.get(&effect.decision).cloned(),
            })
        })
        .collect()
}
