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

/// Decodes every row of `rows`, whose columns are `id, action, entry`, with [`decode_record`].
pub fn decode_rows(
    key: &StoreKey,
    rows: &mut rusqlite::Rows<'_>,
) -> Result<Vec<Record>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(super::sqlite_error)? {
        let id: i64 = row.get(0).map_err(super::sqlite_error)?;
        let action: Vec<u8> = row.get(1).map_err(super::sqlite_error)?;
        let entry: Option<Vec<u8>> = row.get(2).map_err(super::sqlite_error)?;
        out.push(decode_record(key, id, &action, entry.as_deref())?);
    }
    Ok(out)
}

/// The records of chain row `chain` that write `zome`'s `entry_type`, through the typed
/// index: in seq order, or the newest `limit` first.
pub fn typed_records(
    conn: &rusqlite::Connection,
    key: &StoreKey,
    chain: i64,
    zome: &str,
    entry_type: &str,
    newest: Option<usize>,
) -> Result<Vec<Record>, StoreError> {
    let tag = tag_value(&crate::store::keys::type_tag(zome, entry_type));
    let mut statement = conn
        .prepare_cached(match newest {
            None => "SELECT id, action, entry FROM records WHERE chain = ?1 AND type_tag = ?2 ORDER BY seq LIMIT ?3",
            Some(_) => "SELECT id, action, entry FROM records WHERE chain = ?1 AND type_tag = ?2 ORDER BY seq DESC LIMIT ?3",
        })
        .map_err(super::sqlite_error)?;
    let limit = newest.map_or(i64::MAX, |n| n as i64);
    let mut rows = statement
        .query(rusqlite::params![chain, tag, limit])
        .map_err(super::sqlite_error)?;
    let mut records = decode_rows(key, &mut rows)?;
    // The tag is a prefix of a hash: keep only the records of exactly this type.
    records.retain(|record| {
        record
            .action()
            .body
            .entry_ref()
            .is_some_and(|e| e.zome == zome && e.entry_type == entry_type)
    });
    Ok(records)
}

#[cfg(test)]
mod tests {
    use myco_dna::{ChainAuthor, Entry, SigningKey, Timestamp, Visibility};
    use proptest::prelude::*;

    use super::*;

    fn key() -> StoreKey {
        StoreKey::derive(&SigningKey::from_bytes(&[1; 32]))
    }

    fn story() -> Record {
        let mut author = ChainAuthor::new(SigningKey::from_bytes(&[2; 32]), DnaHash([3; 32]));
        let _genesis = author.genesis(Timestamp(1), Vec::new());
        author.create(
            Timestamp(2),
            "content",
            "content",
            Visibility::Pod,
            Entry(b"a stored story".to_vec()),
        )
    }

    #[test]
    fn a_stored_row_decodes_back_to_its_record_and_a_moved_seal_does_not() {
        let record = story();
        let sealed = key().seal(&record.hash(), record.entry.as_ref().unwrap());
        let action = record.without_entry().to_bytes();
        assert_eq!(
            decode_record(&key(), 1, &action, Some(&sealed)).unwrap(),
            record
        );
        let other = Record {
            signed: record.signed.clone(),
            entry: Some(Entry(b"another".to_vec())),
        };
        let wrong = key().seal(&other.hash(), other.entry.as_ref().unwrap());
        let mut foreign = wrong.clone();
        foreign[3] ^= 1;
        assert!(decode_record(&key(), 1, &action, Some(&foreign)).is_err());
        // An action stored with its entry in clear is damage, not data.
        assert!(decode_record(&key(), 1, &record.to_bytes(), None).is_err());
    }

    proptest! {
        /// Whatever the disk holds, a row decodes or is refused with an error; never a panic.
        #[test]
        fn any_bytes_in_a_row_give_a_record_or_an_error(
            action in proptest::collection::vec(any::<u8>(), 0..600),
            entry in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
            flip in 0usize..600,
        ) {
            let _ = decode_record(&key(), 7, &action, entry.as_deref());
            // And a real row with one byte flipped is refused.
            let record = story();
            let mut stored = record.without_entry().to_bytes();
            let at = flip % stored.len();
            stored[at] ^= 0x40;
            let sealed = key().seal(&record.hash(), record.entry.as_ref().unwrap());
            prop_assert!(decode_record(&key(), 7, &stored, Some(&sealed)).map_or(true, |r| r != record));
        }
    }
}
