//! # The daemon: the engine on a real network
//!
//! [`run_daemon`] hosts one agent: it opens the store, resumes the pods in the pods list,
//! builds the libp2p swarm ([`crate::net`]) and the local API ([`crate::api`]), then runs the
//! engine and its store on their own thread ([`engine_thread`]) and the swarm in a tokio select
//! loop ([`driver`]), so a store flush or a whole-pod read never stalls the network. The swarm
//! loop feeds the engine what happens and carries out what it asks, over bounded channels
//! ([`link`], which also says what is dropped when the engine falls behind):
//!
//! ```text
//!   swarm events ──► gossip / sync request / sync response / peer joined or left ──┐
//!   timers       ──► Timer::Sync, Timer::Sweep                                     ├─► link ─► myco-engine:
//!   API commands ──► join pod, author (publish, vote, …), read state, lookup      ─┘          Engine::handle
//!                                                                                               │
//!   swarm  ◄── send request / respond / publish / report gossip verdict ◄──── link ◄──── Outputs
//! ```
//!
//! It also keeps the agent's registry pointer published (republished before it expires),
//! provides each hosted pod's rendezvous key, and answers profile lookups. [`run_bootstrap`]
//! runs a bootstrap peer: Kademlia server and rendezvous point, with a persistent record store
//! and no agent data.

mod affirmation;
mod bans;
mod commands;
pub mod config;
mod driver;
mod engine_commands;
mod engine_thread;
pub mod errors;
mod events;
mod ledger;
mod link;
mod lookup;
pub mod metrics;
mod nat;
#[cfg(test)]
mod off_loop_tests;
pub mod pod_backups;
pub mod pods;
mod prepare;
mod profiles;
pub mod reach;
pub mod recovery;
mod redial;
mod residency;
pub mod roles;
mod runtime;
mod strangers;
pub mod writes;

use myco_dna::{ActionHash, DnaHash, DnaManifest, KeyHash};
use tokio::sync::oneshot;

pub use driver::now_micros;
pub(crate) use runtime::write_private;
pub use runtime::{
    run_bootstrap, run_daemon, shutdown_signal, BootstrapOptions, DaemonError, DaemonOptions,
    LISTEN_FILE,
};

use crate::api::types::{
    Distributed, InvitationView, LookupView, MembersView, PodSummary, RecordView, StatementView,
    StatusView,
};
pub use errors::{CommandError, FailureKind};
pub use recovery::DnaFetched;
pub use writes::Write;

/// Most API commands waiting for the swarm loop: the API answers 503 beyond this (and when
/// the engine thread's queue is full).
pub const MAX_QUEUED_COMMANDS: usize = 256;

/// One hosted pod's anchoring, for `myco recover`.
#[derive(Clone, Debug)]
pub struct PodAnchoring {
    /// The pod.
    pub pod: DnaHash,
    /// Its name.
    pub name: String,
    /// Where its wait is; `None` once anchored (or when no wait was needed).
    pub waiting: Option<crate::engine::AnchorStatus>,
    /// The seq of this agent's next record there: its chain's length.
    pub next_seq: u64,
}

/// What the local API asks the driver for. Each carries a channel for the answer.
#[derive(Debug)]
pub enum Command {
    /// The node's status.
    Status(oneshot::Sender<StatusView>),
    /// Host a pod: create it (as a founder) or join it (with a membrane proof).
    JoinPod {
        /// The manifest's TOML text.
        manifest: String,
        /// The membrane proof.
        membrane_proof: Vec<u8>,
        /// Creating: this agent must be one of the DNA's founders.
        create: bool,
        /// Hosting as an archivist: no Genesis until a decision approves this node.
        archivist: bool,
        /// The answer: the pod, or why not.
        reply: oneshot::Sender<Result<PodSummary, CommandError>>,
    },
    /// Stop hosting a pod this agent never joined (its join was refused).
    ForgetPod {
        /// The pod.
        pod: DnaHash,
        /// The answer: done, or why not.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// The hosted pods.
    ListPods(oneshot::Sender<Vec<PodSummary>>),
    /// Write something as the agent.
    Author {
        /// The pod.
        pod: DnaHash,
        /// What to write.
        write: Write,
        /// The answer: the record's hash, or why it was refused.
        reply: oneshot::Sender<Result<ActionHash, CommandError>>,
    },
    /// The chain heights this node's peers last claimed for a pod (see
    /// [`crate::engine::Engine::heard_heights`]).
    HeardHeights {
        /// The pod.
        pod: DnaHash,
        /// The answer, peer by peer.
        reply: oneshot::Sender<Vec<crate::engine::HeardFrom>>,
    },
    /// The DNA of a hosted pod (`None` if it is not hosted).
    Dna {
        /// The pod.
        pod: DnaHash,
        /// The answer.
        reply: oneshot::Sender<Option<DnaManifest>>,
    },
    /// Whether a record is stored.
    Record {
        /// The record.
        hash: ActionHash,
        /// The answer.
        reply: oneshot::Sender<RecordView>,
    },
    /// Sign an invitation to a pod, as a steward.
    Invite {
        /// The pod.
        pod: DnaHash,
        /// Whom to invite.
        invitee: KeyHash,
        /// Days it holds.
        days: u32,
        /// The GrantRole decision that makes this agent a steward; `None` for a founder.
        grant: Option<ActionHash>,
        /// The answer: the invitation, or why not.
        reply: oneshot::Sender<Result<InvitationView, CommandError>>,
    },
    /// Pay out a value event: the daemon computes the payouts and writes the distribution.
    Distribute {
        /// The pod.
        pod: DnaHash,
        /// The value event.
        event: ActionHash,
        /// The GrantRole decision that makes this agent a treasurer; `None` as the creator.
        grant: Option<ActionHash>,
        /// The answer: what was written, or why not.
        reply: oneshot::Sender<Result<Distributed, CommandError>>,
    },
    /// What each member earned and was paid.
    ValueStatement {
        /// The pod.
        pod: DnaHash,
        /// Only this member's line.
        member: Option<KeyHash>,
        /// The answer.
        reply: oneshot::Sender<Result<StatementView, CommandError>>,
    },
    /// The pod's members and their roles.
    Members {
        /// The pod.
        pod: DnaHash,
        /// The answer.
        reply: oneshot::Sender<Result<MembersView, CommandError>>,
    },
    /// The registry pointer this node last published for its agent, as bytes (the export).
    OwnPointer(oneshot::Sender<Option<Vec<u8>>>),
    /// Where each hosted pod's anchoring is (`myco recover`).
    Anchoring(oneshot::Sender<Vec<PodAnchoring>>),
    /// From now on, write in a pod only once its peers confirm this agent's newest records
    /// there, as in a restored data dir; pods where this node holds a chain of the agent
    /// already count as confirmed. The mark is kept in the data dir.
    ExpectExistingChains {
        /// The data dir.
        data_dir: std::path::PathBuf,
        /// The mark to keep there, if it has none.
        mark: crate::restored::RestoredMark,
        /// Done.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// Fetch the DNAs of pods this node does not host from their members (`myco recover`).
    FetchDnas {
        /// The pods.
        pods: Vec<DnaHash>,
        /// The answer: each pod's DNA text, or why not.
        reply: oneshot::Sender<Vec<DnaFetched>>,
    },
    /// Look an agent up in the registry and ask its pods for its public profile.
    Lookup {
        /// The agent's key hash.
        key: KeyHash,
        /// The answer.
        reply: oneshot::Sender<LookupView>,
    },
}
