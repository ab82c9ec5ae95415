//! Rules for roster checkpoints: the listed roster must be exactly what the previous roster and
//! the listed, proven changes give.

use std::collections::BTreeSet;

use myco_dna::{
    ActionBody, ActionHash, DnaHash, DnaManifest, KeyHash, Record, ValidationContext, Verdict,
};

use super::roles::decided_proposal;
use super::roster::{roster_at, Roster};
use super::types::{Checkpoint, ProposalKind, Role, DECISION};
use crate::codec::{fetch_all, is_entry};
use crate::membership::LEAVE;
use crate::{ZOME_GOVERNANCE, ZOME_MEMBERSHIP};

/// Most changes one checkpoint may list.
pub const MAX_CHECKPOINT_CHANGES: usize = 10_000;

#[derive(Default)]
struct Changes {
    joins: BTreeSet<KeyHash>,
    leaves: BTreeSet<KeyHash>,
    grants: BTreeSet<KeyHash>,
    revokes: BTreeSet<KeyHash>,
}

/// Validates a checkpoint.
pub fn validate_checkpoint(
    record: &Record,
    checkpoint: &Checkpoint,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    if checkpoint.changes.len() > MAX_CHECKPOINT_CHANGES {
        return Err(Verdict::invalid(format!(
            "a checkpoint lists at most {MAX_CHECKPOINT_CHANGES} changes"
        )));
    }
    let base = roster_at(checkpoint.prev.as_ref(), dna, ctx)?;
    let Roster { members, stewards } =
        apply(&base, &checkpoint.changes, &record.action().pod, ctx)?;
    if checkpoint.members != members {
        return Err(Verdict::invalid(format!(
            "the checkpoint lists {} members, but its previous roster and changes give {}",
            checkpoint.members.len(),
            members.len()
        )));
    }
    if checkpoint.stewards != stewards {
        return Err(Verdict::invalid(
            "the checkpoint's stewards do not match its previous roster and changes",
        ));
    }
    let author = record.action().author.key_hash();
    if !base.is_member(&author) && members.binary_search(&author).is_err() {
        return Err(Verdict::invalid(
            "only a member may write a roster checkpoint",
        ));
    }
    Ok(())
}

/// The roster that the roster at `prev` (the founders when `None`) and the listed `changes`
/// give, in pod `pod`: what a checkpoint with these must list. The order of `changes` does not
/// matter.
pub fn roster_after(
    prev: Option<&ActionHash>,
    changes: &[ActionHash],
    pod: &DnaHash,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<Roster, Verdict> {
    apply(&roster_at(prev, dna, ctx)?, changes, pod, ctx)
}

fn apply(
    base: &Roster,
    changes: &[ActionHash],
    pod: &DnaHash,
    ctx: &dyn ValidationContext,
) -> Result<Roster, Verdict> {
    let mut sorted = Changes::default();
    for change in fetch_all(ctx, changes)? {
        classify(&change, pod, ctx, &mut sorted)?;
    }
    // Apply in a fixed order, so the order changes are listed in does not matter.
    let mut members: BTreeSet<KeyHash> = base.members.iter().copied().collect();
    let mut stewards: BTreeSet<KeyHash> = base.stewards.iter().copied().collect();
    members.extend(sorted.joins.iter().copied());
    stewards.extend(sorted.grants.iter().copied());
    for gone in &sorted.leaves {
        members.remove(gone);
        stewards.remove(gone);
    }
    for revoked in &sorted.revokes {
        stewards.remove(revoked);
    }
    stewards.retain(|s| members.contains(s));
    Ok(Roster {
        members: members.into_iter().collect(),
        stewards: stewards.into_iter().collect(),
    })
}

/// True if `record`, of pod `pod`, is a change a checkpoint may list: a Genesis, a Leave, or
/// a decision on a Remove or steward-role proposal.
pub fn is_roster_change(record: &Record, pod: &DnaHash, ctx: &dyn ValidationContext) -> bool {
    classify(record, pod, ctx, &mut Changes::default()).is_ok()
}

fn classify(
    change: &Record,
    pod: &DnaHash,
    ctx: &dyn ValidationContext,
    into: &mut Changes,
) -> Result<(), Verdict> {
    let hash = change.hash();
    if &change.action().pod != pod {
        return Err(Verdict::invalid(format!(
            "change {hash} belongs to another pod"
        )));
    }
    if crate::membership::is_archivist_genesis(change) {
        return Err(Verdict::invalid(format!(
            "{hash} is an archivist's Genesis, which makes no member"
        )));
    }
    if matches!(change.action().body, ActionBody::Genesis { .. }) {
        into.joins.insert(change.action().author.key_hash());
        return Ok(());
    }
    if is_entry(change, ZOME_MEMBERSHIP, LEAVE) {
        into.leaves.insert(change.action().author.key_hash());
        return Ok(());
    }
    if is_entry(change, ZOME_GOVERNANCE, DECISION) {
        let (_, proposal) = decided_proposal(&hash, ctx)?;
        match proposal.kind {
            ProposalKind::Remove { member } => {
                into.leaves.insert(member);
            }
            ProposalKind::GrantRole {
                member,
                role: Role::Steward,
            } => {
                into.grants.insert(member);
            }
            ProposalKind::RevokeRole {
                member,
                role: Role::Steward,
            } => {
                into.revokes.insert(member);
            }
            _ => {
                return Err(Verdict::invalid(format!(
                    "decision {hash} does not change the roster"
                )))
            }
        }
        return Ok(());
    }
    Err(Verdict::invalid(format!(
        "{hash} is not a roster change (a Genesis, a Leave, or a Remove or steward-role decision)"
    )))
}
