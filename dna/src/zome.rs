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
    /// The record breaks a rule: which zome's, and how.
    Invalid(Breach),
    /// The verdict needs records that are not held yet; retry when they arrive.
    MissingDeps(Vec<ActionHash>),
}

impl Verdict {
    /// An invalid verdict with `detail`; the dispatcher names the zome (see [`Breach::zome`]).
    pub fn invalid(detail: impl Into<String>) -> Self {
        Verdict::Invalid(Breach {
            zome: None,
            detail: detail.into(),
        })
    }
}

/// How a record breaks a pod's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    /// The zome whose rule the record breaks; `None` for the rules every pod shares (an
    /// update keeps its entry type, only the author deletes, the DNA uses the zome).
    pub zome: Option<&'static str>,
    /// What is wrong, for a person to act on.
    pub detail: String,
}

impl Breach {
    /// The check a warrant names for this breach: `app:<zome>`, or `app` for the shared rules.
    pub fn check(&self) -> String {
        match self.zome {
            Some(zome) => format!("app:{zome}"),
            None => "app".to_string(),
        }
    }
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
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
