//! Replicas: the archivists and regions passed ApproveReplica decisions approve, which are
//! revoked, and which archivists said they purged the pod.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, KeyHash, Timestamp};
use serde::Serialize;

use super::input::{Fact, Input};
use super::proposals::Effect;
use crate::governance::{ProposalKind, ReplicaTarget};

/// One approved replica, as the pod's records show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaState {
    /// The archivist's agent; `None` for a region-only approval.
    #[serde(serialize_with = "super::ids::text_opt")]
    pub archivist: Option<KeyHash>,
    /// The archivist's node (libp2p peer id); `None` for a region-only approval.
    pub node: Option<String>,
    /// The region approved.
    pub region: String,
    /// When the approving decision was written.
    pub approved_at: Timestamp,
    /// The passed RevokeReplica decision, if any.
    #[serde(serialize_with = "super::ids::text_opt")]
    pub revoked_by: Option<ActionHash>,
    /// Entries the archivist says it purged after the revocation (its replica receipt).
    pub purged: Option<u64>,
}

impl ReplicaState {
    /// True while the approval holds.
    pub fn in_force(&self) -> bool {
        self.revoked_by.is_none()
    }
}

/// Folds the replica approvals, by the hash of their decision.
pub(super) fn fold_replicas(
    input: &Input,
    effects: &[Effect],
) -> BTreeMap<ActionHash, ReplicaState> {
    let mut replicas = BTreeMap::new();
    for effect in effects {
        match &effect.kind {
            ProposalKind::ApproveReplica(target) => {
                let (archivist, node, region) = match target {
                    ReplicaTarget::Region(region) => (None, None, region.clone()),
                    ReplicaTarget::Archivist(a) => {
                        (Some(a.agent), Some(a.node.clone()), a.region.clone())
                    }
                };
                replicas.insert(
                    effect.decision,
                    ReplicaState {
                        archivist,
                        node,
                        region,
                        approved_at: effect.at,
                        revoked_by: None,
                        purged: None,
                    },
                );
            }
            ProposalKind::RevokeReplica { approval } => {
                if let Some(replica) = replicas.get_mut(approval) {
                    replica.revoked_by.get_or_insert(effect.decision);
                }
            }
            _ => {}
        }
    }
    for item in input.items() {
        let Fact::ReplicaReceipt(Some(receipt)) = &item.fact else {
            continue;
        };
        let revoked = replicas
            .values_mut()
            .find(|r| r.revoked_by == Some(receipt.revocation) && r.archivist == Some(item.author));
        if let Some(replica) = revoked {
            replica.purged = Some(receipt.purged);
        }
    }
    replicas
}
