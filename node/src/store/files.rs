//! File-system steps the on-disk stores share: syncing a folder, and naming a failed step.

use std::path::Path;

use super::StoreError;

/// `fsync`s a folder, so the files created, renamed or cut in it stay after a power cut.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|folder| folder.sync_all())
        .map_err(io("sync the folder", dir))
}

/// A [`StoreError::Io`] for `action` on `path`, to hand to `map_err`.
pub fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}
