//! ed25519 signatures over action hashes: signing, and the one verification rule every path
//! applies.
//!
//! # The rule
//!
//! Two honest nodes holding the same bytes must reach the same verdict, whether a signature
//! reaches them alone (gossip, a warrant, a session binding, a registry pointer, an
//! invitation) or in a batch (sync). ed25519 implementations disagree on edge cases — small
//! and mixed-order points, non-canonical encodings — and ed25519-dalek's `verify_strict`
//! (cofactorless, one at a time) and its batch equation (cofactorless with random
//! coefficients) disagree with each other on a signature whose R carries a torsion component.
//! So Myco does not use either. Every path applies [`verify_signature`] or [`verify_batch`],
//! which are the same rule:
//!
//! 1. `A` (the signer's key) and `R` (the first half of the signature) are canonical
//!    encodings: `y < p`, and the sign bit is clear when `x = 0`.
//! 2. Neither `A` nor `R` is one of the eight small-order points.
//! 3. `S` is canonical: `S < ℓ`.
//! 4. The cofactored equation holds: `[8][S]B = [8]R + [8][k]A`, with
//!    `k = SHA-512(R ‖ A ‖ M)` (ZIP-215 semantics, through the `ed25519-zebra` crate).
//!
//! Steps 1–3 are byte checks on the input, so they give the same answer on every path.
//! Step 4 is the equation the batch check computes too: multiplied by the cofactor, a
//! signature's torsion components vanish from both, so a batch holds exactly when each of its
//! signatures holds alone (but with probability 2⁻¹²⁸ per try, over coefficients the batch
//! derives from a hash of its own content). Every signature an honest signer makes passes.
//! `docs/protocol.md` explains why this rule was chosen over rejecting torsion outright.

use std::fmt;

use curve25519_dalek::Scalar;
use ed25519_dalek::Signer;
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

/// Why a signature was refused. Each variant names the step of the rule (see the module
/// docs) that refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The author's key bytes are not a canonical encoding of a point.
    #[error("author key is not a canonical ed25519 point encoding")]
    NonCanonicalKey,
    /// The author's key bytes do not decode to a point on the curve.
    #[error("author key is not a valid ed25519 public key")]
    InvalidKey,
    /// The key is one of the eight small-order points.
    #[error("author key is a weak (small-order) ed25519 key")]
    WeakKey,
    /// The signature's R is not a canonical encoding of a point.
    #[error("signature's R is not a canonical ed25519 point encoding")]
    NonCanonicalR,
    /// The signature's R is one of the eight small-order points.
    #[error("signature's R is a small-order point")]
    WeakR,
    /// The signature's S is not below the group order.
    #[error("signature's S is not a canonical scalar (S ≥ ℓ)")]
    NonCanonicalS,
    /// The equation does not hold: the signature is not the key's over this message.
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

/// Checks `signature` over `hash` by `author` under Myco's one signature rule (module docs).
pub fn verify_signature(
    author: &AgentKey,
    hash: &ActionHash,
    signature: &Signature,
) -> Result<(), SignatureError> {
    screen_key(author)?;
    screen_signature(signature)?;
    equation_holds(author, hash, signature)
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

/// Checks a [`sign_message`] signature under the same rule as [`verify_signature`].
pub fn verify_message(
    signer: &AgentKey,
    domain: &str,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    verify_signature(
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

/// Verifies many signatures at once, returning one verdict per item, in order: the verdict
/// [`verify_signature`] gives each item alone.
///
/// Items that fail the byte checks are refused at once. The rest go through one cofactored
/// batch equation; if it holds, all of them are accepted, and otherwise each is checked alone,
/// so exactly the bad ones are refused.
pub fn verify_batch(items: &[SignedHash<'_>]) -> Vec<Result<(), SignatureError>> {
    let mut verdicts: Vec<Result<(), SignatureError>> = items
        .iter()
        .map(|item| screen_key(item.author).and_then(|()| screen_signature(item.signature)))
        .collect();
    let screened: Vec<usize> = (0..items.len()).filter(|&i| verdicts[i].is_ok()).collect();
    if screened.len() >= 2 && batch_equation_holds(items, &screened) {
        return verdicts;
    }
    for i in screened {
        let item = &items[i];
        verdicts[i] = equation_holds(item.author, item.hash, item.signature);
    }
    verdicts
}

/// Steps 1 and 2 for the key.
fn screen_key(author: &AgentKey) -> Result<(), SignatureError> {
    let bytes = author.as_bytes();
    if !is_canonical_point_encoding(bytes) {
        return Err(SignatureError::NonCanonicalKey);
    }
    if is_small_order_encoding(bytes) {
        return Err(SignatureError::WeakKey);
    }
    Ok(())
}

/// Steps 1 to 3 for the signature's R and S.
fn screen_signature(signature: &Signature) -> Result<(), SignatureError> {
    let (r, s) = split(signature);
    if !is_canonical_point_encoding(&r) {
        return Err(SignatureError::NonCanonicalR);
    }
    if is_small_order_encoding(&r) {
        return Err(SignatureError::WeakR);
    }
    if Option::<Scalar>::from(Scalar::from_canonical_bytes(s)).is_none() {
        return Err(SignatureError::NonCanonicalS);
    }
    Ok(())
}

/// Step 4 for one signature: the cofactored equation.
fn equation_holds(
    author: &AgentKey,
    hash: &ActionHash,
    signature: &Signature,
) -> Result<(), SignatureError> {
    let key = ed25519_zebra::VerificationKey::try_from(*author.as_bytes())
        .map_err(|_| SignatureError::InvalidKey)?;
    key.verify(
        &ed25519_zebra::Signature::from_bytes(&signature.0),
        hash.as_bytes(),
    )
    .map_err(|_| SignatureError::BadSignature)
}

/// Step 4 for the `screened` items of a batch at once. The batch's random coefficients come
/// from a ChaCha stream keyed by a hash of the whole batch: deterministic, and out of reach of
/// whoever chose the signatures (they would have to find a hash preimage).
fn batch_equation_holds(items: &[SignedHash<'_>], screened: &[usize]) -> bool {
    use blake2::Digest;
    use rand_core::SeedableRng;
    let mut seed = crate::hash::Blake2b256::new();
    seed.update(b"myco batch verification");
    let mut batch = ed25519_zebra::batch::Verifier::new();
    for &i in screened {
        let item = &items[i];
        seed.update(item.author.as_bytes());
        seed.update(item.hash.as_bytes());
        seed.update(item.signature.0);
        batch.queue((
            ed25519_zebra::VerificationKeyBytes::from(*item.author.as_bytes()),
            ed25519_zebra::Signature::from_bytes(&item.signature.0),
            item.hash.as_bytes(),
        ));
    }
    let rng = rand_chacha::ChaCha20Rng::from_seed(seed.finalize().into());
    batch.verify(rng).is_ok()
}

fn split(signature: &Signature) -> ([u8; 32], [u8; 32]) {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&signature.0[..32]);
    s.copy_from_slice(&signature.0[32..]);
    (r, s)
}

/// True if `bytes` is the canonical encoding of a field element `y` (`y < p = 2²⁵⁵ − 19`)
/// with a sign bit that is clear whenever `x` must be 0 (`y = ±1`, where the sign bit would
/// name a second encoding of the same point). Whether the point is on the curve is left to
/// decompression.
pub fn is_canonical_point_encoding(bytes: &[u8; 32]) -> bool {
    let sign = bytes[31] & 0x80 != 0;
    let mut y = *bytes;
    y[31] &= 0x7f;
    // y ≥ p exactly when y is 2²⁵⁵ − 19 … 2²⁵⁵ − 1: all bytes 0xff but the first ≥ 0xed and
    // the last 0x7f.
    let at_least_p = y[0] >= 0xed && y[1..31].iter().all(|&b| b == 0xff) && y[31] == 0x7f;
    if at_least_p {
        return false;
    }
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    !(sign && (y == one || y == minus_one))
}

/// The canonical encodings of the eight points of small order (the torsion subgroup): the
/// identity, the point of order 2, the two of order 4 and the four of order 8. A unit test
/// checks this table against curve25519-dalek's `EIGHT_TORSION`.
const SMALL_ORDER_ENCODINGS: [[u8; 32]; 8] = {
    const fn with(first: u8, fill: u8, last: u8) -> [u8; 32] {
        let mut bytes = [fill; 32];
        bytes[0] = first;
        bytes[31] = last;
        bytes
    }
    [
        with(0x01, 0x00, 0x00),
        with(0xec, 0xff, 0x7f),
        with(0x00, 0x00, 0x00),
        with(0x00, 0x00, 0x80),
        ORDER_8_A,
        flip_sign(ORDER_8_A),
        ORDER_8_B,
        flip_sign(ORDER_8_B),
    ]
};

const ORDER_8_A: [u8; 32] = [
    0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
    0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
];
const ORDER_8_B: [u8; 32] = [
    0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
    0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
];

const fn flip_sign(mut bytes: [u8; 32]) -> [u8; 32] {
    bytes[31] ^= 0x80;
    bytes
}

/// True if `bytes` (already known canonical) encodes a point of small order.
fn is_small_order_encoding(bytes: &[u8; 32]) -> bool {
    SMALL_ORDER_ENCODINGS.contains(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn items<'a>(
        agents: &'a [AgentKey],
        hashes: &'a [ActionHash],
        sigs: &'a [Signature],
    ) -> Vec<SignedHash<'a>> {
        (0..sigs.len())
            .map(|i| SignedHash {
                author: &agents[i % agents.len()],
                hash: &hashes[i],
                signature: &sigs[i],
            })
            .collect()
    }

    #[test]
    fn a_signature_verifies_under_its_key_only() {
        let signer = key(1);
        let hash = ActionHash([9; 32]);
        let sig = sign_hash(&signer, &hash);
        assert_eq!(
            verify_signature(&agent_key_of(&signer), &hash, &sig),
            Ok(())
        );
        assert_eq!(
            verify_signature(&agent_key_of(&key(2)), &hash, &sig),
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
        let verdicts = verify_batch(&items(&agents, &hashes, &sigs));
        assert_eq!(verdicts.iter().filter(|v| v.is_err()).count(), 1);
        assert_eq!(verdicts[3], Err(SignatureError::BadSignature));
    }

    #[test]
    fn batch_of_good_signatures_all_pass() {
        let signer = key(3);
        let agents = [agent_key_of(&signer)];
        let hashes: Vec<_> = (0..8u8).map(|i| ActionHash([i; 32])).collect();
        let sigs: Vec<_> = hashes.iter().map(|h| sign_hash(&signer, h)).collect();
        assert!(verify_batch(&items(&agents, &hashes, &sigs))
            .iter()
            .all(Result::is_ok));
    }

    #[test]
    fn the_identity_key_is_refused_as_weak() {
        // The compressed identity point (y = 1) is a valid encoding of a small-order point.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let err = verify_signature(
            &AgentKey(identity),
            &ActionHash([0; 32]),
            &Signature([0; 64]),
        );
        assert_eq!(err, Err(SignatureError::WeakKey));
    }

    #[test]
    fn the_small_order_table_is_the_torsion_subgroup() {
        let mut expected: Vec<[u8; 32]> = curve25519_dalek::constants::EIGHT_TORSION
            .iter()
            .map(|p| p.compress().to_bytes())
            .collect();
        let mut table = SMALL_ORDER_ENCODINGS.to_vec();
        expected.sort();
        table.sort();
        assert_eq!(table, expected);
    }

    #[test]
    fn canonical_encodings_are_told_apart_from_their_aliases() {
        let honest = agent_key_of(&key(7));
        assert!(is_canonical_point_encoding(honest.as_bytes()));
        // p itself (an alias of y = 0) and 2²⁵⁵ − 1 (an alias of y = 18).
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(!is_canonical_point_encoding(&p));
        assert!(!is_canonical_point_encoding(&[0xff; 32]));
        // p − 1 is canonical; with the sign bit it names x = 0 a second time.
        let mut minus_one = p;
        minus_one[0] = 0xec;
        assert!(is_canonical_point_encoding(&minus_one));
        minus_one[31] |= 0x80;
        assert!(!is_canonical_point_encoding(&minus_one));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(is_canonical_point_encoding(&one));
        one[31] = 0x80;
        assert!(!is_canonical_point_encoding(&one));
    }
}
