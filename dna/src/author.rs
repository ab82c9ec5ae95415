//! Writing a source chain: builds the next signed record from the chain's current head.

use crate::action::{Action, ActionBody, Entry, EntryRef, Timestamp, Visibility};
use crate::hash::{ActionHash, AgentKey, DnaHash};
use crate::record::{Record, SignedAction};
use crate::signing::{agent_key_of, SigningKey};

/// Builds and signs successive records of one chain (one pod, one author).
///
/// It tracks the head, so each record it makes extends the last one: seq + 1, prev = the
/// last hash, and a timestamp no earlier than the last (a clock that went backwards is
/// clamped). It does no validation beyond that; the pod's rules still apply.
pub struct ChainAuthor {
    key: SigningKey,
    pod: DnaHash,
    head: Option<(u64, ActionHash, Timestamp)>,
}

impl ChainAuthor {
    /// An author for a new, empty chain.
    pub fn new(key: SigningKey, pod: DnaHash) -> Self {
        ChainAuthor {
            key,
            pod,
            head: None,
        }
    }

    /// An author continuing a chain whose newest record is `head`.
    pub fn resume(key: SigningKey, head: &SignedAction) -> Self {
        ChainAuthor {
            key,
            pod: head.action.pod,
            head: Some((head.action.seq, head.hash, head.action.timestamp)),
        }
    }

    /// The author's public key.
    pub fn agent(&self) -> AgentKey {
        agent_key_of(&self.key)
    }

    /// The pod.
    pub fn pod(&self) -> DnaHash {
        self.pod
    }

    /// The seq the next record will have.
    pub fn next_seq(&self) -> u64 {
        self.head.map_or(0, |(seq, _, _)| seq + 1)
    }

    /// Signs the next action with `body`, at `now` (clamped to the head's timestamp).
    pub fn next(&mut self, now: Timestamp, body: ActionBody, entry: Option<Entry>) -> Record {
        let (seq, prev, timestamp) = match self.head {
            Some((seq, hash, last)) => (seq + 1, Some(hash), now.max(last)),
            None => (0, None, now),
        };
        let action = Action {
            pod: self.pod,
            author: self.agent(),
            seq,
            prev,
            timestamp,
            body,
        };
        let signed = SignedAction::sign(action, &self.key);
        self.head = Some((seq, signed.hash, timestamp));
        Record { signed, entry }
    }

    /// Signs the Genesis, carrying `membrane_proof`.
    pub fn genesis(&mut self, now: Timestamp, membrane_proof: Vec<u8>) -> Record {
        self.next(now, ActionBody::Genesis { membrane_proof }, None)
    }

    /// Signs a Create of `entry` in `zome`/`entry_type` with `visibility`.
    pub fn create(
        &mut self,
        now: Timestamp,
        zome: &str,
        entry_type: &str,
        visibility: Visibility,
        entry: Entry,
    ) -> Record {
        let entry_ref = EntryRef {
            zome: zome.to_string(),
            entry_type: entry_type.to_string(),
            entry_hash: entry.hash(),
            visibility,
        };
        self.next(now, ActionBody::Create(entry_ref), Some(entry))
    }
}
