//! The agent's ed25519 key, encrypted at rest with a passphrase.
//!
//! The key file (`<data-dir>/agent.key`) is the magic bytes `MYCOKEY`, a format-version byte,
//! and the canonical CBOR of a struct holding argon2id parameters, salt, nonce and
//! public key in clear, then the ChaCha20-Poly1305 ciphertext of the 32-byte seed.
//!
//! - argon2id turns the passphrase and salt into the AEAD key; its parameters are stored in
//!   the file, so they can be raised later without breaking old files.
//! - The magic, version and clear header are the AEAD's associated data, so changing any of
//!   them (say, swapping in another public key) makes decryption fail.
//! - After decrypting, the seed's public key must equal the stored one.
//! - The file is written atomically with mode `0600`, and secrets are zeroized after use.
//!
//! The public key can be read without the passphrase ([`Keystore::public_key`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use myco_dna::encoding::{from_cbor, to_canonical_cbor};
use myco_dna::{agent_key_of, AgentKey, SigningKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The first bytes of every key file.
pub const KEY_FILE_MAGIC: [u8; 7] = *b"MYCOKEY";
/// The key-file format this build writes and reads.
pub const KEY_FILE_VERSION: u8 = 1;
/// Largest key file read, in bytes. A real one is under 200 bytes; the bound stops a wrong
/// path (a disk image, say) from being read into memory.
pub const MAX_KEY_FILE_BYTES: u64 = 4096;
/// Largest argon2 memory cost accepted from a file, in KiB (2 GiB). Far above any sensible
/// setting, and it stops a tampered file from making unlock allocate without bound.
pub const MAX_M_COST_KIB: u32 = 2 * 1024 * 1024;
/// Largest argon2 pass count accepted from a file: bounds the time a tampered file can cost.
pub const MAX_T_COST: u32 = 64;
/// Largest argon2 parallelism accepted from a file.
pub const MAX_P_COST: u32 = 64;

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const SEED_LEN: usize = 32;
/// Seed plus the Poly1305 tag.
const CIPHERTEXT_LEN: usize = SEED_LEN + 16;

/// argon2id cost parameters, stored in each key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Degree of parallelism.
    pub p_cost: u32,
}

impl KdfParams {
    /// OWASP's recommended argon2id setting: 19 MiB, 2 passes, 1 lane.
    pub const OWASP: KdfParams = KdfParams {
        m_cost_kib: 19_456,
        t_cost: 2,
        p_cost: 1,
    };

    /// The argon2 parameters, or why these are out of bounds.
    fn to_argon2(self) -> Result<Params, String> {
        if self.m_cost_kib > MAX_M_COST_KIB || self.t_cost > MAX_T_COST || self.p_cost > MAX_P_COST
        {
            return Err(format!(
                "argon2 parameters {self:?} are over this build's bounds"
            ));
        }
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| format!("argon2 parameters {self:?} are invalid: {e}"))
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::OWASP
    }
}

/// Why the key could not be stored or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// The passphrase does not decrypt the key (or the file's header was altered).
    #[error("wrong passphrase for {} (or the key file was altered): try again, or restore the key from your backup", path.display())]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// The file is not a well-formed key file.
    #[error("key file {} is damaged ({detail}); restore it from your backup", path.display())]
    Corrupt {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The file was written by a newer format.
    #[error("key file has format version {version}, but this build reads version {KEY_FILE_VERSION}; upgrade myco")]
    UnknownVersion {
        /// The version found.
        version: u8,
    },
    /// A key file is already there, and it is never overwritten.
    #[error("an agent key already exists at {}; refusing to overwrite it (use another data dir for a new key)", path.display())]
    AlreadyExists {
        /// The existing key file.
        path: PathBuf,
    },
    /// There is no key file.
    #[error("no agent key in {}: run `myco init` first", path.parent().unwrap_or(path).display())]
    Missing {
        /// The expected key file.
        path: PathBuf,
    },
    /// The passphrase is empty.
    #[error("the passphrase is empty; choose a non-empty passphrase")]
    EmptyPassphrase,
    /// The argon2 parameters given for a new key are out of bounds.
    #[error("cannot store the key: {0}")]
    InvalidKdfParams(String),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Randomness(String),
    /// Reading or writing the file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// The part of the file in clear; authenticated as associated data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct KeyHeader {
    kdf: KdfParams,
    #[serde(with = "serde_bytes")]
    salt: Vec<u8>,
    #[serde(with = "serde_bytes")]
    nonce: Vec<u8>,
    agent: AgentKey,
}

/// The CBOR body of a key file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct KeyFile {
    header: KeyHeader,
    #[serde(with = "serde_bytes")]
    ciphertext: Vec<u8>,
}

impl KeyHeader {
    /// Associated data: everything in the file but the ciphertext.
    fn associated_data(&self) -> Vec<u8> {
        let mut aad = KEY_FILE_MAGIC.to_vec();
        aad.push(KEY_FILE_VERSION);
        aad.extend_from_slice(&to_canonical_cbor(self));
        aad
    }
}

/// The agent key file at one path.
#[derive(Clone, Debug)]
pub struct Keystore {
    path: PathBuf,
}

impl Keystore {
    /// The key file at `path` (which need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Keystore { path: path.into() }
    }

    /// The key file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True if something is at the key file's path.
    pub fn exists(&self) -> bool {
        fs::symlink_metadata(&self.path).is_ok()
    }

    /// Generates a new key from the OS RNG, stores it under `passphrase`, and returns its
    /// public key. Refuses if a key file already exists.
    pub fn generate(&self, passphrase: &[u8], kdf: KdfParams) -> Result<AgentKey, KeystoreError> {
        self.save(&new_signing_key()?, passphrase, kdf)
    }

    /// Stores `key` under `passphrase`, and returns its public key. Refuses if a key file
    /// already exists. Callers hold the data-dir lock, so nothing races the existence check.
    pub fn save(
        &self,
        key: &SigningKey,
        passphrase: &[u8],
        kdf: KdfParams,
    ) -> Result<AgentKey, KeystoreError> {
        if passphrase.is_empty() {
            return Err(KeystoreError::EmptyPassphrase);
        }
        if self.exists() {
            return Err(KeystoreError::AlreadyExists {
                path: self.path.clone(),
            });
        }
        let params = kdf.to_argon2().map_err(KeystoreError::InvalidKdfParams)?;
        let mut salt = vec![0u8; SALT_LEN];
        let mut nonce = vec![0u8; NONCE_LEN];
        fill_random(&mut salt)?;
        fill_random(&mut nonce)?;
        let header = KeyHeader {
            kdf,
            salt,
            nonce,
            agent: agent_key_of(key),
        };
        let cipher = self.cipher(passphrase, &header.salt, params)?;
        let seed = Zeroizing::new(key.to_bytes());
        let payload = Payload {
            msg: &seed[..],
            aad: &header.associated_data(),
        };
        // Encrypting 32 bytes cannot exceed ChaCha20-Poly1305's message limit.
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&header.nonce), payload)
            .expect("encrypting a 32-byte seed never fails");
        let agent = header.agent;
        let mut bytes = KEY_FILE_MAGIC.to_vec();
        bytes.push(KEY_FILE_VERSION);
        bytes.extend_from_slice(&to_canonical_cbor(&KeyFile { header, ciphertext }));
        write_atomically(&self.path, &bytes)?;
        tracing::info!(path = %self.path.display(), agent = %agent, "agent key stored");
        Ok(agent)
    }

    /// The public key, read without the passphrase.
    pub fn public_key(&self) -> Result<AgentKey, KeystoreError> {
        Ok(self.read()?.header.agent)
    }

    /// Decrypts the key with `passphrase`.
    pub fn unlock(&self, passphrase: &[u8]) -> Result<SigningKey, KeystoreError> {
        let file = self.read()?;
        let params = file.header.kdf.to_argon2().map_err(|d| self.corrupt(d))?;
        let cipher = self.cipher(passphrase, &file.header.salt, params)?;
        let payload = Payload {
            msg: &file.ciphertext[..],
            aad: &file.header.associated_data(),
        };
        let seed = cipher
            .decrypt(Nonce::from_slice(&file.header.nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| KeystoreError::WrongPassphrase {
                path: self.path.clone(),
            })?;
        let seed: Zeroizing<[u8; SEED_LEN]> = Zeroizing::new(
            seed[..]
                .try_into()
                .map_err(|_| self.corrupt(format!("seed is {} bytes, not 32", seed.len())))?,
        );
        let key = SigningKey::from_bytes(&seed);
        if agent_key_of(&key) != file.header.agent {
            return Err(self.corrupt("decrypted key does not match the stored public key".into()));
        }
        Ok(key)
    }

    fn read(&self) -> Result<KeyFile, KeystoreError> {
        let file = File::open(&self.path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => KeystoreError::Missing {
                path: self.path.clone(),
            },
            _ => self.io("open", source),
        })?;
        let mut bytes = Vec::new();
        file.take(MAX_KEY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| self.io("read", source))?;
        self.parse(&bytes)
    }

    fn parse(&self, bytes: &[u8]) -> Result<KeyFile, KeystoreError> {
        if bytes.is_empty() {
            return Err(self.corrupt("the file is empty".into()));
        }
        if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(self.corrupt(format!("over {MAX_KEY_FILE_BYTES} bytes")));
        }
        let Some(rest) = bytes.strip_prefix(&KEY_FILE_MAGIC[..]) else {
            return Err(self.corrupt("not a myco key file (bad magic bytes)".into()));
        };
        let Some((&version, body)) = rest.split_first() else {
            return Err(self.corrupt("truncated after the magic bytes".into()));
        };
        if version != KEY_FILE_VERSION {
            return Err(KeystoreError::UnknownVersion { version });
        }
        let file: KeyFile =
            from_cbor("agent key file", body).map_err(|e| self.corrupt(e.to_string()))?;
        for (field, len, expected) in [
            ("salt", file.header.salt.len(), SALT_LEN),
            ("nonce", file.header.nonce.len(), NONCE_LEN),
            ("ciphertext", file.ciphertext.len(), CIPHERTEXT_LEN),
        ] {
            if len != expected {
                return Err(self.corrupt(format!("{field} is {len} bytes, not {expected}")));
            }
        }
        Ok(file)
    }

    /// The AEAD keyed by argon2id(passphrase, salt).
    fn cipher(
        &self,
        passphrase: &[u8],
        salt: &[u8],
        params: Params,
    ) -> Result<ChaCha20Poly1305, KeystoreError> {
        let mut key = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase, salt, &mut key[..])
            .map_err(|e| self.corrupt(format!("key derivation failed: {e}")))?;
        Ok(ChaCha20Poly1305::new(Key::from_slice(&key[..])))
    }

    fn corrupt(&self, detail: String) -> KeystoreError {
        KeystoreError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }

    fn io(&self, action: &'static str, source: io::Error) -> KeystoreError {
        KeystoreError::Io {
            action,
            path: self.path.clone(),
            source,
        }
    }
}

/// A new agent key from the operating system's random number generator.
pub fn new_signing_key() -> Result<SigningKey, KeystoreError> {
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    fill_random(&mut seed[..])?;
    Ok(SigningKey::from_bytes(&seed))
}

fn fill_random(out: &mut [u8]) -> Result<(), KeystoreError> {
    OsRng
        .try_fill_bytes(out)
        .map_err(|e| KeystoreError::Randomness(e.to_string()))
}

/// Writes `bytes` to `path` so that a crash leaves either no file or the whole file: a temp
/// file in the same directory (mode 0600), fsync, rename, fsync of the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), KeystoreError> {
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| KeystoreError::Io {
            action,
            path,
            source,
        }
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io("create", &tmp))?;
        file.write_all(bytes).map_err(io("write", &tmp))?;
        file.sync_all().map_err(io("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io("rename into place", path))
    })();
    if result.is_err() {
        // Best effort: the temp file holds only ciphertext, and a failed clean-up must not
        // hide the error that matters.
        let _ = fs::remove_file(&tmp);
    }
    result?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync directory", dir))
}

#[cfg(test)]
mod tests;
