//! The one signature rule reaches every signed message a node checks by its real code path:
//! a session binding (`SessionBinding::verify`), a registry pointer (`Pointer::validate`, as
//! a Kademlia PUT or GET judges it) and a steward's invitation (the membership zome's check).
//! A signature whose R carries a torsion component gets the verdict `verify_signature` gives
//! it over the same digest — the cofactored rule accepts it — and one whose R is a
//! small-order point is refused, on each path alike.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::Scalar;
use myco_dna::encoding::to_canonical_cbor;
use myco_dna::signing::{message_digest, verify_signature};
use myco_dna::{ActionHash, AgentKey, DnaHash, KeyHash, Signature, SigningKey, Timestamp};
use myco_node::engine::{BindingTerms, SessionBinding, BINDING_DOMAIN};
use myco_node::registry::{Pointer, PointerTerms, POINTER_DOMAIN};
use myco_zomes::membership::INVITATION_DOMAIN;
use sha2::{Digest, Sha512};

/// Signs `message` (`domain`-separated) as `key`, with the nonce point `r·B + torsion`.
fn sign_with_nonce(
    key: &SigningKey,
    domain: &str,
    message: &[u8],
    nonce: EdwardsPoint,
) -> Signature {
    let a = key.to_scalar();
    let a_bytes = key.verifying_key().to_bytes();
    let digest = message_digest(domain, message);
    let r_bytes = nonce.compress().to_bytes();
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(r_bytes)
            .chain_update(a_bytes)
            .chain_update(digest),
    );
    let s = Scalar::from_bytes_mod_order([5; 32]) + k * a;
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&r_bytes);
    bytes[32..].copy_from_slice(s.as_bytes());
    Signature(bytes)
}

/// The nonces tried: honest, with an order-2 and an order-8 torsion component, and a
/// small-order point alone. (The scalar part matches `sign_with_nonce`'s `r`.)
fn nonces() -> Vec<(&'static str, EdwardsPoint, bool)> {
    let r = Scalar::from_bytes_mod_order([5; 32]) * B;
    vec![
        ("honest", r, true),
        ("order-2 torsion in R", r + EIGHT_TORSION[4], true),
        ("order-8 torsion in R", r + EIGHT_TORSION[1], true),
        ("small-order R", EIGHT_TORSION[3], false),
    ]
}

fn rule(key: &SigningKey, domain: &str, message: &[u8], signature: &Signature) -> bool {
    let agent = AgentKey(key.verifying_key().to_bytes());
    verify_signature(
        &agent,
        &ActionHash(message_digest(domain, message)),
        signature,
    )
    .is_ok()
}

#[test]
fn session_bindings_apply_the_one_rule() {
    let key = SigningKey::from_bytes(&[21; 32]);
    let terms = BindingTerms {
        agent: AgentKey(key.verifying_key().to_bytes()),
        peer: vec![1, 2, 3],
        pod: DnaHash([4; 32]),
        region: Some("DK".into()),
        expires: Timestamp(2_000_000_000_000_000),
    };
    let message = to_canonical_cbor(&terms);
    for (name, nonce, expected) in nonces() {
        let signature = sign_with_nonce(&key, BINDING_DOMAIN, &message, nonce);
        let binding = SessionBinding {
            terms: terms.clone(),
            signature,
        };
        assert_eq!(binding.verify().is_ok(), expected, "binding, {name}");
        assert_eq!(
            rule(&key, BINDING_DOMAIN, &message, &signature),
            expected,
            "rule, {name}"
        );
    }
}

#[test]
fn registry_pointers_apply_the_one_rule_on_put_and_get() {
    let key = SigningKey::from_bytes(&[22; 32]);
    let agent = AgentKey(key.verifying_key().to_bytes());
    let terms = PointerTerms {
        agent,
        pods: vec![DnaHash([6; 32])],
        seq: 1,
        expires: Timestamp(2_000_000_000_000_000),
    };
    let message = to_canonical_cbor(&terms);
    let key_hash: KeyHash = agent.key_hash();
    for (name, nonce, expected) in nonces() {
        let signature = sign_with_nonce(&key, POINTER_DOMAIN, &message, nonce);
        let pointer = Pointer {
            terms: terms.clone(),
            signature,
        };
        let judged = Pointer::validate(&key_hash, &pointer.to_bytes(), Timestamp(1), None);
        assert_eq!(judged.is_ok(), expected, "pointer, {name}: {judged:?}");
        assert_eq!(
            rule(&key, POINTER_DOMAIN, &message, &signature),
            expected,
            "rule, {name}"
        );
    }
}

#[test]
fn invitations_apply_the_one_rule() {
    let steward = SigningKey::from_bytes(&[23; 32]);
    let terms = myco_zomes::membership::InvitationTerms {
        pod: DnaHash([7; 32]),
        invitee: KeyHash([8; 32]),
        expires: Timestamp(2_000_000_000_000_000),
    };
    let message = to_canonical_cbor(&terms);
    for (name, nonce, expected) in nonces() {
        let signature = sign_with_nonce(&steward, INVITATION_DOMAIN, &message, nonce);
        let checked = myco_dna::signing::verify_message(
            &AgentKey(steward.verifying_key().to_bytes()),
            INVITATION_DOMAIN,
            &message,
            &signature,
        );
        assert_eq!(checked.is_ok(), expected, "invitation, {name}");
    }
}
