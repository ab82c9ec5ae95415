//! The global registry's records: signed pointers from a key hash to the pods an agent belongs
//! to. Pure and deterministic, so the daemon's Kademlia store and the simulator's model of it
//! validate pointers with the same code.
//!
//! A pointer holds no name, address or profile: only the agent's public key (needed to check
//! the signature and that it hashes to the key), its pods, a sequence number and an expiry.
//!
//! ```
//! use myco_dna::{DnaHash, SigningKey, Timestamp};
//! use myco_node::registry::{Pointer, PointerTerms};
//!
//! let key = SigningKey::from_bytes(&[4; 32]);
//! let agent = myco_dna::agent_key_of(&key);
//! let pointer = Pointer::sign(&key, PointerTerms { agent, pods: vec![DnaHash([1; 32])], seq: 1, expires: Timestamp(2_000) });
//! let bytes = pointer.to_bytes();
//! let checked = Pointer::validate(&agent.key_hash(), &bytes, Timestamp(1_000), None).unwrap();
//! assert_eq!(checked, pointer);
//! ```

use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor, DecodeError};
use myco_dna::signing::{sign_message, verify_message};
use myco_dna::{AgentKey, DnaHash, KeyHash, Signature, SigningKey, Timestamp};
use serde::{Deserialize, Serialize};

/// Largest pointer on the wire, in bytes.
pub const MAX_POINTER_BYTES: usize = 1024;
/// Most pods one pointer lists: keeps a pointer under its byte bound.
pub const MAX_POINTER_PODS: usize = 16;
/// Domain tag of pointer signatures.
pub const POINTER_DOMAIN: &str = "myco/registry-pointer/v1";
/// The pointer format this build writes and reads.
pub const POINTER_FORMAT_VERSION: u8 = 1;
/// How long a pointer lives before it must be republished, in µs (a day).
pub const POINTER_TTL_MICROS: u64 = 24 * 3600 * 1_000_000;
/// Prefix of registry keys in the DHT, so Myco's records cannot collide with others'.
pub const REGISTRY_KEY_PREFIX: &[u8] = b"/myco/registry/";
/// Prefix of pod rendezvous (provider) keys in the DHT.
pub const POD_KEY_PREFIX: &[u8] = b"/myco/pod/";

/// What an agent signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointerTerms {
    /// The agent: its hash must be the record's key.
    pub agent: AgentKey,
    /// The pods the agent belongs to.
    pub pods: Vec<DnaHash>,
    /// Newer pointers have higher seq; the newest wins.
    pub seq: u64,
    /// When the pointer stops being valid.
    pub expires: Timestamp,
}

/// A signed registry pointer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pointer {
    /// What is pointed to.
    pub terms: PointerTerms,
    /// The agent's signature over the terms.
    pub signature: Signature,
}

/// Why a pointer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointerError {
    /// It does not decode, or is too large.
    #[error("pointer does not decode: {0}")]
    Decode(#[from] DecodeError),
    /// The record's key is not the hash of the pointer's agent: a hijack attempt.
    #[error("pointer is stored under {key}, but its agent hashes to {actual}")]
    WrongKey {
        /// The key it was stored under.
        key: KeyHash,
        /// The agent's real key hash.
        actual: KeyHash,
    },
    /// The signature is not the agent's.
    #[error("pointer signature does not verify under its agent's key")]
    BadSignature,
    /// It has expired.
    #[error("pointer expired at {expires} µs")]
    Expired {
        /// When.
        expires: u64,
    },
    /// It lists too many pods, or the same pod twice.
    #[error("pointer lists {count} pods; at most {MAX_POINTER_PODS}, each once")]
    BadPods {
        /// How many it lists.
        count: usize,
    },
    /// An equal or newer pointer is already held.
    #[error("pointer seq {seq} is not newer than the held seq {held}")]
    Stale {
        /// Its seq.
        seq: u64,
        /// The held seq.
        held: u64,
    },
}

impl Pointer {
    /// Signs a pointer as `key` (which must be `terms.agent`'s secret key).
    pub fn sign(key: &SigningKey, terms: PointerTerms) -> Self {
        let signature = sign_message(key, POINTER_DOMAIN, &to_canonical_cbor(&terms));
        Pointer { terms, signature }
    }

    /// Wire bytes: version, then canonical CBOR.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![POINTER_FORMAT_VERSION];
        out.extend_from_slice(&to_canonical_cbor(self));
        out
    }

    /// Parses wire bytes without judging the pointer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PointerError> {
        const WHAT: &str = "registry pointer";
        let Some((&version, body)) = bytes.split_first() else {
            return Err(DecodeError::Empty { what: WHAT }.into());
        };
        if bytes.len() > MAX_POINTER_BYTES {
            return Err(DecodeError::TooLarge {
                what: WHAT,
                len: bytes.len(),
                max: MAX_POINTER_BYTES,
            }
            .into());
        }
        if version != POINTER_FORMAT_VERSION {
            return Err(DecodeError::UnknownVersion {
                what: WHAT,
                version,
                supported: POINTER_FORMAT_VERSION,
            }
            .into());
        }
        Ok(from_canonical_cbor(WHAT, body)?)
    }

    /// Validates pointer bytes stored under `key` at time `now`, against the pointer already
    /// held there (if any). Used on PUT and on GET alike.
    pub fn validate(
        key: &KeyHash,
        bytes: &[u8],
        now: Timestamp,
        held: Option<&Pointer>,
    ) -> Result<Pointer, PointerError> {
        let pointer = Pointer::from_bytes(bytes)?;
        let actual = pointer.terms.agent.key_hash();
        if &actual != key {
            return Err(PointerError::WrongKey { key: *key, actual });
        }
        verify_message(
            &pointer.terms.agent,
            POINTER_DOMAIN,
            &to_canonical_cbor(&pointer.terms),
            &pointer.signature,
        )
        .map_err(|_| PointerError::BadSignature)?;
        if pointer.terms.expires <= now {
            return Err(PointerError::Expired {
                expires: pointer.terms.expires.0,
            });
        }
        let mut pods = pointer.terms.pods.clone();
        pods.sort();
        pods.dedup();
        if pointer.terms.pods.len() > MAX_POINTER_PODS || pods.len() != pointer.terms.pods.len() {
            return Err(PointerError::BadPods {
                count: pointer.terms.pods.len(),
            });
        }
        if let Some(held) = held {
            if held != &pointer && pointer.terms.seq <= held.terms.seq {
                return Err(PointerError::Stale {
                    seq: pointer.terms.seq,
                    held: held.terms.seq,
                });
            }
        }
        Ok(pointer)
    }
}

/// The DHT key of an agent's pointer.
pub fn registry_key(key: &KeyHash) -> Vec<u8> {
    [REGISTRY_KEY_PREFIX, key.as_bytes()].concat()
}

/// The key hash in a registry DHT key, if it is one.
pub fn key_hash_of(dht_key: &[u8]) -> Option<KeyHash> {
    dht_key
        .strip_prefix(REGISTRY_KEY_PREFIX)
        .and_then(KeyHash::from_slice)
}

/// The DHT key under which a pod's members provide, for rendezvous.
pub fn pod_key(pod: &DnaHash) -> Vec<u8> {
    [POD_KEY_PREFIX, pod.as_bytes()].concat()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pointer of seed `seed`'s agent to one pod, with `seq`, valid until `expires`.
    pub(crate) fn pointer(seed: u8, seq: u64, expires: Timestamp) -> (SigningKey, Pointer) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let agent = myco_dna::agent_key_of(&key);
        let pointer = Pointer::sign(
            &key,
            PointerTerms {
                agent,
                pods: vec![DnaHash([9; 32])],
                seq,
                expires,
            },
        );
        (key, pointer)
    }

    fn signed(seed: u8, seq: u64) -> (SigningKey, Pointer) {
        pointer(seed, seq, Timestamp(10_000))
    }

    #[test]
    fn a_pointer_signed_by_the_wrong_key_is_refused() {
        let (_, honest) = signed(1, 1);
        let thief = SigningKey::from_bytes(&[2; 32]);
        // The thief signs terms naming the victim's agent key.
        let hijack = Pointer::sign(&thief, honest.terms.clone());
        let err = Pointer::validate(
            &honest.terms.agent.key_hash(),
            &hijack.to_bytes(),
            Timestamp(1),
            None,
        )
        .unwrap_err();
        assert_eq!(err, PointerError::BadSignature);
    }

    #[test]
    fn a_pointer_under_someone_elses_key_is_refused() {
        let (_, mine) = signed(1, 1);
        let (_, theirs) = signed(2, 1);
        let err = Pointer::validate(
            &theirs.terms.agent.key_hash(),
            &mine.to_bytes(),
            Timestamp(1),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, PointerError::WrongKey { .. }));
    }

    #[test]
    fn the_newest_seq_wins_and_expired_pointers_are_refused() {
        let (_, old) = signed(1, 1);
        let (_, new) = signed(1, 2);
        let key = old.terms.agent.key_hash();
        assert!(Pointer::validate(&key, &new.to_bytes(), Timestamp(1), Some(&old)).is_ok());
        assert!(matches!(
            Pointer::validate(&key, &old.to_bytes(), Timestamp(1), Some(&new)),
            Err(PointerError::Stale { .. })
        ));
        assert!(
            Pointer::validate(&key, &old.to_bytes(), Timestamp(1), Some(&old)).is_ok(),
            "the same pointer again is fine"
        );
        assert!(matches!(
            Pointer::validate(&key, &old.to_bytes(), Timestamp(10_000), None),
            Err(PointerError::Expired { .. })
        ));
    }

    #[test]
    fn malformed_and_oversized_pointers_are_clear_errors() {
        assert!(matches!(
            Pointer::from_bytes(&[]),
            Err(PointerError::Decode(DecodeError::Empty { .. }))
        ));
        assert!(matches!(
            Pointer::from_bytes(&[1, 0xff]),
            Err(PointerError::Decode(DecodeError::Malformed { .. }))
        ));
        assert!(matches!(
            Pointer::from_bytes(&[9, 0]),
            Err(PointerError::Decode(DecodeError::UnknownVersion { .. }))
        ));
        assert!(matches!(
            Pointer::from_bytes(&vec![1; 2000]),
            Err(PointerError::Decode(DecodeError::TooLarge { .. }))
        ));
    }

    #[test]
    fn registry_keys_round_trip_and_carry_no_personal_data() {
        let key = KeyHash([5; 32]);
        let dht = registry_key(&key);
        assert_eq!(key_hash_of(&dht), Some(key));
        assert_eq!(dht.len(), REGISTRY_KEY_PREFIX.len() + 32);
        assert_eq!(key_hash_of(&pod_key(&DnaHash([5; 32]))), None);
    }
}
