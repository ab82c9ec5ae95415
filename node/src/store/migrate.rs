//! The move of a store written by an earlier Myco (on sled, entries in clear) into the SQLite
//! store, sealed: done once, on the first start that finds one, with a progress bar.
//!
//! 1. Every chain is copied in seq order into a new store built in `<store>/migrating/`,
//!    with each record's system checks (shape, hashes, signature, link) run again; purge
//!    marks and kept warrants come along. A chain that fails a check keeps its sound prefix,
//!    and the rest comes back through sync, as after a repair.
//! 2. The new store's heads are compared with what was copied.
//! 3. The new file takes its place (`<store>/chains.db`), and the folder is synced.
//! 4. Only then are sled's files overwritten with zeros and removed, since they hold every
//!    entry in clear, deleted ones included.
//!
//! A stop at any point is safe: before step 3 the old store is untouched and the next start
//! begins again; after it, the next start finds `chains.db` and only finishes step 4.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::files::{io, sync_dir};
use super::integrity::ChainRead;
use super::sqlite::DB_FILE;
use super::{SledStore, SqliteStore, Store, StoreError, StoreKey, ValidRecord};

/// The files and folders of a sled store.
const SLED_FILES: [&str; 3] = ["conf", "db", "blobs"];
/// The folder the new store is built in.
const MIGRATING_DIR: &str = "migrating";
/// Records copied per batch.
const BATCH: usize = 1024;

/// What a migration moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Migration {
    /// Chains copied.
    pub chains: usize,
    /// Records copied.
    pub records: u64,
    /// Records left behind because they, or a record before them on their chain, failed a
    /// check: sync brings them back.
    pub left_for_sync: u64,
}

/// Whether `dir` holds a sled store.
pub fn holds_sled_store(dir: &Path) -> bool {
    dir.join("conf").is_file() && dir.join("db").is_file()
}

/// Moves a sled store in `dir` into a sealed SQLite store, if there is one to move. Returns
/// what was moved, or `None` when there was nothing to do.
pub fn migrate_sled_store(dir: &Path, key: &StoreKey) -> Result<Option<Migration>, StoreError> {
    if !holds_sled_store(dir) {
        return Ok(None);
    }
    if dir.join(DB_FILE).is_file() {
        // A migration that stopped after moving the new store in: finish the clean-up.
        tracing::info!(store = %dir.display(), "removing the old store's files, left by an interrupted migration");
        erase_sled_files(dir)?;
        return Ok(None);
    }
    tracing::info!(store = %dir.display(), "moving the store into the sealed format (once)");
    let target_dir = dir.join(MIGRATING_DIR);
    if target_dir.exists() {
        std::fs::remove_dir_all(&target_dir).map_err(io("clear", &target_dir))?;
    }
    let migration = {
        let source = SledStore::open(dir)?;
        let mut target = SqliteStore::open_unchecked(&target_dir, key.clone())?;
        copy(&source, &mut target)?
    };
    std::fs::rename(target_dir.join(DB_FILE), dir.join(DB_FILE))
        .map_err(io("move the migrated store into", dir))?;
    sync_dir(dir)?;
    std::fs::remove_dir_all(&target_dir).map_err(io("remove", &target_dir))?;
    erase_sled_files(dir)?;
    tracing::info!(
        chains = migration.chains,
        records = migration.records,
        left_for_sync = migration.left_for_sync,
        "store moved into the sealed format"
    );
    Ok(Some(migration))
}

fn copy(source: &SledStore, target: &mut SqliteStore) -> Result<Migration, StoreError> {
    let heads = source.chain_heads()?;
    let total: u64 = heads.values().map(|h| h.seq + 1).sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "moving the store into the sealed format {bar:40} {pos}/{len} records ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut migration = Migration {
        chains: heads.len(),
        ..Migration::default()
    };
    let mut pods = std::collections::BTreeSet::new();
    for (chain, head) in &heads {
        pods.insert(chain.pod);
        let mut prev = None;
        let mut next = 0;
        'chain: while next <= head.seq {
            let page = match source.chain_range(chain, next, BATCH) {
                Ok(page) if !page.is_empty() => page,
                _ => break,
            };
            let mut batch = Vec::with_capacity(page.len());
            let mut purged = Vec::new();
            for record in page {
                let seq = record.action().seq;
                if seq != next {
                    break;
                }
                let Ok(valid) = ValidRecord::checked(prev.as_ref(), record) else {
                    break;
                };
                if source.was_purged(&valid.hash())? {
                    purged.push(valid.hash());
                }
                prev = Some(valid.signed.clone());
                batch.push(valid);
                next = seq + 1;
            }
            let copied = batch.len();
            target.append_batch(&batch)?;
            for hash in purged {
                target.purge_entry(&hash)?;
            }
            migration.records += copied as u64;
            bar.inc(copied as u64);
            if copied < BATCH {
                break 'chain;
            }
        }
        migration.left_for_sync += head.seq + 1 - next;
    }
    for pod in pods {
        for warrant in source.warrants(&pod)? {
            target.keep_warrant(&warrant)?;
        }
    }
    bar.finish_and_clear();
    let copied: u64 = target.heads()?.values().map(|h| h.seq + 1).sum();
    if copied != migration.records {
        return Err(StoreError::Damaged(format!(
            "the migrated store holds {copied} records where {} were copied; the old store is left as it was",
            migration.records
        )));
    }
    Ok(migration)
}

/// Overwrites sled's files with zeros, then removes them: they hold every entry in clear.
fn erase_sled_files(dir: &Path) -> Result<(), StoreError> {
    let mut paths: Vec<PathBuf> = SLED_FILES.iter().map(|name| dir.join(name)).collect();
    for item in std::fs::read_dir(dir).map_err(io("list", dir))? {
        let path = item.map_err(io("list", dir))?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("snap."))
        {
            paths.push(path);
        }
    }
    for path in paths {
        erase(&path)?;
    }
    sync_dir(dir)
}

fn erase(path: &Path) -> Result<(), StoreError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.is_dir() {
        for item in std::fs::read_dir(path).map_err(io("list", path))? {
            erase(&item.map_err(io("list", path))?.path())?;
        }
        return std::fs::remove_dir(path).map_err(io("remove", path));
    }
    if meta.is_file() {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io("open", path))?;
        let zeros = vec![0u8; 1 << 20];
        let mut left = meta.len();
        file.rewind().map_err(io("rewind", path))?;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            file.write_all(&zeros[..n]).map_err(io("overwrite", path))?;
            left -= n as u64;
        }
        file.sync_all().map_err(io("sync", path))?;
    }
    std::fs::remove_file(path).map_err(io("remove", path))
}

#[cfg(test)]
mod tests {
    use myco_dna::{ChainAuthor, DnaHash, Entry, SigningKey, Timestamp, Visibility, Warrant};

    use super::*;
    use crate::store::{full_check, ChainId};

    fn key() -> StoreKey {
        StoreKey::derive(&SigningKey::from_bytes(&[21; 32]))
    }

    fn contains(dir: &Path, needle: &[u8]) -> bool {
        let mut folders = vec![dir.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for item in std::fs::read_dir(&folder).unwrap().flatten() {
                let path = item.path();
                if path.is_dir() {
                    folders.push(path);
                } else if std::fs::read(&path)
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle)
                {
                    return true;
                }
            }
        }
        false
    }

    #[test]
    fn a_sled_store_moves_into_the_sealed_store_with_purges_and_warrants_and_leaves_nothing_in_clear(
    ) {
        let dir = tempfile::tempdir().unwrap();
        let signing = SigningKey::from_bytes(&[3; 32]);
        let mut author = ChainAuthor::new(signing.clone(), DnaHash([4; 32]));
        let mut records = vec![author.genesis(Timestamp(1), Vec::new())];
        for i in 0..3000u32 {
            let text = format!("MIGRATED-STORY-{i:05}");
            records.push(author.create(
                Timestamp(2 + u64::from(i)),
                "content",
                "story",
                Visibility::Pod,
                Entry(text.into_bytes()),
            ));
        }
        let mut branch = ChainAuthor::resume(signing, &records[1].signed);
        let other = branch.create(
            Timestamp(99),
            "content",
            "story",
            Visibility::Pod,
            Entry(b"fork".to_vec()),
        );
        let warrant = Warrant::fork(records[2].signed.clone(), other.signed.clone());
        {
            let mut sled = SledStore::open(dir.path()).unwrap();
            let valid = ValidRecord::check_all(records.clone(), &mut Default::default()).unwrap();
            sled.append_batch(&valid).unwrap();
            assert!(sled.purge_entry(&records[7].hash()).unwrap());
            sled.keep_warrant(&warrant).unwrap();
        }
        assert!(contains(dir.path(), b"MIGRATED-STORY-00100"));

        let moved = migrate_sled_store(dir.path(), &key()).unwrap().unwrap();
        assert_eq!(
            moved,
            Migration {
                chains: 1,
                records: 3001,
                left_for_sync: 0
            }
        );
        assert!(!holds_sled_store(dir.path()));
        assert!(
            !contains(dir.path(), b"MIGRATED-STORY-"),
            "no entry left in clear"
        );
        let store = SqliteStore::open(dir.path(), key()).unwrap();
        assert!(full_check(&store).unwrap().is_sound());
        let chain = ChainId::of(&records[0]);
        assert_eq!(store.range(&chain, 0, 10_000).unwrap().len(), 3001);
        assert_eq!(
            store.get(&records[100].hash()).unwrap().as_ref(),
            Some(&records[100])
        );
        assert!(store.was_purged(&records[7].hash()).unwrap());
        assert_eq!(store.get(&records[7].hash()).unwrap().unwrap().entry, None);
        assert_eq!(store.warrants(&DnaHash([4; 32])).unwrap(), vec![warrant]);
        drop(store);
        assert_eq!(
            migrate_sled_store(dir.path(), &key()).unwrap(),
            None,
            "done once"
        );
    }

    #[test]
    fn an_interrupted_migration_starts_again_and_a_finished_one_only_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut author = ChainAuthor::new(SigningKey::from_bytes(&[5; 32]), DnaHash([4; 32]));
        let genesis = author.genesis(Timestamp(1), Vec::new());
        {
            let mut sled = SledStore::open(dir.path()).unwrap();
            sled.append(&ValidRecord::checked(None, genesis.clone()).unwrap())
                .unwrap();
        }
        // A stop while the new store was being built leaves a half-built folder.
        std::fs::create_dir(dir.path().join(MIGRATING_DIR)).unwrap();
        std::fs::write(dir.path().join(MIGRATING_DIR).join(DB_FILE), b"half").unwrap();
        assert_eq!(
            migrate_sled_store(dir.path(), &key())
                .unwrap()
                .map(|m| m.records),
            Some(1)
        );
        // A stop after the move but before the clean-up leaves sled's files beside it.
        std::fs::write(dir.path().join("conf"), b"old").unwrap();
        std::fs::write(dir.path().join("db"), b"old").unwrap();
        assert_eq!(migrate_sled_store(dir.path(), &key()).unwrap(), None);
        assert!(!holds_sled_store(dir.path()));
        let store = SqliteStore::open(dir.path(), key()).unwrap();
        assert_eq!(store.get(&genesis.hash()).unwrap(), Some(genesis));
    }
}
