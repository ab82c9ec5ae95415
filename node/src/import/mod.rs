//! # Importing a community's data from elsewhere
//!
//! `myco import` reads a source file (JSON, such as an Airtable export, or CSV) and a map
//! ([`ImportMap`], TOML) that says which field becomes which part of a story, and what to
//! assume where the source says nothing. Every source row ends as exactly one of: written,
//! refused (with the reason, naming the row), or a duplicate of a row already imported
//! (same content hash). The counts must balance: source = written + refused + duplicates.
//!
//! This module is the pure part: the map, the rows, and a row's story. The daemon writes each
//! story through the same path as `myco publish` (`POST /pods/{pod}/import`).
//!
//! ```
//! use myco_node::import::{ImportMap, Source};
//!
//! let map = ImportMap::from_toml(r#"
//!     [source]
//!     table = "records"
//!     id = "id"
//!     [fields]
//!     title = "Title"
//!     body = "Story"
//!     [defaults]
//!     visibility = "pod"
//!     consent = { community_sharing = true }
//! "#).unwrap();
//! let json = br#"{"records": [
//!     {"id": "rec1", "fields": {"Title": "The old harbour", "Story": "Told by Ana"}},
//!     {"id": "rec2", "fields": {"Story": "no title"}}
//! ]}"#;
//! let source = Source::from_json(json, &map).unwrap();
//! assert_eq!(source.rows.len(), 2);
//! assert_eq!(map.story(&source.rows[0]).unwrap().title, "The old harbour");
//! assert!(map.story(&source.rows[1]).unwrap_err().contains("no title"));
//! ```

mod map;
pub mod merkle;
mod source;
#[cfg(test)]
mod tests;

pub use map::{Defaults, Fields, ImportMap, MapError, SourceSpec, MAX_MAP_BYTES};
pub use source::{Row, Source, SourceError, MAX_SOURCE_BYTES};

use serde::{Deserialize, Serialize};

/// What became of one source row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RowOutcome {
    /// Written: the record's hash.
    Written {
        /// The record (`act_…`).
        hash: String,
    },
    /// Refused, and why.
    Refused {
        /// The reason, for a person.
        reason: String,
    },
    /// The same story was imported already (or earlier in this file).
    Duplicate {
        /// The content hash it shares.
        entry_hash: String,
    },
    /// `--dry-run`: it would be written (the zomes' checks that need the write itself are
    /// not run).
    WouldWrite {
        /// Its content hash.
        entry_hash: String,
    },
}
