//! The node's own libp2p identity: an ed25519 key in `<data-dir>/node.key`, separate from the
//! agent key. It names the node on the network, so it is not encrypted (the daemon must be
//! able to start unattended), but it is written atomically with mode 0600.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use libp2p::identity::Keypair;

/// The node key file's name inside a data dir.
pub const NODE_KEY_FILE: &str = "node.key";
/// Largest node key file read: a protobuf-encoded ed25519 keypair is under 100 bytes.
const MAX_NODE_KEY_BYTES: u64 = 1024;

/// Why the node key could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing the file failed.
    #[error("cannot {action} the node key {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file does not hold a key.
    #[error("the node key {} is damaged ({detail}); move it aside and a new node identity is made", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// Loads the node key in `dir`, or makes and saves a new one.
pub fn load_or_create(dir: &Path) -> Result<Keypair, IdentityError> {
    let path = dir.join(NODE_KEY_FILE);
    let io_err = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| IdentityError::Io {
            action,
            path,
            source,
        }
    };
    match fs::File::open(&path) {
        Ok(file) => {
            let mut bytes = Vec::new();
            file.take(MAX_NODE_KEY_BYTES)
                .read_to_end(&mut bytes)
                .map_err(io_err("read", &path))?;
            Keypair::from_protobuf_encoding(&bytes).map_err(|e| IdentityError::Corrupt {
                path,
                detail: e.to_string(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let key = Keypair::generate_ed25519();
            let bytes = key
                .to_protobuf_encoding()
                .map_err(|e| IdentityError::Corrupt {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
            let tmp = dir.join(format!("{NODE_KEY_FILE}.tmp"));
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io_err("create", &tmp))?;
            file.write_all(&bytes).map_err(io_err("write", &tmp))?;
            file.sync_all().map_err(io_err("flush", &tmp))?;
            fs::rename(&tmp, &path).map_err(io_err("save", &path))?;
            tracing::info!(file = %path.display(), "made a new node identity");
            Ok(key)
        }
        Err(e) => Err(io_err("open", &path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_key_is_made_once_and_reloaded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_create(dir.path()).expect("create");
        let second = load_or_create(dir.path()).expect("load");
        assert_eq!(first.public(), second.public());
    }

    #[test]
    fn a_damaged_node_key_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(NODE_KEY_FILE), b"junk").expect("write");
        let err = load_or_create(dir.path()).expect_err("damaged");
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}
