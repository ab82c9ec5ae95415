//! Wire messages of the pod protocol: gossip, sync requests and responses, session bindings.
//!
//! Each message is one format-version byte followed by canonical CBOR, and is bounded in bytes
//! and in item counts before and after decoding. `docs/protocol.md` describes each message,
//! who may send it and what a receiver does with it.

use myco_dna::encoding::{from_canonical_cbor, to_canonical_cbor, DecodeError};
use myco_dna::signing::{sign_message, verify_message};
use myco_dna::{
    ActionHash, AgentKey, DnaHash, KeyHash, Signature, SignatureError, SignedAction, SigningKey,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// The message format this build writes and reads.
pub const MESSAGE_FORMAT_VERSION: u8 = 1;
/// Largest gossip message: one record and framing.
pub const MAX_GOSSIP_BYTES: usize = myco_dna::limits::MAX_RECORD_BYTES + 512;
/// Largest sync request or response.
pub const MAX_SYNC_BYTES: usize = 2 * 1024 * 1024;
/// Records served in one response stop once they pass this many bytes (at least one is sent).
pub const MAX_RESPONSE_RECORD_BYTES: usize = 1024 * 1024;
/// Most hashes in one Get, or records in one Push.
pub const MAX_ITEMS_PER_MESSAGE: usize = 512;
/// Most authors in one Heights response: larger pods page by `after`.
pub const MAX_HEIGHTS: usize = 4096;
/// Domain tag of session-binding signatures.
pub const BINDING_DOMAIN: &str = "myco/session-binding/v1";

/// What an agent signs to bind itself to a node for one pod, for a while.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingTerms {
    /// The agent.
    pub agent: AgentKey,
    /// The node's transport identity.
    #[serde(with = "serde_bytes")]
    pub peer: Vec<u8>,
    /// The pod.
    pub pod: DnaHash,
    /// The region the node declares (a claim, not a proof).
    pub region: Option<String>,
    /// Until when the binding holds.
    pub expires: Timestamp,
}

/// A signed session binding: the agent vouches that this node speaks for it in this pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionBinding {
    /// What is bound.
    pub terms: BindingTerms,
    /// The agent's signature over the terms.
    pub signature: Signature,
}

impl SessionBinding {
    /// Signs a binding.
    pub fn sign(key: &SigningKey, terms: BindingTerms) -> Self {
        let signature = sign_message(key, BINDING_DOMAIN, &to_canonical_cbor(&terms));
        SessionBinding { terms, signature }
    }

    /// Checks the signature.
    pub fn verify(&self) -> Result<(), SignatureError> {
        verify_message(
            &self.terms.agent,
            BINDING_DOMAIN,
            &to_canonical_cbor(&self.terms),
            &self.signature,
        )
    }
}

/// A message on a pod's gossip topic. Topics are open to anyone, so gossip carries only what
/// a non-member may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GossipMessage {
    /// A whole record whose entry is `Public` (or that has no entry and no membrane proof).
    Record(ByteBuf),
    /// Notice of a record that is not public: only its hash, its author's key hash and seq.
    Have {
        /// The pod.
        pod: DnaHash,
        /// The record.
        hash: ActionHash,
        /// Its author's key hash.
        author: KeyHash,
        /// Its seq.
        seq: u64,
    },
    /// The signed action of a Delete, or of an Update that narrows a public entry: holders
    /// outside the new scope purge the entry it names.
    Withdraw(Box<SignedAction>),
}

/// One author's height in a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Height {
    /// The author.
    pub author: AgentKey,
    /// Their newest seq.
    pub seq: u64,
    /// Their newest action.
    pub hash: ActionHash,
}

/// A request from one node to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncRequest {
    /// Which authors does the pod have, and how far does each chain go?
    Heights {
        /// The pod.
        pod: DnaHash,
        /// The requester's binding (members only).
        binding: SessionBinding,
        /// Page after this author (exclusive), for pods with many authors.
        after: Option<AgentKey>,
    },
    /// Records of one chain from `from_seq`.
    Range {
        /// The pod.
        pod: DnaHash,
        /// The requester's binding.
        binding: SessionBinding,
        /// The chain's author, by key hash.
        author: KeyHash,
        /// First seq wanted.
        from_seq: u64,
        /// Most records wanted.
        limit: u32,
    },
    /// Records by hash (dependencies a record waits for).
    Get {
        /// The pod.
        pod: DnaHash,
        /// The requester's binding.
        binding: SessionBinding,
        /// The hashes.
        hashes: Vec<ActionHash>,
    },
    /// A warrant, passed from member to member so every node blocks the offender.
    Warrant {
        /// The pod.
        pod: DnaHash,
        /// The warrant's canonical bytes.
        warrant: ByteBuf,
    },
    /// Records offered for validation: how a joining agent hands its Genesis to the pod.
    Push {
        /// The pod.
        pod: DnaHash,
        /// Record wire bytes.
        records: Vec<ByteBuf>,
    },
    /// The pod's DNA: how a member recovering with only its recovery phrase learns the DNA
    /// of a pod its registry pointer names. Members only, like Heights.
    Dna {
        /// The pod.
        pod: DnaHash,
        /// The requester's binding.
        binding: SessionBinding,
    },
}

impl SyncRequest {
    /// The pod the request is about.
    pub fn pod(&self) -> &DnaHash {
        match self {
            SyncRequest::Heights { pod, .. }
            | SyncRequest::Range { pod, .. }
            | SyncRequest::Get { pod, .. }
            | SyncRequest::Warrant { pod, .. }
            | SyncRequest::Push { pod, .. }
            | SyncRequest::Dna { pod, .. } => pod,
        }
    }
}

/// An answer to a [`SyncRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncResponse {
    /// Chain heights, in author order.
    Heights {
        /// The pod.
        pod: DnaHash,
        /// Heights.
        heights: Vec<Height>,
        /// True if more authors follow; ask again with `after` = the last author.
        more: bool,
        /// True if the answer names the answering node's own chain only: it is no member (an
        /// archivist), so its silence about other chains says nothing of them, and it does
        /// not anchor a restored node (`anchor.rs`). Left out of the encoding when false.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        own_only: bool,
    },
    /// Records, with entries only where the requester may see them.
    Records {
        /// The pod.
        pod: DnaHash,
        /// Record wire bytes.
        records: Vec<ByteBuf>,
    },
    /// The pushed records were taken for validation.
    Pushed,
    /// The pod's DNA manifest, as canonical CBOR: its blake2b-256 is the pod id, so the asker
    /// checks it against the pod it asked for.
    Dna {
        /// The pod.
        pod: DnaHash,
        /// The manifest's canonical CBOR.
        manifest: ByteBuf,
    },
    /// The requester is not a current member in this node's view: pod data is served to
    /// members only. The answering member shows its own binding, so a joining node can tell a
    /// member it may hand its Genesis (with its membrane proof) to from a stranger.
    NotAMember {
        /// The answering member's session binding for the pod.
        binding: SessionBinding,
    },
    /// The request was refused, and why.
    Refused {
        /// A reason a person can act on.
        reason: String,
    },
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let body = to_canonical_cbor(value);
    let mut out = Vec::with_capacity(body.len() + 1);
    out.push(MESSAGE_FORMAT_VERSION);
    out.extend_from_slice(&body);
    out
}

fn decode<T: Serialize + serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
    max: usize,
) -> Result<T, DecodeError> {
    let Some((&version, body)) = bytes.split_first() else {
        return Err(DecodeError::Empty { what });
    };
    if bytes.len() > max {
        return Err(DecodeError::TooLarge {
            what,
            len: bytes.len(),
            max,
        });
    }
    if version != MESSAGE_FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion {
            what,
            version,
            supported: MESSAGE_FORMAT_VERSION,
        });
    }
    from_canonical_cbor(what, body)
}

fn too_many(what: &'static str, count: usize, max: usize) -> DecodeError {
    DecodeError::Malformed {
        what,
        detail: format!("{count} items, more than the {max} allowed"),
    }
}

impl GossipMessage {
    /// Wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Parses wire bytes, refusing oversized or malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode("gossip message", bytes, MAX_GOSSIP_BYTES)
    }
}

impl SyncRequest {
    /// Wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Parses wire bytes, refusing oversized, overlong or malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let request: SyncRequest = decode("sync request", bytes, MAX_SYNC_BYTES)?;
        let count = match &request {
            SyncRequest::Get { hashes, .. } => hashes.len(),
            SyncRequest::Push { records, .. } => records.len(),
            _ => 0,
        };
        if count > MAX_ITEMS_PER_MESSAGE {
            return Err(too_many("sync request", count, MAX_ITEMS_PER_MESSAGE));
        }
        Ok(request)
    }
}

impl SyncResponse {
    /// Wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Parses wire bytes, refusing oversized, overlong or malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let response: SyncResponse = decode("sync response", bytes, MAX_SYNC_BYTES)?;
        let (count, max) = match &response {
            SyncResponse::Heights { heights, .. } => (heights.len(), MAX_HEIGHTS),
            SyncResponse::Records { records, .. } => (records.len(), MAX_ITEMS_PER_MESSAGE),
            _ => (0, 0),
        };
        if count > max {
            return Err(too_many("sync response", count, max));
        }
        Ok(response)
    }
}
