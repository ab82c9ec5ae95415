//! Rules for an archivist's replica receipt: written by the archivist a revoked approval
//! named, after the revocation passed.

use myco_dna::{Record, ValidationContext, Verdict, Visibility};

use super::roles::decided_proposal;
use super::types::{ProposalKind, ReplicaReceipt, ReplicaTarget};

/// Validates a replica receipt.
pub fn validate_replica_receipt(
    record: &Record,
    receipt: &ReplicaReceipt,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let action = record.action();
    if action.body.entry_ref().map(|e| e.visibility) != Some(Visibility::Pod) {
        return Err(Verdict::invalid(
            "a replica receipt has Pod visibility, so every member can read it",
        ));
    }
    if receipt.purged_at > action.timestamp {
        return Err(Verdict::invalid(
            "a replica receipt cannot be dated after the record that carries it",
        ));
    }
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
