//! Reading a data dir as a thief with a copy of the disk would: every file, raw, byte by byte.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Every regular file under `root`, at any depth (links are not followed).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for item in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = item.path();
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => folders.push(path),
                Ok(meta) if meta.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files
}

/// Which of `needles` occur in which file under `root`: (file, index into `needles`) pairs,
/// each once. One pass over each file per distinct needle length, every window looked up in
/// a set.
pub fn occurrences(root: &Path, needles: &[&[u8]]) -> BTreeSet<(PathBuf, usize)> {
    let mut by_width: BTreeMap<usize, HashMap<&[u8], usize>> = BTreeMap::new();
    for (index, needle) in needles.iter().enumerate() {
        if !needle.is_empty() {
            by_width
                .entry(needle.len())
                .or_default()
                .insert(needle, index);
        }
    }
    let mut found = BTreeSet::new();
    for file in files_under(root) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for (width, wanted) in &by_width {
            for window in bytes.windows(*width) {
                if let Some(&index) = wanted.get(window) {
                    found.insert((file.clone(), index));
                }
            }
        }
    }
    found
}

/// Every place under `root` where one of the named byte strings occurs, as "file: name".
pub fn byte_occurrences(root: &Path, markers: &[(String, Vec<u8>)]) -> Vec<String> {
    let needles: Vec<&[u8]> = markers.iter().map(|(_, bytes)| bytes.as_slice()).collect();
    occurrences(root, &needles)
        .into_iter()
        .map(|(file, index)| format!("{}: {}", file.display(), markers[index].0))
        .collect()
}

/// The middle 32 bytes of the sealed form of each of `hashes`' entries that the stopped
/// node of data dir `dir` (the devnet passphrase's) holds: what its disk holds of them.
pub fn sealed_entries(dir: &Path, hashes: &[&String]) -> Vec<(String, Vec<u8>)> {
    use myco_node::store::Store;
    let agent = myco_node::datadir::DataPaths::new(dir)
        .keystore()
        .unlock(myco_node::devnet::DEVNET_PASSPHRASE.as_bytes())
        .expect("unlock");
    let key = myco_node::store::StoreKey::derive(&agent);
    let store = myco_node::store::SqliteStore::open(&dir.join("store"), key.clone())
        .expect("open the store");
    let mut out = Vec::new();
    for text in hashes {
        let hash: myco_dna::ActionHash = text.parse().expect("an action hash");
        let Some(entry) = store.get(&hash).expect("read").and_then(|r| r.entry) else {
            continue;
        };
        let sealed = key.seal(&hash, &entry);
        let middle = sealed.len() / 2;
        assert!(sealed.len() >= 64, "entries are long enough to mark");
        out.push((
            format!("sealed entry of {text} on {}", dir.display()),
            sealed[middle - 16..middle + 16].to_vec(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn needles_of_any_length_are_found_in_nested_files_and_only_there() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(root.path().join("a/b")).expect("mkdir");
        std::fs::write(root.path().join("a/b/file"), b"xxSECRETyy and MARK").expect("write");
        std::fs::write(root.path().join("other"), b"nothing").expect("write");
        let found = super::occurrences(root.path(), &[b"SECRET", b"MARK", b"absent"]);
        let indices: Vec<usize> = found.iter().map(|(_, i)| *i).collect();
        assert_eq!(indices, vec![0, 1]);
        assert!(found.iter().all(|(f, _)| f.ends_with("a/b/file")));
    }
}
