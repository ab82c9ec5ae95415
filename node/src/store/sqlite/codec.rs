//! Rows to records and back: the stored action, the sealed entry, and the integer keys the
//! indexes use.

use myco_dna::chain::check_record_shape;
use myco_dna::{ActionHash, DecodeError, DnaHash, Record};

use crate::store::sealing::StoreKey;
use crate::store::StoreError;

/// The index key of a record: the first 8 bytes of its action hash.
pub fn hash_prefix(hash: &ActionHash) -> i64 {
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&hash.as_bytes()[..8]);
    i64::from_be_bytes(prefix)
}

/// A typed-index tag as the integer SQLite stores.
pub fn tag_value(tag: &[u8; 8]) -> i64 {
    i64::from_be_bytes(*tag)
}

/// The associated data of a sealed warrant: it opens only as a warrant of its pod.
pub fn warrant_aad(pod: &DnaHash) -> Vec<u8> {
    let mut aad = b"myco/warrant/v1".to_vec();
    aad.extend_from_slice(pod.as_bytes());
    aad
}

/// Rebuilds the record of row `id` from its stored action and sealed entry, and refuses it if
/// anything does not match: the action's hash, the entry's hash, the seal.
pub fn decode_record(
    key: &StoreKey,
    id: i64,
    action: &[u8],
    sealed_entry: Option<&[u8]>,
) -> Result<Record, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        key: format!("record row {id}"),
        source: DecodeError::Malformed {
            what: "stored record",
            detail,
        },
    };
    let mut record = Record::from_bytes(action).map_err(|source| StoreError::Corrupt {
        key: format!("record row {id}"),
        source,
    })?;
    if record.entry.is_some() {
        return Err(corrupt(
            "the stored action carries an entry in clear".into(),
        ));
    }
    if let Some(sealed) = sealed_entry {
        let entry = key
            .open(&record.hash(), sealed)
            .map_err(|e| corrupt(e.to_string()))?;
        record.entry = Some(entry);
    }
    // A record whose content no longer matches its hash is damage, not data.
    check_record_shape(&record).map_err(|e| corrupt(e.to_string()))?;
    Ok(record)
}
