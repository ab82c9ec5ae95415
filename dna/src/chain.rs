//! System validation: small pure `check_*` functions over records and chains.
//!
//! Each check looks at one property and returns a [`SystemError`] that names the check
//! ([`SystemError::check`]) and what was wrong. [`validate_chain`] runs them all over a chain
//! in order. Signatures can be checked one by one ([`check_signature`]) or many at once
//! ([`check_signatures`]).

use crate::action::{Action, ActionBody, Timestamp};
use crate::encoding::DecodeError;
use crate::hash::{ActionHash, EntryHash};
use crate::limits::{MAX_ENTRY_BYTES, MAX_MEMBRANE_PROOF_BYTES, MAX_NAME_BYTES};
use crate::record::{Record, SignedAction};
use crate::signing::{verify_batch, verify_signature, SignatureError, SignedHash};
use crate::warrant::Warrant;

/// A record or chain that fails system validation, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SystemError {
    /// The bytes do not decode to a record.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// The carried hash is not the hash of the action.
    #[error("hash: action hash {claimed} does not match its content (computed {computed})")]
    HashMismatch {
        /// The hash the record carries.
        claimed: ActionHash,
        /// The hash of the action's canonical bytes.
        computed: ActionHash,
    },
    /// The signature does not verify.
    #[error("signature: action {hash}: {error}")]
    Signature {
        /// The action whose signature failed.
        hash: ActionHash,
        /// What failed.
        error: SignatureError,
    },
    /// The entry bytes do not hash to the action's entry hash.
    #[error("entry_hash: entry bytes hash to {computed}, but the action names {claimed}")]
    EntryHashMismatch {
        /// The hash the action names.
        claimed: EntryHash,
        /// The hash of the carried bytes.
        computed: EntryHash,
    },
    /// An entry is attached to an action that writes none.
    #[error("entry_hash: a {kind} action writes no entry, but entry bytes are attached")]
    UnexpectedEntry {
        /// The action's kind.
        kind: &'static str,
    },
    /// Something is over its size bound.
    #[error("size: {what} is {len} bytes, over the {max}-byte bound")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// Genesis rules: seq 0 must be a Genesis with no prev, and only seq 0 may be.
    #[error("genesis: {0}")]
    Genesis(&'static str),
    /// The chain does not start at seq 0.
    #[error("genesis: chain has no genesis; it starts at seq {first_seq}")]
    NoGenesis {
        /// The first seq present.
        first_seq: u64,
    },
    /// seq is not the previous seq plus one.
    #[error("seq: expected seq {expected}, got {got}")]
    WrongSeq {
        /// previous seq + 1.
        expected: u64,
        /// The seq found.
        got: u64,
    },
    /// prev does not name the previous action.
    #[error("prev: action at seq {seq} names prev {got:?}, but the previous action is {expected}")]
    WrongPrev {
        /// The seq of the offending action.
        seq: u64,
        /// The previous action's hash.
        expected: ActionHash,
        /// The prev it names.
        got: Option<ActionHash>,
    },
    /// An action after Genesis names no prev.
    #[error("prev: action at seq {seq} names no prev; only a Genesis may")]
    MissingPrev {
        /// The seq of the offending action.
        seq: u64,
    },
    /// The timestamp is earlier than the previous action's.
    #[error("timestamp: action at seq {seq} is timestamped {got:?}, before the previous action's {prev:?}")]
    TimestampBackwards {
        /// The seq of the offending action.
        seq: u64,
        /// The previous action's timestamp.
        prev: Timestamp,
        /// This action's timestamp.
        got: Timestamp,
    },
    /// The action belongs to a different pod or author than the chain.
    #[error("chain: action at seq {seq} belongs to another chain ({what} differs)")]
    OtherChain {
        /// The seq of the offending action.
        seq: u64,
        /// "pod" or "author".
        what: &'static str,
    },
    /// Two different actions at the same seq: the author forked their chain.
    #[error("fork: author signed two different actions at seq {seq}")]
    Fork {
        /// The seq of the fork.
        seq: u64,
        /// Proof of the fork, verifiable by anyone.
        warrant: Box<Warrant>,
    },
}

impl SystemError {
    /// The name of the check that failed: `decode`, `hash`, `signature`, `entry_hash`, `size`,
    /// `genesis`, `seq`, `prev`, `timestamp`, `chain` or `fork`.
    pub fn check(&self) -> &'static str {
        match self {
            SystemError::Decode(_) => "decode",
            SystemError::HashMismatch { .. } => "hash",
            SystemError::Signature { .. } => "signature",
            SystemError::EntryHashMismatch { .. } | SystemError::UnexpectedEntry { .. } => {
                "entry_hash"
            }
            SystemError::TooLarge { .. } => "size",
            SystemError::Genesis(_) | SystemError::NoGenesis { .. } => "genesis",
            SystemError::WrongSeq { .. } => "seq",
            SystemError::WrongPrev { .. } | SystemError::MissingPrev { .. } => "prev",
            SystemError::TimestampBackwards { .. } => "timestamp",
            SystemError::OtherChain { .. } => "chain",
            SystemError::Fork { .. } => "fork",
        }
    }
}

/// Checks that the carried hash is the hash of the action.
pub fn check_hash(signed: &SignedAction) -> Result<(), SystemError> {
    let computed = signed.action.hash();
    if computed != signed.hash {
        return Err(SystemError::HashMismatch {
            claimed: signed.hash,
            computed,
        });
    }
    Ok(())
}

/// Checks the author's signature over the hash under Myco's one signature rule
/// ([`crate::signing`]).
pub fn check_signature(signed: &SignedAction) -> Result<(), SystemError> {
    verify_signature(&signed.action.author, &signed.hash, &signed.signature).map_err(|error| {
        SystemError::Signature {
            hash: signed.hash,
            error,
        }
    })
}

/// Checks many signatures at once; one verdict per action, in order.
pub fn check_signatures(signed: &[&SignedAction]) -> Vec<Result<(), SystemError>> {
    let items: Vec<SignedHash<'_>> = signed
        .iter()
        .map(|s| SignedHash {
            author: &s.action.author,
            hash: &s.hash,
            signature: &s.signature,
        })
        .collect();
    verify_batch(&items)
        .into_iter()
        .zip(signed)
        .map(|(verdict, s)| {
            verdict.map_err(|error| SystemError::Signature {
                hash: s.hash,
                error,
            })
        })
        .collect()
}

/// Checks the size bounds of the action's variable parts and of the entry.
pub fn check_size(record: &Record) -> Result<(), SystemError> {
    let action = record.action();
    match &action.body {
        ActionBody::Genesis { membrane_proof } => bound(
            "membrane proof",
            membrane_proof.len(),
            MAX_MEMBRANE_PROOF_BYTES,
        )?,
        ActionBody::Create(entry) | ActionBody::Update { entry, .. } => {
            bound("zome name", entry.zome.len(), MAX_NAME_BYTES)?;
            bound("entry type name", entry.entry_type.len(), MAX_NAME_BYTES)?;
        }
        ActionBody::Delete { .. } => {}
    }
    if let Some(entry) = &record.entry {
        bound("entry", entry.0.len(), MAX_ENTRY_BYTES)?;
    }
    Ok(())
}

fn bound(what: &'static str, len: usize, max: usize) -> Result<(), SystemError> {
    if len > max {
        return Err(SystemError::TooLarge { what, len, max });
    }
    Ok(())
}

/// Checks that attached entry bytes match the action's entry hash.
pub fn check_entry(record: &Record) -> Result<(), SystemError> {
    let Some(entry) = &record.entry else {
        return Ok(());
    };
    let Some(entry_ref) = record.action().body.entry_ref() else {
        return Err(SystemError::UnexpectedEntry {
            kind: record.action().body.kind(),
        });
    };
    let computed = entry.hash();
    if computed != entry_ref.entry_hash {
        return Err(SystemError::EntryHashMismatch {
            claimed: entry_ref.entry_hash,
            computed,
        });
    }
    Ok(())
}

/// Checks that Genesis comes first: seq 0 is a Genesis with no prev, and no later action is a
/// Genesis or lacks a prev.
pub fn check_genesis_position(action: &Action) -> Result<(), SystemError> {
    let is_genesis = matches!(action.body, ActionBody::Genesis { .. });
    match (action.seq, is_genesis, action.prev.is_some()) {
        (0, true, false) => Ok(()),
        (0, false, _) => Err(SystemError::Genesis(
            "the action at seq 0 must be a Genesis",
        )),
        (0, true, true) => Err(SystemError::Genesis("a Genesis cannot have a prev")),
        (_, true, _) => Err(SystemError::Genesis("a Genesis may only stand at seq 0")),
        (seq, false, false) => Err(SystemError::MissingPrev { seq }),
        (_, false, true) => Ok(()),
    }
}

/// Checks that `next` follows `prev` on the same chain: same pod and author, seq + 1, prev
/// hash, and a timestamp that does not go backwards.
pub fn check_successor(prev: &SignedAction, next: &Action) -> Result<(), SystemError> {
    let seq = next.seq;
    if next.pod != prev.action.pod {
        return Err(SystemError::OtherChain { seq, what: "pod" });
    }
    if next.author != prev.action.author {
        return Err(SystemError::OtherChain {
            seq,
            what: "author",
        });
    }
    let expected = prev.action.seq.saturating_add(1);
    if seq != expected {
        return Err(SystemError::WrongSeq { expected, got: seq });
    }
    if next.prev != Some(prev.hash) {
        return Err(SystemError::WrongPrev {
            seq,
            expected: prev.hash,
            got: next.prev,
        });
    }
    if next.timestamp < prev.action.timestamp {
        return Err(SystemError::TimestampBackwards {
            seq,
            prev: prev.action.timestamp,
            got: next.timestamp,
        });
    }
    Ok(())
}

/// Compares two actions by the same author at the same seq; if they differ, returns the fork
/// as a [`SystemError::Fork`] carrying a warrant.
pub fn check_fork(held: &SignedAction, incoming: &SignedAction) -> Result<(), SystemError> {
    let same_slot = held.action.pod == incoming.action.pod
        && held.action.author == incoming.action.author
        && held.action.seq == incoming.action.seq;
    if same_slot && held.hash != incoming.hash {
        return Err(SystemError::Fork {
            seq: held.action.seq,
            warrant: Box::new(Warrant::fork(held.clone(), incoming.clone())),
        });
    }
    Ok(())
}

/// Every check that needs nothing but the record itself, except the signature.
pub fn check_record_shape(record: &Record) -> Result<(), SystemError> {
    check_size(record)?;
    check_hash(&record.signed)?;
    check_entry(record)?;
    check_genesis_position(record.action())
}

/// Every check that needs nothing but the record itself, signature included.
pub fn check_record(record: &Record) -> Result<(), SystemError> {
    check_record_shape(record)?;
    check_signature(&record.signed)
}

/// Decodes wire bytes and runs [`check_record`].
pub fn decode_and_check(bytes: &[u8]) -> Result<Record, SystemError> {
    let record = Record::from_bytes(bytes)?;
    check_record(&record)?;
    Ok(record)
}

/// Validates a whole chain, in seq order, starting at Genesis. On failure returns the index
/// of the first bad record and why it is bad.
pub fn validate_chain(records: &[Record]) -> Result<(), (usize, SystemError)> {
    let Some(first) = records.first() else {
        return Ok(());
    };
    if first.action().seq != 0 {
        return Err((
            0,
            SystemError::NoGenesis {
                first_seq: first.action().seq,
            },
        ));
    }
    let shapes = records.iter().map(check_record_shape);
    let signed: Vec<&SignedAction> = records.iter().map(|r| &r.signed).collect();
    let signatures = check_signatures(&signed);
    for (index, (shape, signature)) in shapes.zip(signatures).enumerate() {
        shape.map_err(|e| (index, e))?;
        signature.map_err(|e| (index, e))?;
        if index > 0 {
            check_successor(&records[index - 1].signed, records[index].action())
                .map_err(|e| (index, e))?;
        }
    }
    Ok(())
}
