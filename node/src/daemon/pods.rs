//! The pods list: `<data-dir>/pods.toml`, the DNA manifest of every pod the node hosts, so a
//! restarted daemon resumes them. Written atomically and durably (write, fsync, rename, fsync
//! of the folder).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use myco_dna::{DnaHash, DnaManifest};
use serde::{Deserialize, Serialize};

/// The pods list's name inside the data dir.
pub const PODS_FILE: &str = "pods.toml";
/// Largest pods list read: 16 pods (a registry pointer's bound) of a few KiB each.
const MAX_PODS_FILE_BYTES: u64 = 1024 * 1024;
/// Most pods one node hosts: what one registry pointer can list.
pub const MAX_PODS: usize = crate::registry::MAX_POINTER_PODS;

/// Why the pods list could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PodsError {
    /// File IO failed.
    #[error("cannot {action} the pods list {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file does not parse, or a manifest in it is invalid.
    #[error("the pods list {} is damaged ({detail}); fix or remove the entry", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Too many pods.
    #[error("this node already hosts {MAX_PODS} pods, the most one registry pointer can list")]
    Full,
}

#[derive(Default, Serialize, Deserialize)]
struct PodsFile {
    #[serde(default)]
    pods: Vec<PodEntry>,
}

#[derive(Serialize, Deserialize)]
struct PodEntry {
    /// The pod id, for people reading the file; the manifest is the source of truth.
    dna_hash: String,
    /// The DNA manifest, as TOML.
    manifest: String,
}

/// The pods a node hosts, as stored in its data dir.
#[derive(Debug)]
pub struct PodsList {
    path: PathBuf,
    manifests: Vec<(DnaManifest, String)>,
}

impl PodsList {
    /// Reads the list in `data_dir` (empty if there is none yet).
    pub fn load(data_dir: &Path) -> Result<Self, PodsError> {
        let path = data_dir.join(PODS_FILE);
        let text = match fs::metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(PodsError::Io {
                    action: "read",
                    path,
                    source,
                })
            }
            Ok(meta) if meta.len() > MAX_PODS_FILE_BYTES => {
                return Err(PodsError::Corrupt {
                    path,
                    detail: format!("over {MAX_PODS_FILE_BYTES} bytes"),
                })
            }
            Ok(_) => fs::read_to_string(&path).map_err(|source| PodsError::Io {
                action: "read",
                path: path.clone(),
                source,
            })?,
        };
        let file: PodsFile = toml::from_str(&text).map_err(|e| PodsError::Corrupt {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let mut manifests = Vec::new();
        for entry in file.pods {
            let dna = myco_zomes::load_dna(&entry.manifest).map_err(|e| PodsError::Corrupt {
                path: path.clone(),
                detail: format!("pod {}: {e}", entry.dna_hash),
            })?;
            manifests.push((dna, entry.manifest));
        }
        Ok(PodsList { path, manifests })
    }

    /// The hosted pods' manifests.
    pub fn manifests(&self) -> impl Iterator<Item = &DnaManifest> {
        self.manifests.iter().map(|(dna, _)| dna)
    }

    /// The hosted pods' manifests with the TOML text each was loaded from.
    pub fn manifest_texts(&self) -> impl Iterator<Item = (&DnaManifest, &str)> {
        self.manifests
            .iter()
            .map(|(dna, text)| (dna, text.as_str()))
    }

    /// True if the pod is listed.
    pub fn contains(&self, pod: &DnaHash) -> bool {
        self.manifests.iter().any(|(dna, _)| &dna.dna_hash() == pod)
    }

    /// Removes a pod (if listed) and saves the list durably.
    pub fn remove(&mut self, pod: &DnaHash) -> Result<(), PodsError> {
        let before = self.manifests.len();
        self.manifests.retain(|(dna, _)| &dna.dna_hash() != pod);
        if self.manifests.len() == before {
            return Ok(());
        }
        self.save()
    }

    /// Adds a pod (if new) and saves the list durably.
    pub fn add(&mut self, dna: DnaManifest, manifest: String) -> Result<(), PodsError> {
        if self.contains(&dna.dna_hash()) {
            return Ok(());
        }
        if self.manifests.len() >= MAX_PODS {
            return Err(PodsError::Full);
        }
        self.manifests.push((dna, manifest));
        self.save()
    }

    fn save(&self) -> Result<(), PodsError> {
        let file = PodsFile {
            pods: self
                .manifests
                .iter()
                .map(|(dna, text)| PodEntry {
                    dna_hash: dna.dna_hash().to_string(),
                    manifest: text.clone(),
                })
                .collect(),
        };
        let text = toml::to_string(&file).map_err(|e| PodsError::Corrupt {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        let tmp = self.path.with_extension("toml.tmp");
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| PodsError::Io {
                action,
                path,
                source,
            }
        };
        let mut out = fs::File::create(&tmp).map_err(io("create", &tmp))?;
        out.write_all(text.as_bytes()).map_err(io("write", &tmp))?;
        out.sync_all().map_err(io("flush", &tmp))?;
        fs::rename(&tmp, &self.path).map_err(io("save", &self.path))?;
        // The rename is durable only once the folder is.
        let folder = self.path.parent().unwrap_or(Path::new("."));
        fs::File::open(folder)
            .and_then(|f| f.sync_all())
            .map_err(io("sync the folder of", &self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_added_is_listed_after_reloading() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = include_str!("../../../dna/examples/territory-dk.toml");
        let dna = myco_zomes::load_dna(text).expect("valid");
        let mut list = PodsList::load(dir.path()).expect("empty list");
        list.add(dna.clone(), text.to_string()).expect("add");
        let again = PodsList::load(dir.path()).expect("reload");
        assert!(again.contains(&dna.dna_hash()));
        assert_eq!(again.manifests().count(), 1);
    }
}
