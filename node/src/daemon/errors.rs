//! Why a command to the daemon failed: one typed error for every command reply, which the API
//! turns into a status code and a message that says what to do.

use myco_dna::DnaHash;

use crate::engine::{ElectorateError, WriteRefusal};

/// Why a command failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// This node does not host the pod.
    #[error("this node does not host pod {0}; join it first")]
    NotHosted(DnaHash),
    /// What was asked for cannot be done as asked (an invalid manifest, an agent that is not a
    /// founder, a proposal without a rule, an invitation the role does not allow).
    #[error("{0}")]
    Invalid(String),
    /// The engine refused the write; nothing was stored.
    #[error("{0}")]
    Write(WriteRefusal),
    /// The electorate of a new proposal could not be given.
    #[error("{0}")]
    Electorate(ElectorateError),
    /// This node's store failed.
    #[error("this node's store failed ({0}); check the disk, then retry")]
    Store(String),
    /// The engine took the write but stored nothing: it repeats an earlier one.
    #[error("the write was not stored (a duplicate of an earlier one?)")]
    NotStored,
}

/// What kind of failure a command error is, for the API's status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The request cannot be done as asked: 422.
    Refused,
    /// A record would be over a size bound: 413.
    TooLarge,
    /// This node's disk failed: 507.
    Storage,
    /// The write must wait for the pod's peers (a restored data dir): 503.
    Unavailable,
}

impl CommandError {
    /// What kind of failure this is.
    pub fn kind(&self) -> FailureKind {
        match self {
            CommandError::Write(WriteRefusal::Refused(refusal)) if refusal.is_too_large() => {
                FailureKind::TooLarge
            }
            CommandError::Write(refusal) if refusal.is_unavailable() => FailureKind::Unavailable,
            CommandError::Write(WriteRefusal::Store(_))
            | CommandError::Store(_)
            | CommandError::Electorate(ElectorateError::Store(_)) => FailureKind::Storage,
            _ => FailureKind::Refused,
        }
    }
}

impl From<WriteRefusal> for CommandError {
    fn from(refusal: WriteRefusal) -> Self {
        CommandError::Write(refusal)
    }
}

impl From<ElectorateError> for CommandError {
    fn from(error: ElectorateError) -> Self {
        CommandError::Electorate(error)
    }
}
