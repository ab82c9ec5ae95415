//! Rules for an archivist's replica receipt: written by the archivist a revoked approval
//! named, after the revocation passed.

use myco_dna::{Record, ValidationContext, Verdict};

use super::roles::decided_proposal;
use super::types::{ProposalKind, ReplicaReceipt, ReplicaTarget};

/// Validates a replica receipt.
pub fn validate_replica_receipt(
    record: &Record,
    receipt: &ReplicaReceipt,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let action = record.action();
    crate::claim::check_claim(record, "a replica receipt", receipt.purged_at)?;
    let (_, revocation) = decided_proposal(&receipt.revocation, ctx)?;
    let ProposalKind::RevokeReplica { approval } = revocation.kind else {
        return Err(Verdict::invalid(format!(
            "{} is not a passed revoke_replica decision",
            receipt.revocation
        )));
    };
    let (_, approved) = decided_proposal(&approval, ctx)?;
    let author = action.author.key_hash();
    match approved.kind {
        ProposalKind::ApproveReplica(ReplicaTarget::Archivist(node)) if node.agent == author => {
            Ok(())
        }
        _ => Err(Verdict::invalid(format!(
            "the revoked approval {approval} does not name {author}; only its archivist writes the receipt"
        ))),
    }
}
