//! Rules for votes and decisions.
//!
//! A vote counts only if its author is in the proposal's electorate and it was cast inside the
//! window, by its own timestamp. A decision must list at least ⌈threshold × electorate⌉
//! distinct valid yes votes: counted against the whole electorate, so leaving votes out can
//! never turn a failing proposal into a passing one.

use std::collections::BTreeSet;

use myco_dna::{ActionHash, DnaManifest, KeyHash, Record, ValidationContext, Verdict};

use super::proposal::rule_for;
use super::roster::{roster_at, Roster};
use super::types::{Choice, Decision, Proposal, Vote, PROPOSAL, VOTE};
use crate::codec::{decode, decode_required, fetch, fetch_all, is_entry};
use crate::ZOME_GOVERNANCE;

/// Most votes a decision may list.
pub const MAX_DECISION_VOTES: usize = 10_000;

/// The proposal at `hash`, decoded.
pub fn proposal_at(hash: &ActionHash, ctx: &dyn ValidationContext) -> Result<Proposal, Verdict> {
    let record = fetch(ctx, hash)?;
    if !is_entry(&record, ZOME_GOVERNANCE, PROPOSAL) {
        return Err(Verdict::invalid(format!("{hash} is not a proposal")));
    }
    decode_required(&record, "proposal")
}

/// Who may vote on `proposal`: its checkpoint's members, or its stewards for emergencies.
pub fn electorate(
    proposal: &Proposal,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<Vec<KeyHash>, Verdict> {
    let Roster { members, stewards } = roster_at(proposal.checkpoint.as_ref(), dna, ctx)?;
    Ok(if proposal.kind.is_emergency() {
        stewards
    } else {
        members
    })
}

/// Yes votes needed: ⌈threshold_bp × electorate / 10000⌉, and at least one.
pub fn votes_needed(threshold_bp: u16, electorate: usize) -> usize {
    let scaled = (threshold_bp as u128) * (electorate as u128);
    (scaled.div_ceil(10_000) as usize).max(1)
}

fn check_cast(
    voter: &KeyHash,
    vote_record: &Record,
    proposal: &Proposal,
    electorate: &[KeyHash],
) -> Result<(), Verdict> {
    if electorate.binary_search(voter).is_err() {
        return Err(Verdict::invalid(format!(
            "{voter} is not in this proposal's electorate{}",
            if proposal.kind.is_emergency() {
                " (only stewards vote in emergencies)"
            } else {
                ""
            }
        )));
    }
    let cast = vote_record.action().timestamp;
    if cast < proposal.opened_at || cast >= proposal.closes_at {
        return Err(Verdict::invalid(format!(
            "the vote was cast at {} µs, outside the proposal's window [{}, {}) µs",
            cast.0, proposal.opened_at.0, proposal.closes_at.0
        )));
    }
    Ok(())
}

/// Validates a vote, including that its author has not voted on the proposal before.
pub fn validate_vote(
    record: &Record,
    vote: &Vote,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let proposal = proposal_at(&vote.proposal, ctx)?;
    let electorate = electorate(&proposal, dna, ctx)?;
    check_cast(
        &record.action().author.key_hash(),
        record,
        &proposal,
        &electorate,
    )?;
    for earlier in ctx.author_records(ZOME_GOVERNANCE, VOTE) {
        if let Ok(Some(Vote { proposal, .. })) = decode::<Vote>(&earlier, "vote") {
            if proposal == vote.proposal {
                return Err(Verdict::invalid(format!(
                    "double vote: the author already voted on this proposal in {}",
                    earlier.hash()
                )));
            }
        }
    }
    Ok(())
}

/// Validates a decision: enough distinct, eligible, timely yes votes.
pub fn validate_decision(
    decision: &Decision,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    if decision.votes.len() > MAX_DECISION_VOTES {
        return Err(Verdict::invalid(format!(
            "a decision lists at most {MAX_DECISION_VOTES} votes"
        )));
    }
    let proposal = proposal_at(&decision.proposal, ctx)?;
    let electorate = electorate(&proposal, dna, ctx)?;
    let rule = rule_for(&proposal, dna)?;
    let records = fetch_all(ctx, &decision.votes)?;
    let mut voters = BTreeSet::new();
    for record in records {
        let hash = record.hash();
        if !is_entry(&record, ZOME_GOVERNANCE, VOTE) {
            return Err(Verdict::invalid(format!(
                "{hash} listed as a vote is not a vote"
            )));
        }
        let vote: Vote = decode_required(&record, "vote")?;
        if vote.proposal != decision.proposal {
            return Err(Verdict::invalid(format!(
                "vote {hash} is for another proposal"
            )));
        }
        if vote.choice != Choice::Yes {
            return Err(Verdict::invalid(format!("vote {hash} is not a yes vote")));
        }
        let voter = record.action().author.key_hash();
        check_cast(&voter, &record, &proposal, &electorate).map_err(|v| match v {
            Verdict::Invalid(breach) => Verdict::invalid(format!("vote {hash}: {breach}")),
            other => other,
        })?;
        if !voters.insert(voter) {
            return Err(Verdict::invalid(format!("{voter} is counted twice")));
        }
    }
    let needed = votes_needed(rule.threshold_bp.0, electorate.len());
    if voters.len() < needed {
        return Err(Verdict::invalid(format!(
            "too few yes votes: {} of an electorate of {}, but the {} bp threshold needs {needed}",
            voters.len(),
            electorate.len(),
            rule.threshold_bp.0
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::votes_needed;

    #[test]
    fn votes_needed_rounds_up_against_the_whole_electorate() {
        assert_eq!(votes_needed(5000, 10), 5);
        assert_eq!(votes_needed(5000, 11), 6);
        assert_eq!(votes_needed(6667, 3), 3);
        assert_eq!(votes_needed(1, 1), 1);
        assert_eq!(votes_needed(10_000, 7), 7);
        assert_eq!(
            votes_needed(5000, 0),
            1,
            "an empty electorate can never pass anything"
        );
    }
}
