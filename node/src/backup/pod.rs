//! Pod backups: what an archivist takes under an approve_backup_schedule decision
//! (`docs/governance.md`, "Backups"). The file is a backup like any other ([`super`]): the
//! clear header (naming the pod) and the XChaCha20-Poly1305 STREAM under the archivist's
//! backup key. Inside is one canonical CBOR document, [`PodBackupBody`]: every record of the
//! pod the archivist holds, chain by chain from Genesis, each in its signed wire form, so a
//! restore can validate each one again and trusts none of them.
//!
//! ```
//! use myco_dna::{DnaHash, SigningKey};
//! use myco_node::backup::{pod, BackupKey};
//!
//! let key = SigningKey::from_bytes(&[5; 32]);
//! let body = pod::PodBackupBody::new(DnaHash([1; 32]), 7, &[]);
//! let agent = myco_dna::agent_key_of(&key);
//! let file = pod::seal(&body, agent, &BackupKey::derive(&key), [0; 19]).unwrap();
//! assert_eq!(pod::open(&file[..], &BackupKey::derive(&key)).unwrap(), body);
//! ```

use std::io::{self, Read, Write};

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor};
use myco_dna::{AgentKey, DnaHash, Record};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use super::{BackupError, BackupHeader, BackupKey, Decrypting, Encrypting, NONCE_PREFIX_BYTES};

/// The value of every pod backup's `format` field.
pub const POD_BACKUP_FORMAT: &str = "myco-pod-backup";
/// The pod backup version this build writes and reads.
pub const POD_BACKUP_VERSION: u32 = 1;
/// The largest plain body a pod backup is opened with (the records of a large pod).
pub const MAX_POD_BACKUP_BYTES: u64 = 4 << 30;
/// The file name ending of a pod backup.
pub const EXTENSION: &str = "mycopod";

/// What a pod backup holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodBackupBody {
    /// Always [`POD_BACKUP_FORMAT`].
    pub format: String,
    /// [`POD_BACKUP_VERSION`].
    pub version: u32,
    /// The pod.
    pub pod: DnaHash,
    /// When it was taken, µs since the Unix epoch.
    pub taken_at: u64,
    /// Every record, in its wire form ([`Record::to_bytes`]), chain by chain in seq order.
    pub records: Vec<ByteBuf>,
}

impl PodBackupBody {
    /// The body of a backup of `pod` taken at `taken_at`, holding `records`.
    pub fn new(pod: DnaHash, taken_at: u64, records: &[Record]) -> Self {
        PodBackupBody {
            format: POD_BACKUP_FORMAT.into(),
            version: POD_BACKUP_VERSION,
            pod,
            taken_at,
            records: records
                .iter()
                .map(|r| ByteBuf::from(r.to_bytes()))
                .collect(),
        }
    }

    /// The records, decoded; the first that does not decode is named by its place.
    pub fn decode_records(&self) -> Result<Vec<Record>, BackupError> {
        self.records
            .iter()
            .enumerate()
            .map(|(index, bytes)| {
                Record::from_bytes(bytes).map_err(|error| {
                    BackupError::Contents(format!("record {index} does not decode: {error}"))
                })
            })
            .collect()
    }
}

/// Encrypts `body` under `agent`'s backup `key`, the stream starting from `nonce`.
pub fn seal(
    body: &PodBackupBody,
    agent: AgentKey,
    key: &BackupKey,
    nonce: [u8; NONCE_PREFIX_BYTES],
) -> io::Result<Vec<u8>> {
    write_sealed(Vec::new(), body, agent, key, nonce)
}

/// Writes `body`, encrypted under `agent`'s backup `key`, to `out`.
pub fn write_sealed<W: Write>(
    out: W,
    body: &PodBackupBody,
    agent: AgentKey,
    key: &BackupKey,
    nonce: [u8; NONCE_PREFIX_BYTES],
) -> io::Result<W> {
    let mut header = BackupHeader::new(agent, body.taken_at, nonce);
    header.pod = Some(body.pod);
    let mut writer = Encrypting::new(out, key, &header)?;
    writer.write_all(&to_canonical_cbor(body))?;
    writer.finish()
}

/// Opens a pod backup with `key`: every chunk authenticated, the body decoded and checked to
/// be of the pod its header names.
pub fn open<R: Read>(input: R, key: &BackupKey) -> Result<PodBackupBody, BackupError> {
    let (header, sealed) = Decrypting::open(input)?;
    let Some(pod) = header.pod else {
        return Err(BackupError::Contents(
            "this is a data dir's backup, not a pod backup: restore it with `myco restore`".into(),
        ));
    };
    let mut plain = sealed.unlock(key)?;
    let mut bytes = Vec::new();
    let read = (&mut plain)
        .take(MAX_POD_BACKUP_BYTES + 1)
        .read_to_end(&mut bytes);
    if let Some(failure) = plain.failure() {
        return Err(failure);
    }
    read?;
    if bytes.len() as u64 > MAX_POD_BACKUP_BYTES {
        return Err(BackupError::Contents(format!(
            "the pod backup holds more than {MAX_POD_BACKUP_BYTES} bytes"
        )));
    }
    let body: PodBackupBody = from_canonical_cbor("pod backup", &bytes)
        .map_err(|error| BackupError::Contents(error.to_string()))?;
    if body.format != POD_BACKUP_FORMAT || body.version != POD_BACKUP_VERSION {
        return Err(BackupError::Contents(format!(
            "format `{}` version {} is not a pod backup this Myco reads",
            body.format, body.version
        )));
    }
    if body.pod != pod {
        return Err(BackupError::Contents(
            "the pod inside differs from the pod its header names".into(),
        ));
    }
    Ok(body)
}

/// A writer that counts and hashes (blake2b-256) what passes through it.
pub struct Hashing<W: Write> {
    inner: W,
    hasher: Blake2b<U32>,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: Blake2b::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the bytes written and their hash.
    pub fn finish(self) -> (W, u64, [u8; 32]) {
        (self.inner, self.bytes, self.hasher.finalize().into())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The blake2b-256 of `bytes`, as a listing gives it.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Blake2b::<U32>::digest(bytes).into()
}
