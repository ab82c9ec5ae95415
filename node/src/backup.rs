//! # Encrypted backups
//!
//! A backup is one file that holds what a data dir needs to come back: the store (every chain
//! and entry this node holds, `Private` ones included, still sealed under the store key), the
//! encrypted agent key, `pods.toml` and `myco.toml`. It opens with the recovery phrase alone:
//! the backup key is derived from the agent's seed, like the store key.
//!
//! ```text
//!   "myco-backup\n"                 12 bytes, in clear
//!   header length                   u16, big-endian
//!   header                          canonical CBOR, in clear: format version, agent key,
//!                                   when it was made, chunk size, the stream's nonce prefix
//!   chunk 0 … chunk n               XChaCha20-Poly1305 STREAM (aead::stream, BE32): each
//!                                   chunk_bytes of a tar archive + a 16-byte tag, the last
//!                                   chunk shorter and sealed as the last one
//! ```
//!
//! Every chunk carries the clear prefix (magic, length, header) as associated data, so a
//! changed header fails like a changed chunk, and a chunk cannot be moved, dropped or
//! repeated: the STREAM nonce counts chunks and marks the last. A file cut short ends without
//! its last chunk and is named truncated.
//!
//! ```
//! use std::io::{Read, Write};
//! use myco_dna::SigningKey;
//! use myco_node::backup::{BackupHeader, BackupKey, Decrypting, Encrypting};
//!
//! let key = SigningKey::from_bytes(&[7; 32]);
//! let header = BackupHeader::new(myco_dna::agent_key_of(&key), 1_000, [3; 19]);
//! let mut writer = Encrypting::new(Vec::new(), &BackupKey::derive(&key), &header).unwrap();
//! writer.write_all(b"the archive").unwrap();
//! let file = writer.finish().unwrap();
//!
//! let (read_header, mut reader) = Decrypting::open(&file[..]).unwrap();
//! assert_eq!(read_header.agent, header.agent);
//! let mut plain = Vec::new();
//! reader.unlock(&BackupKey::derive(&key)).unwrap().read_to_end(&mut plain).unwrap();
//! assert_eq!(plain, b"the archive");
//! ```

pub mod archive;
pub mod pod;
#[cfg(test)]
mod tests;

use std::io::{self, BufRead, BufReader, Read, Write};

use chacha20poly1305::aead::stream::{EncryptorBE32, NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::aead::{KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor};
use myco_dna::{AgentKey, SigningKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The first bytes of every backup file.
pub const MAGIC: &[u8; 12] = b"myco-backup\n";
/// The backup format this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Plain bytes per chunk.
pub const CHUNK_BYTES: u32 = 64 * 1024;
/// Largest chunk size a backup may name: bounds the memory a crafted header can ask for.
const MAX_CHUNK_BYTES: u32 = 4 * 1024 * 1024;
/// Largest header read.
const MAX_HEADER_BYTES: u16 = 1024;
/// Poly1305's tag, after every chunk.
const TAG_BYTES: usize = 16;
/// The nonce prefix of a STREAM over XChaCha20 (24 bytes less the 5 of the counter).
pub const NONCE_PREFIX_BYTES: usize = 19;
/// Domain of the backup key.
const KEY_DOMAIN: &[u8] = b"myco/backup-key/v1";

/// The key a backup is encrypted under: blake2b-256 over a domain and the agent's seed, so
/// the recovery phrase alone opens the agent's backups.
pub struct BackupKey(Zeroizing<[u8; 32]>);

impl BackupKey {
    /// The backup key of the agent whose seed `signing_key` holds.
    pub fn derive(signing_key: &SigningKey) -> Self {
        let mut input = Zeroizing::new(Vec::with_capacity(KEY_DOMAIN.len() + 32));
        input.extend_from_slice(KEY_DOMAIN);
        input.extend_from_slice(signing_key.as_bytes());
        BackupKey(Zeroizing::new(myco_dna::blake2b_256(&input)))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0[..]).into())
    }
}

/// What a backup says of itself in clear: enough to tell whose it is before opening it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHeader {
    /// The backup format.
    pub version: u8,
    /// The agent whose backup it is: the phrase must be this agent's.
    pub agent: AgentKey,
    /// When it was made, µs since the Unix epoch.
    pub created_at: u64,
    /// Plain bytes per chunk.
    pub chunk_bytes: u32,
    /// The STREAM nonce prefix: random for every backup, since the key is not.
    #[serde(with = "serde_bytes")]
    pub nonce: Vec<u8>,
    /// The pod, for a pod backup an archivist took ([`pod`]); none for a data dir's backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<myco_dna::DnaHash>,
}

impl BackupHeader {
    /// The header of a new backup of `agent`, made at `created_at`, whose stream starts from
    /// `nonce` (random: see [`random_nonce`]).
    pub fn new(agent: AgentKey, created_at: u64, nonce: [u8; NONCE_PREFIX_BYTES]) -> Self {
        BackupHeader {
            version: FORMAT_VERSION,
            agent,
            created_at,
            chunk_bytes: CHUNK_BYTES,
            nonce: nonce.to_vec(),
            pod: None,
        }
    }

    /// The clear prefix of the file: magic, length, header. Every chunk authenticates it.
    fn prefix(&self) -> Vec<u8> {
        let header = to_canonical_cbor(self);
        let mut prefix = MAGIC.to_vec();
        prefix.extend_from_slice(&(header.len() as u16).to_be_bytes());
        prefix.extend_from_slice(&header);
        prefix
    }
}

/// A fresh random nonce prefix for a backup's stream.
pub fn random_nonce() -> [u8; NONCE_PREFIX_BYTES] {
    use rand_core::RngCore as _;
    let mut nonce = [0u8; NONCE_PREFIX_BYTES];
    rand_core::OsRng.fill_bytes(&mut nonce);
    nonce
}

/// Why a backup cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file does not start like a backup.
    #[error(
        "this is not a Myco backup (it does not start with the backup header); check the file name"
    )]
    NotABackup,
    /// A format this build does not know.
    #[error("this backup has format version {0}, which this Myco cannot read; use a newer Myco")]
    UnknownVersion(u8),
    /// The clear header does not decode.
    #[error("the backup's header is damaged ({0}); the file cannot be opened")]
    BadHeader(String),
    /// The key given is not the backup's agent's.
    #[error("this backup is of agent {backup}, but the key given is agent {given}'s: use that agent's recovery phrase (a mistyped phrase with a valid checksum opens another agent)")]
    OtherAgent {
        /// The agent in the backup's header.
        backup: AgentKey,
        /// The agent of the phrase or key given.
        given: AgentKey,
    },
    /// A chunk does not authenticate.
    #[error("the backup is damaged or was changed{}: chunk {chunk} (at byte {offset}) does not authenticate under this agent's backup key; nothing from it is used", if *last { " or cut short" } else { "" })]
    Damaged {
        /// Which chunk, from 0.
        chunk: u64,
        /// Its first byte in the file.
        offset: u64,
        /// True for the file's last chunk, which a cut in its middle also fails.
        last: bool,
    },
    /// The file ends before its last chunk.
    #[error("the backup is truncated: it ends after {bytes} bytes, before its last chunk (an interrupted copy or download?); nothing from it is used")]
    Truncated {
        /// The bytes the file has.
        bytes: u64,
    },
    /// The archive inside does not hold what a backup holds.
    #[error("the backup's contents are not a data dir: {0}")]
    Contents(String),
    /// Reading failed.
    #[error("cannot read the backup: {0}")]
    Io(#[from] io::Error),
}

/// Writes a backup: the clear prefix, then everything written to it, encrypted chunk by chunk.
/// [`Encrypting::finish`] seals the last chunk; a writer dropped without it leaves a file
/// that reads as truncated.
pub struct Encrypting<W: Write> {
    out: W,
    encryptor: Option<EncryptorBE32<XChaCha20Poly1305>>,
    aad: Vec<u8>,
    buffer: Vec<u8>,
    chunk_bytes: usize,
}

impl<W: Write> Encrypting<W> {
    /// Starts a backup described by `header` on `out`, under `key`.
    pub fn new(mut out: W, key: &BackupKey, header: &BackupHeader) -> io::Result<Self> {
        let aad = header.prefix();
        out.write_all(&aad)?;
        let nonce: [u8; NONCE_PREFIX_BYTES] = header
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| io::Error::other("the header's nonce has the wrong length"))?;
        Ok(Encrypting {
            out,
            encryptor: Some(EncryptorBE32::from_aead(key.cipher(), (&nonce).into())),
            aad,
            buffer: Vec::with_capacity(header.chunk_bytes as usize),
            chunk_bytes: header.chunk_bytes as usize,
        })
    }

    fn seal_full_chunks(&mut self) -> io::Result<()> {
        // Only a chunk known not to be the last is sealed here: one more byte must follow.
        while self.buffer.len() > self.chunk_bytes {
            let encryptor = self
                .encryptor
                .as_mut()
                .ok_or_else(|| io::Error::other("the backup was finished"))?;
            let sealed = encryptor
                .encrypt_next(Payload {
                    msg: &self.buffer[..self.chunk_bytes],
                    aad: &self.aad,
                })
                .map_err(|_| io::Error::other("the backup stream is exhausted"))?;
            self.out.write_all(&sealed)?;
            self.buffer.drain(..self.chunk_bytes);
        }
        Ok(())
    }

    /// Seals the last chunk and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal_full_chunks()?;
        let encryptor = self
            .encryptor
            .take()
            .ok_or_else(|| io::Error::other("the backup was finished"))?;
        let sealed = encryptor
            .encrypt_last(Payload {
                msg: &self.buffer,
                aad: &self.aad,
            })
            .map_err(|_| io::Error::other("the backup stream is exhausted"))?;
        self.out.write_all(&sealed)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for Encrypting<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        self.seal_full_chunks()?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A backup whose header is read, not yet opened with a key.
pub struct Sealed<R: Read> {
    input: BufReader<R>,
    header: BackupHeader,
    aad: Vec<u8>,
}

/// Reads a backup: the plain archive, chunk by chunk, each authenticated before any of its
/// bytes is handed out. The first failure is kept in [`Decrypting::failure`], since readers
/// above (the tar reader) may wrap the I/O error it surfaces as.
pub struct Decrypting<R: Read> {
    input: BufReader<R>,
    stream: StreamBE32<XChaCha20Poly1305>,
    ended: bool,
    aad: Vec<u8>,
    chunk_bytes: usize,
    plain: Zeroizing<Vec<u8>>,
    at: usize,
    chunk: u64,
    offset: u64,
    failure: Option<BackupError>,
}

impl<R: Read> Decrypting<R> {
    /// Reads the clear header of the backup on `input`. The header is not trusted yet: every
    /// chunk authenticates it when the backup is opened.
    pub fn open(input: R) -> Result<(BackupHeader, Sealed<R>), BackupError> {
        let mut input = BufReader::with_capacity(256 * 1024, input);
        let mut magic = [0u8; MAGIC.len()];
        read_exact_or(&mut input, &mut magic, BackupError::NotABackup)?;
        if &magic != MAGIC {
            return Err(BackupError::NotABackup);
        }
        let mut length = [0u8; 2];
        read_exact_or(
            &mut input,
            &mut length,
            BackupError::Truncated { bytes: 12 },
        )?;
        let length = u16::from_be_bytes(length);
        if length > MAX_HEADER_BYTES {
            return Err(BackupError::BadHeader(format!(
                "it claims {length} bytes, over the {MAX_HEADER_BYTES} a header may have"
            )));
        }
        let mut header_bytes = vec![0u8; length as usize];
        read_exact_or(
            &mut input,
            &mut header_bytes,
            BackupError::Truncated { bytes: 14 },
        )?;
        let header = decode_header(&header_bytes)?;
        let mut aad = magic.to_vec();
        aad.extend_from_slice(&length.to_be_bytes());
        aad.extend_from_slice(&header_bytes);
        Ok((header.clone(), Sealed { input, header, aad }))
    }

    /// The first failure met while reading, if any.
    pub fn failure(&mut self) -> Option<BackupError> {
        self.failure.take()
    }

    /// Authenticates and decrypts the next chunk into `plain`; false at the end.
    fn next_chunk(&mut self) -> Result<bool, BackupError> {
        if self.ended {
            return Ok(false);
        }
        let sealed_bytes = self.chunk_bytes + TAG_BYTES;
        let mut sealed = Vec::with_capacity(sealed_bytes);
        (&mut self.input)
            .take(sealed_bytes as u64)
            .read_to_end(&mut sealed)?;
        let start = self.offset;
        self.offset += sealed.len() as u64;
        let last = sealed.len() < sealed_bytes || self.input.fill_buf()?.is_empty();
        if sealed.len() < TAG_BYTES {
            return Err(BackupError::Truncated { bytes: self.offset });
        }
        let position = u32::try_from(self.chunk).map_err(|_| BackupError::Damaged {
            chunk: self.chunk,
            offset: start,
            last,
        })?;
        let mut plain = Zeroizing::new(sealed);
        if self
            .stream
            .decrypt_in_place(position, last, &self.aad, &mut *plain)
            .is_err()
        {
            // A whole chunk at the end that opens as a middle one: the file was cut at a
            // chunk boundary. (The failed attempt leaves the buffer as it was.)
            let cut = last
                && plain.len() == sealed_bytes
                && self
                    .stream
                    .decrypt_in_place(position, false, &self.aad, &mut *plain)
                    .is_ok();
            return Err(if cut {
                BackupError::Truncated { bytes: self.offset }
            } else {
                BackupError::Damaged {
                    chunk: self.chunk,
                    offset: start,
                    last,
                }
            });
        }
        self.plain = plain;
        self.at = 0;
        self.chunk += 1;
        self.ended = last;
        Ok(true)
    }
}

impl<R: Read> Sealed<R> {
    /// Opens the backup with `key`, after checking that the key is the backup's agent's
    /// (given as `agent`: the phrase's or key file's).
    pub fn unlock_as(
        self,
        key: &BackupKey,
        agent: &AgentKey,
    ) -> Result<Decrypting<R>, BackupError> {
        if agent != &self.header.agent {
            return Err(BackupError::OtherAgent {
                backup: self.header.agent,
                given: *agent,
            });
        }
        self.unlock(key)
    }

    /// Opens the backup with `key`.
    pub fn unlock(self, key: &BackupKey) -> Result<Decrypting<R>, BackupError> {
        let header = &self.header;
        if header.version != FORMAT_VERSION {
            return Err(BackupError::UnknownVersion(header.version));
        }
        let nonce: [u8; NONCE_PREFIX_BYTES] = header.nonce.as_slice().try_into().map_err(|_| {
            BackupError::BadHeader(format!(
                "its nonce has {} bytes, not {NONCE_PREFIX_BYTES}",
                header.nonce.len()
            ))
        })?;
        let offset = self.aad.len() as u64;
        Ok(Decrypting {
            input: self.input,
            stream: StreamBE32::from_aead(key.cipher(), (&nonce).into()),
            ended: false,
            aad: self.aad,
            chunk_bytes: header.chunk_bytes as usize,
            plain: Zeroizing::new(Vec::new()),
            at: 0,
            chunk: 0,
            offset,
            failure: None,
        })
    }
}

impl<R: Read> Read for Decrypting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.plain.len() {
            match self.next_chunk() {
                Ok(true) => {}
                Ok(false) => return Ok(0),
                Err(error) => {
                    let message = error.to_string();
                    self.failure = Some(error);
                    return Err(io::Error::new(io::ErrorKind::InvalidData, message));
                }
            }
        }
        let n = out.len().min(self.plain.len() - self.at);
        out[..n].copy_from_slice(&self.plain[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn read_exact_or(
    input: &mut impl Read,
    buffer: &mut [u8],
    short: BackupError,
) -> Result<(), BackupError> {
    match input.read_exact(buffer) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Err(short),
        Err(error) => Err(BackupError::Io(error)),
    }
}

fn decode_header(bytes: &[u8]) -> Result<BackupHeader, BackupError> {
    let header: BackupHeader = from_canonical_cbor("backup header", bytes)
        .map_err(|e| BackupError::BadHeader(e.to_string()))?;
    if header.version != FORMAT_VERSION {
        return Err(BackupError::UnknownVersion(header.version));
    }
    if header.chunk_bytes == 0 || header.chunk_bytes > MAX_CHUNK_BYTES {
        return Err(BackupError::BadHeader(format!(
            "its chunk size {} is outside 1..={MAX_CHUNK_BYTES}",
            header.chunk_bytes
        )));
    }
    Ok(header)
}

/// Opens the backup `sealed` as `agent` with `key` and unpacks its archive into `into` (an
/// empty folder). Every chunk is authenticated, the last one included, before this returns
/// Ok; on an error, what was unpacked so far must be thrown away by the caller.
pub fn unpack_into<R: Read>(
    sealed: Sealed<R>,
    key: &BackupKey,
    agent: &AgentKey,
    into: &std::path::Path,
) -> Result<Vec<String>, BackupError> {
    let mut plain = sealed.unlock_as(key, agent)?;
    let unpacked = archive::unpack(&mut plain, into).and_then(|names| {
        // The archive's end marker may come before the stream's last chunk: read it all, so
        // a cut or changed tail is caught too.
        io::copy(&mut plain, &mut io::sink())?;
        Ok(names)
    });
    match (unpacked, plain.failure()) {
        (_, Some(failure)) => Err(failure),
        (Err(error), None) => Err(error),
        (Ok(_), None) if !plain.ended => Err(BackupError::Truncated {
            bytes: plain.offset,
        }),
        (Ok(names), None) => Ok(names),
    }
}
