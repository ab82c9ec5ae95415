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
pub(crate) mod tests;
