//! Integrity checks of stored chains: a quick tail check at open, a full check on demand.
//!
//! Both walk a chain in seq order, checking every record's hash, entry hash, signature and
//! link to its predecessor, and that the chain reaches exactly the recorded head. The first
//! failure is reported as a [`ChainFault`] with the last seq that is still sound, so a repair
//! can cut the chain back to it.

use myco_dna::chain::{check_record, check_successor};
use myco_dna::Record;

use std::collections::BTreeMap;

use super::{ChainHead, ChainId, MemoryStore, Store, StoreError};

/// Reads a page record by record, returning the records before the first unreadable one,
/// or that one's seq and error if it is the first.
fn read_until_damage(
    store: &(impl ChainRead + ?Sized),
    chain: &ChainId,
    from: u64,
    head: u64,
) -> Result<Vec<Record>, (u64, StoreError)> {
    let mut out = Vec::new();
    for seq in from..=head.min(from + PAGE as u64 - 1) {
        match store.chain_get(chain, seq) {
            Ok(Some(record)) => out.push(record),
            Ok(None) => break,
            Err(e) if out.is_empty() => return Err((seq, e)),
            Err(_) => break,
        }
    }
    Ok(out)
}

/// The reads an integrity check needs. The on-disk store answers them even for quarantined
/// chains, so a check sees the real damage rather than the quarantine.
pub trait ChainRead {
    /// Every chain and its head.
    fn chain_heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError>;
    /// Up to `limit` records from `from_seq`.
    fn chain_range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError>;
    /// One record by seq.
    fn chain_get(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError>;
}

impl ChainRead for MemoryStore {
    fn chain_heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        self.heads()
    }
    fn chain_range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.range(chain, from_seq, limit)
    }
    fn chain_get(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        self.get_by_seq(chain, seq)
    }
}

/// Records read per step of a full check.
const PAGE: usize = 1024;

/// One chain that failed its check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainFault {
    /// The damaged chain.
    pub chain: ChainId,
    /// The first seq that failed.
    pub seq: u64,
    /// What failed.
    pub problem: String,
    /// The newest seq before the fault that is sound, if any.
    pub last_good: Option<u64>,
}

/// The result of checking a store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Chains checked.
    pub chains: usize,
    /// Records checked.
    pub records: u64,
    /// Chains that failed.
    pub faults: Vec<ChainFault>,
}

impl IntegrityReport {
    /// True if nothing failed.
    pub fn is_sound(&self) -> bool {
        self.faults.is_empty()
    }
}

/// Checks the newest `tail` records of every chain.
pub(crate) fn quick_check(
    store: &(impl ChainRead + ?Sized),
    tail: u64,
) -> Result<IntegrityReport, StoreError> {
    check_all(store, |head| {
        head.seq.saturating_sub(tail.saturating_sub(1))
    })
}

/// Checks every record of every chain.
pub fn full_check(store: &(impl ChainRead + ?Sized)) -> Result<IntegrityReport, StoreError> {
    check_all(store, |_| 0)
}

fn check_all(
    store: &(impl ChainRead + ?Sized),
    start_of: impl Fn(&ChainHead) -> u64,
) -> Result<IntegrityReport, StoreError> {
    let mut report = IntegrityReport::default();
    for (chain, head) in store.chain_heads()? {
        report.chains += 1;
        let from = start_of(&head);
        match check_chain(store, &chain, &head, from) {
            Ok(count) => report.records += count,
            Err(fault) => report.faults.push(fault),
        }
    }
    Ok(report)
}

fn check_chain(
    store: &(impl ChainRead + ?Sized),
    chain: &ChainId,
    head: &ChainHead,
    from: u64,
) -> Result<u64, ChainFault> {
    let fault = |seq: u64, problem: String| ChainFault {
        chain: *chain,
        seq,
        problem,
        last_good: seq.checked_sub(1),
    };
    let mut previous: Option<Record> = None;
    let mut next_seq = from;
    let mut checked = 0u64;
    while next_seq <= head.seq {
        let page = match store.chain_range(chain, next_seq, PAGE) {
            Ok(page) => page,
            // Some record of the page is unreadable: read one by one to find which.
            Err(_) => read_until_damage(store, chain, next_seq, head.seq)
                .map_err(|(seq, e)| fault(seq, e.to_string()))?,
        };
        if page.is_empty() {
            return Err(fault(next_seq, format!("seq {next_seq} is missing")));
        }
        for record in page {
            let seq = record.action().seq;
            if seq > head.seq {
                break;
            }
            if seq != next_seq {
                return Err(fault(next_seq, format!("seq {next_seq} is missing")));
            }
            check_record(&record).map_err(|e| fault(seq, e.to_string()))?;
            if let Some(prev) = &previous {
                check_successor(&prev.signed, record.action())
                    .map_err(|e| fault(seq, e.to_string()))?;
            }
            if record.action().pod != chain.pod || record.action().author != chain.author {
                return Err(fault(seq, "record filed under another chain".into()));
            }
            previous = Some(record);
            next_seq = seq + 1;
            checked += 1;
        }
    }
    match &previous {
        Some(last) if last.hash() == head.hash => Ok(checked),
        _ => Err(fault(
            head.seq,
            "head does not match the newest record".into(),
        )),
    }
}
