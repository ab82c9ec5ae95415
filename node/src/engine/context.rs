//! The validation context over the store: what a zome may read while the engine validates.
//!
//! A zome's reads cannot fail (`ValidationContext` answers `Option` and `Vec`), but a store
//! can. A failed read is never passed off as "not held" or "no earlier records": the context
//! answers as if nothing were there *and latches the fault*, and the engine discards any
//! verdict reached through a faulted context ([`StoreContext::fault`]), so a double vote
//! cannot pass because a disk read failed, and no record is refused because of our disk.

use std::cell::RefCell;
use std::collections::BTreeMap;

use myco_dna::{ActionHash, DnaHash, Record, ValidationContext};
use myco_zomes::codec::is_entry;

use crate::store::{ChainId, Store, StoreError};

/// Reads validated records of one pod from the store, plus those accepted earlier in the
/// batch being validated (not yet written).
pub(crate) struct StoreContext<'a, S: Store> {
    store: &'a S,
    pod: DnaHash,
    chain: ChainId,
    pending: &'a BTreeMap<ActionHash, Record>,
    /// The first store error met while answering, if any.
    fault: RefCell<Option<String>>,
}

/// No records pending: for reads outside a batch.
static NOTHING_PENDING: BTreeMap<ActionHash, Record> = BTreeMap::new();

impl<'a, S: Store> StoreContext<'a, S> {
    /// What the zomes may read of `pod` while validating a record of `chain`, with `pending`
    /// the records accepted earlier in the same batch.
    pub fn new(
        store: &'a S,
        pod: DnaHash,
        chain: ChainId,
        pending: &'a BTreeMap<ActionHash, Record>,
    ) -> Self {
        StoreContext {
            store,
            pod,
            chain,
            pending,
            fault: RefCell::new(None),
        }
    }

    /// What the zomes may read of `pod` from `store` outside any batch, with `author`'s chain
    /// as the one whose typed records they query.
    pub fn settled(store: &'a S, pod: DnaHash, author: myco_dna::AgentKey) -> Self {
        Self::new(store, pod, ChainId { pod, author }, &NOTHING_PENDING)
    }

    /// The store error met while answering, if any: a verdict reached through this context
    /// is then worthless.
    pub fn fault(&self) -> Option<String> {
        self.fault.borrow().clone()
    }

    fn latch(&self, error: &StoreError) {
        let mut fault = self.fault.borrow_mut();
        if fault.is_none() {
            *fault = Some(error.to_string());
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
                tracing::warn!(%hash, %error, "store read failed during validation; the verdict is void");
                self.latch(&error);
                None
            }
        }
    }

    fn author_records(&self, zome: &str, entry_type: &str) -> Vec<Record> {
        let mut out = match self.store.typed_records(&self.chain, zome, entry_type) {
            Ok(records) => records,
            Err(error) => {
                tracing::warn!(zome, entry_type, %error, "store query failed during validation; the verdict is void");
                self.latch(&error);
                Vec::new()
            }
        };
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
