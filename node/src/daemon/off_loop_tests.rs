//! The engine off the swarm loop: a store stuck in a flush holds up the engine thread, never
//! the network, and an engine thread that dies stops the daemon with an error instead of
//! leaving it hanging.
//!
//! The store here is a memory store whose appends wait at a gate the test holds shut, so
//! "the engine is busy" is a fact the test controls, not a duration it hopes for. Timeouts
//! only keep a broken build from hanging; nothing passes or fails on how long it took.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, Multiaddr};
use myco_dna::{ActionHash, DnaHash, Record, SigningKey, Warrant};
use tokio::sync::{mpsc, oneshot};

use super::driver::{Driver, DriverParts};
use super::engine_thread::{self, EngineStopped};
use super::metrics::Metrics;
use super::pods::PodsList;
use super::runtime::LISTEN_FILE;
use super::Command;
use crate::engine::{Engine, EngineConfig};
use crate::net::{self, BehaviourEvent, RegistryStore, Role};
use crate::store::{ChainHead, ChainId, MemoryStore, Store, StoreError, ValidRecord};

/// Long enough for anything that works; reached only by a broken build.
const PATIENCE: Duration = Duration::from_secs(60);

/// A memory store whose appends wait at a gate: each signals `entered`, then waits for the
/// gate to open. `panic` makes appends panic instead.
struct GatedStore {
    inner: MemoryStore,
    open: Arc<AtomicBool>,
    entered: std_mpsc::SyncSender<()>,
    release: Arc<Mutex<std_mpsc::Receiver<()>>>,
    panic: bool,
}

impl Store for GatedStore {
    fn append_batch(&mut self, records: &[ValidRecord]) -> Result<(), StoreError> {
        if self.panic {
            panic!("the disk is gone");
        }
        if !self.open.load(Ordering::SeqCst) {
            let _ = self.entered.try_send(());
            let _ = self.release.lock().expect("gate").recv();
        }
        self.inner.append_batch(records)
    }
    fn get(&self, hash: &ActionHash) -> Result<Option<Record>, StoreError> {
        self.inner.get(hash)
    }
    fn get_by_seq(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        self.inner.get_by_seq(chain, seq)
    }
    fn range(&self, chain: &ChainId, from: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.inner.range(chain, from, limit)
    }
    fn head(&self, chain: &ChainId) -> Result<Option<ChainHead>, StoreError> {
        self.inner.head(chain)
    }
    fn heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        self.inner.heads()
    }
    fn typed_records(
        &self,
        chain: &ChainId,
        zome: &str,
        entry_type: &str,
    ) -> Result<Vec<Record>, StoreError> {
        self.inner.typed_records(chain, zome, entry_type)
    }
    fn purge_entry(&mut self, hash: &ActionHash) -> Result<bool, StoreError> {
        self.inner.purge_entry(hash)
    }
    fn referring(
        &self,
        target: &ActionHash,
        relation: crate::store::Relation,
        after: Option<&ActionHash>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.inner.referring(target, relation, after, limit)
    }
    fn fill_entry(&mut self, record: &Record) -> Result<bool, StoreError> {
        self.inner.fill_entry(record)
    }
    fn was_purged(&self, hash: &ActionHash) -> Result<bool, StoreError> {
        self.inner.was_purged(hash)
    }
    fn keep_warrant(&mut self, warrant: &Warrant) -> Result<bool, StoreError> {
        self.inner.keep_warrant(warrant)
    }
    fn warrants(&self, pod: &DnaHash) -> Result<Vec<Warrant>, StoreError> {
        self.inner.warrants(pod)
    }
}

/// The test's hold on the gate.
struct Gate {
    open: Arc<AtomicBool>,
    entered: std_mpsc::Receiver<()>,
    release: std_mpsc::Sender<()>,
}

impl Gate {
    /// Waits until the engine thread is stuck at the gate.
    async fn engine_stuck(self) -> Self {
        tokio::task::spawn_blocking(move || {
            self.entered
                .recv_timeout(PATIENCE)
                .expect("the engine reaches the store's flush");
            self
        })
        .await
        .expect("waited")
    }

    /// Lets appends through, or holds them, from now on (none is waiting).
    fn set(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
    }

    /// Lets the stuck append, and every later one, through.
    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
        let _ = self.release.send(());
    }
}

fn gated_store(panic: bool) -> (GatedStore, Gate) {
    let open = Arc::new(AtomicBool::new(false));
    let (entered_tx, entered) = std_mpsc::sync_channel(1);
    let (release, release_rx) = std_mpsc::channel();
    let store = GatedStore {
        inner: MemoryStore::new(),
        open: open.clone(),
        entered: entered_tx,
        release: Arc::new(Mutex::new(release_rx)),
        panic,
    };
    (
        store,
        Gate {
            open,
            entered,
            release,
        },
    )
}

/// The Denmark territory with `key`'s agent as its founder.
fn manifest(key: &SigningKey) -> String {
    let text = include_str!("../../../dna/examples/territory-dk.toml");
    let founder = myco_dna::agent_key_of(key).key_hash();
    let line = text
        .lines()
        .find(|l| l.starts_with("founders"))
        .expect("the example names founders");
    text.replace(line, &format!("founders = [\"{founder}\"]"))
}

/// A daemon's swarm loop and engine thread over `store`, listening on loopback TCP.
struct Node {
    commands: mpsc::Sender<Command>,
    stop: oneshot::Sender<()>,
    ran: tokio::task::JoinHandle<Result<(), EngineStopped>>,
    engine: std::thread::JoinHandle<()>,
    peer: libp2p::PeerId,
    key: SigningKey,
    metrics: Arc<Metrics>,
    dir: tempfile::TempDir,
}

fn start(store: GatedStore) -> Node {
    let dir = tempfile::tempdir().expect("temp dir");
    let node_key = libp2p::identity::Keypair::generate_ed25519();
    let peer = node_key.public().to_peer_id();
    let mut swarm = net::build_swarm(
        node_key,
        Role::Daemon,
        RegistryStore::in_memory(peer),
        net::NetOptions::default(),
    )
    .expect("swarm");
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("address"))
        .expect("listen");
    let key = SigningKey::from_bytes(&[7; 32]);
    let engine = Engine::new(
        EngineConfig::default(),
        key.clone(),
        net::engine_peer(&peer),
        Some("DK".into()),
        store,
    );
    let metrics = Arc::new(Metrics::default());
    let pods = PodsList::load(dir.path()).expect("pods list");
    let agent = *engine.agent();
    let thread =
        engine_thread::spawn(engine, pods, None, metrics.clone(), None).expect("engine thread");
    let driver = Driver::new(
        swarm,
        DriverParts {
            queue: thread.queue,
            outputs: thread.outputs,
            agent,
            hosted: Vec::new(),
            key: key.clone(),
            metrics: metrics.clone(),
            bootstrap: Vec::new(),
            listeners: Default::default(),
            data_dir: dir.path().to_path_buf(),
            warnings: Vec::new(),
            announce_json: false,
            region: None,
        },
    );
    let (commands, receiver) = mpsc::channel(super::MAX_QUEUED_COMMANDS);
    let (stop, stopped) = oneshot::channel::<()>();
    let ran = tokio::spawn(driver.run(receiver, async {
        let _ = stopped.await;
    }));
    Node {
        commands,
        stop,
        ran,
        engine: thread.handle,
        peer,
        key,
        metrics,
        dir,
    }
}

impl Node {
    /// Asks to create the example pod; the answer comes on the receiver.
    async fn create_pod(
        &self,
    ) -> oneshot::Receiver<Result<crate::api::types::PodSummary, super::CommandError>> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::JoinPod {
                manifest: manifest(&self.key),
                membrane_proof: Vec::new(),
                create: true,
                archivist: false,
                reply,
            })
            .await
            .expect("the driver takes commands");
        answer
    }

    /// The address the swarm loop wrote to the listen file.
    async fn address(&self) -> Multiaddr {
        let path = self.dir.path().join(LISTEN_FILE);
        tokio::time::timeout(PATIENCE, async {
            loop {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    if let Some(address) = text.lines().find_map(|l| l.parse().ok()) {
                        return address;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the swarm loop writes its listen file")
    }
}

/// A fresh swarm that dialled `address`.
fn client(address: Multiaddr) -> libp2p::Swarm<net::Behaviour> {
    let key = libp2p::identity::Keypair::generate_ed25519();
    let local = key.public().to_peer_id();
    let mut client = net::build_swarm(
        key,
        Role::Daemon,
        RegistryStore::in_memory(local),
        net::NetOptions::default(),
    )
    .expect("client swarm");
    client.dial(address).expect("dial");
    client
}

fn count(counter: &std::sync::atomic::AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Dials `address` from a fresh swarm and returns once `peer` answered identify.
async fn identify_answered(address: Multiaddr, peer: libp2p::PeerId) {
    let mut client = client(address);
    tokio::time::timeout(PATIENCE, async {
        loop {
            if let SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                ..
            })) = client.select_next_some().await
            {
                if peer_id == peer {
                    return;
                }
            }
        }
    })
    .await
    .expect("the daemon's swarm answers identify");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_stuck_in_a_flush_does_not_stall_the_network() {
    let (store, gate) = gated_store(false);
    let node = start(store);
    let address = node.address().await;
    // Creating the pod writes its Genesis: the engine thread is now stuck in the store.
    let mut answer = node.create_pod().await;
    let gate = gate.engine_stuck().await;

    // The swarm loop still serves the network: a new peer connects and is identified.
    identify_answered(address, node.peer).await;
    // A status asked meanwhile waits behind the stuck write, on the engine thread.
    let (reply, status) = oneshot::channel();
    node.commands
        .send(Command::Status(reply))
        .await
        .expect("the driver takes commands");
    assert!(
        answer.try_recv().is_err(),
        "the write is still in the store's flush"
    );

    // Once the flush completes, the write is acknowledged and the engine answers again.
    gate.open();
    let joined = tokio::time::timeout(PATIENCE, answer)
        .await
        .expect("answered")
        .expect("a reply")
        .expect("the pod is created");
    assert!(joined.joined, "the Genesis is stored");
    let status = tokio::time::timeout(PATIENCE, status)
        .await
        .expect("answered")
        .expect("a status");
    assert_eq!(status.pods.len(), 1);
    assert_eq!(status.peer_id, node.peer.to_string());

    // Shutdown: the swarm loop ends cleanly, and so does the engine thread.
    let _ = node.stop.send(());
    let ran = tokio::time::timeout(PATIENCE, node.ran)
        .await
        .expect("the swarm loop stops")
        .expect("it did not panic");
    assert!(ran.is_ok(), "a clean shutdown: {ran:?}");
    let engine = node.engine;
    let joined = tokio::task::spawn_blocking(move || engine_thread::join(engine))
        .await
        .expect("waited");
    assert!(joined.is_ok(), "the engine thread ends cleanly: {joined:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_thread_that_panics_stops_the_daemon_with_an_error() {
    let (store, _gate) = gated_store(true);
    let node = start(store);
    let answer = node.create_pod().await;
    // The swarm loop ends on its own: no shutdown was asked for.
    let ran = tokio::time::timeout(PATIENCE, node.ran)
        .await
        .expect("the swarm loop stops rather than hang")
        .expect("it did not panic");
    assert!(ran.is_err(), "the daemon stops with an error");
    assert!(answer.await.is_err(), "the write was never acknowledged");
    let engine = node.engine;
    let joined = tokio::task::spawn_blocking(move || engine_thread::join(engine))
        .await
        .expect("waited");
    let error = joined.expect_err("the engine thread panicked").to_string();
    assert!(error.contains("the disk is gone"), "{error}");
    drop(node.stop);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_that_finds_the_engine_stuck_is_ignored_and_verdicts_flow_once_it_is_free() {
    let (store, gate) = gated_store(false);
    gate.set(true);
    let node = start(store);
    let address = node.address().await;
    let created = tokio::time::timeout(PATIENCE, node.create_pod().await)
        .await
        .expect("answered")
        .expect("a reply")
        .expect("the pod is created");
    let pod: DnaHash = created.dna_hash.parse().expect("a pod id");

    // A write gets the engine stuck in the store's flush.
    gate.set(false);
    let (reply, mut written) = oneshot::channel();
    let request = crate::api::types::PublishRequest {
        title: "a story".into(),
        body: "told while the disk is slow".into(),
        kind: None,
        visibility: "pod".into(),
        consent: crate::api::types::ConsentBody::community(),
        principles: Vec::new(),
        protocols: Vec::new(),
        attribution: None,
        revenue_share: None,
    };
    node.commands
        .send(Command::Author {
            pod,
            write: super::Write::Content {
                request: Box::new(request),
                visibility: myco_dna::Visibility::Pod,
            },
            reply,
        })
        .await
        .expect("the driver takes commands");
    let gate = gate.engine_stuck().await;

    // A peer on the pod's topic floods it with gossip the engine cannot judge now.
    let mut client = client(address);
    let topic = net::topic(&pod);
    client
        .behaviour_mut()
        .gossipsub
        .as_mut()
        .expect("gossip")
        .subscribe(&topic)
        .expect("subscribe");
    tokio::time::timeout(PATIENCE, async {
        loop {
            if let SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
                libp2p::gossipsub::Event::Subscribed { peer_id, .. },
            )) = client.select_next_some().await
            {
                if peer_id == node.peer {
                    return;
                }
            }
        }
    })
    .await
    .expect("the daemon's subscription reaches the peer");
    let mut sent: u32 = 0;
    tokio::time::timeout(PATIENCE, async {
        while count(&node.metrics.gossip_dropped_total) == 0 {
            for _ in 0..64 {
                let mut garbage = vec![0xde; 100];
                garbage.extend(sent.to_be_bytes());
                sent += 1;
                let gossip = client.behaviour_mut().gossipsub.as_mut().expect("gossip");
                let _ = gossip.publish(topic.clone(), garbage);
            }
            let drive = tokio::time::sleep(Duration::from_millis(20));
            tokio::pin!(drive);
            loop {
                tokio::select! {
                    _ = client.select_next_some() => {}
                    () = &mut drive => break,
                }
            }
        }
    })
    .await
    .expect("past the engine's queue, gossip is dropped");
    // The swarm loop took every message, and left no more for the engine than its queue holds:
    // the rest were ignored at once.
    let received = count(&node.metrics.gossip_received_total);
    let dropped = count(&node.metrics.gossip_dropped_total);
    assert!(
        received - dropped <= (super::link::ENGINE_QUEUE - super::link::RESERVED) as u64,
        "{received} received, {dropped} dropped"
    );
    assert!(
        written.try_recv().is_err(),
        "the write is still in the flush"
    );

    // Once the flush completes, the write is acknowledged, and the engine's verdicts on the
    // gossip it queued reach gossipsub through the swarm loop.
    gate.open();
    let hash = tokio::time::timeout(PATIENCE, written)
        .await
        .expect("answered")
        .expect("a reply");
    assert!(hash.is_ok(), "the write is stored: {hash:?}");
    tokio::time::timeout(PATIENCE, async {
        while count(&node.metrics.gossip_rejected_total) == 0 {
            let drive = tokio::time::sleep(Duration::from_millis(20));
            tokio::pin!(drive);
            loop {
                tokio::select! {
                    _ = client.select_next_some() => {}
                    () = &mut drive => break,
                }
            }
        }
    })
    .await
    .expect("the engine's verdicts on the queued garbage come back");

    let _ = node.stop.send(());
    let ran = tokio::time::timeout(PATIENCE, node.ran)
        .await
        .expect("the swarm loop stops")
        .expect("it did not panic");
    assert!(ran.is_ok(), "a clean shutdown: {ran:?}");
    let engine = node.engine;
    let joined = tokio::task::spawn_blocking(move || engine_thread::join(engine))
        .await
        .expect("waited");
    assert!(joined.is_ok(), "the engine thread ends cleanly: {joined:?}");
}
