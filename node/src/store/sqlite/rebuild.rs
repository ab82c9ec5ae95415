//! Chains rebuilt from rows offered in any order: each chain grows from its Genesis, one
//! sound record at a time; a record that arrives before its predecessor waits.

use std::collections::BTreeMap;

use myco_dna::{Record, SignedAction};

use super::codec::decode_record;
use super::pages::RawRow;
use super::salvage::ChainSalvage;
use super::SqliteStore;
use crate::store::sealing::StoreKey;
use crate::store::{ChainId, Store, StoreError, ValidRecord};

/// Records appended to the new store per batch.
const BATCH: usize = 1024;

#[derive(Default)]
struct Chain {
    prev: Option<SignedAction>,
    /// Records that came before their predecessor, by seq, with their purge marks.
    waiting: BTreeMap<u64, (Record, bool)>,
    /// Why the first unsound record here was dropped.
    problem: Option<String>,
    /// Records read and found unsound.
    unsound: u64,
}

impl Chain {
    fn next_seq(&self) -> u64 {
        self.prev.as_ref().map_or(0, |p| p.action.seq + 1)
    }
}

/// A new store being filled with the sound records of a damaged one.
pub struct Rebuild<'a> {
    key: &'a StoreKey,
    target: &'a mut SqliteStore,
    chains: BTreeMap<ChainId, Chain>,
    pending: Vec<(ValidRecord, bool)>,
    /// Records kept so far.
    pub kept: u64,
    /// Rows that did not decode, or whose seal did not open.
    pub undecodable: u64,
}

impl<'a> Rebuild<'a> {
    /// Starts filling `target`.
    pub fn new(key: &'a StoreKey, target: &'a mut SqliteStore) -> Self {
        Rebuild {
            key,
            target,
            chains: BTreeMap::new(),
            pending: Vec::new(),
            kept: 0,
            undecodable: 0,
        }
    }

    /// Offers one stored row; one that does not decode is counted and left out.
    pub fn offer(&mut self, row: &RawRow) -> Result<(), StoreError> {
        let Ok(record) = decode_record(self.key, row.id, &row.action, row.entry.as_deref()) else {
            self.undecodable += 1;
            return Ok(());
        };
        let purged = row.purged;
        let id = ChainId::of(&record);
        let chain = self.chains.entry(id).or_default();
        let seq = record.action().seq;
        if seq < chain.next_seq() {
            // Kept already (a row read twice).
            return Ok(());
        }
        chain.waiting.insert(seq, (record, purged));
        self.extend(id)
    }

    /// Keeps whatever of `chain`'s waiting records now follow its last kept one.
    fn extend(&mut self, id: ChainId) -> Result<(), StoreError> {
        let Some(chain) = self.chains.get_mut(&id) else {
            return Ok(());
        };
        loop {
            let next = chain.next_seq();
            let Some((record, purged)) = chain.waiting.remove(&next) else {
                break;
            };
            match ValidRecord::checked(chain.prev.as_ref(), record) {
                Ok(valid) => {
                    chain.prev = Some(valid.signed.clone());
                    self.pending.push((valid, purged));
                    self.kept += 1;
                }
                Err(error) => {
                    chain.unsound += 1;
                    chain.problem.get_or_insert_with(|| error.to_string());
                    break;
                }
            }
        }
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let records: Vec<ValidRecord> = self.pending.iter().map(|(r, _)| r.clone()).collect();
        self.target.append_batch(&records)?;
        for (record, purged) in self.pending.drain(..) {
            if purged {
                self.target.purge_entry(&record.hash())?;
            }
        }
        Ok(())
    }

    /// Writes what is left and says, chain by chain, what was kept and what was not.
    pub fn finish(mut self) -> Result<(u64, BTreeMap<ChainId, ChainSalvage>), StoreError> {
        self.flush()?;
        let mut dropped = 0;
        let chains = self
            .chains
            .into_iter()
            .map(|(id, chain)| {
                let lost = chain.waiting.len() as u64;
                let problem = chain.problem.clone().or_else(|| {
                    (lost > 0).then(|| {
                        format!("seq {} is lost; later ones wait for sync", chain.next_seq())
                    })
                });
                dropped += lost + chain.unsound;
                let salvage = ChainSalvage {
                    kept_through: chain.prev.as_ref().map(|p| p.action.seq),
                    dropped: lost + chain.unsound,
                    problem,
                };
                (id, salvage)
            })
            .collect();
        Ok((dropped, chains))
    }
}
