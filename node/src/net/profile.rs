//! `/myco/profile/1`: asking a pod member for an agent's public profile, for cross-pod lookup.
//!
//! The member answers from its own store, and only with a profile whose newest version is a
//! `Public` entry with `profile_public = true`. Anything else gets [`ProfileResponse::NotPublic`]
//! or [`ProfileResponse::NotFound`]: no field of a non-public profile ever leaves the pod.

use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor, DecodeError};
use myco_dna::{AgentKey, DnaHash, Visibility};
use myco_zomes::membership::{Profile, PROFILE};
use serde::{Deserialize, Serialize};

use crate::store::{ChainId, Store};

/// The protocol name.
pub const PROFILE_PROTOCOL: &str = "/myco/profile/1";
/// Largest profile request or response: a profile's text fields are bounded at 1 KiB each.
pub const MAX_PROFILE_BYTES: usize = 16 * 1024;
/// The message format this build writes and reads.
const FORMAT_VERSION: u8 = 1;

/// A request for an agent's public profile in one pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRequest {
    /// The pod the agent belongs to.
    pub pod: DnaHash,
    /// The agent.
    pub agent: AgentKey,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileResponse {
    /// The agent's public profile (never with contact data).
    Public(Profile),
    /// The agent has a profile, but it is not public.
    NotPublic,
    /// This node holds no profile of the agent in the pod.
    NotFound,
    /// The request was refused, and why.
    Refused {
        /// A reason a person can act on.
        reason: String,
    },
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    out.extend_from_slice(&to_canonical_cbor(value));
    out
}

fn decode<T: Serialize + serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, DecodeError> {
    let Some((&version, body)) = bytes.split_first() else {
        return Err(DecodeError::Empty { what });
    };
    if bytes.len() > MAX_PROFILE_BYTES {
        return Err(DecodeError::TooLarge {
            what,
            len: bytes.len(),
            max: MAX_PROFILE_BYTES,
        });
    }
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion {
            what,
            version,
            supported: FORMAT_VERSION,
        });
    }
    from_canonical_cbor(what, body)
}

impl ProfileRequest {
    /// Wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Parses wire bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode("profile request", bytes)
    }
}

impl ProfileResponse {
    /// Wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Parses wire bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode("profile response", bytes)
    }
}

/// Answers a profile request from `store`, for a node that hosts the pods `hosts` says yes to.
pub fn answer<S: Store>(
    store: &S,
    hosts: impl Fn(&DnaHash) -> bool,
    bytes: &[u8],
) -> ProfileResponse {
    let request = match ProfileRequest::from_bytes(bytes) {
        Ok(request) => request,
        Err(error) => {
            return ProfileResponse::Refused {
                reason: error.to_string(),
            }
        }
    };
    if !hosts(&request.pod) {
        return ProfileResponse::Refused {
            reason: format!("this node does not host pod {}", request.pod),
        };
    }
    let chain = ChainId {
        pod: request.pod,
        author: request.agent,
    };
    let newest = match store.typed_records(&chain, myco_zomes::ZOME_MEMBERSHIP, PROFILE) {
        Ok(records) => records.into_iter().last(),
        Err(error) => {
            return ProfileResponse::Refused {
                reason: format!("this node cannot read its store: {error}"),
            }
        }
    };
    let Some(record) = newest else {
        return ProfileResponse::NotFound;
    };
    let public = record
        .action()
        .body
        .entry_ref()
        .is_some_and(|e| e.visibility == Visibility::Public);
    let profile: Option<Profile> = record
        .entry
        .as_ref()
        .and_then(|e| from_canonical_cbor("profile", &e.0).ok());
    match profile {
        Some(mut profile) if public && profile.profile_public => {
            // Validation forbids contact data outside Private entries; never send it anyway.
            profile.contact = None;
            ProfileResponse::Public(profile)
        }
        _ => ProfileResponse::NotPublic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_profile_requests_are_refused_with_a_reason() {
        let store = crate::store::MemoryStore::new();
        for bytes in [&[][..], &[1, 0xff], &[9, 0]] {
            assert!(matches!(
                answer(&store, |_| true, bytes),
                ProfileResponse::Refused { .. }
            ));
        }
    }

    #[test]
    fn profile_messages_round_trip() {
        let request = ProfileRequest {
            pod: DnaHash([1; 32]),
            agent: myco_dna::agent_key_of(&myco_dna::SigningKey::from_bytes(&[2; 32])),
        };
        assert_eq!(
            ProfileRequest::from_bytes(&request.to_bytes()).ok(),
            Some(request)
        );
        let response = ProfileResponse::NotPublic;
        assert_eq!(
            ProfileResponse::from_bytes(&response.to_bytes()).ok(),
            Some(response)
        );
    }
}
