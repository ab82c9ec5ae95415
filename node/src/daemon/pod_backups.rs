//! Taking the pod backups the engine asks for ([`Output::TakePodBackup`]), off the engine's
//! thread: the pod's records are read on a read-only connection, encrypted under this agent's
//! backup key ([`crate::backup::pod`]) into `<data-dir>/pod-backups/<pod>/`, synced, and the
//! listing goes back to the engine to be signed into the pod. Backups past their retention
//! are removed from that folder each time one is taken. For an authorised emergency restore
//! ([`Output::RestorePodBackup`]) a listed backup is read back, checked against its listing
//! and decrypted, and its records go to the engine to be validated.
//!
//! [`Output::TakePodBackup`]: crate::engine::Output::TakePodBackup
//! [`Output::RestorePodBackup`]: crate::engine::Output::RestorePodBackup

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use myco_dna::{ActionHash, AgentKey, DnaHash, Record, Timestamp};
use myco_zomes::governance::{
    record_type, BackupListing, BackupPlan, ListedHead, MAX_LISTED_CHAINS,
};
use tokio::sync::mpsc;

use super::link::ToEngine;
use crate::api::reads::ReadPool;
use crate::backup::pod::{self, Hashing, PodBackupBody, EXTENSION};
use crate::engine::Input;

/// The folder of a data dir that holds the pod backups this archivist took.
pub const POD_BACKUPS_DIR: &str = "pod-backups";

/// Takes pod backups for the engine thread.
pub(crate) struct PodBackupTaker {
    reads: Arc<ReadPool>,
}

impl PodBackupTaker {
    /// A taker reading through `reads`, writing under its data dir.
    pub fn new(reads: Arc<ReadPool>) -> Self {
        PodBackupTaker { reads }
    }

    /// Starts taking a backup of `pod` on a thread of its own; the answer goes to the engine
    /// through `queue` (if the engine is still there by then).
    pub fn start(
        &self,
        queue: mpsc::WeakSender<ToEngine>,
        pod: DnaHash,
        schedule: ActionHash,
        retention_days: u32,
    ) {
        let reads = self.reads.clone();
        off_thread(queue, pod, move || {
            let now = crate::dates::now_micros();
            match take(&reads, pod, schedule, retention_days, now) {
                Ok(listing) => {
                    tracing::info!(%pod, bytes = listing.bytes, records = listing.records(), "pod backup taken");
                    Input::PodBackupTaken {
                        pod,
                        listing: Box::new(listing),
                    }
                }
                Err(reason) => Input::PodBackupFailed { pod, reason },
            }
        });
    }

    /// Starts opening the backup `listing` names, for the restore `decision` authorises, on a
    /// thread of its own; the records go to the engine through `queue`.
    pub fn restore(
        &self,
        queue: mpsc::WeakSender<ToEngine>,
        pod: DnaHash,
        decision: ActionHash,
        listing: BackupListing,
    ) {
        let reads = self.reads.clone();
        off_thread(queue, pod, move || {
            match open_listed(&reads, pod, &listing) {
                Ok(records) => Input::PodBackupOpened {
                    pod,
                    decision,
                    records,
                },
                Err(reason) => Input::PodBackupUnopened {
                    pod,
                    decision,
                    reason,
                },
            }
        });
    }
}

/// Runs `work` on a thread of its own and hands what it returns to the engine.
fn off_thread(
    queue: mpsc::WeakSender<ToEngine>,
    pod: DnaHash,
    work: impl FnOnce() -> Input + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("myco-pod-backup".into())
        .spawn(move || {
            let input = work();
            if let Some(queue) = queue.upgrade() {
                let _ = queue.blocking_send(ToEngine::Input {
                    now: crate::dates::now_micros(),
                    input,
                });
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%pod, %error, "cannot start a thread for the pod backup");
    }
}

/// The name of the file holding the backup `listing` describes.
fn file_name(taken_at: Timestamp, expires_at: Timestamp) -> String {
    format!("{}-{}.{EXTENSION}", taken_at.0, expires_at.0)
}

/// Reads the backup `listing` describes from this archivist's folder, checks its size and
/// hash against the listing, decrypts it and returns its records.
fn open_listed(
    reads: &ReadPool,
    pod: DnaHash,
    listing: &BackupListing,
) -> Result<Vec<Record>, String> {
    let path = pod_backup_dir(&reads.data_dir(), &pod)
        .join(file_name(listing.taken_at, listing.expires_at));
    let bytes = std::fs::read(&path).map_err(|e| {
        format!(
            "cannot read the backup {} ({e}); it may have expired or been moved",
            path.display()
        )
    })?;
    if bytes.len() as u64 != listing.bytes || pod::digest(&bytes) != listing.blake2b {
        return Err(format!(
            "{} is not the backup its listing describes (size or blake2b differ); it was changed on disk",
            path.display()
        ));
    }
    let body = pod::open(bytes.as_slice(), reads.backup_key())
        .map_err(|e| format!("cannot open the backup {}: {e}", path.display()))?;
    if body.pod != pod {
        return Err(format!("{} is a backup of another pod", path.display()));
    }
    body.decode_records()
        .map_err(|e| format!("the backup {} does not decode: {e}", path.display()))
}

/// Where the backups of `pod` are kept under `data_dir`.
pub fn pod_backup_dir(data_dir: &Path, pod: &DnaHash) -> PathBuf {
    data_dir.join(POD_BACKUPS_DIR).join(pod.to_string())
}

/// Takes one backup of `pod` at `now` and returns its listing.
fn take(
    reads: &ReadPool,
    pod: DnaHash,
    schedule: ActionHash,
    retention_days: u32,
    now: u64,
) -> Result<BackupListing, String> {
    let records = reads
        .read_blocking(|reader| reader.pod_records(&pod))
        .map_err(|e| format!("reading the pod's records failed: {e}"))?;
    let (records, heads) = whole_chains(records);
    if heads.len() > MAX_LISTED_CHAINS {
        return Err(format!(
            "the pod has {} chains; a backup listing names at most {MAX_LISTED_CHAINS}",
            heads.len()
        ));
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for record in &records {
        *counts.entry(record_type(record)).or_default() += 1;
    }
    let plan = BackupPlan {
        schedule: String::new(),
        archivist: schedule,
        retention_days,
    };
    let taken_at = Timestamp(now);
    let expires_at = plan.expiry(taken_at);
    let dir = pod_backup_dir(&reads.data_dir(), &pod);
    let (bytes, blake2b) = write_file(
        &dir,
        &file_name(taken_at, expires_at),
        &PodBackupBody::new(pod, now, &records),
        reads.agent(),
        reads,
    )?;
    remove_expired(&dir, now);
    Ok(BackupListing {
        schedule,
        taken_at,
        expires_at,
        bytes,
        blake2b,
        counts,
        heads,
    })
}

/// Keeps of each chain the records from Genesis without a gap (all of them, as the store
/// keeps chains), and names each chain's head.
fn whole_chains(records: Vec<Record>) -> (Vec<Record>, Vec<ListedHead>) {
    let mut chains: BTreeMap<AgentKey, Vec<Record>> = BTreeMap::new();
    for record in records {
        chains
            .entry(record.action().author)
            .or_default()
            .push(record);
    }
    let mut kept = Vec::new();
    let mut heads = Vec::new();
    for (author, mut chain) in chains {
        chain.sort_by_key(|r| r.action().seq);
        let whole = chain
            .iter()
            .enumerate()
            .take_while(|(index, r)| r.action().seq == *index as u64)
            .count();
        chain.truncate(whole);
        if let Some(last) = chain.last() {
            heads.push(ListedHead {
                author,
                seq: last.action().seq,
                head: last.hash(),
            });
        }
        kept.extend(chain);
    }
    (kept, heads)
}

/// Writes the encrypted backup to `dir/name` (through a temporary file, synced and renamed)
/// and returns its size and blake2b-256.
fn write_file(
    dir: &Path,
    name: &str,
    body: &PodBackupBody,
    agent: AgentKey,
    reads: &ReadPool,
) -> Result<(u64, [u8; 32]), String> {
    let failed = |what: &str, error: &dyn std::fmt::Display| {
        format!(
            "{what} in {} failed ({error}); check the disk",
            dir.display()
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| failed("making the folder", &e))?;
    let file = tempfile::NamedTempFile::new_in(dir).map_err(|e| failed("making a file", &e))?;
    let out = Hashing::new(BufWriter::new(file));
    let out = pod::write_sealed(
        out,
        body,
        agent,
        reads.backup_key(),
        crate::backup::random_nonce(),
    )
    .map_err(|e| failed("writing the backup", &e))?;
    let (mut out, bytes, digest) = out.finish();
    out.flush().map_err(|e| failed("writing the backup", &e))?;
    let file = out
        .into_inner()
        .map_err(|e| failed("writing the backup", &e.error().to_string()))?;
    file.as_file()
        .sync_all()
        .map_err(|e| failed("syncing the backup", &e))?;
    file.persist(dir.join(name))
        .map_err(|e| failed("naming the backup", &e.error))?;
    crate::store::sync_dir(dir).map_err(|e| failed("syncing the folder", &e))?;
    Ok((bytes, digest))
}

/// Removes the backups in `dir` whose retention ended by `now` (their name says when).
pub fn remove_expired(dir: &Path, now: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(expires_at) = expiry_of(&name) else {
            continue;
        };
        if expires_at <= now {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!(file = %name, "removed a pod backup past its retention"),
                Err(error) => {
                    tracing::warn!(file = %name, %error, "cannot remove a pod backup past its retention")
                }
            }
        }
    }
}

/// When the backup file `name` (`<taken_at>-<expires_at>.mycopod`) expires.
fn expiry_of(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(&format!(".{EXTENSION}"))?;
    let (_, expires_at) = stem.split_once('-')?;
    expires_at.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_backups_past_their_retention_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["10-20.mycopod", "10-40.mycopod", "notes.txt", "x-y.mycopod"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_expired(dir.path(), 30);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["10-40.mycopod", "notes.txt", "x-y.mycopod"]);
    }
}
