//! Files the CLI writes for a person (exports, backups): made 0600 beside their target,
//! synced, and moved into place without ever replacing a file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The folder `path` is in (`.` for a bare name).
pub(super) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Refuses a target that exists already.
pub(super) fn refuse_existing(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        anyhow::bail!(
            "{} exists already; refusing to overwrite it (choose another --out)",
            out.display()
        );
    }
    Ok(())
}

/// A new private (0600) temporary file beside `out`, to be moved there by [`keep`].
pub(super) fn private_beside(out: &Path, what: &str) -> anyhow::Result<tempfile::NamedTempFile> {
    let context = || format!("cannot write the {what} to {}", out.display());
    let file = tempfile::NamedTempFile::new_in(parent_of(out)).with_context(context)?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(context)?;
    Ok(file)
}

/// Syncs `file` and moves it to `out`, never over an existing file, durably.
pub(super) fn keep(file: tempfile::NamedTempFile, out: &Path, what: &str) -> anyhow::Result<()> {
    let context = || format!("cannot write the {what} to {}", out.display());
    file.as_file().sync_all().with_context(context)?;
    file.persist_noclobber(out)
        .map_err(|e| e.error)
        .with_context(context)?;
    sync_dir(&parent_of(out));
    Ok(())
}

/// Makes a rename in `dir` durable.
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// The bytes of `path`, the `what` a person named, refused past `max` bytes.
pub(super) fn read_bounded(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?;
    if meta.len() > max {
        anyhow::bail!(
            "the {what} {} is {} bytes, over the {max} this command reads",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read the {what} {}", path.display()))
}

/// Streams the API's answer to `path` into a new private file beside `out` (not yet in
/// place: [`keep`] moves it there); `seen` hears the bytes so far. Returns the file and its
/// size.
pub(super) fn download_beside(
    api: &crate::api::client::ApiClient,
    path: &str,
    out: &Path,
    what: &str,
    seen: impl FnMut(u64),
) -> anyhow::Result<(tempfile::NamedTempFile, u64)> {
    let mut file = private_beside(out, what)?;
    let mut writer = std::io::BufWriter::new(file.as_file_mut());
    let bytes = api.download(path, &mut writer, seen)?;
    std::io::Write::flush(&mut writer)
        .with_context(|| format!("cannot write the {what} to {}", out.display()))?;
    drop(writer);
    Ok((file, bytes))
}
