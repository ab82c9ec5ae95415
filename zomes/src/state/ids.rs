//! Identifiers in their text form (`kh_…`, `act_…`) when pod state is serialized.
//!
//! The identifier types serialize as raw bytes, which suits canonical CBOR but not JSON: a
//! JSON object key must be a string, and a web page wants `kh_…` rather than 32 numbers.

use std::collections::BTreeMap;
use std::fmt::Display;

use serde::{Serialize, Serializer};

/// Serializes an identifier as its text form.
pub(crate) fn text<T: Display, S: Serializer>(id: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

/// Serializes an optional identifier as its text form, or null.
pub(crate) fn text_opt<T: Display, S: Serializer>(
    id: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => serializer.collect_str(id),
        None => serializer.serialize_none(),
    }
}

/// Serializes a map keyed by identifiers with the keys in their text form.
pub(crate) fn text_keys<K: Display, V: Serialize, S: Serializer>(
    map: &BTreeMap<K, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(map.iter().map(|(key, value)| (key.to_string(), value)))
}
