//! [`ValidRecord`]: the only thing a [`Store`](super::Store) appends.
//!
//! A store never holds a record that was not validated. The engine builds a `ValidRecord` for
//! a record its pipeline accepted — system checks, chain position and the pod's zomes
//! ([`ValidRecord::judged`], crate-private). Tools that write chains outside a pod (the
//! benches, seeding, `chain verify --repair`'s tests) build one with the system checks every
//! node applies: shape and size bounds, hashes, signature, and the link to the chain's
//! previous record ([`ValidRecord::checked`], [`ValidRecord::check_batch`]).

use std::collections::BTreeMap;

use myco_dna::chain::{check_record_shape, check_signature, check_signatures, check_successor};
use myco_dna::{Record, SignedAction, SystemError};

use super::ChainId;

/// A record that passed validation. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidRecord(Record);

/// Each chain's last record so far, for [`ValidRecord::check_batch`].
pub type Heads = BTreeMap<ChainId, SignedAction>;

impl ValidRecord {
    /// A record the engine's pipeline accepted.
    pub(crate) fn judged(record: Record) -> Self {
        ValidRecord(record)
    }

    /// Checks `record` with the system checks: shape and size bounds, hashes, signature, and
    /// that it follows `prev` on its chain (`None`: it must be its chain's Genesis).
    pub fn checked(prev: Option<&SignedAction>, record: Record) -> Result<Self, SystemError> {
        check_record_shape(&record)?;
        check_signature(&record.signed)?;
        follows(prev, &record)?;
        Ok(ValidRecord(record))
    }

    /// Checks `records` — of any chains, each chain's in seq order — with one batch signature
    /// check. `heads` holds each chain's last record so far (a chain missing from it must
    /// start at its Genesis) and moves on as records pass. One result per record, in order.
    pub fn check_batch(records: Vec<Record>, heads: &mut Heads) -> Vec<Result<Self, SystemError>> {
        let signed: Vec<&SignedAction> = records.iter().map(|r| &r.signed).collect();
        let signatures = check_signatures(&signed);
        records
            .into_iter()
            .zip(signatures)
            .map(|(record, signature)| {
                check_record_shape(&record)?;
                signature?;
                let chain = ChainId::of(&record);
                follows(heads.get(&chain), &record)?;
                heads.insert(chain, record.signed.clone());
                Ok(ValidRecord(record))
            })
            .collect()
    }

    /// [`Self::check_batch`] for one whole run that must pass: the checked records, or the
    /// first failure with its index.
    pub fn check_all(
        records: Vec<Record>,
        heads: &mut Heads,
    ) -> Result<Vec<Self>, (usize, SystemError)> {
        Self::check_batch(records, heads)
            .into_iter()
            .enumerate()
            .map(|(at, result)| result.map_err(|error| (at, error)))
            .collect()
    }

    /// Checks a whole chain from its Genesis, for tests; panics on an invalid record.
    #[cfg(test)]
    pub(crate) fn chain(records: &[Record]) -> Vec<Self> {
        Self::check_all(records.to_vec(), &mut Heads::new())
            .unwrap_or_else(|(at, error)| panic!("test chain record {at} is invalid: {error}"))
    }

    /// The record.
    pub fn record(&self) -> &Record {
        &self.0
    }

    /// The record, by value.
    pub fn into_record(self) -> Record {
        self.0
    }
}

impl std::ops::Deref for ValidRecord {
    type Target = Record;

    fn deref(&self) -> &Record {
        &self.0
    }
}

fn follows(prev: Option<&SignedAction>, record: &Record) -> Result<(), SystemError> {
    match prev {
        Some(prev) => check_successor(prev, record.action()),
        None if record.action().seq == 0 => Ok(()),
        None => Err(SystemError::NoGenesis {
            first_seq: record.action().seq,
        }),
    }
}
