//! The in-memory store, for tests and the simulator, with fault injection.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use myco_dna::{ActionHash, DnaHash, KeyHash, Record, Timestamp, Warrant};

use super::references::{entry_reference, references, Reference, Relation};
use super::{plan_appends, ChainHead, ChainId, Store, StoreError, ValidRecord};

/// Source chains in memory. Deterministic: every map is ordered.
#[derive(Default, Clone)]
pub struct MemoryStore {
    records: BTreeMap<ActionHash, Record>,
    chains: BTreeMap<(ChainId, u64), ActionHash>,
    heads: BTreeMap<ChainId, ChainHead>,
    typed: BTreeMap<(ChainId, String, String), Vec<ActionHash>>,
    purged: std::collections::BTreeSet<ActionHash>,
    /// The reference index: target and relation to the referring records.
    refs: BTreeMap<(ActionHash, Relation), std::collections::BTreeSet<(Timestamp, ActionHash)>>,
    warrants: BTreeMap<(DnaHash, KeyHash), Warrant>,
    appends_before_fault: Option<u64>,
    faults: FaultSwitch,
}

/// Makes a [`MemoryStore`]'s reads fail, as a failing disk would, while the store is owned by
/// someone else (an engine). Clones share the switch.
#[derive(Clone, Debug, Default)]
pub struct FaultSwitch {
    reads: Arc<AtomicBool>,
    queries: Arc<AtomicBool>,
}

impl FaultSwitch {
    /// Every read fails while `on` is true.
    pub fn fail_reads(&self, on: bool) {
        self.reads.store(on, Ordering::SeqCst);
    }

    /// Only the typed-record queries (the index zomes read through) fail while `on` is true,
    /// as a damaged index would.
    pub fn fail_queries(&self, on: bool) {
        self.queries.store(on, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.reads.load(Ordering::SeqCst) {
            return Err(StoreError::Injected("read refused: simulated disk fault"));
        }
        Ok(())
    }

    fn check_query(&self) -> Result<(), StoreError> {
        self.check()?;
        if self.queries.load(Ordering::SeqCst) {
            return Err(StoreError::Injected(
                "index query refused: simulated damage",
            ));
        }
        Ok(())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// After `n` more successful batches, every append fails with an injected fault, as a
    /// full or failing disk would.
    pub fn fail_appends_after(&mut self, n: u64) {
        self.appends_before_fault = Some(n);
    }

    /// The switch that makes this store's reads fail (shared with its clones).
    pub fn faults(&self) -> FaultSwitch {
        self.faults.clone()
    }

    /// Every record held, for tests that scan a whole store.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
    }
}

impl Store for MemoryStore {
    fn append_batch(&mut self, records: &[ValidRecord]) -> Result<(), StoreError> {
        if let Some(left) = self.appends_before_fault.as_mut() {
            if *left == 0 {
                return Err(StoreError::Injected(
                    "append refused: simulated disk failure",
                ));
            }
            *left -= 1;
        }
        let new_heads = plan_appends(records, |chain| Ok(self.heads.get(chain).copied()))?;
        for record in records {
            let hash = record.hash();
            self.chains
                .insert((ChainId::of(record), record.action().seq), hash);
            self.records.insert(hash, record.record().clone());
            for reference in references(record) {
                self.index(reference, record, true);
            }
            if let Some(entry) = record.action().body.entry_ref() {
                self.typed
                    .entry((
                        ChainId::of(record),
                        entry.zome.clone(),
                        entry.entry_type.clone(),
                    ))
                    .or_default()
                    .push(hash);
            }
        }
        self.heads.extend(new_heads);
        Ok(())
    }

    fn get(&self, hash: &ActionHash) -> Result<Option<Record>, StoreError> {
        self.faults.check()?;
        Ok(self.records.get(hash).cloned())
    }

    fn get_by_seq(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        self.faults.check()?;
        Ok(self
            .chains
            .get(&(*chain, seq))
            .and_then(|hash| self.records.get(hash))
            .cloned())
    }

    fn range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.faults.check()?;
        Ok(self
            .chains
            .range((*chain, from_seq)..=(*chain, u64::MAX))
            .take(limit)
            .filter_map(|(_, hash)| self.records.get(hash).cloned())
            .collect())
    }

    fn head(&self, chain: &ChainId) -> Result<Option<ChainHead>, StoreError> {
        self.faults.check()?;
        Ok(self.heads.get(chain).copied())
    }

    fn heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        self.faults.check()?;
        Ok(self.heads.clone())
    }

    fn typed_records(
        &self,
        chain: &ChainId,
        zome: &str,
        entry_type: &str,
    ) -> Result<Vec<Record>, StoreError> {
        self.faults.check_query()?;
        let key = (*chain, zome.to_string(), entry_type.to_string());
        Ok(self
            .typed
            .get(&key)
            .map(|hashes| {
                hashes
                    .iter()
                    .filter_map(|h| self.records.get(h).cloned())
                    .collect()
            })
            .unwrap_or_default())
    }

    fn purge_entry(&mut self, hash: &ActionHash) -> Result<bool, StoreError> {
        let Some(record) = self.records.get(hash).cloned() else {
            return Ok(false);
        };
        if let Some(reference) = entry_reference(&record) {
            self.index(reference, &record, false);
        }
        self.purged.insert(*hash);
        Ok(self
            .records
            .get_mut(hash)
            .is_some_and(|held| held.entry.take().is_some()))
    }

    fn referring(
        &self,
        target: &ActionHash,
        relation: Relation,
        after: Option<&ActionHash>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.faults.check_query()?;
        let Some(referring) = self.refs.get(&(*target, relation)) else {
            return Ok(Vec::new());
        };
        let start = after
            .and_then(|hash| self.records.get(hash))
            .map(|r| (r.action().timestamp, r.hash()));
        Ok(referring
            .iter()
            .filter(|key| start.is_none_or(|start| **key > start))
            .take(limit)
            .filter_map(|(_, hash)| self.records.get(hash).cloned())
            .collect())
    }

    fn was_purged(&self, hash: &ActionHash) -> Result<bool, StoreError> {
        self.faults.check()?;
        Ok(self.purged.contains(hash))
    }

    fn keep_warrant(&mut self, warrant: &Warrant) -> Result<bool, StoreError> {
        let key = (*warrant.pod(), warrant.offender().key_hash());
        if self.warrants.contains_key(&key) {
            return Ok(false);
        }
        self.warrants.insert(key, warrant.clone());
        Ok(true)
    }

    fn warrants(&self, pod: &DnaHash) -> Result<Vec<Warrant>, StoreError> {
        self.faults.check()?;
        Ok(self
            .warrants
            .iter()
            .filter(|((p, _), _)| p == pod)
            .map(|(_, w)| w.clone())
            .collect())
    }

    fn fill_entry(&mut self, record: &Record) -> Result<bool, StoreError> {
        let hash = record.hash();
        if self.purged.contains(&hash) {
            return Ok(false);
        }
        let filled = match (self.records.get_mut(&hash), &record.entry) {
            (Some(held), Some(entry)) if held.entry.is_none() => {
                held.entry = Some(entry.clone());
                true
            }
            _ => false,
        };
        if filled {
            if let Some(reference) = entry_reference(record) {
                self.index(reference, record, true);
            }
        }
        Ok(filled)
    }
}

impl MemoryStore {
    fn index(&mut self, reference: Reference, record: &Record, add: bool) {
        let key = (reference.target, reference.relation);
        let value = (record.action().timestamp, record.hash());
        if add {
            self.refs.entry(key).or_default().insert(value);
        } else if let Some(set) = self.refs.get_mut(&key) {
            set.remove(&value);
        }
    }
}
