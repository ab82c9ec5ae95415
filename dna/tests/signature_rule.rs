//! One signature rule on every path (TARGETS R12): a crafted signature gets the same verdict
//! alone, in a batch of any size mixed with honest signatures, inside a record, inside a
//! warrant and as a domain-separated message (session bindings, registry pointers,
//! invitations).
//!
//! The crafted cases are the edge cases of "Taming the many EdDSAs" (Chalkias, Garillot and
//! Nikolaenko, 2020): small-order keys and R, mixed-order keys and R (torsion components that
//! the cofactorless and cofactored equations treat differently), non-canonical S and R, and
//! non-canonical key encodings, plus a signature whose R is `r·B + T` with `T` of order 2,
//! which ed25519-dalek's `verify_strict` refuses and its batch check accepted about half the
//! time.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::traits::IsIdentity;
use curve25519_dalek::Scalar;
use myco_dna::signing::{
    agent_key_of, message_digest, sign_hash, verify_batch, verify_message, verify_signature,
    SignedHash,
};
use myco_dna::{
    chain, Action, ActionBody, ActionHash, AgentKey, DnaHash, Record, Signature, SignatureError,
    SignedAction, SigningKey, Timestamp, Warrant,
};
use proptest::prelude::*;
use sha2::{Digest, Sha512};

/// One crafted input: a key, a 32-byte message and a signature, with the verdict the rule
/// gives it.
#[derive(Clone, Debug)]
struct Case {
    name: &'static str,
    key: AgentKey,
    message: [u8; 32],
    signature: Signature,
    expected: Result<(), SignatureError>,
}

fn bytes32(hex_text: &str) -> [u8; 32] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

fn bytes64(hex_text: &str) -> [u8; 64] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

/// The ed25519 challenge `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    Scalar::from_hash(
        Sha512::new()
            .chain_update(r)
            .chain_update(a)
            .chain_update(message),
    )
}

/// Signs `message` as a key whose secret scalar is `a` and whose public point is `public`
/// (which may carry a torsion component), with nonce point `nonce` = `r·B + torsion`.
fn forge(
    a: Scalar,
    public: EdwardsPoint,
    r: Scalar,
    nonce: EdwardsPoint,
    message: &[u8; 32],
) -> (AgentKey, Signature) {
    let a_bytes = public.compress().to_bytes();
    let r_bytes = nonce.compress().to_bytes();
    let s = r + challenge(&r_bytes, &a_bytes, message) * a;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r_bytes);
    signature[32..].copy_from_slice(s.as_bytes());
    (AgentKey(a_bytes), Signature(signature))
}

/// The action an author with key `key` would sign at seq 0 of a pod: its hash is the message
/// the record path checks.
fn genesis_of(key: AgentKey) -> Action {
    Action {
        pod: DnaHash([7; 32]),
        author: key,
        seq: 0,
        prev: None,
        timestamp: Timestamp(1_000),
        body: ActionBody::Genesis {
            membrane_proof: vec![],
        },
    }
}

/// Cases built here, whose message is the hash of an action the crafted key authors, so they
/// can also travel inside records and warrants.
fn built_cases() -> Vec<(Case, Option<Action>)> {
    let signer = SigningKey::from_bytes(&[42; 32]);
    let a = signer.to_scalar();
    let r = Scalar::from_bytes_mod_order([9; 32]);
    let order_2 = EIGHT_TORSION[4];
    assert!(!order_2.is_identity() && (order_2 + order_2).is_identity());
    let mut out = Vec::new();
    let mut push = |name, public: EdwardsPoint, nonce: EdwardsPoint, expected| {
        let action = genesis_of(AgentKey(public.compress().to_bytes()));
        let message = *action.hash().as_bytes();
        let (key, signature) = forge(a, public, r, nonce, &message);
        out.push((
            Case {
                name,
                key,
                message,
                signature,
                expected,
            },
            Some(action),
        ));
    };
    push("honest", a * B, r * B, Ok(()));
    // R = r·B + T, T of order 2: the case that split verdicts between batch and single checks.
    push(
        "R with an order-2 component",
        a * B,
        r * B + order_2,
        Ok(()),
    );
    push(
        "R with an order-8 component",
        a * B,
        r * B + EIGHT_TORSION[1],
        Ok(()),
    );
    push(
        "key with an order-8 component",
        a * B + EIGHT_TORSION[3],
        r * B,
        Ok(()),
    );
    push(
        "key and R with torsion components",
        a * B + EIGHT_TORSION[2],
        r * B + EIGHT_TORSION[5],
        Ok(()),
    );
    push(
        "small-order R",
        a * B,
        EIGHT_TORSION[1],
        Err(SignatureError::WeakR),
    );
    push(
        "identity R",
        a * B,
        EdwardsPoint::default(),
        Err(SignatureError::WeakR),
    );
    // A real signature whose S is raised by ℓ: same equation, non-canonical scalar.
    {
        let action = genesis_of(agent_key_of(&signer));
        let hash = action.hash();
        let mut signature = sign_hash(&signer, &hash);
        let s = Scalar::from_canonical_bytes(signature.0[32..].try_into().unwrap()).unwrap();
        let raised = add_group_order(s.to_bytes());
        signature.0[32..].copy_from_slice(&raised);
        out.push((
            Case {
                name: "S + ℓ",
                key: agent_key_of(&signer),
                message: *hash.as_bytes(),
                signature,
                expected: Err(SignatureError::NonCanonicalS),
            },
            Some(action),
        ));
    }
    // An honest signature under another key.
    {
        let action = genesis_of(agent_key_of(&signer));
        let other = SigningKey::from_bytes(&[43; 32]);
        out.push((
            Case {
                name: "signed by another key",
                key: agent_key_of(&signer),
                message: *action.hash().as_bytes(),
                signature: sign_hash(&other, &action.hash()),
                expected: Err(SignatureError::BadSignature),
            },
            Some(action),
        ));
    }
    out
}

/// `s + ℓ` as 32 little-endian bytes (it fits: s < ℓ < 2²⁵³).
fn add_group_order(s: [u8; 32]) -> [u8; 32] {
    // ℓ − 1 is the canonical form of −1; the carry starts at 1 to add the last unit.
    let l_minus_one = (-Scalar::ONE).to_bytes();
    let mut out = [0u8; 32];
    let mut carry = 1u16;
    for i in 0..32 {
        let sum = s[i] as u16 + l_minus_one[i] as u16 + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    out
}

/// The edge cases of "Taming the many EdDSAs", as its authors publish them (the speccheck
/// vectors, `fixtures/eddsa-edge-cases.json`), with the verdict Myco's rule gives each and
/// why.
fn paper_cases() -> Vec<Case> {
    #[derive(serde::Deserialize)]
    struct Vector {
        message: String,
        pub_key: String,
        signature: String,
    }
    let expected: [(&str, Result<(), SignatureError>); 15] = [
        (
            "speccheck 0: small-order A and R, S = 0",
            Err(SignatureError::WeakKey),
        ),
        (
            "speccheck 1: small-order A and R, S = 0",
            Err(SignatureError::WeakKey),
        ),
        (
            "speccheck 2: small-order A, mixed-order R",
            Err(SignatureError::WeakKey),
        ),
        (
            "speccheck 3: small-order A, mixed-order R",
            Err(SignatureError::WeakKey),
        ),
        (
            "speccheck 4: mixed-order A, small-order R",
            Err(SignatureError::WeakR),
        ),
        (
            "speccheck 5: mixed-order A, small-order R",
            Err(SignatureError::WeakR),
        ),
        ("speccheck 6: both equations hold", Ok(())),
        ("speccheck 7: only the cofactored equation holds", Ok(())),
        ("speccheck 8: only the cofactored equation holds", Ok(())),
        (
            "speccheck 9: S just over ℓ",
            Err(SignatureError::NonCanonicalS),
        ),
        (
            "speccheck 10: S far over ℓ",
            Err(SignatureError::NonCanonicalS),
        ),
        (
            "speccheck 11: non-canonical R",
            Err(SignatureError::NonCanonicalR),
        ),
        (
            "speccheck 12: non-canonical R",
            Err(SignatureError::NonCanonicalR),
        ),
        (
            "speccheck 13: non-canonical A",
            Err(SignatureError::NonCanonicalKey),
        ),
        (
            "speccheck 14: non-canonical A",
            Err(SignatureError::NonCanonicalKey),
        ),
    ];
    let vectors: Vec<Vector> =
        serde_json::from_str(include_str!("fixtures/eddsa-edge-cases.json")).unwrap();
    assert_eq!(vectors.len(), expected.len());
    vectors
        .into_iter()
        .zip(expected)
        .map(|(vector, (name, expected))| Case {
            name,
            key: AgentKey(bytes32(&vector.pub_key)),
            message: bytes32(&vector.message),
            signature: Signature(bytes64(&vector.signature)),
            expected,
        })
        .collect()
}

fn all_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = built_cases().into_iter().map(|(case, _)| case).collect();
    cases.extend(paper_cases());
    cases
}

/// `n` honest signatures by a few authors.
fn honest(n: usize, salt: u8) -> Vec<(AgentKey, ActionHash, Signature)> {
    (0..n)
        .map(|i| {
            let key = SigningKey::from_bytes(&[(i % 5) as u8 + 1; 32]);
            let hash = ActionHash([i as u8 ^ salt; 32]);
            (agent_key_of(&key), hash, sign_hash(&key, &hash))
        })
        .collect()
}

/// Verifies `crafted` at position `at` among `n - 1` honest signatures; returns its verdict
/// and checks the honest ones all pass.
fn verdict_in_batch(case: &Case, n: usize, at: usize) -> Result<(), SignatureError> {
    let others = honest(n - 1, n as u8);
    let message = ActionHash(case.message);
    let mut items: Vec<SignedHash<'_>> = others
        .iter()
        .map(|(author, hash, signature)| SignedHash {
            author,
            hash,
            signature,
        })
        .collect();
    items.insert(
        at,
        SignedHash {
            author: &case.key,
            hash: &message,
            signature: &case.signature,
        },
    );
    let verdicts = verify_batch(&items);
    for (i, verdict) in verdicts.iter().enumerate() {
        if i != at {
            assert_eq!(
                verdict,
                &Ok(()),
                "{}: an honest signature was refused in a batch of {n}",
                case.name
            );
        }
    }
    verdicts[at]
}

#[test]
fn every_crafted_case_gets_the_rules_verdict_alone() {
    for case in all_cases() {
        let alone = verify_signature(&case.key, &ActionHash(case.message), &case.signature);
        assert_eq!(alone, case.expected, "{}", case.name);
    }
}

#[test]
fn every_crafted_case_gets_one_verdict_in_batches_of_1_to_64() {
    for case in all_cases() {
        for n in 1..=64 {
            for at in [0, n / 2, n - 1] {
                assert_eq!(
                    verdict_in_batch(&case, n, at),
                    case.expected,
                    "{}: batch of {n}, at {at}",
                    case.name
                );
            }
        }
    }
}

#[test]
fn a_batch_of_only_crafted_cases_gives_each_its_own_verdict() {
    let cases = all_cases();
    let messages: Vec<ActionHash> = cases.iter().map(|c| ActionHash(c.message)).collect();
    let items: Vec<SignedHash<'_>> = cases
        .iter()
        .zip(&messages)
        .map(|(c, hash)| SignedHash {
            author: &c.key,
            hash,
            signature: &c.signature,
        })
        .collect();
    let verdicts = verify_batch(&items);
    for (case, verdict) in cases.iter().zip(verdicts) {
        assert_eq!(verdict, case.expected, "{}", case.name);
    }
    // Only the ones the rule accepts, so the batch equation itself decides.
    let accepted: Vec<SignedHash<'_>> = items
        .iter()
        .zip(&cases)
        .filter(|(_, c)| c.expected.is_ok())
        .map(|(item, _)| *item)
        .collect();
    assert!(accepted.len() >= 6);
    assert!(verify_batch(&accepted).iter().all(Result::is_ok));
}

#[test]
fn records_warrants_and_messages_apply_the_same_rule() {
    for (case, action) in built_cases() {
        let action = action.expect("built cases sign an action");
        let signed = SignedAction {
            hash: action.hash(),
            action,
            signature: case.signature,
        };
        assert_eq!(signed.hash.as_bytes(), &case.message);
        let alone = chain::check_signature(&signed).map_err(signature_error);
        assert_eq!(alone, case.expected, "{}: record, single", case.name);
        let others = honest(9, 3);
        let other_actions: Vec<SignedAction> = others
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let key = SigningKey::from_bytes(&[i as u8 + 1; 32]);
                SignedAction::sign(genesis_of(agent_key_of(&key)), &key)
            })
            .collect();
        let mut batch: Vec<&SignedAction> = other_actions.iter().collect();
        batch.insert(4, &signed);
        let verdicts = chain::check_signatures(&batch);
        assert_eq!(
            verdicts[4].clone().map_err(signature_error),
            case.expected,
            "{}: record, batch",
            case.name
        );
        let warrant = Warrant::Invalid {
            record: Box::new(Record {
                signed: signed.clone(),
                entry: None,
            }),
            check: "app".into(),
            reason: "crafted".into(),
        };
        assert_eq!(
            warrant.verify().is_ok(),
            case.expected.is_ok(),
            "{}: warrant",
            case.name
        );
    }
}

#[test]
fn domain_separated_messages_apply_the_same_rule() {
    let signer = SigningKey::from_bytes(&[42; 32]);
    let a = signer.to_scalar();
    let r = Scalar::from_bytes_mod_order([11; 32]);
    for domain in [
        "myco session binding v1",
        "myco registry pointer v1",
        "myco invitation v1",
    ] {
        let message = b"terms of the signed message";
        let digest = message_digest(domain, message);
        for (torsion, expected) in [(0, Ok(())), (4, Ok(())), (6, Ok(()))] {
            let (key, signature) = forge(a, a * B, r, r * B + EIGHT_TORSION[torsion], &digest);
            assert_eq!(verify_message(&key, domain, message, &signature), expected);
            assert_eq!(
                verify_signature(&key, &ActionHash(digest), &signature),
                expected
            );
        }
        let (key, signature) = forge(a, a * B, r, EIGHT_TORSION[3], &digest);
        assert_eq!(
            verify_message(&key, domain, message, &signature),
            Err(SignatureError::WeakR)
        );
    }
}

#[test]
fn the_order_2_torsion_case_is_the_one_verify_strict_refuses() {
    // Pins why the rule exists: dalek's verify_strict refuses this signature, which the
    // cofactorless batch equation accepts whenever its coefficient is even.
    let (case, _) = built_cases()
        .into_iter()
        .find(|(c, _)| c.name == "R with an order-2 component")
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(case.key.as_bytes()).unwrap();
    let strict = key.verify_strict(
        &case.message,
        &ed25519_dalek::Signature::from_bytes(&case.signature.0),
    );
    assert!(strict.is_err());
    let r = CompressedEdwardsY(case.signature.0[..32].try_into().unwrap())
        .decompress()
        .unwrap();
    assert!(!r.is_torsion_free() && !r.is_small_order());
    assert_eq!(
        verify_signature(&case.key, &ActionHash(case.message), &case.signature),
        Ok(())
    );
}

fn signature_error(error: myco_dna::SystemError) -> SignatureError {
    match error {
        myco_dna::SystemError::Signature { error, .. } => error,
        other => panic!("expected a signature error, got {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random batches of crafted and honest signatures, in random order: each item gets the
    /// verdict it gets alone.
    #[test]
    fn random_mixed_batches_agree_with_single_checks(
        picks in proptest::collection::vec((0usize..64, any::<bool>()), 1..40),
    ) {
        let cases = all_cases();
        let honest = honest(64, 0x5a);
        let mut items: Vec<(AgentKey, ActionHash, Signature)> = Vec::new();
        for (index, crafted) in picks {
            if crafted {
                let case = &cases[index % cases.len()];
                items.push((case.key, ActionHash(case.message), case.signature));
            } else {
                items.push(honest[index]);
            }
        }
        let batch: Vec<SignedHash<'_>> = items
            .iter()
            .map(|(author, hash, signature)| SignedHash { author, hash, signature })
            .collect();
        let verdicts = verify_batch(&batch);
        for ((author, hash, signature), verdict) in items.iter().zip(verdicts) {
            prop_assert_eq!(verdict, verify_signature(author, hash, signature));
        }
    }
}
