//! The data dir: where one agent's key, store and lock live.
//!
//! ```text
//! <data-dir>/            mode 0700
//!   agent.key            the encrypted agent key (see crate::keystore)
//!   store/               the sled store of source chains
//!   myco.lock            held by the one process using the dir; holds its pid
//! ```
//!
//! [`DataPaths`] names the files; [`DataDir`] is the lock, held for as long as the value
//! lives. Commands that only read the public key need no lock; anything that opens the store
//! or writes the key takes it.

use std::fs::{DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::keystore::Keystore;
use crate::store::{holds_sled_store, migrate_sled_store, SqliteStore, StoreError, StoreKey};

/// The key file's name inside the data dir.
pub const KEY_FILE: &str = "agent.key";
/// The store directory's name inside the data dir.
pub const STORE_DIR: &str = "store";
/// The lock file's name inside the data dir.
pub const LOCK_FILE: &str = "myco.lock";
/// Largest lock file read when reporting the holder's pid; a pid is a few digits.
const MAX_LOCK_FILE_BYTES: u64 = 64;

/// Why the data dir could not be found, created or locked.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// No `--data-dir` was given and the platform has no home directory to put one in.
    #[error("cannot find a home directory for the default data dir; pass --data-dir or set MYCO_DATA_DIR")]
    NoDefault,
    /// The directory does not exist.
    #[error("data dir {} does not exist: run `myco init` first, or pass --data-dir", path.display())]
    Missing {
        /// The data dir.
        path: PathBuf,
    },
    /// Another process holds the lock.
    #[error("data dir {} is locked by another myco process ({}); stop it or pass --data-dir", path.display(), describe_pid(*pid))]
    Locked {
        /// The data dir.
        path: PathBuf,
        /// The holder's pid, if the lock file names one.
        pid: Option<u32>,
    },
    /// A file operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

fn describe_pid(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".to_string(),
    }
}

/// The paths inside one data dir.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataPaths {
    root: PathBuf,
}

impl DataPaths {
    /// The data dir at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataPaths { root: root.into() }
    }

    /// The data dir given on the command line (or by `MYCO_DATA_DIR`), else the platform's
    /// default (`~/.local/share/myco` on Linux). Relative paths are made absolute.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Self, DataDirError> {
        let root = match explicit {
            Some(path) => path,
            None => directories::ProjectDirs::from("org", "myco", "myco")
                .ok_or(DataDirError::NoDefault)?
                .data_dir()
                .to_path_buf(),
        };
        let root = std::path::absolute(&root).map_err(|source| DataDirError::Io {
            action: "resolve",
            path: root.clone(),
            source,
        })?;
        Ok(DataPaths { root })
    }

    /// The data dir itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The encrypted agent key.
    pub fn key_file(&self) -> PathBuf {
        self.root.join(KEY_FILE)
    }

    /// The store directory.
    pub fn store_dir(&self) -> PathBuf {
        self.root.join(STORE_DIR)
    }

    /// The lock file.
    pub fn lock_file(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// The keystore at [`DataPaths::key_file`].
    pub fn keystore(&self) -> Keystore {
        Keystore::new(self.key_file())
    }
}

/// A locked data dir. The lock is released when this value is dropped (or the process ends).
#[derive(Debug)]
pub struct DataDir {
    paths: DataPaths,
    /// What opening made private.
    tightened: Vec<PathBuf>,
    /// Held open for the lock; never read after locking.
    _lock: File,
}

impl DataDir {
    /// Creates the data dir (mode 0700) if it does not exist, then locks it.
    pub fn create(paths: DataPaths) -> Result<Self, DataDirError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&paths.root)
            .map_err(|source| DataDirError::Io {
                action: "create data dir",
                path: paths.root.clone(),
                source,
            })?;
        Self::open(paths)
    }

    /// Locks an existing data dir.
    pub fn open(paths: DataPaths) -> Result<Self, DataDirError> {
        if !paths.root.is_dir() {
            return Err(DataDirError::Missing { path: paths.root });
        }
        let lock = lock(&paths)?;
        tracing::debug!(data_dir = %paths.root.display(), "data dir locked");
        let mut tightened = Vec::new();
        if let Err(error) = make_private(&paths.root, 0, &mut tightened) {
            // The node still runs (a filesystem without Unix modes refuses every chmod), but
            // the operator is told what is exposed.
            tracing::warn!(%error, "the data dir could not be made private; other local users may read it: fix its owner and mode (chmod -R go-rwx)");
        }
        Ok(DataDir {
            paths,
            tightened,
            _lock: lock,
        })
    }

    /// What opening the dir found wrong and fixed, for `myco status`: files and folders that
    /// other local users could read, made private.
    pub fn warnings(&self) -> Vec<String> {
        if self.tightened.is_empty() {
            return Vec::new();
        }
        let shown: Vec<String> = self
            .tightened
            .iter()
            .take(3)
            .map(|p| p.display().to_string())
            .collect();
        let more = self.tightened.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        vec![format!(
            "{} files and folders of the data dir were open to other local users and were made private (0700/0600) at start: {}{more}; check the umask of whatever made them",
            self.tightened.len(),
            shown.join(", ")
        )]
    }

    /// The paths inside the dir.
    pub fn paths(&self) -> &DataPaths {
        &self.paths
    }

    /// Opens (or creates) the store sealed under `key`, running its open-time integrity
    /// check. A store written by an earlier Myco is moved into the sealed format first.
    pub fn open_store(&self, key: &StoreKey) -> Result<SqliteStore, StoreError> {
        let dir = self.paths.store_dir();
        migrate_sled_store(&dir, key)?;
        if let Some(loss) = self.store_lost() {
            return Err(StoreError::Damaged(loss));
        }
        SqliteStore::open(&dir, key.clone())
    }

    /// Why the store must have been lost, if it was: its file is missing or empty although
    /// this node hosts pods. Opening it would quietly start an empty store, so it is reported
    /// as damage instead; `myco chain verify --repair` starts the empty store on purpose.
    pub fn store_lost(&self) -> Option<String> {
        let hosts_pods =
            std::fs::metadata(self.paths.root.join("pods.toml")).is_ok_and(|m| m.len() > 0);
        let store_dir = self.paths.store_dir();
        let file = store_dir.join(crate::store::DB_FILE);
        let empty = std::fs::metadata(&file).map_or(true, |m| m.len() == 0);
        (hosts_pods && empty && !holds_sled_store(&store_dir)).then(|| {
            format!(
                "the store file {} is missing or empty, yet this node hosts pods: its chains were lost",
                file.display()
            )
        })
    }
}

/// How deep [`make_private`] walks: the data dir, the store under it, and sled's own
/// folders (`blobs/`, snapshots) under that.
const PRIVATE_DEPTH: usize = 4;

/// Makes a data dir private to its owner, whoever made it and with whatever umask: every
/// folder 0700 and every file 0600, links left alone (never followed). A data dir made by
/// `mkdir` (0755), or files written under a loose umask (0644), would otherwise let other
/// local users read private entries.
fn make_private(
    path: &Path,
    depth: usize,
    tightened: &mut Vec<PathBuf>,
) -> Result<(), DataDirError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |action| {
        let path = path.to_path_buf();
        move |source| DataDirError::Io {
            action,
            path,
            source,
        }
    };
    let meta = std::fs::symlink_metadata(path).map_err(io("read the mode of"))?;
    let wanted = if meta.is_dir() {
        0o700
    } else if meta.is_file() {
        0o600
    } else {
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode != wanted {
        tracing::info!(path = %path.display(), mode = format!("{mode:o}"), "made private to its owner");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))
            .map_err(io("make private (chmod) in the data dir; check who owns"))?;
        tightened.push(path.to_path_buf());
    }
    if meta.is_dir() && depth < PRIVATE_DEPTH {
        for entry in std::fs::read_dir(path).map_err(io("list"))? {
            let entry = entry.map_err(io("list"))?;
            make_private(&entry.path(), depth + 1, tightened)?;
        }
    }
    Ok(())
}

/// Takes the lock on `<root>/myco.lock` and writes our pid into it.
fn lock(paths: &DataPaths) -> Result<File, DataDirError> {
    let path = paths.lock_file();
    let io = |action| {
        let path = path.clone();
        move |source| DataDirError::Io {
            action,
            path,
            source,
        }
    };
    // Not truncated on open: until we hold the lock, the pid in it is the holder's.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io("open lock file"))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(DataDirError::Locked {
                path: paths.root.clone(),
                pid: read_pid(&mut file),
            })
        }
        Err(TryLockError::Error(source)) => return Err(io("lock")(source)),
    }
    file.set_len(0).map_err(io("write lock file"))?;
    writeln!(file, "{}", std::process::id()).map_err(io("write lock file"))?;
    Ok(file)
}

/// The pid written in a lock file, if it holds one.
fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.take(MAX_LOCK_FILE_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_new_data_dir_is_private_to_its_owner() {
        let parent = tempfile::tempdir().expect("temp dir");
        let paths = DataPaths::new(parent.path().join("a/b"));
        let dir = DataDir::create(paths).expect("create");
        let mode = fs::metadata(dir.paths().root())
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn an_existing_loose_data_dir_is_made_private_when_it_is_opened() {
        let parent = tempfile::tempdir().expect("temp dir");
        let root = parent.path().join("made-by-mkdir");
        let mode = |p: &Path| {
            fs::symlink_metadata(p)
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        fs::create_dir_all(root.join("store/blobs")).expect("mkdir");
        fs::write(root.join("pods.toml"), "x").expect("write");
        fs::write(root.join("store/db"), "x").expect("write");
        for (path, loose) in [
            (root.clone(), 0o755),
            (root.join("store"), 0o755),
            (root.join("store/blobs"), 0o755),
            (root.join("pods.toml"), 0o644),
            (root.join("store/db"), 0o644),
        ] {
            fs::set_permissions(&path, fs::Permissions::from_mode(loose)).expect("chmod");
        }
        let dir = DataDir::open(DataPaths::new(&root)).expect("open");
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("store")), 0o700);
        assert_eq!(mode(&root.join("store/blobs")), 0o700);
        assert_eq!(mode(&root.join("pods.toml")), 0o600);
        assert_eq!(mode(&root.join("store/db")), 0o600);
        assert_eq!(mode(&dir.paths().lock_file()), 0o600);
        let warnings = dir.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0]
                .starts_with("5 files and folders of the data dir were open to other local users"),
            "{warnings:?}"
        );
        drop(dir);
        let again = DataDir::open(DataPaths::new(&root)).expect("reopen");
        assert!(
            again.warnings().is_empty(),
            "nothing to tighten the second time"
        );
    }

    #[test]
    fn a_second_lock_names_the_holders_pid() {
        let parent = tempfile::tempdir().expect("temp dir");
        let paths = DataPaths::new(parent.path());
        let _held = DataDir::open(paths.clone()).expect("first lock");
        let err = DataDir::open(paths).expect_err("expected an error");
        let expected = format!(
            "locked by another myco process (pid {})",
            std::process::id()
        );
        assert!(err.to_string().contains(&expected), "{err}");
    }

    #[test]
    fn the_lock_is_released_when_the_guard_is_dropped() {
        let parent = tempfile::tempdir().expect("temp dir");
        let paths = DataPaths::new(parent.path());
        drop(DataDir::open(paths.clone()).expect("first lock"));
        DataDir::open(paths).expect("second lock after release");
    }

    #[test]
    fn opening_a_missing_dir_says_to_run_init() {
        let parent = tempfile::tempdir().expect("temp dir");
        let err = DataDir::open(DataPaths::new(parent.path().join("nope")))
            .expect_err("expected an error");
        assert!(err.to_string().contains("run `myco init` first"), "{err}");
    }

    #[test]
    fn relative_data_dirs_are_made_absolute() {
        let paths = DataPaths::resolve(Some(PathBuf::from("some/dir"))).expect("resolve");
        assert!(paths.root().is_absolute());
        assert!(paths.key_file().ends_with("some/dir/agent.key"));
    }
}
