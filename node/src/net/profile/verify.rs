//! The asker's side: what a profile answer proves, checked against the agent looked up.
//!
//! Every record in an answer must be the looked-up agent's own (its key hashes to the key
//! hash asked about, and it is the registry pointer's agent), in the pod asked, well-formed
//! and signed — checked with `myco_dna`'s own system checks ([`chain::check_record_shape`],
//! [`chain::check_signature`]), so the signature rule is the pod's. A public version must
//! decode as the membership zome's profile with `Public` visibility. An answer that fails any
//! of this is a [`Forgery`]; a bare "not public" or "not found" proves nothing, so it is
//! neither forgery nor evidence.

use myco_dna::encoding::{from_canonical_cbor, DecodeError};
use myco_dna::{
    chain, ActionBody, ActionHash, DnaHash, KeyHash, Record, SystemError, Timestamp, Visibility,
};
use myco_zomes::membership::{Profile, MAX_PROFILE_FIELD, PROFILE};

use super::{ProfileRequest, ProfileResponse, ProfileVersion};

/// A profile version an answer proved: the agent signed it, in the pod asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// Its position in the agent's chain in that pod.
    pub seq: u64,
    /// Its action hash.
    pub hash: ActionHash,
    /// When the agent wrote it.
    pub timestamp: Timestamp,
    /// The profile, when this version is public; `None` when it is not.
    pub profile: Option<Profile>,
}

/// What a verified answer proves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proven {
    /// The newest profile version the answer showed, if it showed a signed one.
    pub version: Option<Version>,
    /// Whether the answer showed the agent's Genesis in the pod, and it verifies.
    pub genesis: bool,
}

/// Which record of an answer is wrong.
pub type Part = &'static str;

/// Why an answer is a forgery: no honest member sends it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forgery {
    /// The answer itself does not decode.
    #[error("the answer does not decode: {0}")]
    Decode(DecodeError),
    /// A record in it does not decode.
    #[error("the {part} record does not decode: {error}")]
    RecordDecode {
        /// `profile` or `genesis`.
        part: Part,
        /// Why.
        error: DecodeError,
    },
    /// A record is not the looked-up agent's.
    #[error("the {part} record is by {author}, not by the agent looked up ({agent})")]
    WrongAuthor {
        /// `profile` or `genesis`.
        part: Part,
        /// Its author's key hash.
        author: KeyHash,
        /// The key hash looked up.
        agent: KeyHash,
    },
    /// A record belongs to another pod than the one asked.
    #[error("the {part} record belongs to pod {got}, not to the pod asked ({asked})")]
    WrongPod {
        /// `profile` or `genesis`.
        part: Part,
        /// Its pod.
        got: DnaHash,
        /// The pod asked.
        asked: DnaHash,
    },
    /// A record fails a system check: shape, hash or signature.
    #[error("the {part} record fails the {} check: {error}", error.check())]
    Invalid {
        /// `profile` or `genesis`.
        part: Part,
        /// The check's verdict.
        error: SystemError,
    },
    /// The profile record writes something else than a membership profile.
    #[error("the profile record writes a {kind}, not a membership profile")]
    NotAProfile {
        /// What it writes (`zome/entry_type`, or the action kind).
        kind: String,
    },
    /// A record sent as public is not `Public`, or one sent as withdrawn is.
    #[error("the profile record sent as {sent} has {visibility:?} visibility")]
    WrongVisibility {
        /// `public` or `withdrawn`.
        sent: &'static str,
        /// Its visibility.
        visibility: Visibility,
    },
    /// A public version without its entry, or a withdrawn one with it.
    #[error("the profile record sent as {sent} {}", if *.carries { "carries a non-public entry" } else { "carries no entry" })]
    Entry {
        /// `public` or `withdrawn`.
        sent: &'static str,
        /// Whether it carries entry bytes.
        carries: bool,
    },
    /// The public entry is not a membership profile that may be public.
    #[error("the public profile entry is not a valid public profile: {0}")]
    BadProfile(String),
    /// The Genesis shown is not a Genesis.
    #[error("the genesis record is a {kind} at seq {seq}, not a Genesis")]
    NotGenesis {
        /// The action kind.
        kind: &'static str,
        /// Its seq.
        seq: u64,
    },
    /// The profile record cannot stand where it says on the chain the Genesis starts.
    #[error("the profile record does not follow the genesis shown: {0}")]
    ChainLink(SystemError),
}

/// Checks a profile answer `bytes` to `request`, made for the agent whose key hash is `key`.
pub fn verify_answer(
    key: &KeyHash,
    request: &ProfileRequest,
    bytes: &[u8],
) -> Result<Proven, Forgery> {
    let held = match ProfileResponse::from_bytes(bytes).map_err(Forgery::Decode)? {
        ProfileResponse::Held(held) => held,
        ProfileResponse::Refused { .. } => return Ok(Proven::default()),
    };
    let genesis = match &held.genesis {
        Some(bytes) => Some(check_genesis(key, request, bytes)?),
        None => None,
    };
    let version = match &held.profile {
        ProfileVersion::Public(bytes) => Some(check_public(key, request, bytes)?),
        ProfileVersion::Withdrawn(bytes) => Some(check_withdrawn(key, request, bytes)?),
        ProfileVersion::NotPublic | ProfileVersion::NotFound => None,
    };
    if let (Some(genesis), Some(version)) = (&genesis, &version) {
        check_link(genesis, version)?;
    }
    Ok(Proven {
        version: version.map(|(_, v)| v),
        genesis: genesis.is_some(),
    })
}

/// True if `incoming` should replace `held` as the newest version of one chain: a higher
/// seq wins; at the same seq (a fork, which only the agent's key can make) a version that is
/// not public wins, so two versions never show more than the agent last chose to.
pub fn is_newer(held: Option<&Version>, incoming: &Version) -> bool {
    match held {
        None => true,
        Some(held) if incoming.seq != held.seq => incoming.seq > held.seq,
        Some(held) => held.profile.is_some() && incoming.profile.is_none(),
    }
}

/// Decodes one record of an answer and checks that it is the agent's own, in the pod asked,
/// well-formed and signed.
fn check_signed(
    part: Part,
    key: &KeyHash,
    request: &ProfileRequest,
    bytes: &[u8],
) -> Result<Record, Forgery> {
    let record =
        Record::from_bytes(bytes).map_err(|error| Forgery::RecordDecode { part, error })?;
    let action = record.action();
    let author = action.author.key_hash();
    if &author != key || action.author != request.agent {
        return Err(Forgery::WrongAuthor {
            part,
            author,
            agent: *key,
        });
    }
    if action.pod != request.pod {
        return Err(Forgery::WrongPod {
            part,
            got: action.pod,
            asked: request.pod,
        });
    }
    chain::check_record_shape(&record).map_err(|error| Forgery::Invalid { part, error })?;
    chain::check_signature(&record.signed).map_err(|error| Forgery::Invalid { part, error })?;
    Ok(record)
}

fn check_genesis(key: &KeyHash, request: &ProfileRequest, bytes: &[u8]) -> Result<Record, Forgery> {
    let record = check_signed("genesis", key, request, bytes)?;
    let action = record.action();
    if action.seq != 0 || !matches!(action.body, ActionBody::Genesis { .. }) {
        return Err(Forgery::NotGenesis {
            kind: action.body.kind(),
            seq: action.seq,
        });
    }
    Ok(record)
}

/// The profile version's record, checked to write a membership profile with `visibility`.
fn check_version(
    key: &KeyHash,
    request: &ProfileRequest,
    bytes: &[u8],
) -> Result<(Record, Visibility), Forgery> {
    let record = check_signed("profile", key, request, bytes)?;
    let body = &record.action().body;
    let Some(entry) = body.entry_ref() else {
        return Err(Forgery::NotAProfile {
            kind: body.kind().to_string(),
        });
    };
    if entry.zome != myco_zomes::ZOME_MEMBERSHIP || entry.entry_type != PROFILE {
        return Err(Forgery::NotAProfile {
            kind: format!("{}/{}", entry.zome, entry.entry_type),
        });
    }
    let visibility = entry.visibility;
    Ok((record, visibility))
}

fn version_of(record: &Record, profile: Option<Profile>) -> Version {
    Version {
        seq: record.action().seq,
        hash: record.hash(),
        timestamp: record.action().timestamp,
        profile,
    }
}

fn check_public(
    key: &KeyHash,
    request: &ProfileRequest,
    bytes: &[u8],
) -> Result<(Record, Version), Forgery> {
    const SENT: &str = "public";
    let (record, visibility) = check_version(key, request, bytes)?;
    if visibility != Visibility::Public {
        return Err(Forgery::WrongVisibility {
            sent: SENT,
            visibility,
        });
    }
    // check_record_shape has checked that the entry bytes hash to the signed entry hash.
    let Some(entry) = &record.entry else {
        return Err(Forgery::Entry {
            sent: SENT,
            carries: false,
        });
    };
    let profile: Profile =
        from_canonical_cbor("profile", &entry.0).map_err(|e| Forgery::BadProfile(e.to_string()))?;
    if !profile.profile_public {
        return Err(Forgery::BadProfile("profile_public is not set".into()));
    }
    if profile.contact.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(Forgery::BadProfile("it carries contact data".into()));
    }
    for (field, value) in [
        ("username", &profile.username),
        ("display name", &profile.display_name),
        ("bio", &profile.bio),
    ] {
        if value.len() > MAX_PROFILE_FIELD {
            return Err(Forgery::BadProfile(format!(
                "its {field} is over {MAX_PROFILE_FIELD} bytes"
            )));
        }
    }
    let version = version_of(&record, Some(profile));
    Ok((record, version))
}

fn check_withdrawn(
    key: &KeyHash,
    request: &ProfileRequest,
    bytes: &[u8],
) -> Result<(Record, Version), Forgery> {
    const SENT: &str = "withdrawn";
    let (record, visibility) = check_version(key, request, bytes)?;
    if visibility == Visibility::Public {
        return Err(Forgery::WrongVisibility {
            sent: SENT,
            visibility,
        });
    }
    if record.entry.is_some() {
        return Err(Forgery::Entry {
            sent: SENT,
            carries: true,
        });
    }
    let version = version_of(&record, None);
    Ok((record, version))
}

/// Where the Genesis is shown, the profile record must be able to stand on its chain: right
/// after it at seq 1, and never timestamped before it.
fn check_link(genesis: &Record, (record, _): &(Record, Version)) -> Result<(), Forgery> {
    let action = record.action();
    if action.seq == 1 {
        return chain::check_successor(&genesis.signed, action).map_err(Forgery::ChainLink);
    }
    if action.timestamp < genesis.action().timestamp {
        return Err(Forgery::ChainLink(SystemError::TimestampBackwards {
            seq: action.seq,
            prev: genesis.action().timestamp,
            got: action.timestamp,
        }));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
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
        let withdrawn =
            ProfileVersion::Withdrawn(ByteBuf::from(narrowed.without_entry().to_bytes()));
        let v_withdrawn = version(held(None, withdrawn));
        assert_eq!(v_withdrawn.profile, None);
        assert!(is_newer(Some(&v_new), &v_withdrawn));
        assert!(!is_newer(Some(&v_withdrawn), &v_new));
    }
}
