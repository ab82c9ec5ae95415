//! Limbo: records that wait for dependencies, bounded in size and in time.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{ActionHash, DnaHash, Record};

use super::io::PeerId;
use crate::store::ChainId;

/// What a record waits for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Wait {
    /// A record by hash.
    Hash(ActionHash),
    /// The record at this seq of a chain (its predecessor).
    Seq(ChainId, u64),
}

/// A waiting record.
#[derive(Clone, Debug)]
pub(crate) struct Waiting {
    pub pod: DnaHash,
    pub record: Record,
    pub from: Option<PeerId>,
    pub since: u64,
    pub waits: Vec<Wait>,
}

/// The waiting room.
#[derive(Default)]
pub(crate) struct Limbo {
    entries: BTreeMap<ActionHash, Waiting>,
    by_wait: BTreeMap<Wait, BTreeSet<ActionHash>>,
    by_age: BTreeSet<(u64, ActionHash)>,
}

impl Limbo {
    /// Number of waiting records.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the record waits here.
    pub fn contains(&self, hash: &ActionHash) -> bool {
        self.entries.contains_key(hash)
    }

    /// Adds a record; if that makes limbo hold more than `cap`, returns the oldest entries,
    /// which are dropped.
    pub fn insert(&mut self, waiting: Waiting, cap: usize) -> Vec<Waiting> {
        let hash = waiting.record.hash();
        self.remove(&hash);
        for wait in &waiting.waits {
            self.by_wait.entry(wait.clone()).or_default().insert(hash);
        }
        self.by_age.insert((waiting.since, hash));
        self.entries.insert(hash, waiting);
        let mut evicted = Vec::new();
        while self.entries.len() > cap {
            let Some(&(_, oldest)) = self.by_age.iter().next() else {
                break;
            };
            evicted.extend(self.remove(&oldest));
        }
        evicted
    }

    /// Takes out every record waiting for `wait`.
    pub fn wake(&mut self, wait: &Wait) -> Vec<Waiting> {
        let hashes = self.by_wait.remove(wait).unwrap_or_default();
        hashes.iter().filter_map(|h| self.remove(h)).collect()
    }

    /// Takes out every record that has waited since before `cutoff`.
    pub fn expire(&mut self, cutoff: u64) -> Vec<Waiting> {
        let old: Vec<ActionHash> = self
            .by_age
            .iter()
            .take_while(|(since, _)| *since < cutoff)
            .map(|(_, h)| *h)
            .collect();
        old.iter().filter_map(|h| self.remove(h)).collect()
    }

    fn remove(&mut self, hash: &ActionHash) -> Option<Waiting> {
        let waiting = self.entries.remove(hash)?;
        self.by_age.remove(&(waiting.since, *hash));
        for wait in &waiting.waits {
            if let Some(set) = self.by_wait.get_mut(wait) {
                set.remove(hash);
                if set.is_empty() {
                    self.by_wait.remove(wait);
                }
            }
        }
        Some(waiting)
    }
}
