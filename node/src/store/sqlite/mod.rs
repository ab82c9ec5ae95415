//! The on-disk store, on SQLite: entries sealed at rest, purges overwritten on disk, every
//! acknowledged write `fsync`ed.
//!
//! The file is `<store dir>/chains.db`, with SQLite's write-ahead log beside it
//! (`chains.db-wal`, `chains.db-shm`). See [`schema`] for the tables and settings, and
//! `docs/architecture.md` ("Storage") for what the erasure guarantee is.
//!
//! ```
//! use myco_node::store::{SqliteStore, Store, StoreKey};
//! # use myco_dna::SigningKey;
//! let dir = tempfile::tempdir()?;
//! let key = StoreKey::derive(&SigningKey::from_bytes(&[7; 32]));
//! let store = SqliteStore::open(dir.path(), key)?;
//! assert!(store.heads()?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod codec;
mod index;
mod pages;
mod reader;
mod rebuild;
mod salvage;
mod schema;
mod scrub;
mod snapshot;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use myco_dna::{ActionHash, AgentKey, DnaHash, Record, Warrant};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::files::io;
use super::integrity::{quick_check, ChainRead, IntegrityReport};
use super::keys::type_tag;
use super::sealing::StoreKey;
use super::sled_store::OPEN_CHECK_TAIL;
use super::{plan_appends, ChainHead, ChainId, Store, StoreError, ValidRecord};
use codec::{decode_record, hash_prefix, tag_value};
pub use reader::{
    FeedItem, FeedQuery, PodMember, SqliteReader, Versions, MAX_FEED_PAGE, MAX_MEMBERS,
    MAX_VERSIONS,
};
pub use salvage::{salvage, ChainSalvage, SalvageReport};
pub use snapshot::snapshot_into;

/// The database file's name inside the store dir.
pub const DB_FILE: &str = "chains.db";

/// Bytes a write is assumed to need on disk beyond its records (WAL frames, index pages): for
/// the "free at least" figure of a full disk.
const WRITE_MARGIN_BYTES: u64 = 1024 * 1024;

/// Maps SQLite's errors onto the store's: damage and a full disk get their own variants, so
/// the daemon can tell the operator what to do.
pub(crate) fn sqlite_error(error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StoreError::Damaged(error.to_string())
            }
            ErrorCode::DiskFull => StoreError::DiskFull {
                dir: PathBuf::new(),
                needed_bytes: WRITE_MARGIN_BYTES,
            },
            _ => StoreError::Sqlite(error),
        },
        _ => StoreError::Sqlite(error),
    }
}

/// Source chains in a SQLite database.
pub struct SqliteStore {
    conn: Connection,
    key: StoreKey,
    dir: PathBuf,
    chain_ids: HashMap<ChainId, i64>,
    quarantined: BTreeSet<ChainId>,
    report: IntegrityReport,
    /// A purge has not yet been overwritten in the database file and its log truncated.
    scrub_pending: bool,
}

impl SqliteStore {
    /// Opens (or creates) the store in `dir`, sealed under `key`, then checks the tail of
    /// every chain. Chains that fail are quarantined: reads of them fail with
    /// [`StoreError::Quarantined`].
    pub fn open(dir: &Path, key: StoreKey) -> Result<Self, StoreError> {
        let mut store = Self::open_unchecked(dir, key)?;
        let report = quick_check(&store, OPEN_CHECK_TAIL)?;
        for fault in &report.faults {
            tracing::error!(pod = %fault.chain.pod, author = %fault.chain.author, seq = fault.seq, problem = %fault.problem, "chain failed its integrity check; quarantined");
        }
        store.quarantined = report.faults.iter().map(|f| f.chain).collect();
        store.report = report;
        Ok(store)
    }

    /// Opens the store without the open-time check: for a full check, or a repair.
    pub fn open_unchecked(dir: &Path, key: StoreKey) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        create_private(dir, &path)?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_error)?;
        let mut store = SqliteStore {
            conn,
            key,
            dir: dir.to_path_buf(),
            chain_ids: HashMap::new(),
            quarantined: BTreeSet::new(),
            report: IntegrityReport::default(),
            scrub_pending: false,
        };
        store.prepare().map_err(|e| store.locate(e))?;
        Ok(store)
    }

    fn prepare(&mut self) -> Result<(), StoreError> {
        schema::configure(&self.conn)?;
        schema::prepare(&self.conn, &self.key)?;
        index::prepare(&self.conn, &self.key)?;
        let mut statement = self
            .conn
            .prepare("SELECT id, pod, author FROM chains")
            .map_err(sqlite_error)?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                ))
            })
            .map_err(sqlite_error)?;
        for row in rows {
            let (id, pod, author) = row.map_err(sqlite_error)?;
            let chain = match (DnaHash::from_slice(&pod), AgentKey::from_slice(&author)) {
                (Some(pod), Some(author)) => ChainId { pod, author },
                _ => {
                    return Err(StoreError::Damaged(format!(
                        "chain row {id} names no valid pod and author"
                    )))
                }
            };
            self.chain_ids.insert(chain, id);
        }
        drop(statement);
        // A purge that a crash interrupted before its scrub is finished now; the scrub also
        // syncs the folder, so a new file's and its log's entries are durable before any
        // write is acknowledged.
        self.scrub_pending = !scrub::scrub(&self.conn, &self.dir)?;
        Ok(())
    }

    /// Where the store lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the open-time check found.
    pub fn integrity_report(&self) -> &IntegrityReport {
        &self.report
    }

    /// SQLite's own check of the file's pages and indexes: `None` when sound, otherwise what
    /// it found (at most `limit` lines).
    pub fn page_check(&self, limit: u32) -> Result<Option<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare(&format!("PRAGMA integrity_check({limit})"))
            .map_err(sqlite_error)?;
        let lines: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .map_err(sqlite_error)?
            .collect::<Result<_, _>>()
            .map_err(sqlite_error)?;
        if lines.len() == 1 && lines[0] == "ok" {
            return Ok(None);
        }
        let found: Vec<&str> = lines
            .iter()
            .flat_map(|l| l.lines())
            .filter(|l| !l.starts_with("***"))
            .collect();
        Ok(Some(found.join("; ")))
    }

    /// Checks every record of every chain, quarantined ones included.
    pub fn full_check(&self) -> Result<IntegrityReport, StoreError> {
        super::integrity::full_check(self)
    }

    /// Fills in the store's folder on a full disk, and how much room `records` need.
    fn locate(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::DiskFull { needed_bytes, .. } => StoreError::DiskFull {
                dir: self.dir.clone(),
                needed_bytes,
            },
            other => other,
        }
    }

    fn check_served(&self, chain: &ChainId) -> Result<(), StoreError> {
        if self.quarantined.contains(chain) {
            return Err(StoreError::Quarantined {
                pod: chain.pod,
                author: chain.author,
            });
        }
        Ok(())
    }

    /// The row id and record of `hash`, if held.
    fn find(&self, hash: &ActionHash) -> Result<Option<(i64, Record, bool)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, action, entry, purged FROM records WHERE hash_prefix = ?1")
            .map_err(sqlite_error)?;
        let mut rows = statement.query([hash_prefix(hash)]).map_err(sqlite_error)?;
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            let id: i64 = row.get(0).map_err(sqlite_error)?;
            let action: Vec<u8> = row.get(1).map_err(sqlite_error)?;
            let entry: Option<Vec<u8>> = row.get(2).map_err(sqlite_error)?;
            let purged: bool = row.get(3).map_err(sqlite_error)?;
            let record = decode_record(&self.key, id, &action, entry.as_deref())?;
            if record.hash() == *hash {
                return Ok(Some((id, record, purged)));
            }
        }
        Ok(None)
    }

    fn read_by_seq(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        let Some(&chain_id) = self.chain_ids.get(chain) else {
            return Ok(None);
        };
        self.conn
            .prepare_cached("SELECT id, action, entry FROM records WHERE chain = ?1 AND seq = ?2")
            .map_err(sqlite_error)?
            .query_row(params![chain_id, seq as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, Option<Vec<u8>>>(2)?,
                ))
            })
            .optional()
            .map_err(sqlite_error)?
            .map(|(id, action, entry)| {
                let record = decode_record(&self.key, id, &action, entry.as_deref())?;
                expect_position(id, &record, chain, seq)?;
                Ok(record)
            })
            .transpose()
    }

    fn read_range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let Some(&chain_id) = self.chain_ids.get(chain) else {
            return Ok(Vec::new());
        };
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT id, seq, action, entry FROM records WHERE chain = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(sqlite_error)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = statement
            .query(params![chain_id, from_seq as i64, limit])
            .map_err(sqlite_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            let id: i64 = row.get(0).map_err(sqlite_error)?;
            let seq: i64 = row.get(1).map_err(sqlite_error)?;
            let action: Vec<u8> = row.get(2).map_err(sqlite_error)?;
            let entry: Option<Vec<u8>> = row.get(3).map_err(sqlite_error)?;
            let record = decode_record(&self.key, id, &action, entry.as_deref())?;
            expect_position(id, &record, chain, seq as u64)?;
            out.push(record);
        }
        Ok(out)
    }

    fn read_heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, head_seq, head_hash FROM chains")
            .map_err(sqlite_error)?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                ))
            })
            .map_err(sqlite_error)?;
        let by_id: HashMap<i64, ChainId> = self.chain_ids.iter().map(|(c, i)| (*i, *c)).collect();
        let mut out = BTreeMap::new();
        for row in rows {
            let (id, seq, hash) = row.map_err(sqlite_error)?;
            let (Some(chain), Some(hash), Ok(seq)) = (
                by_id.get(&id),
                ActionHash::from_slice(&hash),
                u64::try_from(seq),
            ) else {
                return Err(StoreError::Damaged(format!(
                    "the head of chain row {id} is malformed"
                )));
            };
            out.insert(*chain, ChainHead { seq, hash });
        }
        Ok(out)
    }

    fn read_head(&self, chain: &ChainId) -> Result<Option<ChainHead>, StoreError> {
        let Some(&chain_id) = self.chain_ids.get(chain) else {
            return Ok(None);
        };
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT head_seq, head_hash FROM chains WHERE id = ?1")
            .map_err(sqlite_error)?
            .query_row([chain_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(sqlite_error)?;
        row.map(
            |(seq, hash)| match (u64::try_from(seq), ActionHash::from_slice(&hash)) {
                (Ok(seq), Some(hash)) => Ok(ChainHead { seq, hash }),
                _ => Err(StoreError::Damaged(format!(
                    "the head of chain row {chain_id} is malformed"
                ))),
            },
        )
        .transpose()
    }

    fn write_batch(&mut self, records: &[ValidRecord]) -> Result<(), StoreError> {
        let new_heads = plan_appends(records, |chain| self.read_head(chain))?;
        let tx = self.conn.transaction().map_err(sqlite_error)?;
        let mut new_ids = Vec::new();
        {
            let mut insert_chain = tx
                .prepare_cached(
                    "INSERT INTO chains(pod, author, head_seq, head_hash) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sqlite_error)?;
            let mut update_head = tx
                .prepare_cached("UPDATE chains SET head_seq = ?2, head_hash = ?3 WHERE id = ?1")
                .map_err(sqlite_error)?;
            let mut ids = HashMap::new();
            for (chain, head) in &new_heads {
                let id = match self.chain_ids.get(chain) {
                    Some(&id) => {
                        update_head
                            .execute(params![id, head.seq as i64, head.hash.as_bytes()])
                            .map_err(sqlite_error)?;
                        id
                    }
                    None => {
                        insert_chain
                            .execute(params![
                                chain.pod.as_bytes(),
                                chain.author.as_bytes(),
                                head.seq as i64,
                                head.hash.as_bytes()
                            ])
                            .map_err(sqlite_error)?;
                        let id = tx.last_insert_rowid();
                        new_ids.push((*chain, id));
                        id
                    }
                };
                ids.insert(*chain, id);
            }
            let mut insert_record = tx
                .prepare_cached(
                    "INSERT INTO records(chain, seq, hash_prefix, type_tag, action, entry) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(sqlite_error)?;
            for record in records {
                let hash = record.hash();
                let action = record.action();
                let tag = action
                    .body
                    .entry_ref()
                    .map(|entry| tag_value(&type_tag(&entry.zome, &entry.entry_type)));
                let sealed = record
                    .entry
                    .as_ref()
                    .map(|entry| self.key.seal(&hash, entry));
                let chain_id = ids[&ChainId::of(record)];
                insert_record
                    .execute(params![
                        chain_id,
                        action.seq as i64,
                        hash_prefix(&hash),
                        tag,
                        record.without_entry().to_bytes(),
                        sealed
                    ])
                    .map_err(sqlite_error)?;
                index::on_append(&tx, &self.key, tx.last_insert_rowid(), chain_id, record)?;
            }
        }
        tx.commit().map_err(sqlite_error)?;
        self.chain_ids.extend(new_ids);
        Ok(())
    }

    /// Overwrites purged bytes in the database file and empties the log, if a purge is
    /// waiting for it. A failure leaves it waiting: the next write, purge or close retries.
    fn scrub_if_pending(&mut self) -> Result<(), StoreError> {
        if self.scrub_pending && scrub::scrub(&self.conn, &self.dir)? {
            self.scrub_pending = false;
        }
        Ok(())
    }
}

/// Makes the store's folder (0700) and an empty database file (0600) if they are missing,
/// so neither is ever readable by other local users. SQLite gives its log and shared-memory
/// files the database file's mode.
fn create_private(dir: &Path, file: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("create", dir))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(file)
        .map_err(io("create", file))?;
    Ok(())
}

/// Refuses a row whose record is not the one its chain and seq columns say.
fn expect_position(id: i64, record: &Record, chain: &ChainId, seq: u64) -> Result<(), StoreError> {
    if ChainId::of(record) != *chain || record.action().seq != seq {
        return Err(StoreError::Damaged(format!(
            "record row {id} is filed under another chain or seq than its own"
        )));
    }
    Ok(())
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // The last scrub a purge is owed, at the latest at a clean stop.
        if let Err(error) = scrub::scrub(&self.conn, &self.dir).map(|_| ()) {
            tracing::error!(%error, "the store's log could not be emptied at close; purged bytes are overwritten at the next start");
        }
    }
}

impl ChainRead for SqliteStore {
    fn chain_heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        self.read_heads()
    }

    fn chain_range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.read_range(chain, from_seq, limit)
    }

    fn chain_get(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        self.read_by_seq(chain, seq)
    }
}

impl Store for SqliteStore {
    fn append_batch(&mut self, records: &[ValidRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        for record in records {
            self.check_served(&ChainId::of(record))?;
        }
        self.write_batch(records).map_err(|error| match error {
            // Sized only when the disk is full: encoding every record again would cost each
            // append.
            StoreError::DiskFull { .. } => StoreError::DiskFull {
                dir: self.dir.clone(),
                needed_bytes: 2 * records
                    .iter()
                    .map(|r| r.to_bytes().len() as u64)
                    .sum::<u64>()
                    + WRITE_MARGIN_BYTES,
            },
            other => other,
        })?;
        self.scrub_if_pending().map_err(|e| self.locate(e))
    }

    fn get(&self, hash: &ActionHash) -> Result<Option<Record>, StoreError> {
        let record = self.find(hash)?.map(|(_, record, _)| record);
        if let Some(record) = &record {
            self.check_served(&ChainId::of(record))?;
        }
        Ok(record)
    }

    fn get_by_seq(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        self.check_served(chain)?;
        self.read_by_seq(chain, seq)
    }

    fn range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.check_served(chain)?;
        self.read_range(chain, from_seq, limit)
    }

    fn head(&self, chain: &ChainId) -> Result<Option<ChainHead>, StoreError> {
        self.check_served(chain)?;
        self.read_head(chain)
    }

    fn heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        self.read_heads()
    }

    fn typed_records(
        &self,
        chain: &ChainId,
        zome: &str,
        entry_type: &str,
    ) -> Result<Vec<Record>, StoreError> {
        self.check_served(chain)?;
        let Some(&chain_id) = self.chain_ids.get(chain) else {
            return Ok(Vec::new());
        };
        codec::typed_records(&self.conn, &self.key, chain_id, zome, entry_type, None)
    }

    fn purge_entry(&mut self, hash: &ActionHash) -> Result<bool, StoreError> {
        let Some((id, record, _)) = self.find(hash)? else {
            return Ok(false);
        };
        let purge = |conn: &Connection| -> Result<(), StoreError> {
            let tx = conn.unchecked_transaction().map_err(sqlite_error)?;
            tx.prepare_cached("UPDATE records SET entry = NULL, purged = 1 WHERE id = ?1")
                .map_err(sqlite_error)?
                .execute([id])
                .map_err(sqlite_error)?;
            index::on_purge(&tx, id)?;
            tx.commit().map_err(sqlite_error)
        };
        purge(&self.conn).map_err(|e| self.locate(e))?;
        self.scrub_pending = true;
        self.scrub_if_pending().map_err(|e| self.locate(e))?;
        Ok(record.entry.is_some())
    }

    fn fill_entry(&mut self, record: &Record) -> Result<bool, StoreError> {
        let hash = record.hash();
        let Some(entry) = &record.entry else {
            return Ok(false);
        };
        match self.find(&hash)? {
            Some((id, held, false)) if held.entry.is_none() => {
                let sealed = self.key.seal(&hash, entry);
                let fill = |conn: &Connection, key: &StoreKey| -> Result<(), StoreError> {
                    let tx = conn.unchecked_transaction().map_err(sqlite_error)?;
                    tx.prepare_cached("UPDATE records SET entry = ?2 WHERE id = ?1")
                        .map_err(sqlite_error)?
                        .execute(params![id, sealed])
                        .map_err(sqlite_error)?;
                    index::on_fill(&tx, key, id, record)?;
                    tx.commit().map_err(sqlite_error)
                };
                fill(&self.conn, &self.key).map_err(|e| self.locate(e))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn referring(
        &self,
        target: &ActionHash,
        relation: super::Relation,
        after: Option<&ActionHash>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        index::referring(&self.conn, &self.key, target, relation, after, limit)
    }

    fn was_purged(&self, hash: &ActionHash) -> Result<bool, StoreError> {
        Ok(self.find(hash)?.is_some_and(|(_, _, purged)| purged))
    }

    fn keep_warrant(&mut self, warrant: &Warrant) -> Result<bool, StoreError> {
        let pod = warrant.pod();
        let offender = warrant.offender().key_hash();
        let sealed = self
            .key
            .seal_blob(&codec::warrant_aad(pod), &warrant.to_bytes());
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO warrants(pod, offender, sealed) VALUES (?1, ?2, ?3)",
            )
            .map_err(sqlite_error)?
            .execute(params![pod.as_bytes(), offender.as_bytes(), sealed])
            .map_err(|e| self.locate(sqlite_error(e)))?;
        Ok(inserted == 1)
    }

    fn warrants(&self, pod: &DnaHash) -> Result<Vec<Warrant>, StoreError> {
        read_warrants(&self.conn, &self.key, pod)
    }
}

/// The warrants kept for `pod`, in offender order; one that does not open is logged and
/// skipped.
pub(crate) fn read_warrants(
    conn: &Connection,
    key: &StoreKey,
    pod: &DnaHash,
) -> Result<Vec<Warrant>, StoreError> {
    let mut statement = conn
        .prepare_cached("SELECT offender, sealed FROM warrants WHERE pod = ?1 ORDER BY offender")
        .map_err(sqlite_error)?;
    let rows = statement
        .query_map([pod.as_bytes()], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
        })
        .map_err(sqlite_error)?;
    let mut out = Vec::new();
    for row in rows {
        let (offender, sealed) = row.map_err(sqlite_error)?;
        let opened = key
            .open_blob(&codec::warrant_aad(pod), &sealed)
            .map_err(|e| e.to_string())
            .and_then(|bytes| Warrant::from_bytes(&bytes).map_err(|e| e.to_string()));
        match opened {
            Ok(warrant) => out.push(warrant),
            // One damaged warrant must not cost the others, nor the start: the offender
            // is warranted again when it misbehaves again.
            Err(error) => {
                tracing::error!(offender = %hex::encode(offender), %error, "a kept warrant does not open; skipped")
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
impl SqliteStore {
    /// Writes raw bytes as a record's stored action, bypassing every check, to simulate
    /// damage.
    pub(crate) fn overwrite_raw_for_test(&self, hash: &ActionHash, bytes: &[u8]) {
        let (id, _, _) = self.find(hash).expect("read").expect("held");
        self.conn
            .execute(
                "UPDATE records SET action = ?2 WHERE id = ?1",
                params![id, bytes],
            )
            .expect("raw write");
    }
}
