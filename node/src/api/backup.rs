//! `GET /backup`: an encrypted backup of this data dir ([`crate::backup`]), taken while the
//! daemon runs. The store is copied as one read transaction sees it (`VACUUM INTO`), into a
//! folder of its own in the data dir; `pods.toml` is copied after it, so every pod with
//! records in the copy has its DNA. The answer streams: the archive is encrypted chunk by
//! chunk as it is read, and the copy is removed when the answer ends, however it ends.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::mpsc;

use super::reads::ReadPool;
use super::{ApiError, AppState};
use crate::backup::{archive, random_nonce, BackupHeader, Encrypting};

/// The prefix of the folders copies are made in, inside the data dir.
const COPY_PREFIX: &str = ".backup-";
/// Encrypted bytes handed to the answer at a time.
const PIECE_BYTES: usize = 64 * 1024;
/// Pieces queued for the answer before the encryption waits for the client.
const PIECES_QUEUED: usize = 16;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/backup", get(backup))
}

/// Removes copies left by a daemon that stopped during a backup: they hold the store as it
/// was, deleted entries included, so none may stay on the disk.
pub fn remove_leftover_copies(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(COPY_PREFIX) {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => {
                    tracing::info!(path = %entry.path().display(), "removed a backup copy left by an earlier run")
                }
                Err(error) => {
                    tracing::warn!(path = %entry.path().display(), %error, "cannot remove a backup copy left by an earlier run; remove it by hand")
                }
            }
        }
    }
}

/// The files of one backup, copied where they cannot change while they are read.
struct Copy {
    dir: tempfile::TempDir,
    data_dir: PathBuf,
}

impl Copy {
    fn take(reads: &ReadPool) -> Result<Self, ApiError> {
        let data_dir = reads.data_dir();
        let failed = |what: &str, error: &dyn std::fmt::Display| ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!(
                "cannot take the backup: {what} failed ({error}); check the disk, then retry"
            ),
        };
        let dir = tempfile::Builder::new()
            .prefix(COPY_PREFIX)
            .tempdir_in(&data_dir)
            .map_err(|e| failed("making a folder for the copy", &e))?;
        crate::store::snapshot_into(reads.store_dir(), &dir.path().join(crate::store::DB_FILE))
            .map_err(|e| failed("copying the store", &e))?;
        for name in [archive::PODS, archive::SETTINGS, archive::AGENT_KEY] {
            match std::fs::copy(data_dir.join(name), dir.path().join(name)) {
                Ok(_) => {}
                Err(error)
                    if error.kind() == io::ErrorKind::NotFound && name != archive::AGENT_KEY => {}
                Err(error) => return Err(failed(&format!("copying {name}"), &error)),
            }
        }
        Ok(Copy { dir, data_dir })
    }

    fn files(&self) -> Vec<(&'static str, PathBuf)> {
        let at = |name: &str| self.dir.path().join(name);
        vec![
            (archive::AGENT_KEY, at(archive::AGENT_KEY)),
            (archive::PODS, at(archive::PODS)),
            (archive::SETTINGS, at(archive::SETTINGS)),
            (archive::STORE, at(crate::store::DB_FILE)),
        ]
    }
}

/// Hands what is written to the answer's body, a piece at a time.
struct ToAnswer(mpsc::Sender<Result<Bytes, io::Error>>);

impl Write for ToAnswer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(bytes)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn encrypt(copy: &Copy, reads: &ReadPool, out: ToAnswer) -> io::Result<()> {
    let header = BackupHeader::new(reads.agent(), crate::dates::now_micros(), random_nonce());
    let out = BufWriter::with_capacity(PIECE_BYTES, out);
    let files = copy.files();
    let files: Vec<(&str, &Path)> = files.iter().map(|(n, p)| (*n, p.as_path())).collect();
    let encrypting = Encrypting::new(out, reads.backup_key(), &header)?;
    let encrypting = archive::write_archive(encrypting, &files)?;
    encrypting.finish()?.flush()
}

async fn backup(State(state): State<AppState>) -> Result<Response, ApiError> {
    let reads: Arc<ReadPool> = state.reads.clone();
    let copy = {
        let reads = reads.clone();
        tokio::task::spawn_blocking(move || Copy::take(&reads))
            .await
            .map_err(|_| ApiError::unavailable())??
    };
    tracing::info!(data_dir = %copy.data_dir.display(), "backup started");
    let (tx, mut rx) = mpsc::channel(PIECES_QUEUED);
    tokio::task::spawn_blocking(move || {
        let result = encrypt(&copy, &reads, ToAnswer(tx.clone()));
        match &result {
            Ok(()) => tracing::info!("backup sent"),
            Err(error) => {
                tracing::warn!(%error, "backup cut short");
                // The body ends in an error: the client sees a cut answer, never a whole one.
                let _ = tx.blocking_send(Err(io::Error::other(error.to_string())));
            }
        }
        drop(copy);
    });
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let name = format!(
        "attachment; filename=\"myco-{}.backup\"",
        crate::dates::now_micros() / 1_000_000
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}
