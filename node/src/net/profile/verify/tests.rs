//! Crafted answers: each lie a stranger can tell, and what the asker makes of it.

use myco_dna::encoding::to_canonical_cbor;
use myco_dna::{agent_key_of, Action, Entry, EntryRef, Signature, SignedAction, SigningKey};
use serde_bytes::ByteBuf;

use super::*;
use crate::net::profile::ProfileHeld;

/// The seed of the looked-up agent's key.
pub(crate) const AGENT_SEED: u8 = 7;
/// The pod asked.
pub(crate) const POD: DnaHash = DnaHash([3; 32]);

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The Genesis of seed `seed`'s agent in `pod`, with no membrane proof.
pub(crate) fn genesis(seed: u8, pod: DnaHash) -> Record {
    let action = Action {
        pod,
        author: agent_key_of(&key(seed)),
        seq: 0,
        prev: None,
        timestamp: Timestamp(1_000),
        body: ActionBody::Genesis {
            membrane_proof: Vec::new(),
        },
    };
    Record {
        signed: SignedAction::sign(action, &key(seed)),
        entry: None,
    }
}

/// A profile with `username`, public if `visibility` is, signed by seed `seed` as the
/// action after `prev`.
pub(crate) fn profile_record(
    seed: u8,
    prev: &Record,
    visibility: Visibility,
    username: &str,
) -> Record {
    let profile = Profile {
        username: username.into(),
        display_name: username.to_uppercase(),
        bio: "weaver".into(),
        avatar: None,
        profile_public: visibility == Visibility::Public,
        contact: None,
    };
    let entry = Entry(to_canonical_cbor(&profile));
    let action = Action {
        pod: prev.action().pod,
        author: agent_key_of(&key(seed)),
        seq: prev.action().seq + 1,
        prev: Some(prev.hash()),
        timestamp: Timestamp(prev.action().timestamp.0 + 10),
        body: ActionBody::Create(EntryRef {
            zome: myco_zomes::ZOME_MEMBERSHIP.into(),
            entry_type: PROFILE.into(),
            entry_hash: entry.hash(),
            visibility,
        }),
    };
    Record {
        signed: SignedAction::sign(action, &key(seed)),
        entry: Some(entry),
    }
}

/// An Update of `original` to `visibility` (the same profile fields), signed by seed
/// `seed` as the action after `prev`.
pub(crate) fn profile_update(
    seed: u8,
    prev: &Record,
    original: &Record,
    visibility: Visibility,
) -> Record {
    let created = profile_record(seed, prev, visibility, "ana");
    let ActionBody::Create(entry) = created.action().body.clone() else {
        unreachable!("profile_record writes a Create")
    };
    let action = Action {
        body: ActionBody::Update {
            original: original.hash(),
            entry,
        },
        ..created.action().clone()
    };
    Record {
        signed: SignedAction::sign(action, &key(seed)),
        entry: created.entry,
    }
}

fn request() -> ProfileRequest {
    ProfileRequest {
        pod: POD,
        agent: agent_key_of(&key(AGENT_SEED)),
    }
}

fn agent_hash() -> KeyHash {
    agent_key_of(&key(AGENT_SEED)).key_hash()
}

fn held(genesis: Option<&Record>, profile: ProfileVersion) -> Vec<u8> {
    ProfileResponse::Held(ProfileHeld {
        genesis: genesis.map(|g| ByteBuf::from(g.to_bytes())),
        profile,
    })
    .to_bytes()
}

fn public(record: &Record) -> ProfileVersion {
    ProfileVersion::Public(ByteBuf::from(record.to_bytes()))
}

fn verify(bytes: &[u8]) -> Result<Proven, Forgery> {
    verify_answer(&agent_hash(), &request(), bytes)
}

#[test]
fn the_agents_own_public_profile_record_verifies_with_its_genesis() {
    let g = genesis(AGENT_SEED, POD);
    let p = profile_record(AGENT_SEED, &g, Visibility::Public, "ana");
    let proven = verify(&held(Some(&g), public(&p))).expect("verifies");
    assert!(proven.genesis);
    let version = proven.version.expect("a version");
    assert_eq!((version.seq, version.hash), (1, p.hash()));
    assert_eq!(version.profile.expect("public").username, "ana");
}

#[test]
fn a_record_by_another_author_is_a_forgery() {
    let g = genesis(9, POD);
    let p = profile_record(9, &g, Visibility::Public, "ana");
    assert!(matches!(
        verify(&held(None, public(&p))),
        Err(Forgery::WrongAuthor {
            part: "profile",
            ..
        })
    ));
    assert!(matches!(
        verify(&held(Some(&g), ProfileVersion::NotFound)),
        Err(Forgery::WrongAuthor {
            part: "genesis",
            ..
        })
    ));
}

#[test]
fn a_record_naming_the_agent_but_signed_by_another_key_is_a_forgery() {
    let g = genesis(AGENT_SEED, POD);
    let honest = profile_record(AGENT_SEED, &g, Visibility::Public, "ana");
    // The stranger keeps the agent as author and signs the action with its own key.
    let forged = Record {
        signed: SignedAction::sign(honest.action().clone(), &key(9)),
        entry: honest.entry.clone(),
    };
    let err = verify(&held(None, public(&forged))).unwrap_err();
    assert!(
        matches!(&err, Forgery::Invalid { part: "profile", error } if error.check() == "signature"),
        "{err}"
    );
    // A signature of garbage bytes, or a tampered entry, fails as well.
    let mut garbled = honest.clone();
    garbled.signed.signature = Signature([0; 64]);
    assert!(verify(&held(None, public(&garbled))).is_err());
    let mut tampered = honest;
    tampered.entry = Some(Entry(to_canonical_cbor(&Profile {
        username: "mallory".into(),
        display_name: "M".into(),
        bio: String::new(),
        avatar: None,
        profile_public: true,
        contact: None,
    })));
    assert!(matches!(
        verify(&held(None, public(&tampered))),
        Err(Forgery::Invalid { .. })
    ));
}

#[test]
fn a_non_public_record_sent_as_public_is_a_forgery() {
    let g = genesis(AGENT_SEED, POD);
    for visibility in [Visibility::Pod, Visibility::Private] {
        let p = profile_record(AGENT_SEED, &g, visibility, "ana");
        assert!(matches!(
            verify(&held(None, public(&p))),
            Err(Forgery::WrongVisibility { sent: "public", visibility: v }) if v == visibility
        ));
    }
    // A public record whose entry was stripped proves no profile either.
    let p = profile_record(AGENT_SEED, &g, Visibility::Public, "ana");
    assert!(matches!(
        verify(&held(None, public(&p.without_entry()))),
        Err(Forgery::Entry { carries: false, .. })
    ));
    // Sent as withdrawn, a Public record would hide the profile: a forgery too.
    let withdrawn = ProfileVersion::Withdrawn(ByteBuf::from(p.without_entry().to_bytes()));
    assert!(matches!(
        verify(&held(None, withdrawn)),
        Err(Forgery::WrongVisibility {
            sent: "withdrawn",
            ..
        })
    ));
}

#[test]
fn a_record_of_another_pod_is_a_forgery() {
    let g = genesis(AGENT_SEED, DnaHash([4; 32]));
    let p = profile_record(AGENT_SEED, &g, Visibility::Public, "ana");
    assert!(matches!(
        verify(&held(None, public(&p))),
        Err(Forgery::WrongPod {
            part: "profile",
            ..
        })
    ));
    assert!(matches!(
        verify(&held(Some(&g), ProfileVersion::NotFound)),
        Err(Forgery::WrongPod {
            part: "genesis",
            ..
        })
    ));
}

#[test]
fn undecodable_answers_and_records_are_forgeries() {
    assert!(matches!(verify(&[2, 0xff]), Err(Forgery::Decode(_))));
    assert!(matches!(verify(&[]), Err(Forgery::Decode(_))));
    let garbage = ProfileVersion::Public(ByteBuf::from(vec![1, 2, 3]));
    assert!(matches!(
        verify(&held(None, garbage)),
        Err(Forgery::RecordDecode { .. })
    ));
    // A genuine record of the agent that writes something else than a profile.
    let g = genesis(AGENT_SEED, POD);
    assert!(matches!(
        verify(&held(None, public(&g))),
        Err(Forgery::NotAProfile { .. })
    ));
    assert!(matches!(
        verify(&held(
            Some(&profile_record(AGENT_SEED, &g, Visibility::Public, "a")),
            ProfileVersion::NotFound
        )),
        Err(Forgery::NotGenesis { .. })
    ));
}

#[test]
fn a_bare_not_public_or_refusal_proves_nothing() {
    for answer in [
        held(None, ProfileVersion::NotPublic),
        held(None, ProfileVersion::NotFound),
        ProfileResponse::Refused {
            reason: "no".into(),
        }
        .to_bytes(),
    ] {
        assert_eq!(verify(&answer), Ok(Proven::default()));
    }
}

#[test]
fn a_profile_that_does_not_follow_the_genesis_shown_is_a_forgery() {
    let g = genesis(AGENT_SEED, POD);
    let other_start = Record {
        signed: SignedAction::sign(
            Action {
                timestamp: Timestamp(5),
                ..g.action().clone()
            },
            &key(AGENT_SEED),
        ),
        entry: None,
    };
    let p = profile_record(AGENT_SEED, &other_start, Visibility::Public, "ana");
    assert!(matches!(
        verify(&held(Some(&g), public(&p))),
        Err(Forgery::ChainLink(_))
    ));
    assert!(verify(&held(Some(&other_start), public(&p))).is_ok());
}

#[test]
fn the_highest_seq_wins_and_a_withdrawal_outranks_the_public_record_it_replaces() {
    let g = genesis(AGENT_SEED, POD);
    let old = profile_record(AGENT_SEED, &g, Visibility::Public, "old");
    let new = profile_record(AGENT_SEED, &old, Visibility::Public, "new");
    let narrowed = profile_record(AGENT_SEED, &new, Visibility::Pod, "new");
    let version = |bytes: Vec<u8>| verify(&bytes).unwrap().version.unwrap();
    let v_old = version(held(None, public(&old)));
    let v_new = version(held(None, public(&new)));
    assert!(is_newer(None, &v_old));
    assert!(is_newer(Some(&v_old), &v_new));
    assert!(
        !is_newer(Some(&v_new), &v_old),
        "a lower seq never replaces a higher one"
    );
    let withdrawn = ProfileVersion::Withdrawn(ByteBuf::from(narrowed.without_entry().to_bytes()));
    let v_withdrawn = version(held(None, withdrawn));
    assert_eq!(v_withdrawn.profile, None);
    assert!(is_newer(Some(&v_new), &v_withdrawn));
    assert!(!is_newer(Some(&v_withdrawn), &v_new));
}
