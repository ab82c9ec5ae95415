//! Repair of a damaged store: every record that can still be read and proven sound is copied
//! into a new database, which then takes the old one's place.
//!
//! - Rows are read by ranges of row ids. A range that SQLite cannot read (a damaged page) is
//!   split in halves down to single rows, so one bad page costs only the rows on it.
//! - When SQLite cannot reach every row (a damaged header, schema or interior page), the
//!   file's pages are also read directly ([`super::pages`]), and every row found there is
//!   offered too: rows may come in any order, and each chain still grows only from its
//!   Genesis, one sound record at a time ([`super::rebuild`]).
//! - A record is kept if it decodes, its seal opens, its hashes and signature hold, and it
//!   follows the last kept record of its chain. A chain keeps its sound prefix: the store
//!   never holds a gapped chain, so what follows a lost record must come back through sync.
//! - Purge marks are kept, so a purged entry can never be filled again.
//! - The old file is replaced only once the new one is complete and synced; a repair that
//!   stops halfway leaves the old store as it was.
//! - If rows exist but none can be proven sound, the store is left alone: that is what a
//!   wrong key looks like, and replacing the store would destroy it.

use std::collections::BTreeMap;
use std::path::Path;

use myco_dna::Warrant;
use rusqlite::{params, Connection, OpenFlags};

use super::codec::warrant_aad;
use super::pages::{Pages, RawRow};
use super::rebuild::Rebuild;
use super::{scrub, SqliteStore, DB_FILE};
use crate::store::files::io;
use crate::store::sealing::StoreKey;
use crate::store::{ChainId, Store, StoreError};

/// Row ids read per query.
const CHUNK: i64 = 4096;
/// Name of the folder the new store is built in, inside the store dir.
const SALVAGE_DIR: &str = "salvage";

/// What a repair kept and lost, chain by chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SalvageReport {
    /// Records kept.
    pub kept: u64,
    /// Rows SQLite could not read (damaged pages); the repair then also read the file's
    /// pages directly, so some of them may be among the kept.
    pub unreadable: u64,
    /// Whether the file's pages were read directly.
    pub read_pages: bool,
    /// Records read but not kept: unsound, or after a lost record of their chain.
    pub dropped: u64,
    /// Every chain found, with the newest seq kept (`None`: nothing of it was kept) and how
    /// many of its records were dropped.
    pub chains: BTreeMap<ChainId, ChainSalvage>,
    /// Warrants kept.
    pub warrants: u64,
}

/// One chain after a repair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainSalvage {
    /// The newest seq kept.
    pub kept_through: Option<u64>,
    /// Records of it read but not kept.
    pub dropped: u64,
    /// Why the first one was dropped.
    pub problem: Option<String>,
}

/// Rebuilds the store in `dir` from what of it is sound. See the module docs.
pub fn salvage(dir: &Path, key: &StoreKey) -> Result<SalvageReport, StoreError> {
    // A missing file is read as an empty one: nothing to keep, and a fresh store to start.
    let source = Connection::open_with_flags(
        dir.join(DB_FILE),
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(super::sqlite_error)?;
    refuse_other_keys(&source, key)?;
    let target_dir = dir.join(SALVAGE_DIR);
    if target_dir.exists() {
        std::fs::remove_dir_all(&target_dir).map_err(io("clear", &target_dir))?;
    }
    let mut target = SqliteStore::open_unchecked(&target_dir, key.clone())?;
    let mut report = SalvageReport::default();
    let (dropped, chains, undecodable) = {
        let mut rebuild = Rebuild::new(key, &mut target);
        let last = last_row_id(&source);
        let mut start = 1;
        while start <= last.unwrap_or(0) {
            let end = start.saturating_add(CHUNK - 1).min(last.unwrap_or(0));
            for row in read_rows(&source, start, end, &mut report.unreadable) {
                rebuild.offer(&row)?;
            }
            start = end + 1;
        }
        if last.is_none() || report.unreadable > 0 {
            // SQLite cannot reach every row: read the file's pages directly as well.
            report.read_pages = true;
            let wal = dir.join(format!("{DB_FILE}-wal"));
            Pages::open(&dir.join(DB_FILE), &wal).rows(|row| rebuild.offer(&row))?;
        }
        report.kept = rebuild.kept;
        let undecodable = rebuild.undecodable;
        let (dropped, chains) = rebuild.finish()?;
        (dropped, chains, undecodable)
    };
    report.dropped = dropped;
    report.chains = chains;
    if report.kept == 0 && (undecodable > 0 || dropped > 0) {
        drop(target);
        let _ = std::fs::remove_dir_all(&target_dir);
        return Err(StoreError::Damaged(format!(
            "{} rows exist but none could be proven sound; the store was left as it is (was it sealed under another agent's key?); move it aside and let sync restore the chains",
            undecodable + dropped
        )));
    }
    report.warrants = copy_warrants(&source, key, &mut target);
    drop(target);
    drop(source);
    replace(dir, &target_dir)?;
    Ok(report)
}

/// Refuses to repair a store whose key check names another key.
fn refuse_other_keys(source: &Connection, key: &StoreKey) -> Result<(), StoreError> {
    let stored: Result<Vec<u8>, _> = source.query_row(
        "SELECT value FROM meta WHERE name = 'key_check'",
        [],
        |row| row.get(0),
    );
    match stored {
        Ok(check) if check != key.check_value() => Err(StoreError::WrongKey),
        // Sound and matching, or unreadable: the rows' seals will tell.
        _ => Ok(()),
    }
}

/// The highest row id to try, or `None` when SQLite cannot say (the rows are then read from
/// the pages alone).
fn last_row_id(source: &Connection) -> Option<i64> {
    source
        .query_row("SELECT max(id) FROM records", [], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .ok()
        .map(|max| max.unwrap_or(0))
}

/// The rows with ids in `start..=end` that can be read, splitting around damaged pages.
fn read_rows(source: &Connection, start: i64, end: i64, unreadable: &mut u64) -> Vec<RawRow> {
    let query = || -> rusqlite::Result<Vec<RawRow>> {
        let mut statement = source.prepare_cached(
            "SELECT id, action, entry, purged FROM records WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
        )?;
        let rows = statement.query_map(params![start, end], |row| {
            Ok(RawRow {
                id: row.get(0)?,
                action: row.get(1)?,
                entry: row.get(2)?,
                purged: row.get(3)?,
            })
        })?;
        rows.collect()
    };
    match query() {
        Ok(rows) => rows,
        Err(_) if start == end => {
            *unreadable += 1;
            Vec::new()
        }
        Err(_) => {
            let middle = start + (end - start) / 2;
            let mut rows = read_rows(source, start, middle, unreadable);
            rows.extend(read_rows(source, middle + 1, end, unreadable));
            rows
        }
    }
}

/// Copies the warrants that still open; returns how many.
fn copy_warrants(source: &Connection, key: &StoreKey, target: &mut SqliteStore) -> u64 {
    let Ok(mut statement) = source.prepare("SELECT pod, sealed FROM warrants") else {
        return 0;
    };
    let Ok(rows) = statement.query_map([], |row| {
        Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
    }) else {
        return 0;
    };
    let mut kept = 0;
    for (pod, sealed) in rows.flatten() {
        let Some(pod) = myco_dna::DnaHash::from_slice(&pod) else {
            continue;
        };
        let warrant = key
            .open_blob(&warrant_aad(&pod), &sealed)
            .ok()
            .and_then(|bytes| Warrant::from_bytes(&bytes).ok());
        if let Some(warrant) = warrant {
            if warrant.pod() == &pod && target.keep_warrant(&warrant).unwrap_or(false) {
                kept += 1;
            }
        }
    }
    kept
}

/// Puts the new database in the old one's place: the old log goes first (it belongs to the
/// old file), then one rename replaces the file.
fn replace(dir: &Path, built: &Path) -> Result<(), StoreError> {
    for suffix in ["-wal", "-shm"] {
        let path = dir.join(format!("{DB_FILE}{suffix}"));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove", &path)(e)),
        }
    }
    let from = built.join(DB_FILE);
    let to = dir.join(DB_FILE);
    std::fs::rename(&from, &to).map_err(io("move the repaired store to", &to))?;
    scrub::sync_dir(dir)?;
    std::fs::remove_dir_all(built).map_err(io("remove", built))?;
    scrub::sync_dir(dir)
}
