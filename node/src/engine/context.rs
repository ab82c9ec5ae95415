//! The validation context over the store: what a zome may read while the engine validates.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, DnaHash, Record, ValidationContext};
use myco_zomes::codec::is_entry;

use crate::store::{ChainId, Store};

/// Reads validated records of one pod from the store, plus those accepted earlier in the
/// batch being validated (not yet written).
pub(crate) struct StoreContext<'a, S: Store> {
    pub store: &'a S,
    pub pod: DnaHash,
    pub chain: ChainId,
    pub pending: &'a BTreeMap<ActionHash, Record>,
}

/// No records pending: for reads outside a batch.
static NOTHING_PENDING: BTreeMap<ActionHash, Record> = BTreeMap::new();

impl<'a, S: Store> StoreContext<'a, S> {
    /// What the zomes may read of `pod` from `store` outside any batch, with `author`'s chain
    /// as the one whose typed records they query.
    pub fn settled(store: &'a S, pod: DnaHash, author: myco_dna::AgentKey) -> Self {
        StoreContext {
            store,
            pod,
            chain: ChainId { pod, author },
            pending: &NOTHING_PENDING,
        }
    }
}

impl<S: Store> ValidationContext for StoreContext<'_, S> {
    fn get(&self, hash: &ActionHash) -> Option<Record> {
        if let Some(record) = self.pending.get(hash) {
            return Some(record.clone());
        }
        match self.store.get(hash) {
            Ok(Some(record)) if record.action().pod == self.pod => Some(record),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%hash, %error, "store read failed during validation; treating the record as missing");
                None
            }
        }
    }

    fn author_records(&self, zome: &str, entry_type: &str) -> Vec<Record> {
        let mut out = self
            .store
            .typed_records(&self.chain, zome, entry_type)
            .unwrap_or_default();
        let mut pending: Vec<&Record> = self
            .pending
            .values()
            .filter(|r| ChainId::of(r) == self.chain && is_entry(r, zome, entry_type))
            .collect();
        pending.sort_by_key(|r| r.action().seq);
        out.extend(pending.into_iter().cloned());
        out
    }
}
