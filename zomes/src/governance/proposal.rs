//! Rules for proposals: a fixed window, an electorate fixed by a checkpoint, and kinds that
//! may only tighten what the DNA sets.

use myco_dna::manifest::{Admission, VoteRule};
use myco_dna::{DnaManifest, Record, ValidationContext, Verdict};

use super::roster::roster_at;
use super::types::{EmergencyMeasure, PolicyChange, Proposal, ProposalKind, ReplicaTarget, Role};
use crate::text::bounded;

/// Longest proposal text, in bytes.
pub const MAX_PROPOSAL_TEXT: usize = 4096;

/// The vote rule a proposal is judged by: the emergency rule for emergencies.
pub fn rule_for(proposal: &Proposal, dna: &DnaManifest) -> Result<VoteRule, Verdict> {
    if proposal.kind.is_emergency() {
        dna.properties.voting.emergency.ok_or_else(|| {
            Verdict::invalid(
                "this pod's DNA has no emergency rule, so emergency proposals are not allowed",
            )
        })
    } else {
        Ok(dna.properties.voting.rule)
    }
}

/// Validates a proposal.
pub fn validate_proposal(
    record: &Record,
    proposal: &Proposal,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let action = record.action();
    bounded("proposal text", &proposal.text, MAX_PROPOSAL_TEXT)?;
    if proposal.opened_at != action.timestamp {
        return Err(Verdict::invalid(
            "a proposal opens at its own action's timestamp; opened_at differs",
        ));
    }
    let rule = rule_for(proposal, dna)?;
    let expected_close = proposal
        .opened_at
        .plus_micros(rule.window_secs.saturating_mul(1_000_000));
    if proposal.closes_at != expected_close {
        return Err(Verdict::invalid(format!(
            "closes_at must be opened_at plus the {}-second window of the pod's {} rule",
            rule.window_secs,
            if proposal.kind.is_emergency() {
                "emergency"
            } else {
                "voting"
            }
        )));
    }
    let roster = roster_at(proposal.checkpoint.as_ref(), dna, ctx)?;
    let author = action.author.key_hash();
    if proposal.kind.is_emergency() {
        if !roster.is_steward(&author) {
            return Err(Verdict::invalid(
                "only stewards may open an emergency proposal",
            ));
        }
    } else if !roster.is_member(&author) {
        return Err(Verdict::invalid(
            "the author is not a member in the roster checkpoint the proposal references",
        ));
    }
    check_kind(&proposal.kind, &author, &roster, dna)?;
    check_references(&proposal.kind, ctx)
}

fn check_kind(
    kind: &ProposalKind,
    author: &myco_dna::KeyHash,
    roster: &super::roster::Roster,
    dna: &DnaManifest,
) -> Result<(), Verdict> {
    match kind {
        ProposalKind::Admit { member } => {
            if dna.properties.admission != Admission::Vote {
                return Err(Verdict::invalid(format!(
                    "this pod admits by {:?}, not by vote; an Admit proposal has no effect",
                    dna.properties.admission
                )));
            }
            if roster.is_member(member) {
                return Err(Verdict::invalid(format!("{member} is already a member")));
            }
        }
        ProposalKind::Remove { member } | ProposalKind::RevokeRole { member, .. } => {
            if !roster.is_member(member) {
                return Err(Verdict::invalid(format!("{member} is not a member")));
            }
        }
        ProposalKind::GrantRole { member, role } => {
            if member == author {
                return Err(Verdict::invalid(format!(
                    "a member cannot propose the {role:?} role for themselves; another member must propose it"
                )));
            }
            if !roster.is_member(member) {
                return Err(Verdict::invalid(format!(
                    "{member} is not a member, so cannot hold a role"
                )));
            }
            if *role == Role::Steward && roster.is_steward(member) {
                return Err(Verdict::invalid(format!("{member} is already a steward")));
            }
        }
        ProposalKind::ChangePolicy(change) => check_policy(change, dna)?,
        ProposalKind::ApproveReplica(ReplicaTarget::Region(region)) => check_region(region, dna)?,
        ProposalKind::ApproveReplica(ReplicaTarget::Archivist(archivist)) => {
            if roster.is_member(&archivist.agent) {
                return Err(Verdict::invalid(format!(
                    "{} is a member, and members already replicate what they may see; an archivist is an agent of its own",
                    archivist.agent
                )));
            }
            bounded("archivist node", &archivist.node, 128)?;
            crate::text::required("archivist node", &archivist.node)?;
            bounded("archivist region", &archivist.region, 64)?;
            crate::text::required("archivist region", &archivist.region)?;
            check_region(&archivist.region, dna)?;
        }
        ProposalKind::RevokeReplica { .. } => {}
        ProposalKind::ApproveBackupSchedule {
            schedule,
            archivist,
            retention_days,
        } => super::backup::check_schedule(schedule, archivist.as_ref(), *retention_days)?,
        ProposalKind::Emergency(EmergencyMeasure::BlockMember(member)) => {
            if !roster.is_member(member) {
                return Err(Verdict::invalid(format!("{member} is not a member")));
            }
        }
        ProposalKind::Emergency(EmergencyMeasure::AuthoriseRestore { backup }) => {
            bounded("backup", backup, 256)?;
            super::restore::restore_listing(backup)?;
        }
    }
    Ok(())
}

fn check_region(region: &str, dna: &DnaManifest) -> Result<(), Verdict> {
    let allowed = &dna.properties.allowed_regions;
    if !allowed.is_empty() && !allowed.iter().any(|a| a == region) {
        return Err(Verdict::invalid(format!(
            "region `{region}` is outside the pod's allowed regions ({}); data must stay there",
            allowed.join(", ")
        )));
    }
    Ok(())
}

/// A RevokeReplica proposal names a passed ApproveReplica decision for an archivist.
/// The checks of a proposal that read the decisions it names: a revocation and a backup
/// schedule name a passed decision approving an archivist.
fn check_references(kind: &ProposalKind, ctx: &dyn ValidationContext) -> Result<(), Verdict> {
    if let ProposalKind::Emergency(EmergencyMeasure::AuthoriseRestore { backup }) = kind {
        let listing = super::restore::restore_listing(backup)?;
        return super::restore::listing_of(&listing, ctx).map(|_| ());
    }
    let approval = match kind {
        ProposalKind::RevokeReplica { approval } => approval,
        ProposalKind::ApproveBackupSchedule {
            archivist: Some(approval),
            ..
        } => approval,
        _ => return Ok(()),
    };
    super::backup::archivist_of(approval, ctx).map(|_| ())
}

/// A policy change may tighten the DNA's properties, never loosen a floor the DNA sets.
pub fn check_policy(change: &PolicyChange, dna: &DnaManifest) -> Result<(), Verdict> {
    let props = &dna.properties;
    if change == &PolicyChange::default() {
        return Err(Verdict::invalid("the policy change changes nothing"));
    }
    if let Some(share) = change.min_creator_share_bp {
        if share < props.min_creator_share_bp || share.0 > 10_000 {
            return Err(Verdict::invalid(format!(
                "the creator share floor may only be raised: {} bp is below the DNA's {} bp (or above 10000)",
                share.0, props.min_creator_share_bp.0
            )));
        }
    }
    if let Some(threshold) = change.threshold_bp {
        if threshold < props.voting.rule.threshold_bp || threshold.0 > 10_000 {
            return Err(Verdict::invalid(format!(
                "the vote threshold may only be raised: {} bp is below the DNA's {} bp (or above 10000)",
                threshold.0, props.voting.rule.threshold_bp.0
            )));
        }
    }
    for principle in &change.add_required_principles {
        bounded("principle", principle, 256)?;
    }
    if let Some(regions) = &change.restrict_regions {
        if regions.is_empty() {
            return Err(Verdict::invalid(
                "a region restriction must name at least one region",
            ));
        }
        let allowed = &props.allowed_regions;
        if let Some(outside) = regions
            .iter()
            .find(|r| !allowed.is_empty() && !allowed.contains(r))
        {
            return Err(Verdict::invalid(format!(
                "region `{outside}` is not among the DNA's allowed regions; a policy may only narrow them"
            )));
        }
    }
    Ok(())
}
