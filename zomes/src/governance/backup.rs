//! Governed backups (`docs/governance.md`, "Backups"): an approve_backup_schedule decision
//! names a cron schedule, the archivist that follows it (by its approve_replica decision) and
//! how many days each backup is kept. The archivist lists every backup it takes in a signed
//! `governance/backup_listing`: when, its size and hash, its records by type, and the head of
//! every chain it holds, so that any member can check the counts against its own replica.
//!
//! ```
//! use myco_dna::Timestamp;
//! use myco_zomes::governance::{next_backup, parse_schedule};
//! let daily = parse_schedule("0 3 * * *").unwrap();
//! // 1970-01-01 00:00 UTC: the next backup is at 03:00 that day.
//! assert_eq!(next_backup(&daily, Timestamp(0)), Some(Timestamp(3 * 3600 * 1_000_000)));
//! assert!(parse_schedule("daily at 03:00").is_err());
//! ```

use std::collections::BTreeMap;
use std::str::FromStr;

use myco_dna::{ActionBody, ActionHash, AgentKey, Record, Timestamp, ValidationContext, Verdict};
use serde::{Deserialize, Serialize};

use super::roles::decided_proposal;
use super::types::{ProposalKind, ReplicaTarget};

/// Entry type name of an archivist's listing of one backup it took.
pub const BACKUP_LISTING: &str = "backup_listing";
/// Longest retention a schedule may set, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// Most record types one listing counts.
pub const MAX_LISTED_TYPES: usize = 128;
/// Most chains one listing names the heads of (a listing is one entry, at most 64 KiB).
pub const MAX_LISTED_CHAINS: usize = 512;
/// Microseconds in a day.
pub const DAY_MICROS: u64 = 86_400 * 1_000_000;

/// One chain's head in a backup.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ListedHead {
    /// The chain's author.
    pub author: AgentKey,
    /// The seq of the newest record of the chain in the backup.
    pub seq: u64,
    /// That record's hash.
    pub head: ActionHash,
}

/// An archivist's listing of one backup it took under a schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupListing {
    /// The passed approve_backup_schedule decision it was taken under.
    pub schedule: ActionHash,
    /// When it was taken.
    pub taken_at: Timestamp,
    /// When the archivist deletes it: `taken_at` plus the schedule's retention.
    pub expires_at: Timestamp,
    /// The encrypted file's size, in bytes.
    pub bytes: u64,
    /// The blake2b-256 of the encrypted file.
    pub blake2b: [u8; 32],
    /// The records in the backup by type ([`record_type`]).
    pub counts: BTreeMap<String, u64>,
    /// The head of every chain in the backup, by author; each chain is whole from its Genesis.
    pub heads: Vec<ListedHead>,
}

impl BackupListing {
    /// Records in the backup.
    pub fn records(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// The type a record is counted under in listings and audits: `genesis`, `delete`, or the
/// `zome/entry_type` its Create or Update writes.
pub fn record_type(record: &Record) -> String {
    match &record.action().body {
        ActionBody::Genesis { .. } => "genesis".into(),
        ActionBody::Delete { .. } => "delete".into(),
        ActionBody::Create(entry) | ActionBody::Update { entry, .. } => {
            format!("{}/{}", entry.zome, entry.entry_type)
        }
    }
}

/// Parses a backup schedule in cron form: five fields (minute hour day-of-month month
/// day-of-week, as crontab writes them) or six and seven (seconds first, year last).
pub fn parse_schedule(text: &str) -> Result<cron::Schedule, Verdict> {
    let fields = text.split_whitespace().count();
    let full = match fields {
        5 => format!("0 {}", text.trim()),
        6 | 7 => text.trim().to_string(),
        _ => {
            return Err(Verdict::invalid(format!(
                "`{text}` is not a cron schedule: give five fields (minute hour day month weekday, for example `0 3 * * *` for 03:00 UTC every day)"
            )))
        }
    };
    cron::Schedule::from_str(&full).map_err(|error| {
        Verdict::invalid(format!(
            "`{text}` is not a cron schedule ({error}); for example `0 3 * * *` is 03:00 UTC every day"
        ))
    })
}

/// The first time after `after` that `schedule` fires (UTC), if it ever does again.
pub fn next_backup(schedule: &cron::Schedule, after: Timestamp) -> Option<Timestamp> {
    let after = i64::try_from(after.0).ok()?;
    let at = chrono::DateTime::from_timestamp_micros(after)?;
    let next = schedule.after(&at).next()?;
    u64::try_from(next.timestamp_micros()).ok().map(Timestamp)
}

/// What a passed approve_backup_schedule decision asks of its archivist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupPlan {
    /// The schedule, in cron form.
    pub schedule: String,
    /// The passed approve_replica decision naming the archivist.
    pub archivist: ActionHash,
    /// Days each backup is kept.
    pub retention_days: u32,
}

impl BackupPlan {
    /// The plan a proposal kind sets, if it is a schedule that names an archivist.
    pub fn of(kind: &ProposalKind) -> Option<BackupPlan> {
        match kind {
            ProposalKind::ApproveBackupSchedule {
                schedule,
                archivist: Some(archivist),
                retention_days,
            } => Some(BackupPlan {
                schedule: schedule.clone(),
                archivist: *archivist,
                retention_days: *retention_days,
            }),
            _ => None,
        }
    }

    /// When a backup taken at `taken_at` under this plan expires.
    pub fn expiry(&self, taken_at: Timestamp) -> Timestamp {
        taken_at.plus_micros(u64::from(self.retention_days).saturating_mul(DAY_MICROS))
    }
}

/// The checks of a schedule proposal that need only the proposal.
pub(super) fn check_schedule(
    schedule: &str,
    archivist: Option<&ActionHash>,
    retention_days: u32,
) -> Result<(), Verdict> {
    crate::text::bounded("backup schedule", schedule, 256)?;
    if archivist.is_none() {
        if retention_days != 0 {
            return Err(Verdict::invalid(
                "a retention needs an archivist to keep the backups: name its approve_replica decision",
            ));
        }
        return Ok(()); // A schedule in words alone: a record of intent no node acts on.
    }
    parse_schedule(schedule)?;
    if retention_days == 0 || retention_days > MAX_RETENTION_DAYS {
        return Err(Verdict::invalid(format!(
            "a backup's retention is 1 to {MAX_RETENTION_DAYS} days; {retention_days} is outside it"
        )));
    }
    Ok(())
}

/// The archivist an approve_replica decision names, if it names one and is passed.
pub(super) fn archivist_of(
    approval: &ActionHash,
    ctx: &dyn ValidationContext,
) -> Result<super::ArchivistNode, Verdict> {
    let (_, approved) = decided_proposal(approval, ctx)?;
    match approved.kind {
        ProposalKind::ApproveReplica(ReplicaTarget::Archivist(node)) => Ok(node),
        _ => Err(Verdict::invalid(format!(
            "{approval} is not a passed decision approving an archivist"
        ))),
    }
}

/// Validates a backup listing: written by the schedule's archivist, its expiry the
/// schedule's retention, its heads one per chain, and its counts adding up to them.
pub fn validate_backup_listing(
    record: &Record,
    listing: &BackupListing,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let action = record.action();
    crate::claim::check_claim(record, "a backup listing", listing.taken_at)?;
    if listing.counts.len() > MAX_LISTED_TYPES || listing.heads.len() > MAX_LISTED_CHAINS {
        return Err(Verdict::invalid(format!(
            "a backup listing counts at most {MAX_LISTED_TYPES} record types and {MAX_LISTED_CHAINS} chains"
        )));
    }
    if listing.heads.windows(2).any(|w| w[0].author >= w[1].author) {
        return Err(Verdict::invalid(
            "a backup listing names each chain's head once, in order of author",
        ));
    }
    let in_heads = listing
        .heads
        .iter()
        .try_fold(0u64, |sum, h| sum.checked_add(h.seq.checked_add(1)?));
    let counted = listing
        .counts
        .values()
        .try_fold(0u64, |sum, n| sum.checked_add(*n));
    if in_heads.is_none() || in_heads != counted {
        return Err(Verdict::invalid(
            "a backup listing's counts must add up to the records its chain heads hold",
        ));
    }
    let (_, decided) = decided_proposal(&listing.schedule, ctx)?;
    let Some(plan) = BackupPlan::of(&decided.kind) else {
        return Err(Verdict::invalid(format!(
            "{} is not a passed approve_backup_schedule decision naming an archivist",
            listing.schedule
        )));
    };
    if listing.expires_at != plan.expiry(listing.taken_at) {
        return Err(Verdict::invalid(format!(
            "a backup listing expires {} days after it was taken, as its schedule says",
            plan.retention_days
        )));
    }
    let archivist = archivist_of(&plan.archivist, ctx)?;
    let author = action.author.key_hash();
    if archivist.agent != author {
        return Err(Verdict::invalid(format!(
            "the schedule's archivist is {}, not {author}; only it lists backups taken under the schedule",
            archivist.agent
        )));
    }
    Ok(())
}
