//! Entry bytes encrypted at rest: the store key and the sealed form of an entry.
//!
//! - The **store key** is derived from the agent's ed25519 seed ([`StoreKey::derive`]), which
//!   is itself encrypted under the passphrase in `agent.key`. So only the passphrase unlocks
//!   the store, the key never reaches the disk, and a recovery of the agent key (from a backup
//!   of `agent.key`, or later a recovery phrase) also recovers the store key.
//! - Each entry is sealed with XChaCha20-Poly1305. The nonce is derived from the record's
//!   action hash and the action hash is the associated data, so a sealed entry opens only as
//!   the entry of that record: moving sealed bytes to another record makes them fail.
//! - A derived nonce is safe here because one (key, action hash) pair only ever seals one
//!   plaintext: the action commits to the entry's hash, and a purged entry is never filled
//!   again.
//!
//! Sealed form: one format byte ([`SEALED_FORMAT`]), then ciphertext and 16-byte tag.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use myco_dna::{ActionHash, Entry, SigningKey};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

/// The sealed-entry format this build writes and reads.
pub const SEALED_FORMAT: u8 = 1;

const KEY_DOMAIN: &[u8] = b"myco/store-key/v1";
const CHECK_DOMAIN: &[u8] = b"myco/store-key-check/v1";
const NONCE_DOMAIN: &[u8] = b"myco/entry-nonce/v1";
const TAG_DOMAIN: &[u8] = b"myco/index-tag/v1";

/// The key that seals a store's entries. Zeroized when dropped.
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

/// Why a sealed entry does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    /// The bytes are empty.
    #[error("the sealed entry is empty")]
    Empty,
    /// The format byte is not one this build reads.
    #[error("sealed entry format {0} is unknown (this build reads format {SEALED_FORMAT})")]
    UnknownFormat(u8),
    /// Authentication failed: the bytes were altered, belong to another record, or were
    /// sealed under another key.
    #[error("the sealed entry does not authenticate: damaged, moved, or sealed under another key")]
    Forged,
}

impl StoreKey {
    /// The store key of the agent whose seed `signing_key` holds.
    pub fn derive(signing_key: &SigningKey) -> Self {
        let mut input = Zeroizing::new(Vec::with_capacity(KEY_DOMAIN.len() + 32));
        input.extend_from_slice(KEY_DOMAIN);
        input.extend_from_slice(signing_key.as_bytes());
        StoreKey(Zeroizing::new(myco_dna::blake2b_256(&input)))
    }

    /// A value that tells whether a store was sealed under this key, without revealing the
    /// key: kept in the store so a wrong key is named at open, not as damage on every read.
    pub fn check_value(&self) -> [u8; 32] {
        let mut input = Zeroizing::new(Vec::with_capacity(CHECK_DOMAIN.len() + 32));
        input.extend_from_slice(CHECK_DOMAIN);
        input.extend_from_slice(&self.0[..]);
        myco_dna::blake2b_256(&input)
    }

    /// An index key for `bytes` that only this key can compute: the first 8 bytes of
    /// blake2b-256 over a domain, the key, `what` and `bytes`. The reference and kind indexes
    /// file what an entry names under such tags, so a reader of the raw file cannot tell which
    /// story a sealed comment answers, or which kind of work a story is.
    pub fn index_tag(&self, what: &[u8], bytes: &[u8]) -> i64 {
        let mut input = Zeroizing::new(Vec::with_capacity(
            TAG_DOMAIN.len() + 33 + what.len() + bytes.len(),
        ));
        input.extend_from_slice(TAG_DOMAIN);
        input.extend_from_slice(&self.0[..]);
        input.push(what.len() as u8);
        input.extend_from_slice(what);
        input.extend_from_slice(bytes);
        let digest = myco_dna::blake2b_256(&input);
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(tag)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }

    /// Seals the entry of the record `hash`.
    pub fn seal(&self, hash: &ActionHash, entry: &Entry) -> Vec<u8> {
        let sealed = self
            .cipher()
            .encrypt(
                &nonce_of(hash),
                Payload {
                    msg: &entry.0,
                    aad: hash.as_bytes(),
                },
            )
            // XChaCha20-Poly1305 fails only on plaintexts of ~256 GiB; entries are bounded far
            // below that by `MAX_ENTRY_BYTES`.
            .expect("an entry is far below the AEAD's length limit");
        let mut out = Vec::with_capacity(sealed.len() + 1);
        out.push(SEALED_FORMAT);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens the sealed entry of the record `hash`.
    pub fn open(&self, hash: &ActionHash, sealed: &[u8]) -> Result<Entry, UnsealError> {
        let (&format, body) = sealed.split_first().ok_or(UnsealError::Empty)?;
        if format != SEALED_FORMAT {
            return Err(UnsealError::UnknownFormat(format));
        }
        self.cipher()
            .decrypt(
                &nonce_of(hash),
                Payload {
                    msg: body,
                    aad: hash.as_bytes(),
                },
            )
            .map(Entry)
            .map_err(|_| UnsealError::Forged)
    }
}

impl StoreKey {
    /// Seals bytes that are not an entry (a kept warrant, say), under a random nonce that is
    /// stored with them. `aad` names what they are, so they open only as that.
    pub fn seal_blob(&self, aad: &[u8], bytes: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: bytes, aad })
            .expect("a warrant is far below the AEAD's length limit");
        let mut out = Vec::with_capacity(1 + 24 + sealed.len());
        out.push(SEALED_FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens bytes sealed by [`StoreKey::seal_blob`] with the same `aad`.
    pub fn open_blob(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, UnsealError> {
        let (&format, body) = sealed.split_first().ok_or(UnsealError::Empty)?;
        if format != SEALED_FORMAT {
            return Err(UnsealError::UnknownFormat(format));
        }
        if body.len() < 24 {
            return Err(UnsealError::Forged);
        }
        let (nonce, ciphertext) = body.split_at(24);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| UnsealError::Forged)
    }
}

fn nonce_of(hash: &ActionHash) -> XNonce {
    let mut input = [0u8; NONCE_DOMAIN.len() + 32];
    input[..NONCE_DOMAIN.len()].copy_from_slice(NONCE_DOMAIN);
    input[NONCE_DOMAIN.len()..].copy_from_slice(hash.as_bytes());
    let digest = myco_dna::blake2b_256(&input);
    *XNonce::from_slice(&digest[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> StoreKey {
        StoreKey::derive(&SigningKey::from_bytes(&[seed; 32]))
    }

    fn hash(n: u8) -> ActionHash {
        ActionHash::from_slice(&[n; 32]).expect("32 bytes")
    }

    #[test]
    fn an_entry_opens_as_the_entry_of_its_own_record_under_its_own_key_only() {
        let entry = Entry(b"a story told in confidence".to_vec());
        let sealed = key(1).seal(&hash(1), &entry);
        assert_eq!(key(1).open(&hash(1), &sealed), Ok(entry.clone()));
        assert_eq!(key(2).open(&hash(1), &sealed), Err(UnsealError::Forged));
        assert_eq!(key(1).open(&hash(2), &sealed), Err(UnsealError::Forged));
        let mut flipped = sealed.clone();
        flipped[5] ^= 1;
        assert_eq!(key(1).open(&hash(1), &flipped), Err(UnsealError::Forged));
        assert_eq!(key(1).open(&hash(1), &[]), Err(UnsealError::Empty));
        assert_eq!(
            key(1).open(&hash(1), &[9, 1, 2]),
            Err(UnsealError::UnknownFormat(9))
        );
        // The format byte and the Poly1305 tag.
        assert_eq!(sealed.len(), entry.0.len() + 1 + 16);
    }

    #[test]
    fn a_sealed_blob_opens_only_under_its_own_name() {
        let sealed = key(1).seal_blob(b"warrant of pod 1", b"evidence");
        assert_eq!(
            key(1).open_blob(b"warrant of pod 1", &sealed),
            Ok(b"evidence".to_vec())
        );
        assert_eq!(
            key(1).open_blob(b"warrant of pod 2", &sealed),
            Err(UnsealError::Forged)
        );
        assert_eq!(key(1).open_blob(b"x", &[1, 2]), Err(UnsealError::Forged));
    }

    #[test]
    fn the_sealed_bytes_do_not_contain_the_plaintext() {
        let entry = Entry(b"MARKER-private-words-MARKER".to_vec());
        let sealed = key(1).seal(&hash(1), &entry);
        assert!(!sealed.windows(6).any(|w| w == b"MARKER"));
    }

    #[test]
    fn the_store_key_differs_per_agent_and_its_check_value_differs_from_it() {
        assert_ne!(key(1).check_value(), key(2).check_value());
        assert_ne!(key(1).check_value(), *key(1).0);
    }
}
