//! `/myco/profile/2`: asking a pod member for an agent's public profile, for cross-pod lookup.
//!
//! A member answers from its own store with what it holds of the agent in the pod, as the
//! agent's own signed records — never as a bare struct a stranger could make up:
//!
//! - the newest profile record, whole (action and entry, in its canonical wire bytes), when
//!   its entry is `Public` ([`ProfileVersion::Public`]);
//! - when the newest version is not public, the signed action of the Update that narrowed the
//!   last public version ([`ProfileVersion::Withdrawn`]): it outranks a replay of any public
//!   version, and its `Withdraw` already put it on the pod's open topic;
//! - a bare [`ProfileVersion::NotPublic`] or [`ProfileVersion::NotFound`] otherwise;
//! - and with it the agent's Genesis record in the pod, when that Genesis carries no
//!   membrane proof (who let a member in is for members only; see the protocol doc).
//!
//! The asker believes only what verifies ([`verify`]): a bare "not public" or "not found" is a
//! stranger's word and proves nothing. No field of a non-public profile ever leaves the pod.

mod serve;
pub mod verify;

use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor, DecodeError};
use myco_dna::{AgentKey, DnaHash};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

pub use serve::answer;
pub use verify::{verify_answer, Forgery, Proven, Version};

/// The protocol name. Version 2 answers with signed records; version 1's bare profiles are
/// gone, so the two never talk (stream negotiation fails instead of misreading).
pub const PROFILE_PROTOCOL: &str = "/myco/profile/2";
/// Largest profile request or response: a profile record (three text fields of at most
/// 1 KiB, an action) and a Genesis record without a membrane proof fit in well under 8 KiB;
/// 32 KiB leaves room without letting a stranger make the asker read much.
pub const MAX_PROFILE_BYTES: usize = 32 * 1024;
/// The message format this build writes and reads.
pub const PROFILE_FORMAT_VERSION: u8 = 2;

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
    /// What this node holds of the agent in the pod.
    Held(ProfileHeld),
    /// The request was refused, and why.
    Refused {
        /// A reason a person can act on.
        reason: String,
    },
}

/// What a member holds of an agent in a pod, as the agent's signed records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileHeld {
    /// The agent's Genesis record in the pod, in its wire bytes, when it carries no membrane
    /// proof; it lets the asker mark the pod as confirmed.
    pub genesis: Option<ByteBuf>,
    /// The newest profile version held.
    pub profile: ProfileVersion,
}

/// The newest profile version a member holds of an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileVersion {
    /// The newest profile record, with its `Public` entry, in its wire bytes.
    Public(ByteBuf),
    /// The Update that narrowed the last public version, without its entry (which is not
    /// public), in its wire bytes; sent only when the newest version is not public.
    Withdrawn(ByteBuf),
    /// The agent has a profile, but it is not public (unsigned: proves nothing).
    NotPublic,
    /// This node holds no profile of the agent in the pod (unsigned: proves nothing).
    NotFound,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![PROFILE_FORMAT_VERSION];
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
    if version != PROFILE_FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion {
            what,
            version,
            supported: PROFILE_FORMAT_VERSION,
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

    /// Parses wire bytes (without judging the records inside: that is [`verify_answer`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode("profile response", bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let response = ProfileResponse::Held(ProfileHeld {
            genesis: Some(ByteBuf::from(vec![1, 2, 3])),
            profile: ProfileVersion::Public(ByteBuf::from(vec![4, 5])),
        });
        assert_eq!(
            ProfileResponse::from_bytes(&response.to_bytes()).ok(),
            Some(response)
        );
    }

    #[test]
    fn version_one_messages_are_refused_by_name() {
        let mut old = ProfileResponse::Refused { reason: "x".into() }.to_bytes();
        old[0] = 1;
        assert!(matches!(
            ProfileResponse::from_bytes(&old),
            Err(DecodeError::UnknownVersion { version: 1, .. })
        ));
    }
}
