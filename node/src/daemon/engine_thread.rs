//! The engine's own thread, `myco-engine`: it owns the [`Engine`] and its store, so a flush
//! (an fsync) or a whole-pod read holds up only the engine, never the libp2p event loop.
//!
//! It takes what the swarm loop sends ([`ToEngine`]) one at a time: each input is handled at
//! the time it happened, its events are noted here (logs, metrics, warrants) and its outputs
//! go back ([`FromEngine`]) for the swarm loop to carry out: requests, responses, gossip and
//! gossip verdicts, timers, bans. API commands that need the engine or its store are answered
//! here (see [`super::engine_commands`]). When the swarm loop drops its end, the thread
//! finishes what is queued, drops the engine (the store's `Drop` flushes) and ends; if it
//! panics, its channel closes and the daemon stops with an error.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use myco_dna::{DnaHash, Warrant};
use tokio::sync::mpsc;

use super::driver::now_micros;
use super::link::{FromEngine, Served, ToEngine, ENGINE_QUEUE, OUTPUT_QUEUE};
use super::metrics::Metrics;
use super::pod_backups::PodBackupTaker;
use super::pods::PodsList;
use crate::engine::{Engine, Event, Input, Output};
use crate::net;
use crate::restored::RestoredMark;
use crate::store::Store;

/// The engine thread's name.
pub const THREAD_NAME: &str = "myco-engine";
/// Warrants kept for the transparency page.
pub const MAX_WARRANTS: usize = 1024;

/// A started engine thread: its queue, its outputs, and its handle.
pub struct EngineThread {
    /// Where the swarm loop sends.
    pub queue: mpsc::Sender<ToEngine>,
    /// What the engine sends back.
    pub outputs: mpsc::Receiver<FromEngine>,
    /// The thread, to wait for at shutdown.
    pub handle: JoinHandle<()>,
}

/// Why the engine thread stopped before it was asked to.
#[derive(Debug, thiserror::Error)]
#[error("the engine thread stopped: {0}")]
pub struct EngineStopped(pub String);

/// Starts the engine thread over `engine` (its pods resumed), with the pods list it adds to.
pub fn spawn<S: Store + Send + 'static>(
    engine: Engine<S>,
    pods: PodsList,
    restored: Option<(PathBuf, RestoredMark)>,
    metrics: Arc<Metrics>,
    pod_backups: Option<PodBackupTaker>,
) -> std::io::Result<EngineThread> {
    let (queue, inbox) = mpsc::channel(ENGINE_QUEUE);
    let (out, outputs) = mpsc::channel(OUTPUT_QUEUE);
    // Weak, so the thread still ends once the swarm loop drops its end.
    let own_queue = queue.downgrade();
    let handle = std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            let mut side = EngineSide::new(engine, pods, metrics, out);
            side.restored = restored;
            side.pod_backups = pod_backups.map(|taker| (taker, own_queue));
            side.run(inbox);
            tracing::debug!("engine thread done; the store is dropped and flushed");
        })?;
    Ok(EngineThread {
        queue,
        outputs,
        handle,
    })
}

/// Waits for the engine thread to end; a panic becomes an error naming it.
pub fn join(handle: JoinHandle<()>) -> Result<(), EngineStopped> {
    handle.join().map_err(|panic| {
        let text = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "it panicked".into());
        EngineStopped(format!("it panicked: {text}"))
    })
}

/// Everything the engine thread owns.
pub(super) struct EngineSide<S: Store> {
    pub(super) engine: Engine<S>,
    pub(super) pods: PodsList,
    pub(super) metrics: Arc<Metrics>,
    pub(super) warrants: Vec<Warrant>,
    /// Pods whose topic the swarm loop subscribed to: those a profile request may ask about.
    pub(super) subscribed: HashSet<DnaHash>,
    /// A restored data dir's mark and where it lives: each pod anchored is noted in it.
    restored: Option<(PathBuf, RestoredMark)>,
    /// What takes the pod backups the engine asks for, and the way back to this thread.
    pod_backups: Option<(PodBackupTaker, mpsc::WeakSender<ToEngine>)>,
    hosted: usize,
    last_now: u64,
    out: mpsc::Sender<FromEngine>,
}

impl<S: Store> EngineSide<S> {
    fn new(
        engine: Engine<S>,
        pods: PodsList,
        metrics: Arc<Metrics>,
        out: mpsc::Sender<FromEngine>,
    ) -> Self {
        let subscribed: HashSet<DnaHash> = engine.pods().map(|d| d.dna_hash()).collect();
        let mut side = EngineSide {
            hosted: subscribed.len(),
            restored: None,
            pod_backups: None,
            last_now: 0,
            engine,
            pods,
            metrics,
            warrants: Vec::new(),
            subscribed,
            out,
        };
        let mut hosted: Vec<DnaHash> = side.subscribed.iter().copied().collect();
        hosted.sort();
        for pod in hosted {
            // The warrants kept from before a restart count on the transparency page too.
            match side.engine.store().warrants(&pod) {
                Ok(kept) => {
                    let room = MAX_WARRANTS.saturating_sub(side.warrants.len());
                    side.warrants.extend(kept.into_iter().take(room));
                }
                Err(error) => tracing::error!(%pod, %error, "cannot read the kept warrants"),
            }
        }
        side
    }

    fn run(&mut self, mut inbox: mpsc::Receiver<ToEngine>) {
        while let Some(message) = inbox.blocking_recv() {
            match message {
                ToEngine::Input { now, input } => {
                    let served = match &input {
                        Input::Request {
                            from, request_id, ..
                        } => Some((*request_id, from.clone())),
                        _ => None,
                    };
                    let (outputs, _) = self.handle(now, input);
                    let served = served.map(|(request_id, peer)| Served {
                        request_id,
                        member: self.engine.is_member_peer(&peer),
                        peer,
                    });
                    if !outputs.is_empty() || served.is_some() {
                        self.send(FromEngine::Outputs { outputs, served });
                    }
                }
                ToEngine::Command(command, view) => self.on_command(command, *view),
                ToEngine::Profile { id, request } => {
                    let subscribed = &self.subscribed;
                    let answer = net::profile::answer(
                        self.engine.store(),
                        |p| subscribed.contains(p),
                        &request,
                    )
                    .to_bytes();
                    self.send(FromEngine::Profile { id, answer });
                }
            }
            self.tell_hosted();
        }
    }

    /// Keeps the restored mark of `data_dir`, to note each pod anchored in it.
    pub(super) fn set_restored(&mut self, data_dir: PathBuf, mark: RestoredMark) {
        self.restored = Some((data_dir, mark));
    }

    /// Tells the swarm loop the hosted pods (for the registry pointer) if they changed.
    pub(super) fn tell_hosted(&mut self) {
        let hosted = self.engine.pods().count();
        if hosted != self.hosted {
            self.hosted = hosted;
            self.send(FromEngine::Hosted(
                self.engine.pods().map(|d| d.dna_hash()).collect(),
            ));
        }
    }

    /// Hands the engine an input at `now`, notes its events and returns its other outputs
    /// with the events.
    pub(super) fn handle(&mut self, now: u64, input: Input) -> (Vec<Output>, Vec<Event>) {
        let mut events = Vec::new();
        let mut outputs = Vec::new();
        // Inputs are handled in the order they happened, at the time each happened; the
        // engine's clock never runs backwards.
        self.last_now = self.last_now.max(now);
        for output in self.engine.handle(self.last_now, input) {
            match output {
                Output::Event(event) => {
                    self.note_event(&event);
                    events.push(event);
                }
                Output::TakePodBackup {
                    pod,
                    schedule,
                    retention_days,
                } => match &self.pod_backups {
                    Some((taker, queue)) => {
                        taker.start(queue.clone(), pod, schedule, retention_days)
                    }
                    None => tracing::warn!(%pod, "a pod backup is due, but this node takes none"),
                },
                Output::RestorePodBackup {
                    pod,
                    decision,
                    listing,
                } => match &self.pod_backups {
                    Some((taker, queue)) => taker.restore(queue.clone(), pod, decision, *listing),
                    None => {
                        tracing::warn!(%pod, "a restore is authorised, but this node keeps no pod backups")
                    }
                },
                other => outputs.push(other),
            }
        }
        (outputs, events)
    }

    /// Hands the engine an input, sends its outputs to the swarm loop, and returns its events.
    pub(super) fn feed(&mut self, now: u64, input: Input) -> Vec<Event> {
        let (outputs, events) = self.handle(now, input);
        if !outputs.is_empty() {
            self.send(FromEngine::Outputs {
                outputs,
                served: None,
            });
        }
        events
    }

    /// The time for a local write made now: never before an input already handled.
    pub(super) fn now(&self) -> u64 {
        now_micros().max(self.last_now)
    }

    /// Sends to the swarm loop; waits while its channel is full. Once the swarm loop is gone
    /// (shutting down), what would go is dropped: the queue is still worked through.
    pub(super) fn send(&self, message: FromEngine) {
        let _ = self.out.blocking_send(message);
    }

    fn note_event(&mut self, event: &Event) {
        let m = &self.metrics;
        match event {
            Event::Accepted { pod, hash, seq, .. } => {
                Metrics::inc(&m.records_accepted_total);
                tracing::debug!(%pod, %hash, seq, "record stored");
            }
            Event::Rejected { pod, hash, reason } => {
                Metrics::inc(&m.records_rejected_total);
                tracing::info!(%pod, %hash, reason, "record refused");
            }
            Event::AuthorRefused { pod, reason } => {
                Metrics::inc(&m.local_writes_refused_total);
                tracing::info!(%pod, %reason, "local write refused");
            }
            Event::Abandoned { pod, hash, reason } => {
                tracing::info!(%pod, %hash, reason, "record abandoned")
            }
            Event::Warrant(warrant) => {
                tracing::warn!(offender = %warrant.offender().key_hash(), "warrant issued");
                if self.warrants.len() < MAX_WARRANTS {
                    self.warrants.push((**warrant).clone());
                }
            }
            Event::Purged { pod, hash } => tracing::info!(%pod, %hash, "entry purged"),
            Event::RequestRefused { pod, peer, reason } => {
                Metrics::inc(&m.sync_requests_refused_total);
                tracing::info!(%pod, peer, reason, "refused a peer's sync request");
            }
            Event::EntryFilled { pod, hash } => {
                tracing::info!(%pod, %hash, "entry received after approval")
            }
            Event::Anchored { pod, next_seq } => {
                tracing::info!(%pod, next_seq, "the pod's peers confirmed this agent's newest records");
                if let Some((dir, mark)) = &mut self.restored {
                    mark.anchored(*pod);
                    if let Err(error) = mark.save(dir) {
                        tracing::warn!(%error, "cannot note the anchored pod in restored.toml; the pod waits for its peers again at the next start");
                    }
                }
            }
            Event::StoreFailed { detail } => {
                Metrics::inc(&m.store_faults_total);
                tracing::error!(detail, "store failed");
            }
        }
    }
}
