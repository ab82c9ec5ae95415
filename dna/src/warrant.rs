//! Warrants: self-contained proof that an author misbehaved, which anyone can verify.

use serde::{Deserialize, Serialize};

use crate::chain::{check_hash, check_signature, SystemError};
use crate::encoding::{from_canonical_cbor, to_canonical_cbor, DecodeError};
use crate::hash::{AgentKey, DnaHash};
use crate::record::SignedAction;

/// Proof of misbehaviour by one author in one pod.
// Warrants are rare and short-lived; keeping the fork evidence inline keeps the type simple.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Warrant {
    /// Two different actions signed by the same author at the same seq of the same chain.
    /// The two signed actions are the whole proof.
    Fork {
        /// One of the two actions (the lower hash, so every node builds the same warrant).
        first: SignedAction,
        /// The other action.
        second: SignedAction,
    },
    /// A record its author signed that breaks the pod's rules. Anyone can check the author
    /// signed it; whether it breaks a rule is checked by validating it again, against the
    /// records it references.
    Invalid {
        /// The offending record.
        record: Box<crate::record::Record>,
        /// The check that refused it (a system check name, or `app`).
        check: String,
        /// Why it was refused.
        reason: String,
    },
}

/// Why a warrant does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarrantError {
    /// One of the signed actions fails its hash or signature check.
    #[error("warrant evidence is not authentic: {0}")]
    Evidence(SystemError),
    /// The two actions are not at the same place of the same chain.
    #[error("the two actions are not at the same seq of the same chain")]
    NotSameSlot,
    /// The two actions are the same action.
    #[error("the two actions are identical, so there is no fork")]
    Identical,
    /// The bytes do not decode to a warrant.
    #[error("warrant does not decode: {0}")]
    Decode(#[from] DecodeError),
}

impl Warrant {
    /// Builds a fork warrant from two conflicting actions, ordered by hash.
    pub fn fork(a: SignedAction, b: SignedAction) -> Self {
        let (first, second) = if a.hash <= b.hash { (a, b) } else { (b, a) };
        Warrant::Fork { first, second }
    }

    /// The author the warrant accuses.
    pub fn offender(&self) -> &AgentKey {
        match self {
            Warrant::Fork { first, .. } => &first.action.author,
            Warrant::Invalid { record, .. } => &record.signed.action.author,
        }
    }

    /// The pod where the misbehaviour happened.
    pub fn pod(&self) -> &DnaHash {
        match self {
            Warrant::Fork { first, .. } => &first.action.pod,
            Warrant::Invalid { record, .. } => &record.signed.action.pod,
        }
    }

    /// Checks the proof independently of whoever issued it; returns the offender on success.
    /// For [`Warrant::Invalid`] this proves authorship; the verifier re-validates the record
    /// to confirm the rule it breaks.
    pub fn verify(&self) -> Result<AgentKey, WarrantError> {
        match self {
            Warrant::Fork { first, second } => {
                for signed in [first, second] {
                    check_hash(signed).map_err(WarrantError::Evidence)?;
                    check_signature(signed).map_err(WarrantError::Evidence)?;
                }
                let (a, b) = (&first.action, &second.action);
                if a.pod != b.pod || a.author != b.author || a.seq != b.seq {
                    return Err(WarrantError::NotSameSlot);
                }
                if first.hash == second.hash {
                    return Err(WarrantError::Identical);
                }
                Ok(a.author)
            }
            Warrant::Invalid { record, .. } => {
                // The record must really be the author's: a forged signature proves nothing
                // against them. The accusation itself is re-checked by validating the record.
                check_hash(&record.signed).map_err(WarrantError::Evidence)?;
                check_signature(&record.signed).map_err(WarrantError::Evidence)?;
                Ok(record.signed.action.author)
            }
        }
    }

    /// Canonical CBOR bytes of the warrant.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical_cbor(self)
    }

    /// Decodes a warrant (it still has to be [verified](Warrant::verify)).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WarrantError> {
        Ok(from_canonical_cbor("warrant", bytes)?)
    }
}
