//! The `Zome` trait: how a pod's governance rules plug into validation.
//!
//! A zome validates the records whose [`EntryRef::zome`](crate::EntryRef) names it. It may
//! read only the record, the records it references by hash, and its author's earlier chain,
//! through a [`ValidationContext`]; that is what keeps verdicts deterministic.

use crate::hash::ActionHash;
use crate::manifest::DnaManifest;
use crate::record::Record;

/// The outcome of app validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The record follows the pod's rules.
    Valid,
    /// The record breaks a rule; the reason says which and how, for a person to act on.
    Invalid(String),
    /// The verdict needs records that are not held yet; retry when they arrive.
    MissingDeps(Vec<ActionHash>),
}

impl Verdict {
    /// Shorthand for an invalid verdict.
    pub fn invalid(reason: impl Into<String>) -> Self {
        Verdict::Invalid(reason.into())
    }
}

/// What a zome may read while validating one record.
pub trait ValidationContext {
    /// A record the validated record references by hash, if held and valid.
    fn get(&self, hash: &ActionHash) -> Option<Record>;

    /// The author's records before the validated one that write `zome`'s `entry_type`, in seq
    /// order. (A query rather than the whole chain, so validation stays cheap on long chains.)
    fn author_records(&self, zome: &str, entry_type: &str) -> Vec<Record>;
}

/// A set of rules for some entry types.
pub trait Zome {
    /// The zome's name, as used in manifests and in `EntryRef::zome`.
    fn name(&self) -> &'static str;

    /// The entry types this zome defines.
    fn entry_types(&self) -> &'static [&'static str];

    /// Validates one record against the pod's manifest and what the context holds.
    fn validate(&self, record: &Record, dna: &DnaManifest, ctx: &dyn ValidationContext) -> Verdict;
}
