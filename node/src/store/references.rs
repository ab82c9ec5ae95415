//! How records refer to one another, for the reference index every store keeps: a story's
//! versions, its deletion, its comments, reactions and approvals, the value recorded on it,
//! the votes and decision on a proposal, the receipts of a purge.
//!
//! A reference named by the signed action (an Update's original, a Delete's target) is kept
//! for as long as the record. One named only inside the entry (a comment's story) is dropped
//! when the entry is purged, so a purged comment no longer links to what it answered.

use myco_dna::{ActionBody, ActionHash, Record};
use myco_zomes::codec::read;
use myco_zomes::content::{Approval, Comment, Content, Reaction, Receipt};
use myco_zomes::content::{APPROVAL, COMMENT, CONTENT, REACTION, RECEIPT};
use myco_zomes::governance::{Decision, Vote, DECISION, VOTE};
use myco_zomes::value::{Distribution, ValueEvent, DISTRIBUTION, VALUE_EVENT};
use myco_zomes::{ZOME_CONTENT, ZOME_GOVERNANCE, ZOME_VALUE};

/// How one record refers to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relation {
    /// An Update replaces its original.
    Version,
    /// A Delete deletes its target.
    Delete,
    /// A comment on content.
    Comment,
    /// A reaction to content.
    Reaction,
    /// A steward's approval of content.
    Approval,
    /// Value recorded on content.
    ValueEvent,
    /// The distribution of a value event.
    Distribution,
    /// A vote on a proposal.
    Vote,
    /// The decision on a proposal.
    Decision,
    /// A node's receipt for the purge of a record.
    Receipt,
}

impl Relation {
    /// Every relation.
    pub const ALL: [Relation; 10] = [
        Relation::Version,
        Relation::Delete,
        Relation::Comment,
        Relation::Reaction,
        Relation::Approval,
        Relation::ValueEvent,
        Relation::Distribution,
        Relation::Vote,
        Relation::Decision,
        Relation::Receipt,
    ];

    /// The number a store files it under. Never change one: stores on disk hold them.
    pub fn code(self) -> i64 {
        match self {
            Relation::Version => 1,
            Relation::Delete => 2,
            Relation::Comment => 3,
            Relation::Reaction => 4,
            Relation::Approval => 5,
            Relation::ValueEvent => 6,
            Relation::Distribution => 7,
            Relation::Vote => 8,
            Relation::Decision => 9,
            Relation::Receipt => 10,
        }
    }

    /// True if the reference is named by the signed action, and so outlives a purge.
    pub fn is_in_action(self) -> bool {
        matches!(self, Relation::Version | Relation::Delete)
    }
}

/// One reference from a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// How.
    pub relation: Relation,
    /// To what.
    pub target: ActionHash,
}

/// The reference the signed action of `record` makes, if any.
pub fn action_reference(record: &Record) -> Option<Reference> {
    match &record.action().body {
        ActionBody::Update { original, .. } => Some(Reference {
            relation: Relation::Version,
            target: *original,
        }),
        ActionBody::Delete { target } => Some(Reference {
            relation: Relation::Delete,
            target: *target,
        }),
        _ => None,
    }
}

/// The reference the entry of `record` makes, if it carries an entry that names one. An
/// entry that does not decode refers to nothing (validation refused it, or it is not held).
pub fn entry_reference(record: &Record) -> Option<Reference> {
    let entry_ref = record.action().body.entry_ref()?;
    let (relation, target) = match (entry_ref.zome.as_str(), entry_ref.entry_type.as_str()) {
        (ZOME_CONTENT, COMMENT) => (
            Relation::Comment,
            read::<Comment>(record, "comment")?.content,
        ),
        (ZOME_CONTENT, REACTION) => (
            Relation::Reaction,
            read::<Reaction>(record, "reaction")?.content,
        ),
        (ZOME_CONTENT, APPROVAL) => (
            Relation::Approval,
            read::<Approval>(record, "approval")?.content,
        ),
        (ZOME_CONTENT, RECEIPT) => (
            Relation::Receipt,
            read::<Receipt>(record, "receipt")?.record,
        ),
        (ZOME_VALUE, VALUE_EVENT) => (
            Relation::ValueEvent,
            read::<ValueEvent>(record, "value event")?.content,
        ),
        (ZOME_VALUE, DISTRIBUTION) => (
            Relation::Distribution,
            read::<Distribution>(record, "distribution")?.event,
        ),
        (ZOME_GOVERNANCE, VOTE) => (Relation::Vote, read::<Vote>(record, "vote")?.proposal),
        (ZOME_GOVERNANCE, DECISION) => (
            Relation::Decision,
            read::<Decision>(record, "decision")?.proposal,
        ),
        _ => return None,
    };
    Some(Reference { relation, target })
}

/// Every reference `record` makes, as it is held (with or without its entry).
pub fn references(record: &Record) -> Vec<Reference> {
    action_reference(record)
        .into_iter()
        .chain(entry_reference(record))
        .collect()
}

/// True if `record` is a Create or Update of content (a story, an article…).
pub fn is_content(record: &Record) -> bool {
    record
        .action()
        .body
        .entry_ref()
        .is_some_and(|e| e.zome == ZOME_CONTENT && e.entry_type == CONTENT)
}

/// The kind of content `record` holds ("story", "video"…), if it is content and its entry is
/// held.
pub fn content_kind(record: &Record) -> Option<String> {
    if !is_content(record) {
        return None;
    }
    read::<Content>(record, "content").map(|c| c.kind)
}

/// The page of `sorted` (in (timestamp, hash) order) after the record `after`, at most
/// `limit` long.
pub fn page_after(sorted: Vec<Record>, after: Option<&ActionHash>, limit: usize) -> Vec<Record> {
    let start = after
        .and_then(|hash| sorted.iter().position(|r| &r.hash() == hash))
        .map_or(0, |at| at + 1);
    sorted.into_iter().skip(start).take(limit).collect()
}

/// Keeps the records of `candidates` that really make `relation` to `target` (an index keyed
/// by tags may hold strangers), in the order given.
pub fn matching(
    candidates: impl IntoIterator<Item = Record>,
    target: &ActionHash,
    relation: Relation,
) -> Vec<Record> {
    candidates
        .into_iter()
        .filter(|record| {
            references(record)
                .iter()
                .any(|r| r.relation == relation && &r.target == target)
        })
        .collect()
}
