//! The SQLite store's file settings and tables.
//!
//! | table | row | notes |
//! |---|---|---|
//! | `meta` | name, value | `format`, `key_check` (see [`StoreKey::check_value`]) |
//! | `chains` | id, pod, author, head seq, head hash | one row per chain; `id` is what records name |
//! | `records` | id, chain, seq, hash prefix, type tag, purged, action, entry | `action` is the record's wire form without its entry; `entry` is sealed, or NULL |
//! | `warrants` | pod, offender, sealed warrant | one per offender and pod |
//!
//! Records are found by the first 8 bytes of their action hash (`records_by_hash`); a read
//! always compares the full hash of the action it decodes, so two actions sharing a prefix
//! are told apart. The typed index (`records_by_type`) holds the first 8 bytes of
//! blake2b-256 of `zome/entry_type`.
//!
//! Settings, and why:
//! - `journal_mode=WAL`, `synchronous=FULL`: a commit returns after its WAL frames are
//!   `fsync`ed, so an acknowledged write survives a power cut.
//! - `secure_delete=ON`: deleted content is overwritten with zeros, in its page and in freed
//!   pages, so a purge leaves no entry bytes in the database file.
//! - `auto_vacuum=INCREMENTAL`: freed pages can be handed back to the file system.
//! - `temp_store=MEMORY`, `mmap_size=0`, a bounded page cache: no temporary files outside
//!   the data dir, and memory that does not grow with the store.

use rusqlite::{Connection, OptionalExtension};

use super::super::sealing::StoreKey;
use super::sqlite_error;
use crate::store::StoreError;

/// The store format this build writes and reads.
pub const STORE_FORMAT: i64 = 1;
/// SQLite's `application_id` for Myco stores ("MYCO").
const APPLICATION_ID: i64 = 0x4d59_434f;
/// The page cache, in KiB (negative for SQLite's "KiB" unit).
pub const CACHE_KIB: i64 = 8 * 1024;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta(
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chains(
    id INTEGER PRIMARY KEY,
    pod BLOB NOT NULL,
    author BLOB NOT NULL,
    head_seq INTEGER NOT NULL,
    head_hash BLOB NOT NULL,
    UNIQUE(pod, author)
);
CREATE TABLE IF NOT EXISTS records(
    id INTEGER PRIMARY KEY,
    chain INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash_prefix INTEGER NOT NULL,
    type_tag INTEGER,
    purged INTEGER NOT NULL DEFAULT 0,
    action BLOB NOT NULL,
    entry BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_seq ON records(chain, seq);
CREATE INDEX IF NOT EXISTS records_by_hash ON records(hash_prefix);
CREATE INDEX IF NOT EXISTS records_by_type ON records(chain, type_tag, seq)
    WHERE type_tag IS NOT NULL;
CREATE TABLE IF NOT EXISTS warrants(
    pod BLOB NOT NULL,
    offender BLOB NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY(pod, offender)
) WITHOUT ROWID;
";

/// True for a store whose making was cut short by an older Myco, which made its tables and
/// its `meta` rows in separate steps: tables, no format row, and no record. Such a store holds
/// nothing, and is made again.
fn is_unfinished(conn: &Connection) -> Result<bool, StoreError> {
    let exists = |sql: &str| -> Result<bool, StoreError> {
        conn.query_row(sql, [], |row| row.get(0))
            .map_err(sqlite_error)
    };
    if exists("SELECT EXISTS(SELECT 1 FROM meta WHERE name = 'format')")? {
        return Ok(false);
    }
    let has_records_table = exists(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records')",
    )?;
    Ok(!has_records_table || !exists("SELECT EXISTS(SELECT 1 FROM records)")?)
}

/// Applies the settings every connection needs. `auto_vacuum` only takes on a new file,
/// before its first table.
pub fn configure(conn: &Connection) -> Result<(), StoreError> {
    // The page size a repair's page reader expects (`pages::PAGE_SIZE`); it only takes on a
    // new file.
    conn.pragma_update(None, "page_size", super::pages::PAGE_SIZE as i64)
        .map_err(sqlite_error)?;
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
        .map_err(sqlite_error)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Damaged(format!(
            "the store refused write-ahead logging (journal mode {mode}); is the data dir on a network file system? move it to a local disk"
        )));
    }
    for (name, value) in [
        ("synchronous", "FULL"),
        ("secure_delete", "ON"),
        ("temp_store", "MEMORY"),
        ("mmap_size", "0"),
        ("foreign_keys", "OFF"),
    ] {
        conn.pragma_update(None, name, value)
            .map_err(sqlite_error)?;
    }
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(sqlite_error)?;
    Ok(())
}

/// Creates the tables of a new store, or checks an existing one's format and key.
pub fn prepare(conn: &Connection, key: &StoreKey) -> Result<(), StoreError> {
    let application_id: i64 = conn
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    let has_tables: bool = conn
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'meta')",
            [],
            |row| row.get(0),
        )
        .map_err(sqlite_error)?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(StoreError::Damaged(format!(
            "the store file belongs to another program (application id {application_id:#x}); move it out of the data dir"
        )));
    }
    let fresh = !has_tables || is_unfinished(conn)?;
    if fresh {
        // One transaction: a crash while the store is made leaves it empty, or whole.
        let tx = conn.unchecked_transaction().map_err(sqlite_error)?;
        tx.execute_batch(TABLES).map_err(sqlite_error)?;
        tx.execute_batch(super::index::TABLES)
            .map_err(sqlite_error)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sqlite_error)?;
        tx.execute(
            "INSERT OR REPLACE INTO meta(name, value) VALUES ('format', ?1), ('key_check', ?2), (?3, x'01')",
            rusqlite::params![STORE_FORMAT.to_be_bytes(), key.check_value(), super::index::BUILT],
        )
        .map_err(sqlite_error)?;
        tx.commit().map_err(sqlite_error)?;
        return Ok(());
    }
    let value = |name: &str| -> Result<Option<Vec<u8>>, StoreError> {
        conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
            row.get(0)
        })
        .optional()
        .map_err(sqlite_error)
    };
    let format = value("format")?
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(i64::from_be_bytes);
    if format != Some(STORE_FORMAT) {
        return Err(StoreError::Damaged(format!(
            "the store's format is {format:?}, and this build reads format {STORE_FORMAT}; run the Myco version that wrote it, or restore from a backup"
        )));
    }
    if value("key_check")?.as_deref() != Some(&key.check_value()[..]) {
        return Err(StoreError::WrongKey);
    }
    Ok(())
}
