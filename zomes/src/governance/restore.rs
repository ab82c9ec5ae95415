//! Emergency restore (`docs/governance.md`, "Emergency restore"): a passed emergency decision
//! authorising a restore names one backup listing; the archivist that listed it restores
//! that backup, validating every record as if a peer had sent it, serves the pod to its
//! members for [`RESTORE_WINDOW_DAYS`], and signs one `governance/restore_receipt` saying how
//! many records the backup held and how many of them it lacked.
//!
//! ```
//! use myco_dna::ActionHash;
//! use myco_zomes::governance::restore_listing;
//! let listing = ActionHash([7; 32]);
//! assert_eq!(restore_listing(&listing.to_string()).unwrap(), listing);
//! assert!(restore_listing("last tuesday's backup").is_err());
//! ```

use myco_dna::{ActionHash, Record, Timestamp, ValidationContext, Verdict};
use serde::{Deserialize, Serialize};

use super::backup::{BackupListing, BACKUP_LISTING};
use super::roles::decided_proposal;
use super::types::{EmergencyMeasure, ProposalKind};
use crate::codec::{decode_required, fetch, is_entry};
use crate::ZOME_GOVERNANCE;

/// Entry type name of an archivist's receipt for a restore it carried out.
pub const RESTORE_RECEIPT: &str = "restore_receipt";
/// Days after its decision that a restore authorisation lets the archivist serve members.
pub const RESTORE_WINDOW_DAYS: u64 = 7;

/// An archivist's receipt for one authorised restore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReceipt {
    /// The passed emergency decision authorising it.
    pub decision: ActionHash,
    /// The backup listing it restored.
    pub listing: ActionHash,
    /// Records in the backup.
    pub records: u64,
    /// Of those, records this archivist did not hold before the restore: each went through
    /// validation as a peer's record would.
    pub filled: u64,
    /// When it was restored.
    pub restored_at: Timestamp,
}

/// The listing an AuthoriseRestore's `backup` names.
pub fn restore_listing(backup: &str) -> Result<ActionHash, Verdict> {
    backup.trim().parse().map_err(|_| {
        Verdict::invalid(format!(
            "`{backup}` does not name a backup: give the act_… of its backup listing, as the transparency page or `myco pod audit` shows it"
        ))
    })
}

/// The backup listing record `hash` names, decoded.
pub(super) fn listing_of(
    hash: &ActionHash,
    ctx: &dyn ValidationContext,
) -> Result<(Record, BackupListing), Verdict> {
    let record = fetch(ctx, hash)?;
    if !is_entry(&record, ZOME_GOVERNANCE, BACKUP_LISTING) {
        return Err(Verdict::invalid(format!("{hash} is not a backup listing")));
    }
    let listing = decode_required(&record, "backup listing")?;
    Ok((record, listing))
}

/// The listing a passed decision authorises restoring, if it is such a decision.
pub(super) fn authorised_listing(
    decision: &ActionHash,
    ctx: &dyn ValidationContext,
) -> Result<ActionHash, Verdict> {
    let (_, proposal) = decided_proposal(decision, ctx)?;
    match proposal.kind {
        ProposalKind::Emergency(EmergencyMeasure::AuthoriseRestore { backup }) => {
            restore_listing(&backup)
        }
        _ => Err(Verdict::invalid(format!(
            "{decision} is not a passed emergency decision authorising a restore"
        ))),
    }
}

/// Validates a restore receipt: signed by the archivist that listed the backup, under a
/// passed decision authorising that backup's restore, its counts within the listing's.
pub fn validate_restore_receipt(
    record: &Record,
    receipt: &RestoreReceipt,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let action = record.action();
    crate::claim::check_claim(record, "a restore receipt", receipt.restored_at)?;
    let authorised = authorised_listing(&receipt.decision, ctx)?;
    if authorised != receipt.listing {
        return Err(Verdict::invalid(format!(
            "decision {} authorises restoring {authorised}, not {}",
            receipt.decision, receipt.listing
        )));
    }
    let (listed, listing) = listing_of(&receipt.listing, ctx)?;
    if listed.action().author != action.author {
        return Err(Verdict::invalid(
            "only the archivist that listed a backup signs the receipt for its restore",
        ));
    }
    if receipt.records != listing.records() || receipt.filled > receipt.records {
        return Err(Verdict::invalid(format!(
            "the backup held {} records; a receipt counts them, and fills at most that many",
            listing.records()
        )));
    }
    Ok(())
}
