//! Deletion receipts: when this node purges another author's entry because that author
//! deleted or narrowed it, it writes a small signed record in its own chain (this agent,
//! this record, purged at this time) with Pod visibility, so it reaches the author, and every
//! member, by ordinary replication. A receipt is the node's claim, not a proof: a node can
//! keep a copy and sign one anyway (`docs/governance.md`, "Deletion receipts").

use myco_dna::{ActionBody, ActionHash, DnaHash, EntryRef, Timestamp, Visibility};
use myco_zomes::content::{Receipt, RECEIPT};
use myco_zomes::ZOME_CONTENT;

use super::Engine;
use crate::store::{ChainId, Store};

/// A receipt owed for one purge.
#[derive(Clone, Debug)]
pub(crate) struct Due {
    pub pod: DnaHash,
    /// The Delete or narrowing Update.
    pub revocation: ActionHash,
    /// The record whose entry was purged.
    pub record: ActionHash,
    /// When.
    pub purged_at: u64,
}

impl<S: Store> Engine<S> {
    /// Writes the receipts owed for the purges of the input just handled. Only a current
    /// member with a chain in the pod writes one: others have no chain to sign it in.
    pub(crate) fn write_receipts(&mut self, now: u64) {
        for due in std::mem::take(&mut self.receipts_due) {
            if self.anchoring(&due.pod) {
                // Signed only once this chain is known to be the newest.
                self.hold_receipt(due);
                continue;
            }
            let member = self
                .pods
                .get(&due.pod)
                .is_some_and(|view| view.is_current_member(&self.agent));
            let chain = ChainId {
                pod: due.pod,
                author: self.agent,
            };
            if !member || !matches!(self.store.head(&chain), Ok(Some(_))) {
                continue;
            }
            let entry = myco_zomes::codec::encode(&Receipt {
                revocation: due.revocation,
                record: due.record,
                purged_at: Timestamp(due.purged_at),
            });
            let body = ActionBody::Create(EntryRef {
                zome: ZOME_CONTENT.into(),
                entry_type: RECEIPT.into(),
                entry_hash: entry.hash(),
                visibility: Visibility::Pod,
            });
            self.author(now, due.pod, body, Some(entry));
        }
    }
}
