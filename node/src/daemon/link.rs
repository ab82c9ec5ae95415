//! The channels between the swarm loop and the engine thread ([`super::engine_thread`]), and
//! what the swarm loop does when the engine falls behind.
//!
//! The swarm loop never waits for the engine: it hands over what happened with `try_send`
//! and goes back to the network. Both channels are bounded, and so is everything waiting:
//!
//! - **Peers' gossip and sync requests** ([`EngineLink::offer`]) are taken only while the
//!   engine's queue has more than [`RESERVED`] free slots. Past that, a gossip message gets an
//!   `Ignore` verdict at once (no penalty for its sender; sync carries what it held) and is
//!   counted in `myco_gossip_dropped_total`; a sync request is dropped like one over
//!   `MAX_INBOUND_REQUESTS` (its sender sees it fail and asks again next round), counted in
//!   `myco_sync_requests_dropped_total`; a profile request is dropped the same way.
//! - **What the engine must hear** ([`EngineLink::send`]): answers to its own requests, peers
//!   joining and leaving, timers, failures. These may use the reserved slots; when even those
//!   are taken they wait in a backlog (in order, at most [`MAX_BACKLOG`]) that the swarm loop
//!   moves into the queue as room appears. Past the backlog's bound they are dropped and
//!   counted in `myco_engine_inputs_dropped_total`: the engine's sweep abandons a request
//!   whose answer never came, and pod peers are taken again at the next tick.
//! - **API commands** ([`EngineLink::command`]) take any free slot; with none, the command is
//!   dropped, which answers the API with 503 ("busy, try again"), as a full command queue did.
//!
//! The other way, the engine thread blocks on a full channel: a slow swarm loop slows the
//! engine, never the reverse, and as the swarm loop never waits on the engine they cannot
//! deadlock.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use myco_dna::DnaHash;
use tokio::sync::mpsc::{self, OwnedPermit};
use tokio::sync::oneshot;

use super::metrics::Metrics;
use super::{Command, CommandError};
use crate::api::types::PodSummary;
use crate::engine::{Input, Output};

/// Messages the engine thread's queue holds.
pub const ENGINE_QUEUE: usize = 1024;
/// Slots of the engine's queue that peers' gossip and requests may not take, kept for what the
/// engine must hear and for API commands.
pub const RESERVED: usize = 256;
/// What the engine must hear, waiting for room in its queue.
pub const MAX_BACKLOG: usize = 4096;
/// Batches of outputs waiting for the swarm loop.
pub const OUTPUT_QUEUE: usize = 256;

/// What the swarm loop knows that an API answer needs, sent along with each command.
#[derive(Debug, Default)]
pub struct NetView {
    /// This node's libp2p peer id.
    pub peer_id: String,
    /// The addresses it listens on.
    pub listen: Vec<String>,
    /// Peers connected.
    pub peers: usize,
    /// Peers on each hosted pod's topic.
    pub pod_peers: HashMap<DnaHash, usize>,
    /// Seconds since the daemon started.
    pub uptime_secs: u64,
    /// What the daemon found wrong at start.
    pub warnings: Vec<String>,
    /// Reachability, relays and connection paths.
    pub network: super::reach::ReachView,
}

/// From the swarm loop to the engine thread.
#[derive(Debug)]
pub enum ToEngine {
    /// Something happened at `now` (µs since the Unix epoch).
    Input {
        /// When.
        now: u64,
        /// What.
        input: Input,
    },
    /// An API command that needs the engine or its store.
    Command(Command, Box<NetView>),
    /// A profile request (from a peer, or a lookup's own) to answer from the store.
    Profile {
        /// The swarm loop's id for it.
        id: u64,
        /// The request's bytes.
        request: Vec<u8>,
    },
}

/// From the engine thread to the swarm loop.
#[derive(Debug)]
pub enum FromEngine {
    /// What one input asks done (events stay on the engine thread).
    Outputs {
        /// The outputs, in order.
        outputs: Vec<Output>,
        /// Set when the input was a peer's sync request: it was handled.
        served: Option<Served>,
    },
    /// The pods the engine hosts changed: these are they, in order.
    Hosted(Vec<DnaHash>),
    /// A pod was joined: subscribe to its topic, then answer.
    Joined {
        /// The pod.
        pod: DnaHash,
        /// The answer.
        summary: PodSummary,
        /// Where to send it.
        reply: oneshot::Sender<Result<PodSummary, CommandError>>,
    },
    /// A pod was forgotten: leave its topic, then answer.
    Forgot {
        /// The pod.
        pod: DnaHash,
        /// Where to send the answer.
        reply: oneshot::Sender<Result<(), CommandError>>,
    },
    /// The answer to [`ToEngine::Profile`].
    Profile {
        /// The swarm loop's id for it.
        id: u64,
        /// The answer's bytes.
        answer: Vec<u8>,
    },
}

/// A peer's sync request the engine has handled (answered, or ignored).
#[derive(Debug)]
pub struct Served {
    /// The swarm loop's id for the request.
    pub request_id: u64,
    /// Who asked.
    pub peer: crate::engine::PeerId,
    /// True if the peer has shown a current member's session binding.
    pub member: bool,
}

/// The swarm loop's end of the engine's queue.
pub struct EngineLink {
    queue: mpsc::Sender<ToEngine>,
    backlog: VecDeque<ToEngine>,
    metrics: Arc<Metrics>,
}

impl EngineLink {
    /// The link over the sending half of the engine's queue.
    pub fn new(queue: mpsc::Sender<ToEngine>, metrics: Arc<Metrics>) -> Self {
        EngineLink {
            queue,
            backlog: VecDeque::new(),
            metrics,
        }
    }

    /// A peer's gossip or request: queued if the engine keeps up. False if it was not (drop
    /// it).
    pub fn offer(&mut self, message: ToEngine) -> bool {
        self.queue.capacity() > RESERVED && self.queue.try_send(message).is_ok()
    }

    /// Something the engine must hear: queued, or kept in the backlog. False if it was dropped.
    pub fn send(&mut self, message: ToEngine) -> bool {
        let message = if self.backlog.is_empty() {
            match self.queue.try_send(message) {
                Ok(()) => return true,
                Err(error) => error.into_inner(),
            }
        } else {
            message
        };
        if self.backlog.len() >= MAX_BACKLOG {
            Metrics::inc(&self.metrics.engine_inputs_dropped_total);
            tracing::warn!("the engine is far behind; an input was dropped");
            return false;
        }
        self.backlog.push_back(message);
        Metrics::set(&self.metrics.engine_backlog, self.backlog.len() as u64);
        true
    }

    /// An API command: queued, or false (drop it to answer 503).
    pub fn command(&mut self, command: Command, view: NetView) -> bool {
        self.queue
            .try_send(ToEngine::Command(command, Box::new(view)))
            .is_ok()
    }

    /// True if inputs wait for room in the engine's queue.
    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Resolves when the engine's queue has room (for the backlog's oldest input).
    pub fn room(&self) -> impl std::future::Future<Output = Option<OwnedPermit<ToEngine>>> {
        let queue = self.queue.clone();
        async move { queue.reserve_owned().await.ok() }
    }

    /// Moves the backlog's oldest input into the room found.
    pub fn pump(&mut self, permit: OwnedPermit<ToEngine>) {
        if let Some(message) = self.backlog.pop_front() {
            permit.send(message);
        }
        Metrics::set(&self.metrics.engine_backlog, self.backlog.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Timer;

    fn timer() -> ToEngine {
        ToEngine::Input {
            now: 0,
            input: Input::Timer(Timer::Sync),
        }
    }

    #[tokio::test]
    async fn peers_leave_the_reserve_to_what_the_engine_must_hear() {
        let (queue, mut engine) = mpsc::channel(ENGINE_QUEUE);
        let metrics = Arc::new(Metrics::default());
        let mut link = EngineLink::new(queue, metrics.clone());
        let mut taken = 0;
        while link.offer(timer()) {
            taken += 1;
        }
        assert_eq!(taken, ENGINE_QUEUE - RESERVED);
        for _ in 0..RESERVED + MAX_BACKLOG {
            assert!(link.send(timer()));
        }
        assert!(link.has_backlog());
        assert!(!link.send(timer()), "past the backlog, inputs are dropped");
        assert_eq!(
            metrics
                .engine_inputs_dropped_total
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        // As the engine drains its queue, the backlog moves in, in order.
        engine.recv().await.expect("queued");
        let permit = link.room().await.expect("room");
        link.pump(permit);
        assert_eq!(link.backlog.len(), MAX_BACKLOG - 1);
    }
}
