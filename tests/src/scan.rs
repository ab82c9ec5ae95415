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
