//! `<data-dir>/restored.toml`: the mark of a data dir that may be older than its agent's
//! chains elsewhere. `myco backup restore` writes it. While it names a pod as not yet
//! anchored, the daemon does not write in that pod until the pod's peers have told it how far
//! its agent's chain goes there and it holds everything up to that point
//! (`docs/operations.md`, "Restore without forking"). `myco run --accept-fork-risk` writes
//! anyway.
//!
//! ```
//! use myco_node::restored::RestoredMark;
//!
//! let dir = tempfile::tempdir().unwrap();
//! RestoredMark::new("a backup made 2026-12-01 10:00 UTC", 1_000).save(dir.path()).unwrap();
//! let mut mark = RestoredMark::load(dir.path()).unwrap().unwrap();
//! let pod = myco_dna::DnaHash([1; 32]);
//! assert!(!mark.is_anchored(&pod));
//! mark.anchored(pod);
//! mark.save(dir.path()).unwrap();
//! assert!(RestoredMark::load(dir.path()).unwrap().unwrap().is_anchored(&pod));
//!
//! // An empty file, as `touch restored.toml` makes, is a mark with no pod anchored.
//! std::fs::write(dir.path().join("restored.toml"), "").unwrap();
//! assert!(!RestoredMark::load(dir.path()).unwrap().unwrap().is_anchored(&pod));
//! ```

use std::io::Write as _;
use std::path::Path;

use myco_dna::DnaHash;
use serde::{Deserialize, Serialize};

/// The file's name in the data dir.
pub const RESTORED_FILE: &str = "restored.toml";
/// Largest mark read: a few lines per pod.
const MAX_MARK_BYTES: u64 = 1024 * 1024;

/// What the mark says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoredMark {
    /// Where the data dir came from, for a person. An empty file is a mark too: a person
    /// who put a copy back by hand can `touch restored.toml`.
    #[serde(default)]
    pub from: String,
    /// When it was restored, µs since the Unix epoch.
    #[serde(default)]
    pub restored_at: u64,
    /// The pods whose peers confirmed this agent's newest records since (dna_…).
    #[serde(default)]
    pub anchored: Vec<String>,
}

/// Why the mark cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    /// Reading or writing failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not parse.
    #[error("restored.toml does not parse ({0}); fix it, or remove it only if this data dir is not older than its chains on the pods' peers")]
    Parse(String),
}

impl RestoredMark {
    /// A mark for a data dir restored from `from` at `restored_at`, no pod anchored yet.
    pub fn new(from: impl Into<String>, restored_at: u64) -> Self {
        RestoredMark {
            from: from.into(),
            restored_at,
            anchored: Vec::new(),
        }
    }

    /// The mark in `data_dir`, if there is one.
    pub fn load(data_dir: &Path) -> Result<Option<Self>, MarkError> {
        use std::io::Read as _;
        let path = data_dir.join(RESTORED_FILE);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(MarkError::Io {
                    action: "read",
                    path,
                    source,
                })
            }
        };
        let mut text = String::new();
        file.take(MAX_MARK_BYTES)
            .read_to_string(&mut text)
            .map_err(|source| MarkError::Io {
                action: "read",
                path: path.clone(),
                source,
            })?;
        toml::from_str(&text)
            .map(Some)
            .map_err(|e| MarkError::Parse(e.to_string()))
    }

    /// True once `pod`'s peers confirmed this agent's newest records.
    pub fn is_anchored(&self, pod: &DnaHash) -> bool {
        let pod = pod.to_string();
        self.anchored.contains(&pod)
    }

    /// Notes that `pod` is anchored.
    pub fn anchored(&mut self, pod: DnaHash) {
        if !self.is_anchored(&pod) {
            self.anchored.push(pod.to_string());
        }
    }

    /// The anchored pods that parse.
    pub fn anchored_pods(&self) -> std::collections::BTreeSet<DnaHash> {
        self.anchored
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Writes the mark into `data_dir`, atomically and durably.
    pub fn save(&self, data_dir: &Path) -> Result<(), MarkError> {
        let path = data_dir.join(RESTORED_FILE);
        let failed = |source| MarkError::Io {
            action: "write",
            path: path.clone(),
            source,
        };
        let body = toml::to_string(self).map_err(|e| MarkError::Parse(e.to_string()))?;
        let text = format!(
            "# This data dir was restored ({}). Until a pod's peers confirm this agent's newest\n\
             # records there, the daemon does not write in that pod, so the chain cannot fork.\n\
             # Pods confirmed so far are listed under `anchored`.\n{body}",
            self.from
        );
        let mut file = tempfile::NamedTempFile::new_in(data_dir).map_err(failed)?;
        file.write_all(text.as_bytes()).map_err(failed)?;
        file.as_file().sync_all().map_err(failed)?;
        file.persist(&path).map_err(|e| failed(e.error))?;
        if let Ok(dir) = std::fs::File::open(data_dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}
