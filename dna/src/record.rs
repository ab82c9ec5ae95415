//! Signed actions and records, and their versioned wire form.
//!
//! A record on the wire or on disk is one format-version byte followed by the canonical CBOR
//! of [`Record`]. Decoding checks the size bound, the version, and canonical form; it never
//! checks signatures, which is [`crate::chain`]'s job.

use serde::{Deserialize, Serialize};

use crate::action::{Action, Entry};
use crate::encoding::{from_canonical_cbor, to_canonical_cbor, DecodeError};
use crate::hash::ActionHash;
use crate::limits::MAX_RECORD_BYTES;
use crate::signing::{sign_hash, Signature, SigningKey};

/// The record format this build writes and reads.
pub const RECORD_FORMAT_VERSION: u8 = 1;

/// An action with its hash and the author's signature over that hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SignedAction {
    /// The action.
    pub action: Action,
    /// blake2b-256 of the action's canonical bytes, as the author computed it.
    pub hash: ActionHash,
    /// ed25519 signature by `action.author` over `hash`.
    pub signature: Signature,
}

impl SignedAction {
    /// Hashes and signs `action` with `signing_key`. The caller makes sure the key is the
    /// action's author; validation refuses the result otherwise.
    pub fn sign(action: Action, signing_key: &SigningKey) -> Self {
        let hash = action.hash();
        let signature = sign_hash(signing_key, &hash);
        SignedAction {
            action,
            hash,
            signature,
        }
    }
}

/// A signed action plus its entry, if the entry is present (it is absent when it is private,
/// purged, or not visible to the holder).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Record {
    /// The signed action.
    pub signed: SignedAction,
    /// The entry the action writes, when held.
    pub entry: Option<Entry>,
}

impl Record {
    /// The action.
    pub fn action(&self) -> &Action {
        &self.signed.action
    }

    /// The action hash.
    pub fn hash(&self) -> ActionHash {
        self.signed.hash
    }

    /// The record without its entry bytes: what stays after a purge.
    pub fn without_entry(&self) -> Record {
        Record {
            signed: self.signed.clone(),
            entry: None,
        }
    }

    /// The wire form: version byte, then canonical CBOR.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = to_canonical_cbor(self);
        let mut out = Vec::with_capacity(body.len() + 1);
        out.push(RECORD_FORMAT_VERSION);
        out.extend_from_slice(&body);
        out
    }

    /// Parses the wire form, refusing oversized, unknown-version, malformed and
    /// non-canonical input with a named error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Record, DecodeError> {
        const WHAT: &str = "record";
        let Some((&version, body)) = bytes.split_first() else {
            return Err(DecodeError::Empty { what: WHAT });
        };
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(DecodeError::TooLarge {
                what: WHAT,
                len: bytes.len(),
                max: MAX_RECORD_BYTES,
            });
        }
        if version != RECORD_FORMAT_VERSION {
            return Err(DecodeError::UnknownVersion {
                what: WHAT,
                version,
                supported: RECORD_FORMAT_VERSION,
            });
        }
        from_canonical_cbor(WHAT, body)
    }
}
