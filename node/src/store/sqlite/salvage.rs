//! Repair of a damaged store: every record that can still be read and proven sound is copied
//! into a new database, which then takes the old one's place.
//!
//! - Rows are read by ranges of row ids. A range that SQLite cannot read (a damaged page) is
//!   split in halves down to single rows, so one bad page costs only the rows on it.
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

use myco_dna::{SignedAction, Warrant};
use rusqlite::{params, Connection, OpenFlags};

use super::codec::{decode_record, warrant_aad};
use super::{scrub, SqliteStore, DB_FILE};
use crate::store::files::io;
use crate::store::sealing::StoreKey;
use crate::store::{ChainId, Store, StoreError, ValidRecord};

/// Row ids read per query.
const CHUNK: i64 = 4096;
/// Records appended to the new store per batch.
const BATCH: usize = 1024;
/// Name of the folder the new store is built in, inside the store dir.
const SALVAGE_DIR: &str = "salvage";

/// What a repair kept and lost, chain by chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SalvageReport {
    /// Records kept.
    pub kept: u64,
    /// Rows that could not be read at all (damaged pages).
    pub unreadable: u64,
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

struct ChainState {
    prev: Option<SignedAction>,
    broken: bool,
    salvage: ChainSalvage,
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
    let mut chains: BTreeMap<ChainId, ChainState> = BTreeMap::new();
    let mut pending: Vec<(ValidRecord, bool)> = Vec::new();
    let last = last_row_id(&source);
    let mut start = 1;
    while start <= last {
        let end = start.saturating_add(CHUNK - 1).min(last);
        for row in read_rows(&source, start, end, &mut report.unreadable) {
            let Row {
                id,
                action,
                entry,
                purged,
            } = row;
            let record = match decode_record(key, id, &action, entry.as_deref()) {
                Ok(record) => record,
                Err(_) => {
                    report.unreadable += 1;
                    continue;
                }
            };
            let chain = ChainId::of(&record);
            let state = chains.entry(chain).or_insert_with(|| ChainState {
                prev: None,
                broken: false,
                salvage: ChainSalvage::default(),
            });
            let seq = record.action().seq;
            let verdict = if state.broken {
                Err(None)
            } else {
                ValidRecord::checked(state.prev.as_ref(), record).map_err(|e| Some(e.to_string()))
            };
            match verdict {
                Ok(valid) => {
                    state.prev = Some(valid.signed.clone());
                    state.salvage.kept_through = Some(seq);
                    pending.push((valid, purged));
                    report.kept += 1;
                }
                Err(problem) => {
                    state.broken = true;
                    state.salvage.dropped += 1;
                    if state.salvage.problem.is_none() {
                        state.salvage.problem =
                            Some(problem.unwrap_or_else(|| "follows a lost record".into()));
                    }
                    report.dropped += 1;
                }
            }
            if pending.len() >= BATCH {
                write(&mut target, &mut pending)?;
            }
        }
        start = end + 1;
    }
    write(&mut target, &mut pending)?;
    if report.kept == 0 && (report.unreadable > 0 || report.dropped > 0) {
        drop(target);
        let _ = std::fs::remove_dir_all(&target_dir);
        return Err(StoreError::Damaged(format!(
            "{} rows exist but none could be proven sound; the store was left as it is (was it sealed under another agent's key?); move it aside and let sync restore the chains",
            report.unreadable + report.dropped
        )));
    }
    report.warrants = copy_warrants(&source, key, &mut target);
    report.chains = chains.into_iter().map(|(c, s)| (c, s.salvage)).collect();
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

/// The highest row id to try. When SQLite cannot say, a bound from the file's size: no row
/// is smaller than a few bytes.
fn last_row_id(source: &Connection) -> i64 {
    source
        .query_row("SELECT max(id) FROM records", [], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            let pages: i64 = source
                .query_row("PRAGMA page_count", [], |row| row.get(0))
                .unwrap_or(0);
            pages.saturating_mul(512)
        })
}

struct Row {
    id: i64,
    action: Vec<u8>,
    entry: Option<Vec<u8>>,
    purged: bool,
}

/// The rows with ids in `start..=end` that can be read, splitting around damaged pages.
fn read_rows(source: &Connection, start: i64, end: i64, unreadable: &mut u64) -> Vec<Row> {
    let query = || -> rusqlite::Result<Vec<Row>> {
        let mut statement = source.prepare_cached(
            "SELECT id, action, entry, purged FROM records WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
        )?;
        let rows = statement.query_map(params![start, end], |row| {
            Ok(Row {
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

fn write(
    target: &mut SqliteStore,
    pending: &mut Vec<(ValidRecord, bool)>,
) -> Result<(), StoreError> {
    let records: Vec<ValidRecord> = pending.iter().map(|(r, _)| r.clone()).collect();
    target.append_batch(&records)?;
    for (record, purged) in pending.drain(..) {
        if purged {
            target.purge_entry(&record.hash())?;
        }
    }
    Ok(())
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
