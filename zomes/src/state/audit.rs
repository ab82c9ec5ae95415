//! The governance audit log: who did what, by key hash only.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{ActionHash, KeyHash, Timestamp};
use serde::Serialize;

use super::input::{Fact, Input, PodWarrant};
use super::proposals::ProposalState;

/// One governance-relevant event. Pseudonymous: the actor is a key hash, never a name, and
/// no entry content (profile fields, leave reasons, proposal text) is copied in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// The record's own timestamp (for a warrant: the later of the two forked actions).
    pub at: Timestamp,
    /// Who acted (for a warrant: the offender).
    #[serde(serialize_with = "super::ids::text")]
    pub actor: KeyHash,
    /// What happened: `join`, `archivist_join`, `leave`, `proposal:<kind>`, `vote`,
    /// `decision:<kind>`, `checkpoint`, `replica_receipt`, `backup_listing`,
    /// `restore_receipt`, `approval`, `delete`,
    /// `revocation`, `value_event`, `distribution` or `warrant`. `<kind>` is a [`crate::governance::ProposalKind::name`]; it is left out
    /// (`proposal`, `decision`) when the proposal is not readable.
    pub event: String,
    /// The record (for a warrant: the lower hash of the two forked actions).
    #[serde(serialize_with = "super::ids::text")]
    pub record: ActionHash,
}

/// The audit log of `input` and `warrants`, sorted by (at, record), then event and actor.
pub(super) fn audit_log(
    input: &Input,
    proposals: &BTreeMap<ActionHash, ProposalState>,
    revocations: &BTreeSet<ActionHash>,
    warrants: &[PodWarrant],
) -> Vec<AuditEntry> {
    let mut log: Vec<AuditEntry> = input
        .items()
        .iter()
        .filter_map(|item| {
            let event = event_of(&item.fact, &item.hash, proposals, revocations)?;
            Some(AuditEntry {
                at: item.at,
                actor: item.author,
                event,
                record: item.hash,
            })
        })
        .collect();
    log.extend(warrants.iter().map(|w| AuditEntry {
        at: w.at,
        actor: w.offender,
        event: "warrant".to_string(),
        record: w.evidence,
    }));
    log.sort_by(|a, b| {
        (a.at, a.record)
            .cmp(&(b.at, b.record))
            .then_with(|| a.event.cmp(&b.event))
            .then_with(|| a.actor.cmp(&b.actor))
    });
    log
}

/// The event name of a governance-relevant record; `None` for others.
fn event_of(
    fact: &Fact,
    hash: &ActionHash,
    proposals: &BTreeMap<ActionHash, ProposalState>,
    revocations: &BTreeSet<ActionHash>,
) -> Option<String> {
    let with_kind = |what: &str, kind: Option<&str>| match kind {
        Some(kind) => format!("{what}:{kind}"),
        None => what.to_string(),
    };
    let event = match fact {
        Fact::Genesis => "join".to_string(),
        Fact::ArchivistGenesis => "archivist_join".to_string(),
        Fact::ReplicaReceipt(_) => "replica_receipt".to_string(),
        Fact::BackupListing(_) => "backup_listing".to_string(),
        Fact::RestoreReceipt(_) => "restore_receipt".to_string(),
        Fact::Leave => "leave".to_string(),
        Fact::Proposal(proposal) => with_kind("proposal", proposal.as_ref().map(|p| p.kind.name())),
        Fact::Vote(_) => "vote".to_string(),
        Fact::Decision(decision) => with_kind(
            "decision",
            decision
                .as_ref()
                .and_then(|d| proposals.get(&d.proposal))
                .map(|p| p.kind.as_str()),
        ),
        Fact::Checkpoint(_) => "checkpoint".to_string(),
        Fact::Approval(_) => "approval".to_string(),
        Fact::Delete { .. } => "delete".to_string(),
        Fact::Content { .. } if revocations.contains(hash) => "revocation".to_string(),
        Fact::ValueEvent(_) => "value_event".to_string(),
        Fact::Distribution(_) => "distribution".to_string(),
        Fact::Receipt(_) => "erasure_receipt".to_string(),
        Fact::Content { .. } | Fact::Other => return None,
    };
    Some(event)
}
