//! Actions: the steps of a source chain, and the entries they point to.

use serde::{Deserialize, Serialize};

use crate::encoding::to_canonical_cbor;
use crate::hash::{blake2b_256, ActionHash, AgentKey, DnaHash, EntryHash};

/// Microseconds since the Unix epoch. Passed in by the caller; nothing here reads a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The timestamp `micros` microseconds later, saturating.
    pub fn plus_micros(self, micros: u64) -> Self {
        Timestamp(self.0.saturating_add(micros))
    }
}

/// Who may read an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Visibility {
    /// Anyone may read it, members or not.
    Public,
    /// Only current, unblocked members of the pod may read it.
    Pod,
    /// Never leaves the author's node; only the action is shared.
    Private,
}

impl Visibility {
    /// True if `self` lets at least as many readers see the entry as `other`.
    pub fn is_at_least_as_wide_as(self, other: Visibility) -> bool {
        self.width() >= other.width()
    }

    fn width(self) -> u8 {
        match self {
            Visibility::Private => 0,
            Visibility::Pod => 1,
            Visibility::Public => 2,
        }
    }
}

/// Entry bytes: the app data an action points to, encoded by its zome (usually CBOR).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Entry(#[serde(with = "serde_bytes")] pub Vec<u8>);

impl Entry {
    /// The entry's hash.
    pub fn hash(&self) -> EntryHash {
        EntryHash::of(&self.0)
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Entry({} bytes)", self.0.len())
    }
}

/// What a Create or Update writes: which zome owns the entry, its type, hash and visibility.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntryRef {
    /// The zome whose rules validate this entry.
    pub zome: String,
    /// The entry type within that zome.
    pub entry_type: String,
    /// blake2b-256 of the entry bytes.
    pub entry_hash: EntryHash,
    /// Who may read the entry.
    pub visibility: Visibility,
}

/// The kind of step an action records.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionBody {
    /// Seq 0 of every chain. Carries the membrane proof the pod's admission policy checks.
    Genesis {
        /// Proof of the right to join (an invitation, or a reference to an Admit decision),
        /// encoded by the membership zome. Empty for open pods.
        #[serde(with = "serde_bytes")]
        membrane_proof: Vec<u8>,
    },
    /// Writes a new entry.
    Create(EntryRef),
    /// Replaces an entry the author wrote earlier.
    Update {
        /// The Create (or earlier Update) being replaced.
        original: ActionHash,
        /// The new entry.
        entry: EntryRef,
    },
    /// Deletes an entry the author wrote earlier; every node purges the entry bytes.
    Delete {
        /// The Create or Update whose entry is deleted.
        target: ActionHash,
    },
}

impl ActionBody {
    /// The entry this action writes, if any.
    pub fn entry_ref(&self) -> Option<&EntryRef> {
        match self {
            ActionBody::Create(entry) | ActionBody::Update { entry, .. } => Some(entry),
            ActionBody::Genesis { .. } | ActionBody::Delete { .. } => None,
        }
    }

    /// A short lowercase name for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ActionBody::Genesis { .. } => "genesis",
            ActionBody::Create(_) => "create",
            ActionBody::Update { .. } => "update",
            ActionBody::Delete { .. } => "delete",
        }
    }
}

/// One step of a source chain: one chain per (pod, author).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Action {
    /// The pod (DNA hash) this chain belongs to.
    pub pod: DnaHash,
    /// The agent whose chain this is, and who signs the action.
    pub author: AgentKey,
    /// Position in the chain: 0 for Genesis, then +1 each step.
    pub seq: u64,
    /// Hash of the previous action; `None` only for Genesis.
    pub prev: Option<ActionHash>,
    /// When the author wrote it; never decreases along a chain.
    pub timestamp: Timestamp,
    /// What the step does.
    pub body: ActionBody,
}

impl Action {
    /// The canonical CBOR bytes that are hashed and signed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        to_canonical_cbor(self)
    }

    /// blake2b-256 of the canonical bytes.
    pub fn hash(&self) -> ActionHash {
        ActionHash(blake2b_256(&self.canonical_bytes()))
    }
}
