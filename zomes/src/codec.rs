//! Reading entries out of records: presence, zome and type checks, and strict CBOR decoding.

use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor};
use myco_dna::{Entry, EntryRef, Record, Verdict};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Encodes an entry value as canonical CBOR entry bytes.
pub fn encode<T: Serialize>(value: &T) -> Entry {
    Entry(to_canonical_cbor(value))
}

/// The entry a record writes, decoded as `T`.
///
/// Returns `Ok(None)` when the record carries no entry bytes (a private or purged entry):
/// content rules cannot be checked then, and only action-level rules apply.
pub fn decode<T: DeserializeOwned + Serialize>(
    record: &Record,
    what: &'static str,
) -> Result<Option<T>, Verdict> {
    let Some(entry) = &record.entry else {
        return Ok(None);
    };
    from_canonical_cbor(what, &entry.0)
        .map(Some)
        .map_err(|e| Verdict::invalid(format!("the {what} entry does not decode: {e}")))
}

/// The entry a record carries, decoded as `T`; `None` when it is absent or does not decode.
/// For readers (the daemon's views, its indexes), which show what they can and skip the rest.
pub fn read<T: DeserializeOwned + Serialize>(record: &Record, what: &'static str) -> Option<T> {
    decode(record, what).ok().flatten()
}

/// Like [`decode`], but the entry must be present: governance records are never private.
pub fn decode_required<T: DeserializeOwned + Serialize>(
    record: &Record,
    what: &'static str,
) -> Result<T, Verdict> {
    decode(record, what)?.ok_or_else(|| {
        Verdict::invalid(format!(
            "a {what} must carry its entry; it cannot be private"
        ))
    })
}

/// The entry reference of a Create or Update, if the record is one.
pub fn entry_ref(record: &Record) -> Option<&EntryRef> {
    record.action().body.entry_ref()
}

/// True if `record` is a Create or Update of `zome`'s `entry_type`.
pub fn is_entry(record: &Record, zome: &str, entry_type: &str) -> bool {
    entry_ref(record).is_some_and(|e| e.zome == zome && e.entry_type == entry_type)
}

/// Fetches a referenced record, or reports it missing.
pub fn fetch(
    ctx: &dyn myco_dna::ValidationContext,
    hash: &myco_dna::ActionHash,
) -> Result<Record, Verdict> {
    ctx.get(hash)
        .ok_or_else(|| Verdict::MissingDeps(vec![*hash]))
}

/// Fetches several referenced records, reporting every missing one at once.
pub fn fetch_all(
    ctx: &dyn myco_dna::ValidationContext,
    hashes: &[myco_dna::ActionHash],
) -> Result<Vec<Record>, Verdict> {
    let mut missing = Vec::new();
    let mut found = Vec::with_capacity(hashes.len());
    for hash in hashes {
        match ctx.get(hash) {
            Some(record) => found.push(record),
            None => missing.push(*hash),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        missing.sort();
        missing.dedup();
        Err(Verdict::MissingDeps(missing))
    }
}
