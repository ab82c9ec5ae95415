//! The plain archive inside a backup: a tar file of a data dir's lasting files, under fixed
//! names. Unpacking takes only those names, each at most once, so a crafted backup cannot
//! write outside the folder it is unpacked into or drop a file a data dir does not have.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::BackupError;

/// The encrypted agent key.
pub const AGENT_KEY: &str = "agent.key";
/// The pods this node hosts, with their DNAs.
pub const PODS: &str = "pods.toml";
/// The node's settings, if it has any.
pub const SETTINGS: &str = "myco.toml";
/// The store: a consistent copy of the SQLite file, its entries still sealed.
pub const STORE: &str = "store/chains.db";

/// Every name a backup may hold, and whether it must.
const NAMES: [(&str, bool); 4] = [
    (AGENT_KEY, true),
    (PODS, false),
    (SETTINGS, false),
    (STORE, true),
];

/// Writes the archive of `files` (name, where its bytes are now) to `out`. Missing optional
/// files are skipped; a missing required one is an error.
pub fn write_archive<W: Write>(out: W, files: &[(&str, &Path)]) -> io::Result<W> {
    let mut builder = tar::Builder::new(out);
    for (name, path) in files {
        let required = NAMES.iter().find(|(n, _)| n == name).is_some_and(|n| n.1);
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound && !required => continue,
            Err(error) => {
                return Err(io::Error::new(
                    error.kind(),
                    format!("cannot read {}: {error}", path.display()),
                ))
            }
        };
        let mut header = tar::Header::new_gnu();
        header.set_size(file.metadata()?.len());
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append_data(&mut header, name, &mut file)?;
    }
    builder.into_inner()
}

/// Unpacks the archive read from `input` into the folder `into` (which exists and is
/// empty): only the names a backup holds, each once, each file 0600. Returns the names
/// unpacked.
pub fn unpack<R: Read>(input: R, into: &Path) -> Result<Vec<String>, BackupError> {
    let mut archive = tar::Archive::new(input);
    let mut seen: Vec<String> = Vec::new();
    let contents = |detail: String| BackupError::Contents(detail);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if !NAMES.iter().any(|(n, _)| *n == name) {
            return Err(contents(format!(
                "it holds {name:?}, which is not a data dir file"
            )));
        }
        if seen.contains(&name) {
            return Err(contents(format!("it holds {name} twice")));
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(contents(format!("{name} is not a plain file")));
        }
        let path = into.join(&name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        io::copy(&mut entry, &mut file)?;
        file.sync_all()?;
        seen.push(name);
    }
    for (name, required) in NAMES {
        if required && !seen.iter().any(|s| s == name) {
            return Err(contents(format!("it has no {name}")));
        }
    }
    Ok(seen)
}
