//! The governance zome: roles, proposals, votes, decisions and roster checkpoints.

mod backup;
mod checkpoint;
mod proposal;
mod replica;
mod restore;
mod roles;
mod roster;
mod types;
mod vote;

pub use backup::{
    next_backup, parse_schedule, record_type, validate_backup_listing, BackupListing, BackupPlan,
    ListedHead, BACKUP_LISTING, DAY_MICROS, MAX_LISTED_CHAINS, MAX_LISTED_TYPES,
    MAX_RETENTION_DAYS,
};
pub use checkpoint::{is_roster_change, roster_after, MAX_CHECKPOINT_CHANGES};
pub use proposal::{check_policy, rule_for, MAX_PROPOSAL_TEXT};
pub use restore::{
    restore_listing, validate_restore_receipt, RestoreReceipt, RESTORE_RECEIPT, RESTORE_WINDOW_DAYS,
};
pub use roles::{check_role, decided_proposal};
pub use roster::{roster_at, Roster};
pub use types::*;
pub use vote::{electorate, proposal_at, votes_needed, MAX_DECISION_VOTES};

use myco_dna::{DnaManifest, Record, ValidationContext, Verdict, Visibility, Zome};

use crate::codec::decode_required;
use crate::ZOME_GOVERNANCE;

/// The governance zome.
pub struct Governance;

impl Zome for Governance {
    fn name(&self) -> &'static str {
        ZOME_GOVERNANCE
    }

    fn entry_types(&self) -> &'static [&'static str] {
        &[
            PROPOSAL,
            VOTE,
            DECISION,
            CHECKPOINT,
            REPLICA_RECEIPT,
            BACKUP_LISTING,
            RESTORE_RECEIPT,
        ]
    }

    fn validate(&self, record: &Record, dna: &DnaManifest, ctx: &dyn ValidationContext) -> Verdict {
        crate::verdict_of(validate(record, dna, ctx))
    }
}

fn validate(
    record: &Record,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let Some(entry_ref) = record.action().body.entry_ref() else {
        return Ok(());
    };
    if entry_ref.visibility == Visibility::Private {
        return Err(Verdict::invalid(
            "governance records are auditable by members; they cannot be Private",
        ));
    }
    if matches!(record.action().body, myco_dna::ActionBody::Update { .. }) {
        return Err(Verdict::invalid(
            "governance records cannot be updated; open a new proposal instead",
        ));
    }
    match entry_ref.entry_type.as_str() {
        PROPOSAL => {
            proposal::validate_proposal(record, &decode_required(record, "proposal")?, dna, ctx)
        }
        VOTE => vote::validate_vote(record, &decode_required(record, "vote")?, dna, ctx),
        DECISION => vote::validate_decision(&decode_required(record, "decision")?, dna, ctx),
        CHECKPOINT => checkpoint::validate_checkpoint(
            record,
            &decode_required(record, "checkpoint")?,
            dna,
            ctx,
        ),
        REPLICA_RECEIPT => replica::validate_replica_receipt(
            record,
            &decode_required(record, "replica receipt")?,
            ctx,
        ),
        BACKUP_LISTING => backup::validate_backup_listing(
            record,
            &decode_required(record, "backup listing")?,
            ctx,
        ),
        RESTORE_RECEIPT => restore::validate_restore_receipt(
            record,
            &decode_required(record, "restore receipt")?,
            ctx,
        ),
        other => Err(crate::unknown_entry_type(ZOME_GOVERNANCE, other)),
    }
}
