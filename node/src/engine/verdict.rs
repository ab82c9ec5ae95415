//! What the engine concludes about a record, with typed reasons: a refusal names its check
//! in its type, so warrants and replies never read it back out of a string, and a failure of
//! this node's own store is never mistaken for a fault of the record or its sender.

use std::fmt;

use myco_dna::{Breach, SystemError, Warrant};

use super::limbo::Wait;

/// Why a record is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A system check failed: shape, size, hash, signature or chain position.
    System(SystemError),
    /// A rule of the pod's zomes refused it.
    Rule(Breach),
    /// The record belongs to another pod than the one it arrived for.
    WrongPod,
    /// This node does not host the record's pod.
    NotHosted,
}

impl Refusal {
    /// The check that refused the record, as a warrant names it: a system check's name
    /// (`size`, `signature`, `fork`, …), `app` or `app:<zome>` for a rule, `pod` otherwise.
    pub fn check(&self) -> String {
        match self {
            Refusal::System(error) => error.check().to_string(),
            Refusal::Rule(breach) => breach.check(),
            Refusal::WrongPod | Refusal::NotHosted => "pod".to_string(),
        }
    }

    /// True when the refusal is about a size bound.
    pub fn is_too_large(&self) -> bool {
        matches!(self, Refusal::System(SystemError::TooLarge { .. }))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::System(error) => write!(f, "{error}"),
            Refusal::Rule(breach) => write!(f, "{breach}"),
            Refusal::WrongPod => f.write_str("record belongs to another pod"),
            Refusal::NotHosted => f.write_str("this node does not host the pod"),
        }
    }
}

/// What the pipeline concluded about one record.
#[derive(Debug)]
pub(crate) enum Judgement {
    /// Valid: store it.
    Accept,
    /// Held already.
    Duplicate,
    /// Valid so far, but it needs records this node does not hold yet.
    Wait(Vec<Wait>),
    /// Refused; a warrant when the author provably signed something invalid.
    Refuse {
        reason: Refusal,
        warrant: Option<Box<Warrant>>,
    },
    /// This node's store failed while judging: there is no verdict, and the record is tried
    /// again later. Never a refusal, never a penalty for the sender.
    StoreFault(String),
}

/// The judgement for a refusal that carries a warrant: the author signed a record that
/// breaks a rule every member checks.
pub(crate) fn refuse_with_warrant(record: &myco_dna::Record, reason: Refusal) -> Judgement {
    Judgement::Refuse {
        warrant: Some(Box::new(Warrant::Invalid {
            record: Box::new(record.clone()),
            check: reason.check(),
            reason: reason.to_string(),
        })),
        reason,
    }
}
