//! Migration manifests: what an import from another system wrote, signed by the importer, so
//! any member can check it against their own replica (`myco import verify`). A manifest
//! names the first and last record the import wrote in the importer's chain, how many content
//! records lie between them, and a Merkle root of their entry hashes in chain order; and for
//! each source table, how many rows were written, refused and found to be duplicates.
//!
//! The zome checks what needs nothing but the manifest: its bounds, that it is visible to
//! the pod, and that every table balances (source = written + refused + duplicates) and the
//! tables' written rows add up to the manifest's. Whether the records are there, and hash to
//! the root, is each member's check against what it holds.

use myco_dna::{ActionHash, Verdict, Visibility};
use serde::{Deserialize, Serialize};

use crate::text::{bounded, required};

/// Entry type name of a migration manifest.
pub const MIGRATION: &str = "migration";
/// Most source tables one manifest counts.
pub const MAX_TABLES: usize = 64;
/// Longest source or table name, in bytes.
pub const MAX_NAME: usize = 256;

/// One source table's rows, by outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCount {
    /// The table's name in the source.
    pub name: String,
    /// Its rows.
    pub source: u64,
    /// Rows written.
    pub written: u64,
    /// Rows refused.
    pub refused: u64,
    /// Rows found to be duplicates of stories already written.
    pub duplicates: u64,
}

/// A migration manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// What was imported (a file name).
    pub source: String,
    /// Counts per source table.
    pub tables: Vec<TableCount>,
    /// The first record the import wrote, in the importer's chain.
    pub first: ActionHash,
    /// The last.
    pub last: ActionHash,
    /// Content records in the importer's chain from `first` to `last`, both included.
    pub written: u64,
    /// The Merkle root (blake2b-256) of those records' entry hashes, in chain order.
    pub merkle_root: [u8; 32],
}

/// The checks a manifest meets on its own.
pub fn validate_migration(migration: &Migration, visibility: Visibility) -> Result<(), Verdict> {
    if visibility == Visibility::Private {
        return Err(Verdict::invalid(
            "a migration manifest is for every member to check: give it Pod or Public visibility",
        ));
    }
    required("migration source", &migration.source)?;
    bounded("migration source", &migration.source, MAX_NAME)?;
    if migration.tables.len() > MAX_TABLES {
        return Err(Verdict::invalid(format!(
            "a migration manifest counts at most {MAX_TABLES} tables"
        )));
    }
    let mut written = 0u64;
    for (index, table) in migration.tables.iter().enumerate() {
        required("table name", &table.name)?;
        bounded("table name", &table.name, MAX_NAME)?;
        if migration.tables[..index]
            .iter()
            .any(|t| t.name == table.name)
        {
            return Err(Verdict::invalid(format!(
                "table `{}` is counted twice",
                table.name
            )));
        }
        let accounted = table
            .written
            .checked_add(table.refused)
            .and_then(|n| n.checked_add(table.duplicates));
        if accounted != Some(table.source) {
            return Err(Verdict::invalid(format!(
                "table `{}` does not balance: {} source rows, but {} written + {} refused + {} duplicates",
                table.name, table.source, table.written, table.refused, table.duplicates
            )));
        }
        written = written
            .checked_add(table.written)
            .ok_or_else(|| Verdict::invalid("a migration manifest's written counts overflow"))?;
    }
    if written != migration.written {
        return Err(Verdict::invalid(format!(
            "the tables' written rows add up to {written}, but the manifest says {}",
            migration.written
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Migration {
        Migration {
            source: "airtable.json".into(),
            tables: vec![TableCount {
                name: "records".into(),
                source: 13,
                written: 8,
                refused: 4,
                duplicates: 1,
            }],
            first: ActionHash([1; 32]),
            last: ActionHash([2; 32]),
            written: 8,
            merkle_root: [7; 32],
        }
    }

    #[test]
    fn a_balanced_manifest_passes_and_an_unbalanced_one_is_named() {
        assert!(validate_migration(&manifest(), Visibility::Pod).is_ok());
        let mut off = manifest();
        off.tables[0].refused = 3;
        let error = validate_migration(&off, Visibility::Pod).unwrap_err();
        assert!(
            format!("{error:?}").contains("does not balance"),
            "{error:?}"
        );
        let mut total = manifest();
        total.written = 9;
        assert!(validate_migration(&total, Visibility::Pod).is_err());
        assert!(validate_migration(&manifest(), Visibility::Private).is_err());
        let mut huge = manifest();
        huge.tables[0].source = u64::MAX;
        huge.tables[0].written = u64::MAX;
        assert!(
            validate_migration(&huge, Visibility::Pod).is_err(),
            "no overflow"
        );
    }
}
