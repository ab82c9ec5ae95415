//! A loopback network of real `myco` processes for end-to-end tests: one bootstrap peer and
//! daemons, each with its own data dir under one temp dir. Every process stops when its handle
//! drops, so a failing assertion leaves nothing running.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};
use myco_dna::AgentKey;
use myco_node::api::client::ApiClient;
use myco_node::api::types::{
    ConsentBody, DecideRequest, JoinRequest, PodSummary, ProposeRequest, PublishRequest,
    RecordView, StatusView, VoteRequest, Written,
};
use myco_node::daemon::LISTEN_FILE;
use myco_node::devnet::process::{
    init_agent, loopback_tcp, start_bootstrap, start_daemon, wait_for_file, Daemon, Process,
    START_TIMEOUT,
};
use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use tempfile::TempDir;

use crate::myco_binary;

/// Not a performance bound: only keeps a broken network from hanging the suite.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A bootstrap peer and daemons, with their data dirs.
pub struct Net {
    /// Holds every data dir; removed on drop.
    pub root: TempDir,
    /// The bootstrap peer.
    pub bootstrap: Process,
    /// The bootstrap peer's address, with `/p2p/`.
    pub address: Multiaddr,
    /// The daemons, `node0`, `node1`, …
    pub daemons: Vec<Daemon>,
}

/// Starts a bootstrap peer and `nodes` daemons.
pub fn start_net(nodes: usize) -> Net {
    let root = tempfile::tempdir().expect("temp dir");
    let (bootstrap, address) =
        start_bootstrap(&myco_binary(), &root.path().join("boot")).expect("bootstrap starts");
    let mut net = Net {
        root,
        bootstrap,
        address,
        daemons: Vec::new(),
    };
    for n in 0..nodes {
        let daemon = net.start_daemon(n);
        net.daemons.push(daemon);
    }
    net
}

/// Daemons in each pod of [`start_two_pods`].
pub const PER_POD: usize = 3;

/// A bootstrap peer and `2 × PER_POD` daemons in two pods: daemons `0..PER_POD` found the
/// first pod, the rest the second. Waits until each daemon has met its pod's other members.
pub fn start_two_pods(tag: &str) -> (Net, [String; 2]) {
    let net = start_net(2 * PER_POD);
    let pods = [
        net.create_pod_of(0..PER_POD, &format!("{tag}-1")),
        net.create_pod_of(PER_POD..2 * PER_POD, &format!("{tag}-2")),
    ];
    for (n, daemon) in net.daemons.iter().enumerate() {
        let pod = &pods[n / PER_POD];
        wait_until("each daemon to meet its pod", || {
            peers_in(&daemon.api, pod) == PER_POD - 1
        });
    }
    (net, pods)
}

impl Net {
    /// The data dir of daemon `n`.
    pub fn dir(&self, n: usize) -> PathBuf {
        self.root.path().join(format!("node{n}"))
    }

    /// Starts daemon `n`, creating its agent key on first start and reusing it on a restart.
    pub fn start_daemon(&self, n: usize) -> Daemon {
        let dir = self.dir(n);
        let key_hash = if dir.join("agent.key").exists() {
            myco_node::datadir::DataPaths::new(&dir)
                .keystore()
                .public_key()
                .expect("key")
                .key_hash()
        } else {
            init_agent(&myco_binary(), &dir, DEVNET_PASSPHRASE).expect("init")
        };
        start_daemon(
            &myco_binary(),
            &format!("node{n}"),
            &dir,
            DEVNET_PASSPHRASE,
            &self.address,
            key_hash,
            Some("DK"),
            &loopback_tcp(),
        )
        .expect("daemon starts")
    }

    /// Creates a territory pod with every daemon as a founder, its seed tagged with `tag`;
    /// returns its id.
    pub fn create_pod(&self, tag: &str) -> String {
        self.create_pod_of(0..self.daemons.len(), tag)
    }

    /// Creates a territory pod whose founders, and only members, are the daemons `members`.
    pub fn create_pod_of(&self, members: Range<usize>, tag: &str) -> String {
        let daemons = &self.daemons[members];
        let founders: Vec<_> = daemons.iter().map(|d| d.key_hash).collect();
        let manifest = dna_with_founders(TEMPLATES[0].1, &founders, tag);
        let mut id = String::new();
        for d in daemons {
            id = found_pod(&d.api, &manifest);
        }
        id
    }

    /// The agent key of daemon `n`.
    pub fn agent(&self, n: usize) -> AgentKey {
        myco_node::datadir::DataPaths::new(self.dir(n))
            .keystore()
            .public_key()
            .expect("agent key")
    }

    /// The TCP listen address (with `/p2p/`) of daemon `n`.
    pub fn daemon_address(&self, n: usize) -> Multiaddr {
        tcp_address(&self.dir(n))
    }
}

/// Waits until `done` holds, failing the test after [`PATIENCE`].
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many peers daemon `api` has in `pod`.
pub fn peers_in(api: &ApiClient, pod: &str) -> usize {
    let status: StatusView = api.get("/status").expect("status");
    status
        .pods
        .iter()
        .find(|p| p.dna_hash == pod)
        .map_or(0, |p| p.peers)
}

/// The TCP address a node wrote to its listen file.
pub fn tcp_address(dir: &Path) -> Multiaddr {
    listen_address(dir, "/tcp/")
}

/// The first address containing `transport` (`/tcp/`, `/quic-v1`) a node wrote to its listen
/// file.
pub fn listen_address(dir: &Path, transport: &str) -> Multiaddr {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(dir.join(LISTEN_FILE)).unwrap_or_default();
        if let Some(address) = text
            .lines()
            .filter_map(|l| l.parse::<Multiaddr>().ok())
            .find(|a| a.to_string().contains(transport))
        {
            return address;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no {transport} address in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The peer id at the end of `address`.
pub fn peer_of(address: &Multiaddr) -> PeerId {
    match address.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(peer)) => peer,
        _ => panic!("{address} has no /p2p/"),
    }
}

/// Starts a bootstrap peer on `dir` listening on exactly `listen` (a restart keeps its port).
pub fn start_bootstrap_on(dir: &Path, listen: &Multiaddr) -> (Process, Multiaddr) {
    start_bootstrap_with(&myco_binary(), dir, listen)
}

/// [`start_bootstrap_on`] with the `myco` binary at `binary` (a bench's, say).
pub fn start_bootstrap_with(binary: &Path, dir: &Path, listen: &Multiaddr) -> (Process, Multiaddr) {
    // A peer that was killed leaves its listen file behind; it must not be read as fresh.
    let _ = std::fs::remove_file(dir.join(LISTEN_FILE));
    let args = vec![
        "bootstrap".to_string(),
        "--listen".to_string(),
        listen.to_string(),
    ];
    let mut process =
        Process::spawn(binary, "bootstrap", dir, &args, "").expect("bootstrap spawns");
    wait_for_file(&mut process, LISTEN_FILE, START_TIMEOUT).expect("bootstrap listens");
    let transport = if listen.to_string().contains("/quic") {
        "/quic-v1"
    } else {
        "/tcp/"
    };
    let address = listen_address(dir, transport);
    (process, address)
}

/// A counter of the daemon's `/metrics`, by its name without the `myco_` prefix.
pub fn metric(api: &ApiClient, name: &str) -> u64 {
    let text = api.get_text("/metrics").expect("metrics");
    metric_in(&text, name).unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
}

/// The value of metric `myco_<name>` in the Prometheus text `metrics`.
pub fn metric_in(metrics: &str, name: &str) -> Option<u64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix("myco_")?
            .strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// Looks `key` up through daemon `api`.
pub fn lookup(api: &ApiClient, key: &myco_dna::KeyHash) -> myco_node::api::types::LookupView {
    api.get(&format!("/lookup/{key}")).expect("lookup answered")
}

/// Creates the pod of `manifest` on daemon `api`, whose agent is one of its founders; returns
/// the pod's id.
pub fn found_pod(api: &ApiClient, manifest: &str) -> String {
    let pod: PodSummary = api
        .post(
            "/pods",
            &JoinRequest {
                manifest: manifest.to_string(),
                membrane_proof_hex: String::new(),
                archivist: false,
            },
        )
        .expect("pod created");
    pod.dna_hash
}

/// The principles `dna/examples/storytelling.toml` requires content to affirm.
pub const STORYTELLING_PRINCIPLES: &[&str] = &[
    "collective-benefit",
    "authority-to-control",
    "responsibility",
    "ethics",
];

/// Publishes a content entry through daemon `api` in a pod that requires no principle (the
/// territory pods these tests found); returns its record's hash.
pub fn publish(api: &ApiClient, pod: &str, title: &str, body: &str, visibility: &str) -> String {
    publish_affirming(api, pod, title, body, visibility, &[])
}

/// Publishes a content entry through daemon `api`, its author affirming `principles` and
/// consenting to the sharing `visibility` needs; returns its record's hash.
pub fn publish_affirming(
    api: &ApiClient,
    pod: &str,
    title: &str,
    body: &str,
    visibility: &str,
    principles: &[&str],
) -> String {
    // The test's storyteller states the consent the visibility needs: nothing is filled in.
    let consent = match visibility.to_ascii_lowercase().as_str() {
        "public" => ConsentBody::public(),
        "pod" => ConsentBody::community(),
        _ => ConsentBody::default(),
    };
    let request = PublishRequest::story(title, body, visibility, principles, consent);
    let written: Written = api
        .post(&format!("/pods/{pod}/content"), &request)
        .expect("published");
    written.hash
}

/// Whether daemon `api` stores the record `hash` with its entry.
pub fn entry_held(api: &ApiClient, hash: &str) -> bool {
    api.get::<RecordView>(&format!("/records/{hash}"))
        .is_ok_and(|r| r.stored && r.entry)
}

/// Whether daemon `api` stores the record `hash`.
pub fn holds(api: &ApiClient, hash: &str) -> bool {
    api.get::<RecordView>(&format!("/records/{hash}"))
        .is_ok_and(|r| r.stored)
}

/// Proposes `request` as the pod's only founder, votes yes and records the decision;
/// returns the decision's hash.
pub fn pass_alone(api: &ApiClient, pod: &str, request: &ProposeRequest) -> String {
    pass_by(api, &[api], pod, request)
}

/// Proposes `request` through `proposer`, has every one of `voters` vote yes once it holds
/// the proposal, and records the decision through `proposer` once it holds every vote;
/// returns the decision's hash.
pub fn pass_by(
    proposer: &ApiClient,
    voters: &[&ApiClient],
    pod: &str,
    request: &ProposeRequest,
) -> String {
    let proposal: Written = proposer
        .post(&format!("/pods/{pod}/proposals"), request)
        .expect("the proposal is written");
    for voter in voters {
        wait_until("a voter to hold the proposal", || {
            holds(voter, &proposal.hash)
        });
        let vote: Written = voter
            .post(
                &format!("/pods/{pod}/votes"),
                &VoteRequest {
                    proposal: proposal.hash.clone(),
                    choice: "yes".into(),
                },
            )
            .expect("the member votes yes");
        wait_until("the proposer to hold the vote", || {
            holds(proposer, &vote.hash)
        });
    }
    let decision: Written = proposer
        .post(
            &format!("/pods/{pod}/decisions"),
            &DecideRequest {
                proposal: proposal.hash,
            },
        )
        .expect("the decision is recorded");
    decision.hash
}
