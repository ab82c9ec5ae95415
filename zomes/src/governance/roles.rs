//! Checking that a record's author holds the role it acts under.

use myco_dna::{DnaManifest, KeyHash, ValidationContext, Verdict};

use super::types::{Decision, Proposal, ProposalKind, Role, RoleProof, DECISION, PROPOSAL};
use crate::codec::{decode_required, fetch, is_entry};
use crate::ZOME_GOVERNANCE;

/// Checks that `holder` holds `role` by `proof`: a founder (stewards only), or a passed
/// GrantRole decision for exactly this holder and role.
pub fn check_role(
    proof: &RoleProof,
    holder: &KeyHash,
    role: Role,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    match proof {
        RoleProof::Founder => {
            if role != Role::Steward {
                return Err(Verdict::invalid(format!(
                    "founders start as stewards only; the {role:?} role needs a GrantRole decision"
                )));
            }
            if !dna.properties.founders.contains(holder) {
                return Err(Verdict::invalid(format!(
                    "{holder} is not a steward of this pod: only the DNA's founders are stewards without a grant; pass the GrantRole decision that made them one (--grant act_…)"
                )));
            }
            Ok(())
        }
        RoleProof::Grant(decision_hash) => {
            let (_, proposal) = decided_proposal(decision_hash, ctx)?;
            match proposal.kind {
                ProposalKind::GrantRole {
                    member,
                    role: granted,
                } if member == *holder && granted == role => Ok(()),
                _ => Err(Verdict::invalid(format!(
                    "the role proof {decision_hash} is not a decision granting {role:?} to {holder}"
                ))),
            }
        }
    }
}

/// The Decision at `hash` and the Proposal it decides.
pub fn decided_proposal(
    hash: &myco_dna::ActionHash,
    ctx: &dyn ValidationContext,
) -> Result<(Decision, Proposal), Verdict> {
    let record = fetch(ctx, hash)?;
    if !is_entry(&record, ZOME_GOVERNANCE, DECISION) {
        return Err(Verdict::invalid(format!(
            "{hash} is not a governance decision"
        )));
    }
    let decision: Decision = decode_required(&record, "decision")?;
    let proposal_record = fetch(ctx, &decision.proposal)?;
    if !is_entry(&proposal_record, ZOME_GOVERNANCE, PROPOSAL) {
        return Err(Verdict::invalid(format!(
            "decision {hash} names {} which is not a proposal",
            decision.proposal
        )));
    }
    let proposal: Proposal = decode_required(&proposal_record, "proposal")?;
    Ok((decision, proposal))
}
