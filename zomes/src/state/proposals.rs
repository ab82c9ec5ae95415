//! Proposals: electorate, votes and outcome, and the decisions that take effect.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, DnaManifest, KeyHash, Timestamp};
use serde::Serialize;

use super::input::{Fact, Input};
use crate::governance::{Choice, Proposal, ProposalKind};

/// Where a proposal stands at the time the state is folded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ProposalStatus {
    /// No decision yet, and the window is still open.
    Open,
    /// A valid Decision references it.
    Passed,
    /// The window closed without a decision.
    Failed,
}

/// One proposal, as the pod's records show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProposalState {
    /// The kind, as [`ProposalKind::name`] gives it (`remove`, `grant_role`, …).
    pub kind: String,
    /// Who opened it.
    #[serde(serialize_with = "super::ids::text")]
    pub author: KeyHash,
    /// When voting opened.
    pub opened_at: Timestamp,
    /// When voting closes (exclusive).
    pub closes_at: Timestamp,
    /// How many may vote: the members of the referenced checkpoint (its stewards for
    /// emergencies), or the DNA's founders when it references none. 0 when the checkpoint
    /// record is not among the records folded, so the size is unknown.
    pub electorate_size: usize,
    /// Distinct voters who voted yes (each voter's first vote by (timestamp, hash) counts).
    pub yes: usize,
    /// Distinct voters who voted no.
    pub no: usize,
    /// Distinct voters who abstained.
    pub abstain: usize,
    /// Open, passed or failed.
    pub status: ProposalStatus,
    /// The canonical Decision: the lowest action hash among those that reference it.
    #[serde(serialize_with = "super::ids::text_opt")]
    pub decision: Option<ActionHash>,
    /// True for emergency proposals (stewards vote, shorter window, higher threshold).
    pub emergency: bool,
}

impl ProposalState {
    /// Distinct members who voted, whatever their choice.
    pub fn voters(&self) -> usize {
        self.yes + self.no + self.abstain
    }
}

/// A passed proposal's canonical decision, which takes effect at the decision's time.
#[derive(Clone, Debug)]
pub(super) struct Effect {
    /// The decision action's timestamp.
    pub at: Timestamp,
    /// The decision action's hash.
    pub decision: ActionHash,
    /// What the proposal asked for.
    pub kind: ProposalKind,
}

/// Proposals by their action hash, and the effects of the passed ones in (timestamp, hash)
/// order of their canonical decisions.
pub(super) struct Proposals {
    pub states: BTreeMap<ActionHash, ProposalState>,
    pub effects: Vec<Effect>,
}

/// Folds the proposals, votes and decisions of `input`.
///
/// Votes and decisions whose proposal is not among the records (or not readable) cannot be
/// attributed and are left out.
pub(super) fn fold_proposals(dna: &DnaManifest, input: &Input, now: Timestamp) -> Proposals {
    let mut kinds: BTreeMap<ActionHash, ProposalKind> = BTreeMap::new();
    let mut states: BTreeMap<ActionHash, ProposalState> = BTreeMap::new();
    let mut ballots: BTreeMap<ActionHash, BTreeMap<KeyHash, Choice>> = BTreeMap::new();
    let mut decisions: BTreeMap<ActionHash, (ActionHash, Timestamp)> = BTreeMap::new();
    for item in input.items() {
        match &item.fact {
            Fact::Proposal(Some(proposal)) => {
                states.insert(item.hash, opened(dna, input, item.author, proposal));
                kinds.insert(item.hash, proposal.kind.clone());
            }
            // Items come oldest first, so the first vote a voter cast is the one kept.
            Fact::Vote(Some(vote)) => {
                ballots
                    .entry(vote.proposal)
                    .or_default()
                    .entry(item.author)
                    .or_insert(vote.choice);
            }
            Fact::Decision(Some(decision)) => {
                let canonical = decisions
                    .entry(decision.proposal)
                    .or_insert((item.hash, item.at));
                if item.hash < canonical.0 {
                    *canonical = (item.hash, item.at);
                }
            }
            _ => {}
        }
    }
    let mut effects = Vec::new();
    for (hash, state) in &mut states {
        for choice in ballots.get(hash).into_iter().flat_map(|b| b.values()) {
            match choice {
                Choice::Yes => state.yes += 1,
                Choice::No => state.no += 1,
                Choice::Abstain => state.abstain += 1,
            }
        }
        if let Some(&(decision, at)) = decisions.get(hash) {
            state.status = ProposalStatus::Passed;
            state.decision = Some(decision);
            if let Some(kind) = kinds.remove(hash) {
                effects.push(Effect { at, decision, kind });
            }
        } else if now >= state.closes_at {
            state.status = ProposalStatus::Failed;
        }
    }
    effects.sort_by_key(|e| (e.at, e.decision));
    Proposals { states, effects }
}

fn opened(dna: &DnaManifest, input: &Input, author: KeyHash, proposal: &Proposal) -> ProposalState {
    ProposalState {
        kind: proposal.kind.name().to_string(),
        author,
        opened_at: proposal.opened_at,
        closes_at: proposal.closes_at,
        electorate_size: electorate_size(dna, input, proposal),
        yes: 0,
        no: 0,
        abstain: 0,
        status: ProposalStatus::Open,
        decision: None,
        emergency: proposal.kind.is_emergency(),
    }
}

/// The size of the electorate the proposal's checkpoint fixes; 0 if that checkpoint is not
/// among the records.
fn electorate_size(dna: &DnaManifest, input: &Input, proposal: &Proposal) -> usize {
    let Some(hash) = &proposal.checkpoint else {
        // Before any checkpoint the founders are the members, and all of them are stewards.
        return dna.properties.founders.len();
    };
    match input.get(hash).map(|item| &item.fact) {
        Some(Fact::Checkpoint(Some(checkpoint))) if proposal.kind.is_emergency() => {
            checkpoint.stewards.len()
        }
        Some(Fact::Checkpoint(Some(checkpoint))) => checkpoint.members.len(),
        _ => 0,
    }
}
