//! Starting and stopping a daemon or a bootstrap peer: data dir files, swarm, API, signals.

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libp2p::core::transport::ListenerId;
use libp2p::futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, kad, Multiaddr, PeerId};
use myco_dna::SigningKey;
use tokio::sync::mpsc;

use super::config::Settings;
use super::driver::{Driver, DriverParts};
use super::engine_thread::{self, EngineStopped};
use super::events::{on_identify, on_kad_inbound, on_ping};
use super::metrics::Metrics;
use super::pods::{PodsError, PodsList};
use crate::datadir::DataDir;
use crate::engine::{Engine, EngineConfig};
use crate::net::{self, BehaviourEvent, RegistryStore, Role};
use crate::restored::RestoredMark;
use crate::store::DaemonStore;

/// The file listing a running node's addresses (one multiaddr with `/p2p/` per line).
pub const LISTEN_FILE: &str = "listen.addrs";
/// The bootstrap peer's registry store directory inside its data dir.
pub const REGISTRY_DIR: &str = "registry";

/// Why a daemon or bootstrap peer could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The data dir's restored mark cannot be read.
    #[error("{0}")]
    Restored(String),
    /// The node key could not be loaded.
    #[error(transparent)]
    Identity(#[from] net::identity::IdentityError),
    /// The swarm could not be built.
    #[error(transparent)]
    Net(#[from] net::NetError),
    /// The store could not be opened.
    #[error("cannot open the store: {0}; run `myco chain verify --repair`, or restore the data dir from a backup")]
    Store(#[from] crate::store::StoreError),
    /// The pods list could not be read.
    #[error(transparent)]
    Pods(#[from] PodsError),
    /// The registry store could not be opened.
    #[error(transparent)]
    Registry(#[from] net::records::OpenError),
    /// An address could not be listened on.
    #[error("cannot listen on {address}: {detail}; pick another port with --listen")]
    Listen {
        /// The address.
        address: Multiaddr,
        /// Why.
        detail: String,
    },
    /// A bootstrap address has no `/p2p/<peer id>`.
    #[error("bootstrap address {0} must end in /p2p/<peer id>")]
    BootstrapAddress(Multiaddr),
    /// The local API could not start.
    #[error("cannot start the local API: {0}")]
    Api(String),
    /// The engine thread could not start, or stopped on its own (a panic).
    #[error("the engine thread stopped: {0}; the store holds every write acknowledged before, run `myco chain verify` to check it")]
    Engine(String),
}

/// What `myco run` starts with.
pub struct DaemonOptions {
    /// The locked data dir.
    pub data_dir: DataDir,
    /// The unlocked agent key.
    pub key: SigningKey,
    /// The data dir's store, opened (see [`DataDir::open_store`]).
    pub store: DaemonStore,
    /// The settings.
    pub settings: Settings,
    /// Print the addresses as they become known, one JSON object a line on stdout (`--json`).
    pub announce_json: bool,
    /// Write at once even in a restored data dir (`--accept-fork-risk`).
    pub accept_fork_risk: bool,
}

/// What `myco bootstrap` starts with.
pub struct BootstrapOptions {
    /// The locked data dir (it holds the node key and the registry records).
    pub data_dir: DataDir,
    /// The settings.
    pub settings: Settings,
    /// Print the addresses as they become known, one JSON object a line on stdout (`--json`).
    pub announce_json: bool,
}

/// Prints an address the process now listens on, for scripts (`--json`): one JSON object a
/// line on stdout, `{"listening": "<multiaddr with /p2p/>"}` or `{"api": "127.0.0.1:PORT"}`.
pub(super) fn announce(enabled: bool, what: &str, address: &str) {
    if enabled {
        use std::io::Write;
        let line = serde_json::json!({ what: address });
        let mut stdout = std::io::stdout().lock();
        // A closed stdout is the reader's choice; the daemon runs on.
        let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    }
}

fn bootstrap_peers(settings: &Settings) -> Result<Vec<(PeerId, Multiaddr)>, DaemonError> {
    settings
        .bootstrap
        .iter()
        .map(|address| match address.iter().last() {
            Some(Protocol::P2p(peer)) => Ok((peer, address.clone())),
            _ => Err(DaemonError::BootstrapAddress(address.clone())),
        })
        .collect()
}

/// The configured listeners, each with whether it listens on every interface (so only a
/// non-loopback address tells that it can serve dials to other machines).
pub type Listeners = HashMap<ListenerId, bool>;

/// Whether `address` is `0.0.0.0` or `::`.
fn listens_everywhere(address: &Multiaddr) -> bool {
    match address.iter().next() {
        Some(Protocol::Ip4(ip)) => ip.is_unspecified(),
        Some(Protocol::Ip6(ip)) => ip.is_unspecified(),
        _ => false,
    }
}

/// Whether `address` is on a loopback interface.
pub(crate) fn is_loopback(address: &Multiaddr) -> bool {
    match address.iter().next() {
        Some(Protocol::Ip4(ip)) => ip.is_loopback(),
        Some(Protocol::Ip6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

fn listen(
    swarm: &mut libp2p::Swarm<net::Behaviour>,
    settings: &Settings,
) -> Result<Listeners, DaemonError> {
    let mut listeners = Listeners::new();
    for address in &settings.listen {
        let listener = swarm
            .listen_on(address.clone())
            .map_err(|e| DaemonError::Listen {
                address: address.clone(),
                detail: e.to_string(),
            })?;
        listeners.insert(listener, listens_everywhere(address));
    }
    for address in &settings.external {
        swarm.add_external_address(address.clone());
    }
    Ok(listeners)
}

/// Writes a file atomically with mode 0600.
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

pub(super) fn write_addresses(dir: &Path, addresses: &[Multiaddr]) {
    let text: String = addresses.iter().map(|a| format!("{a}\n")).collect();
    if let Err(error) = write_private(&dir.join(LISTEN_FILE), &text) {
        tracing::warn!(%error, "cannot write the listen addresses file");
    }
}

pub(super) fn write_listen_file(driver: &Driver) {
    if let Some(newest) = driver.listen.last() {
        announce(driver.announce_json, "listening", &newest.to_string());
    }
    write_addresses(&driver.data_dir, &driver.listen);
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The restored mark of the data dir at `root`, if it has one and its pods are to wait for
/// their peers (not `accept_fork_risk`): `engine` is told which pods are anchored already.
fn restored_mark<S: crate::store::Store>(
    root: &Path,
    accept_fork_risk: bool,
    engine: &mut Engine<S>,
) -> Result<Option<(PathBuf, RestoredMark)>, DaemonError> {
    let Some(mark) = RestoredMark::load(root).map_err(|e| DaemonError::Restored(e.to_string()))?
    else {
        return Ok(None);
    };
    if accept_fork_risk {
        tracing::warn!(from = %mark.from, "this data dir was restored, and --accept-fork-risk writes without waiting for the pods' peers: a write on an old copy forks the chain");
        return Ok(None);
    }
    tracing::info!(from = %mark.from, "this data dir was restored: each pod waits for its peers to confirm this agent's newest records before writing");
    engine.require_anchor(crate::dates::now_micros(), mark.anchored_pods());
    Ok(Some((root.to_path_buf(), mark)))
}

/// Runs a daemon until SIGINT or SIGTERM.
pub async fn run_daemon(options: DaemonOptions) -> Result<(), DaemonError> {
    let DaemonOptions {
        data_dir,
        key,
        store,
        settings,
        announce_json,
        accept_fork_risk,
    } = options;
    let root: PathBuf = data_dir.paths().root().to_path_buf();
    crate::api::backup::remove_leftover_copies(&root);
    let node_key = net::identity::load_or_create(&root)?;
    let peer = node_key.public().to_peer_id();
    let pods = PodsList::load(&root)?;
    let reads = Arc::new(crate::api::reads::ReadPool::new(store.dir(), &key));
    let mut engine = Engine::new(
        EngineConfig::default(),
        key.clone(),
        net::engine_peer(&peer),
        settings.region.clone(),
        store,
    );
    for dna in pods.manifests() {
        engine.resume_pod(dna.clone())?;
        tracing::info!(pod = %dna.dna_hash(), name = %dna.name, "resumed pod");
    }
    let restored = restored_mark(&root, accept_fork_risk, &mut engine)?;
    let bootstrap = bootstrap_peers(&settings)?;
    let mut swarm = net::build_swarm(
        node_key,
        Role::Daemon,
        RegistryStore::in_memory(peer),
        net::NetOptions {
            strangers: settings.strangers,
            relay: settings.relay,
            mdns: settings.mdns,
        },
    )?;
    let listeners = listen(&mut swarm, &settings)?;
    // The driver dials them once its listeners are up (see `Driver::dial_bootstraps`).
    for (peer, address) in &bootstrap {
        if let Some(strangers) = swarm.behaviour_mut().strangers.as_mut() {
            strangers.trust_bootstrap(*peer);
        }
        swarm.behaviour_mut().kad.add_address(peer, address.clone());
    }
    let metrics = Arc::new(Metrics::default());
    let (commands, receiver) = mpsc::channel(super::MAX_QUEUED_COMMANDS);
    let api = crate::api::serve(
        &root,
        settings.api_port,
        settings.api,
        commands,
        metrics.clone(),
        reads.clone(),
    )
    .await
    .map_err(|e| DaemonError::Api(e.to_string()))?;
    announce(announce_json, "api", &api.to_string());
    tracing::info!(
        agent = %myco_dna::agent_key_of(&key).key_hash(),
        peer = %peer,
        api = %api,
        strangers_per_ip = settings.strangers.per_ip,
        stranger_idle_secs = settings.strangers.idle.as_secs(),
        "daemon started"
    );
    let agent = *engine.agent();
    let hosted: Vec<_> = engine.pods().map(|d| d.dna_hash()).collect();
    for dna in engine.pods() {
        if let Some(warning) = super::residency::residency_warning(dna, engine.region()) {
            tracing::warn!("{warning}");
        }
    }
    let pod_backups = super::pod_backups::PodBackupTaker::new(reads.clone());
    let thread = engine_thread::spawn(engine, pods, restored, metrics.clone(), Some(pod_backups))
        .map_err(|e| DaemonError::Engine(format!("cannot start it: {e}")))?;
    let parts = DriverParts {
        queue: thread.queue,
        outputs: thread.outputs,
        agent,
        hosted,
        key,
        metrics,
        bootstrap,
        listeners,
        data_dir: root.clone(),
        warnings: data_dir.warnings(),
        announce_json,
        region: settings.region.clone(),
    };
    let ran = Driver::new(swarm, parts)
        .run(receiver, shutdown_signal())
        .await;
    // The swarm loop's ends are dropped: the engine thread works through what is queued,
    // drops the store (which flushes) and ends.
    let handle = thread.handle;
    let joined = tokio::task::spawn_blocking(move || engine_thread::join(handle))
        .await
        .unwrap_or_else(|e| Err(EngineStopped(e.to_string())));
    let _ = fs::remove_file(root.join(crate::api::ADDR_FILE));
    let _ = fs::remove_file(root.join(LISTEN_FILE));
    drop(data_dir);
    match (ran, joined) {
        (_, Err(stopped)) | (Err(stopped), Ok(())) => {
            tracing::error!(%stopped, "the daemon stops");
            Err(DaemonError::Engine(stopped.0))
        }
        (Ok(()), Ok(())) => {
            tracing::info!("stopped; every acknowledged write was flushed when it was made");
            Ok(())
        }
    }
}

/// Runs a bootstrap peer until SIGINT or SIGTERM.
pub async fn run_bootstrap(options: BootstrapOptions) -> Result<(), DaemonError> {
    let BootstrapOptions {
        data_dir,
        settings,
        announce_json,
    } = options;
    let root = data_dir.paths().root().to_path_buf();
    let node_key = net::identity::load_or_create(&root)?;
    let peer = node_key.public().to_peer_id();
    let store = RegistryStore::persistent(peer, &root.join(REGISTRY_DIR))?;
    // A bootstrap peer serves nodes it does not know: it has no strangers to bound.
    let mut swarm = net::build_swarm(
        node_key,
        Role::Bootstrap,
        store,
        net::NetOptions {
            relay: settings.relay,
            ..net::NetOptions::default()
        },
    )?;
    listen(&mut swarm, &settings)?;
    for (other, address) in bootstrap_peers(&settings)? {
        swarm
            .behaviour_mut()
            .kad
            .add_address(&other, address.clone());
        let _ = swarm.dial(address);
    }
    let metrics = Metrics::default();
    let mut addresses = Vec::new();
    tracing::info!(%peer, "bootstrap peer started");
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { address, .. } => {
                    let full = address.clone().with_p2p(peer).unwrap_or_else(|a| a);
                    tracing::info!(address = %full, "listening");
                    swarm.add_external_address(address);
                    announce(announce_json, "listening", &full.to_string());
                    addresses.push(full);
                    write_addresses(&root, &addresses);
                }
                SwarmEvent::ConnectionEstablished { peer_id, .. } => tracing::debug!(peer = %peer_id, "connected"),
                SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::InboundRequest { request })) => {
                    on_kad_inbound(&mut swarm, request, &metrics)
                }
                SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                    on_identify(&mut swarm, peer_id, info)
                }
                SwarmEvent::Behaviour(BehaviourEvent::Ping(event)) => on_ping(&mut swarm, event, &metrics),
                _ => {}
            },
            () = &mut shutdown => break,
        }
    }
    let _ = fs::remove_file(root.join(LISTEN_FILE));
    tracing::info!("bootstrap peer stopped; registry records are on disk");
    Ok(())
}
