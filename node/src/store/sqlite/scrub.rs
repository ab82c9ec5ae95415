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
/// when there are many. Returns `false` when a reader kept the checkpoint from finishing
/// (the caller tries again later).
pub fn scrub(conn: &Connection, dir: &Path) -> Result<bool, StoreError> {
    if !checkpoint(conn)? {
        return Ok(false);
    }
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    if free > FREE_PAGES_KEPT {
        conn.execute_batch("PRAGMA incremental_vacuum")
            .map_err(sqlite_error)?;
        if !checkpoint(conn)? {
            return Ok(false);
        }
    }
    // A truncated log is a metadata change: make it durable too.
    sync_dir(dir)?;
    Ok(true)
}

fn checkpoint(conn: &Connection) -> Result<bool, StoreError> {
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    Ok(busy == 0)
}
