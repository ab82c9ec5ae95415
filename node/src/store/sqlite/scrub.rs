//! Making a purge reach the disk: the database file gets the zeroed pages, the log is cut to
//! nothing, and freed pages go back to the file system.
//!
//! With `secure_delete` on, SQLite overwrites a deleted entry with zeros in the page that
//! held it. In WAL mode that zeroed page first goes to the log; the older copies of the page
//! (in the database file, and earlier frames of the log) still hold the entry until a
//! checkpoint writes the page back and the log is truncated. [`scrub`] does both.

use std::path::Path;

use rusqlite::Connection;

use super::sqlite_error;
pub use crate::store::files::sync_dir;
use crate::store::StoreError;

/// Freed pages kept in the file for reuse; beyond this many, they are handed back.
const FREE_PAGES_KEPT: i64 = 256;

/// Checkpoints the log into the database file and truncates it, then gives freed pages back
/// when there are many, and syncs the store's folder (a truncated or new log is a change to
/// it). Returns `false` when a reader kept the checkpoint from finishing (the caller tries
/// again later).
pub fn scrub(conn: &Connection, dir: &Path) -> Result<bool, StoreError> {
    let done = checkpoint(conn)? && give_back_free_pages(conn)?;
    sync_dir(dir)?;
    Ok(done)
}

/// Hands freed pages back to the file system when there are more than a few hundred;
/// returns whether the log could be emptied again afterwards.
fn give_back_free_pages(conn: &Connection) -> Result<bool, StoreError> {
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    if free <= FREE_PAGES_KEPT {
        return Ok(true);
    }
    conn.execute_batch("PRAGMA incremental_vacuum")
        .map_err(sqlite_error)?;
    checkpoint(conn)
}

fn checkpoint(conn: &Connection) -> Result<bool, StoreError> {
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    Ok(busy == 0)
}
