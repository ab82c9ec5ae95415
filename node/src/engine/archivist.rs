//! An archivist's side of a governed replica (`docs/governance.md`, "Archivists").
//!
//! A node hosts a pod as an archivist without a Genesis. Members serve it the pod only while
//! a passed approve_replica decision names its agent and its node. Once it holds that
//! decision it writes a Genesis that cites it, so that it has a chain for its receipts (the
//! Genesis makes no member). When a passed revoke_replica decision takes the approval back,
//! it purges every entry of the pod but the governance records that prove the revocation,
//! and signs one replica receipt saying how many it purged.

use myco_dna::{ActionHash, DnaHash, Record, Timestamp};
use myco_zomes::governance::{ReplicaReceipt, REPLICA_RECEIPT};
use myco_zomes::membership::{encode_membrane_proof, MembraneProof};
use myco_zomes::ZOME_GOVERNANCE;

use super::Engine;
use crate::store::{ChainId, Store};

impl<S: Store> Engine<S> {
    /// Starts hosting `dna`'s pod as an archivist: no Genesis until a decision approves it.
    pub(crate) fn host_as_archivist(&mut self, now: u64, dna: myco_dna::DnaManifest) {
        let pod = dna.dna_hash();
        if !self.pods.contains_key(&pod) {
            if let Err(error) = self.resume_pod(dna) {
                self.event(super::Event::StoreFailed {
                    detail: error.to_string(),
                });
                return;
            }
        }
        let approvals: Vec<ActionHash> =
            self.pods[&pod].replica_approvals.keys().copied().collect();
        for decision in approvals {
            self.after_replica_decision(now, pod, &decision);
        }
    }

    /// After a decision record of `pod` is accepted: acts on one that approves this node as
    /// an archivist (writes its Genesis) or revokes that approval (purges, with a receipt).
    pub(crate) fn after_replica_decision(&mut self, now: u64, pod: DnaHash, decision: &ActionHash) {
        let Some(view) = self.pods.get(&pod) else {
            return;
        };
        let me = self.agent.key_hash();
        if let Some(approved) = view.replica_approvals.get(decision) {
            let mine = approved.agent == me && approved.node == self.local_peer.text();
            if mine && !view.revoked_replicas.contains_key(decision) && !self.has_chain(&pod) {
                tracing::info!(%pod, %decision, "approved as an archivist; writing this node's Genesis");
                let proof = encode_membrane_proof(&MembraneProof::Replica {
                    decision: *decision,
                });
                self.write_genesis(now, pod, proof);
            }
            return;
        }
        let revoked_mine = view
            .revoked_replicas
            .iter()
            .find(|(_, revocation)| *revocation == decision)
            .and_then(|(approval, _)| view.replica_approvals.get(approval))
            .is_some_and(|approved| approved.agent == me);
        if revoked_mine && !view.is_current_member(&self.agent) {
            let purged = self.purge_replica(pod);
            tracing::warn!(%pod, purged, "this archivist's approval was revoked; purged the pod's entries");
            self.write_replica_receipt(now, pod, *decision, purged);
        }
    }

    pub(super) fn has_chain(&self, pod: &DnaHash) -> bool {
        let chain = ChainId {
            pod: *pod,
            author: self.agent,
        };
        matches!(self.store.head(&chain), Ok(Some(_)))
    }

    /// Purges every entry of `pod` held here but governance records and this node's own.
    fn purge_replica(&mut self, pod: DnaHash) -> u64 {
        let Ok(heads) = self.store.heads() else {
            return 0;
        };
        let mut doomed = Vec::new();
        for chain in heads
            .into_keys()
            .filter(|c| c.pod == pod && c.author != self.agent)
        {
            let mut from = 0;
            while let Ok(page) = self.store.range(&chain, from, 1024) {
                let Some(last) = page.last() else { break };
                from = last.action().seq + 1;
                doomed.extend(
                    page.iter()
                        .filter(|r| purged_by_archivist(r))
                        .map(Record::hash),
                );
            }
        }
        let mut purged = 0;
        for hash in doomed {
            self.wanted_entries.remove(&hash);
            match self.store.purge_entry(&hash) {
                Ok(true) => {
                    purged += 1;
                    self.event(super::Event::Purged { pod, hash });
                }
                Ok(false) => {}
                Err(error) => self.event(super::Event::StoreFailed {
                    detail: format!("purge of {hash}: {error}"),
                }),
            }
        }
        purged
    }

    fn write_replica_receipt(
        &mut self,
        now: u64,
        pod: DnaHash,
        revocation: ActionHash,
        purged: u64,
    ) {
        if !self.has_chain(&pod) {
            return; // No Genesis, so no chain to sign in: nothing was approved here.
        }
        let receipt = ReplicaReceipt {
            revocation,
            purged,
            purged_at: Timestamp(now),
        };
        self.author_governance(now, pod, REPLICA_RECEIPT, &receipt);
    }
}

/// True for a record whose entry an archivist purges when its approval is revoked: every
/// held entry but governance records, which prove the revocation.
fn purged_by_archivist(record: &Record) -> bool {
    record.entry.is_some()
        && record
            .action()
            .body
            .entry_ref()
            .is_some_and(|e| e.zome != ZOME_GOVERNANCE)
}
