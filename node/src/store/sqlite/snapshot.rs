//! A consistent copy of the store while it is in use, for backups: SQLite's `VACUUM INTO`
//! copies the database as one read transaction sees it, while the daemon goes on writing.
//! It copies live pages only, so bytes already purged from the store (free pages) do not
//! travel into the copy.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{sqlite_error, DB_FILE};
use crate::store::StoreError;

/// Copies the store in `dir` to the new file `out` (which must not exist), as one
/// transaction sees it.
pub fn snapshot_into(dir: &Path, out: &Path) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(
        dir.join(DB_FILE),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sqlite_error)?;
    let target = out.to_str().ok_or_else(|| StoreError::Io {
        action: "copy the store to",
        path: out.to_path_buf(),
        source: std::io::Error::other("the path is not UTF-8"),
    })?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(sqlite_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{ChainRead as _, Store as _, StoreKey};

    #[test]
    fn a_snapshot_opens_as_the_same_store() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::derive(&myco_dna::SigningKey::from_bytes(&[3; 32]));
        let mut store = SqliteStore::open(dir.path(), key.clone()).unwrap();
        let signing = myco_dna::SigningKey::from_bytes(&[4; 32]);
        let mut author = myco_dna::ChainAuthor::new(signing, myco_dna::DnaHash([9; 32]));
        let genesis = author.genesis(myco_dna::Timestamp(1_000), Vec::new());
        store
            .append(&crate::store::ValidRecord::judged(genesis))
            .unwrap();
        let copy = tempfile::tempdir().unwrap();
        snapshot_into(dir.path(), &copy.path().join(DB_FILE)).unwrap();
        drop(store);
        let reopened = SqliteStore::open(copy.path(), key).unwrap();
        assert_eq!(reopened.chain_heads().unwrap().len(), 1);
    }
}
