//! The fold's input: records sorted by (timestamp, action hash), duplicates merged, and each
//! one classified with its entry decoded once.

use std::collections::BTreeMap;

use myco_dna::{
    ActionBody, ActionHash, DnaManifest, KeyHash, Record, Timestamp, Visibility, Warrant,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{self, is_entry};
use crate::content::{Approval, Content, Receipt, APPROVAL, CONTENT, RECEIPT};
use crate::governance::{
    BackupListing, Checkpoint, Decision, Proposal, ReplicaReceipt, RestoreReceipt, Vote,
    BACKUP_LISTING, CHECKPOINT, DECISION, PROPOSAL, REPLICA_RECEIPT, RESTORE_RECEIPT, VOTE,
};
use crate::membership::LEAVE;
use crate::value::{Distribution, ValueEvent, DISTRIBUTION, VALUE_EVENT};
use crate::{ZOME_CONTENT, ZOME_GOVERNANCE, ZOME_MEMBERSHIP, ZOME_VALUE};

/// What one record says, as far as pod state is concerned. `None` payloads mean the entry is
/// not readable here (private, purged, or not decodable): only the action is known.
#[derive(Debug)]
pub(super) enum Fact {
    /// A Genesis: its author joined.
    Genesis,
    /// An archivist's Genesis: a chain for its receipts, not a member.
    ArchivistGenesis,
    /// A `governance/replica_receipt`.
    ReplicaReceipt(Option<ReplicaReceipt>),
    /// A `governance/backup_listing`.
    BackupListing(Option<Box<BackupListing>>),
    /// A `governance/restore_receipt`.
    RestoreReceipt(Option<RestoreReceipt>),
    /// A `membership/leave`.
    Leave,
    /// A `governance/proposal`.
    Proposal(Option<Proposal>),
    /// A `governance/vote`.
    Vote(Option<Vote>),
    /// A `governance/decision`.
    Decision(Option<Decision>),
    /// A `governance/checkpoint`.
    Checkpoint(Option<Checkpoint>),
    /// A Create (`original` is `None`) or Update of `content/content`.
    Content {
        /// What an Update replaces.
        original: Option<ActionHash>,
        /// The content, when readable.
        entry: Option<Content>,
    },
    /// A `content/approval`.
    Approval(Option<Approval>),
    /// A `value/value_event`.
    ValueEvent(Option<ValueEvent>),
    /// A `value/distribution`.
    Distribution(Option<Distribution>),
    /// A `content/receipt`: a node's claim that it erased a revoked entry.
    Receipt(Option<Receipt>),
    /// A Delete of `target`.
    Delete {
        /// The Create or Update whose entry is deleted.
        target: ActionHash,
    },
    /// Anything else: profiles, comments, reactions.
    Other,
}

/// One distinct record, classified.
#[derive(Debug)]
pub(super) struct Item {
    /// The action hash.
    pub hash: ActionHash,
    /// The action's own timestamp.
    pub at: Timestamp,
    /// The author's key hash.
    pub author: KeyHash,
    /// The visibility of the entry a Create or Update writes.
    pub visibility: Option<Visibility>,
    /// What the record says.
    pub fact: Fact,
}

/// The distinct records of a pod in (timestamp, action hash) order.
#[derive(Debug)]
pub(super) struct Input {
    items: Vec<Item>,
    index: BTreeMap<ActionHash, usize>,
}

impl Input {
    /// Sorts, merges duplicates (keeping a copy that holds its entry, if any does) and
    /// classifies `records`.
    pub fn new(records: &[Record]) -> Self {
        let mut sorted: Vec<(&Record, bool)> =
            records.iter().map(|r| (r, holds_entry(r))).collect();
        sorted.sort_by_key(|(r, held)| (r.action().timestamp, r.hash(), !*held));
        sorted.dedup_by_key(|(r, _)| r.hash());
        let items: Vec<Item> = sorted
            .into_iter()
            .map(|(record, held)| classify(record, held))
            .collect();
        let index = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.hash, i))
            .collect();
        Input { items, index }
    }

    /// The records, oldest first.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The record with `hash`, if it is among the input.
    pub fn get(&self, hash: &ActionHash) -> Option<&Item> {
        self.index.get(hash).and_then(|&i| self.items.get(i))
    }
}

/// True if the record carries entry bytes that every member may hold and that match the
/// hash its action names.
///
/// A `Private` entry never leaves its author's node. Reading it would make the author's pod
/// state differ from every other member's, so the fold treats it as absent everywhere.
fn holds_entry(record: &Record) -> bool {
    match (&record.entry, record.action().body.entry_ref()) {
        (Some(entry), Some(entry_ref)) => {
            entry_ref.visibility != Visibility::Private && entry.hash() == entry_ref.entry_hash
        }
        _ => false,
    }
}

/// The record's entry as `T`, if it is `held` (see [`holds_entry`]) and decodes.
fn read<T: DeserializeOwned + Serialize>(
    record: &Record,
    held: bool,
    what: &'static str,
) -> Option<T> {
    if !held {
        return None;
    }
    codec::decode(record, what).ok().flatten()
}

fn classify(record: &Record, held: bool) -> Item {
    let action = record.action();
    let fact = match &action.body {
        ActionBody::Genesis { .. } if crate::membership::is_archivist_genesis(record) => {
            Fact::ArchivistGenesis
        }
        ActionBody::Genesis { .. } => Fact::Genesis,
        ActionBody::Delete { target } => Fact::Delete { target: *target },
        ActionBody::Create(_) | ActionBody::Update { .. } => classify_entry(record, held),
    };
    Item {
        hash: record.hash(),
        at: action.timestamp,
        author: action.author.key_hash(),
        visibility: action.body.entry_ref().map(|e| e.visibility),
        fact,
    }
}

fn classify_entry(record: &Record, held: bool) -> Fact {
    let is = |zome, entry_type| is_entry(record, zome, entry_type);
    if is(ZOME_MEMBERSHIP, LEAVE) {
        Fact::Leave
    } else if is(ZOME_GOVERNANCE, PROPOSAL) {
        Fact::Proposal(read(record, held, "proposal"))
    } else if is(ZOME_GOVERNANCE, VOTE) {
        Fact::Vote(read(record, held, "vote"))
    } else if is(ZOME_GOVERNANCE, DECISION) {
        Fact::Decision(read(record, held, "decision"))
    } else if is(ZOME_GOVERNANCE, CHECKPOINT) {
        Fact::Checkpoint(read(record, held, "checkpoint"))
    } else if is(ZOME_GOVERNANCE, REPLICA_RECEIPT) {
        Fact::ReplicaReceipt(read(record, held, "replica receipt"))
    } else if is(ZOME_GOVERNANCE, BACKUP_LISTING) {
        Fact::BackupListing(read(record, held, "backup listing").map(Box::new))
    } else if is(ZOME_GOVERNANCE, RESTORE_RECEIPT) {
        Fact::RestoreReceipt(read(record, held, "restore receipt"))
    } else if is(ZOME_CONTENT, CONTENT) {
        let original = match &record.action().body {
            ActionBody::Update { original, .. } => Some(*original),
            _ => None,
        };
        Fact::Content {
            original,
            entry: read(record, held, "content"),
        }
    } else if is(ZOME_CONTENT, APPROVAL) {
        Fact::Approval(read(record, held, "approval"))
    } else if is(ZOME_CONTENT, RECEIPT) {
        Fact::Receipt(read(record, held, "receipt"))
    } else if is(ZOME_VALUE, VALUE_EVENT) {
        Fact::ValueEvent(read(record, held, "value event"))
    } else if is(ZOME_VALUE, DISTRIBUTION) {
        Fact::Distribution(read(record, held, "distribution"))
    } else {
        Fact::Other
    }
}

/// A warrant that holds in this pod, reduced to what pod state shows.
#[derive(Debug)]
pub(super) struct PodWarrant {
    /// The accused author.
    pub offender: KeyHash,
    /// When the misbehaviour became evident: the later of the two conflicting actions.
    pub at: Timestamp,
    /// The lower hash of the two conflicting actions.
    pub evidence: ActionHash,
}

/// The distinct warrants for `dna`'s pod whose proof holds, ordered by (evidence, second
/// action). Warrants for other pods, or whose proof fails, are left out.
pub(super) fn pod_warrants(dna: &DnaManifest, warrants: &[Warrant]) -> Vec<PodWarrant> {
    let pod = dna.dna_hash();
    let mut found: BTreeMap<(ActionHash, ActionHash), PodWarrant> = BTreeMap::new();
    for warrant in warrants {
        if warrant.pod() != &pod {
            continue;
        }
        let Ok(offender) = warrant.verify() else {
            continue;
        };
        match warrant {
            Warrant::Fork { first, second } => {
                let (low, high) = if first.hash <= second.hash {
                    (first, second)
                } else {
                    (second, first)
                };
                found.insert(
                    (low.hash, high.hash),
                    PodWarrant {
                        offender: offender.key_hash(),
                        at: low.action.timestamp.max(high.action.timestamp),
                        evidence: low.hash,
                    },
                );
            }
            Warrant::Invalid { record, .. } => {
                // Keyed by the record twice, so one invalid record counts once.
                found.insert(
                    (record.hash(), record.hash()),
                    PodWarrant {
                        offender: offender.key_hash(),
                        at: record.action().timestamp,
                        evidence: record.hash(),
                    },
                );
            }
        }
    }
    found.into_values().collect()
}
