//! ed25519 signatures over action hashes: signing, strict verification and batch verification.
//!
//! The rule every node applies is `verify_strict`. [`verify_batch`] is a fast path with the same
//! verdicts for every signature an honest signer can produce: it runs ed25519-dalek's batch
//! equation and the small-order checks `verify_strict` makes, and when the batch fails it checks
//! each signature alone with `verify_strict`, so the bad one is pinpointed.

use std::fmt;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature as DalekSignature, Signer, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use ed25519_dalek::SigningKey;

use crate::hash::{ActionHash, AgentKey, FixedBytesVisitor};

/// An ed25519 signature (64 bytes), encoded in CBOR as a byte string.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", hex::encode(&self.0[..6]))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_bytes(FixedBytesVisitor::<64>("signature"))
            .map(Signature)
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The author's key bytes are not a valid ed25519 point.
    #[error("author key is not a valid ed25519 public key")]
    InvalidKey,
    /// The key is of small order, which `verify_strict` refuses.
    #[error("author key is a weak (small-order) ed25519 key")]
    WeakKey,
    /// The signature does not verify under the author's key.
    #[error("signature does not verify under the author's key")]
    BadSignature,
}

/// The public key of a signing key, as an [`AgentKey`].
pub fn agent_key_of(signing_key: &SigningKey) -> AgentKey {
    AgentKey(signing_key.verifying_key().to_bytes())
}

/// Signs an action hash.
pub fn sign_hash(signing_key: &SigningKey, hash: &ActionHash) -> Signature {
    Signature(signing_key.sign(hash.as_bytes()).to_bytes())
}

/// Checks `signature` over `hash` by `author` with `verify_strict`.
pub fn verify_strict(
    author: &AgentKey,
    hash: &ActionHash,
    signature: &Signature,
) -> Result<(), SignatureError> {
    let key =
        VerifyingKey::from_bytes(author.as_bytes()).map_err(|_| SignatureError::InvalidKey)?;
    if key.is_weak() {
        return Err(SignatureError::WeakKey);
    }
    key.verify_strict(hash.as_bytes(), &DalekSignature::from_bytes(&signature.0))
        .map_err(|_| SignatureError::BadSignature)
}

/// Hashes a message under a domain tag, so a signature made for one purpose (an invitation,
/// a registry pointer, a session binding) can never pass as another, or as an action's.
pub fn message_digest(domain: &str, message: &[u8]) -> [u8; 32] {
    use blake2::Digest;
    let mut hasher = crate::hash::Blake2b256::new();
    hasher.update((domain.len() as u64).to_be_bytes());
    hasher.update(domain.as_bytes());
    hasher.update(message);
    hasher.finalize().into()
}

/// Signs `message` under `domain` (see [`message_digest`]).
pub fn sign_message(signing_key: &SigningKey, domain: &str, message: &[u8]) -> Signature {
    Signature(
        signing_key
            .sign(&message_digest(domain, message))
            .to_bytes(),
    )
}

/// Checks a [`sign_message`] signature with `verify_strict`.
pub fn verify_message(
    signer: &AgentKey,
    domain: &str,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    verify_strict(
        signer,
        &ActionHash(message_digest(domain, message)),
        signature,
    )
}

/// One item of a batch: who signed which hash, with what signature.
#[derive(Clone, Copy, Debug)]
pub struct SignedHash<'a> {
    /// The claimed signer.
    pub author: &'a AgentKey,
    /// The signed action hash.
    pub hash: &'a ActionHash,
    /// The signature.
    pub signature: &'a Signature,
}

/// Verifies many signatures at once, returning one verdict per item, in order.
///
/// If the whole batch verifies, every item is accepted. Otherwise each item is checked alone
/// with [`verify_strict`], so exactly the bad ones are refused.
pub fn verify_batch(items: &[SignedHash<'_>]) -> Vec<Result<(), SignatureError>> {
    if items.len() < 2 {
        return items
            .iter()
            .map(|item| verify_strict(item.author, item.hash, item.signature))
            .collect();
    }
    if batch_equation_holds(items) {
        return vec![Ok(()); items.len()];
    }
    items
        .iter()
        .map(|item| verify_strict(item.author, item.hash, item.signature))
        .collect()
}

/// True if every key parses and is not weak, no signature's R is of small order, and the
/// batch equation holds. These are the checks `verify_strict` makes, in batch form.
fn batch_equation_holds(items: &[SignedHash<'_>]) -> bool {
    let mut keys = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    let mut messages: Vec<&[u8]> = Vec::with_capacity(items.len());
    // A batch usually holds many records of few authors: parse each key once.
    let mut parsed: Vec<(&AgentKey, VerifyingKey)> = Vec::new();
    for item in items {
        let key = match parsed.iter().find(|(author, _)| *author == item.author) {
            Some((_, key)) => *key,
            None => {
                let Ok(key) = VerifyingKey::from_bytes(item.author.as_bytes()) else {
                    return false;
                };
                if key.is_weak() {
                    return false;
                }
                parsed.push((item.author, key));
                key
            }
        };
        if r_is_small_order(item.signature) {
            return false;
        }
        keys.push(key);
        signatures.push(DalekSignature::from_bytes(&item.signature.0));
        messages.push(item.hash.as_bytes());
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

fn r_is_small_order(signature: &Signature) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature.0[..32]);
    match CompressedEdwardsY(r).decompress() {
        Some(point) => point.is_small_order(),
        // Not a point at all: let the single check refuse it.
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_signature_verifies_under_its_key_only() {
        let signer = key(1);
        let hash = ActionHash([9; 32]);
        let sig = sign_hash(&signer, &hash);
        assert_eq!(verify_strict(&agent_key_of(&signer), &hash, &sig), Ok(()));
        assert_eq!(
            verify_strict(&agent_key_of(&key(2)), &hash, &sig),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn batch_pinpoints_the_bad_signature() {
        let signers: Vec<_> = (1..=5).map(key).collect();
        let agents: Vec<_> = signers.iter().map(agent_key_of).collect();
        let hashes: Vec<_> = (0..5u8).map(|i| ActionHash([i; 32])).collect();
        let mut sigs: Vec<_> = signers
            .iter()
            .zip(&hashes)
            .map(|(k, h)| sign_hash(k, h))
            .collect();
        sigs[3].0[40] ^= 1;
        let items: Vec<_> = (0..5)
            .map(|i| SignedHash {
                author: &agents[i],
                hash: &hashes[i],
                signature: &sigs[i],
            })
            .collect();
        let verdicts = verify_batch(&items);
        assert_eq!(verdicts.iter().filter(|v| v.is_err()).count(), 1);
        assert_eq!(verdicts[3], Err(SignatureError::BadSignature));
    }

    #[test]
    fn batch_of_good_signatures_all_pass() {
        let signer = key(3);
        let agent = agent_key_of(&signer);
        let hashes: Vec<_> = (0..8u8).map(|i| ActionHash([i; 32])).collect();
        let sigs: Vec<_> = hashes.iter().map(|h| sign_hash(&signer, h)).collect();
        let items: Vec<_> = hashes
            .iter()
            .zip(&sigs)
            .map(|(hash, signature)| SignedHash {
                author: &agent,
                hash,
                signature,
            })
            .collect();
        assert!(verify_batch(&items).iter().all(Result::is_ok));
    }

    #[test]
    fn the_identity_key_is_refused_as_weak() {
        // The compressed identity point (y = 1) is a valid encoding of a small-order point.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let err = verify_strict(
            &AgentKey(identity),
            &ActionHash([0; 32]),
            &Signature([0; 64]),
        );
        assert_eq!(err, Err(SignatureError::WeakKey));
    }
}
