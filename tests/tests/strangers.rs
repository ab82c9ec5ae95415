//! End-to-end tests of the strangers bound (`myco_node::net::strangers`): a real `myco run`
//! daemon on loopback, flooded by in-process libp2p peers, each a fresh identity that
//! connects and then says nothing (it answers pings and identify, as any libp2p node does,
//! but never subscribes to a pod's topic nor asks for anything). Every process stops when its
//! handle drops, and every stranger when the runtime drops.
//!
//! Loopback puts every stranger on one IP address, 127.0.0.1. The first test raises the
//! per-address bound in the daemon's `myco.toml` (`strangers_per_ip`) so that the total bound
//! is the one under test; the second keeps the default and tests the per-address bound.
#![cfg(unix)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, noise, ping, tcp, yamux, Multiaddr, Swarm};
use myco_dna::{DnaHash, KeyHash};
use myco_node::devnet::process::init_agent;
use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use myco_node::net::strangers::{MAX_STRANGERS, MAX_STRANGERS_PER_IP};
use myco_node::net::IDENTIFY_PROTOCOL;
use myco_tests::loopback::{
    found_pod, holds, metric, peer_of, peers_in, publish, start_net, wait_until, Net,
};
use myco_tests::myco_binary;
use myco_tests::probe::{connect, probe, runtime};

/// The strangers of the flood.
const FLOOD: usize = 300;
/// Strangers dialling at once: below the daemon's bound on pending connections (64).
const WAVE: usize = 25;
/// Time past the idle bound within which a quiet stranger must be closed: the daemon sweeps
/// every second, and a loaded 2-core machine is slow.
const SLACK: Duration = Duration::from_secs(15);

/// A node that speaks only ping and identify: what every libp2p node answers, nothing Myco.
#[derive(NetworkBehaviour)]
struct Silent {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
}

fn silent_swarm() -> Swarm<Silent> {
    libp2p::SwarmBuilder::with_existing_identity(Keypair::generate_ed25519())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|key| {
            Ok(Silent {
                identify: identify::Behaviour::new(identify::Config::new(
                    IDENTIFY_PROTOCOL.into(),
                    key.public(),
                )),
                ping: ping::Behaviour::default(),
            })
        })
        .expect("behaviour")
        // The stranger never gives up its side: if the connection closes, the daemon closed it.
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build()
}

/// Silent strangers, each in its own task, and what became of their connections.
#[derive(Default)]
struct Crowd {
    /// Connections open now.
    open: Arc<AtomicUsize>,
    /// Strangers whose dial ended: connected, or refused before connecting.
    settled: Arc<AtomicUsize>,
}

impl Crowd {
    /// Starts `count` strangers dialling `address`, `WAVE` at a time, each wave waiting for
    /// the one before it to settle; returns `settle` after all have settled.
    fn flood(
        rt: &tokio::runtime::Runtime,
        address: &Multiaddr,
        count: usize,
        settle: Duration,
    ) -> Crowd {
        let crowd = Crowd::default();
        for wave in 0..count.div_ceil(WAVE) {
            let size = WAVE.min(count - wave * WAVE);
            let target = crowd.settled.load(Ordering::SeqCst) + size;
            for _ in 0..size {
                let (open, settled) = (crowd.open.clone(), crowd.settled.clone());
                let address = address.clone();
                rt.spawn(async move {
                    let mut swarm = silent_swarm();
                    if swarm.dial(address).is_err() {
                        settled.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    loop {
                        match swarm.select_next_some().await {
                            SwarmEvent::ConnectionEstablished { .. } => {
                                open.fetch_add(1, Ordering::SeqCst);
                                settled.fetch_add(1, Ordering::SeqCst);
                            }
                            SwarmEvent::ConnectionClosed { .. } => {
                                open.fetch_sub(1, Ordering::SeqCst);
                                // Closed by the daemon: this stranger is done.
                                std::future::pending::<()>().await;
                            }
                            SwarmEvent::OutgoingConnectionError { .. } => {
                                settled.fetch_add(1, Ordering::SeqCst);
                                std::future::pending::<()>().await;
                            }
                            _ => {}
                        }
                    }
                });
            }
            wait_until("a wave of strangers to settle", || {
                crowd.settled.load(Ordering::SeqCst) >= target
            });
        }
        // Connections the daemon refused or evicted close a moment after they opened.
        std::thread::sleep(settle);
        crowd
    }

    fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

/// A bootstrap peer only; daemons are added by the test.
fn empty_net() -> Net {
    start_net(0)
}

/// Creates the agent of daemon `n` (not started); returns its key hash.
fn create_agent(net: &Net, n: usize) -> KeyHash {
    init_agent(&myco_binary(), &net.dir(n), DEVNET_PASSPHRASE).expect("init")
}

/// Starts daemon `n`, whose agent exists, with `config` as its `myco.toml`.
fn start_with_config(net: &mut Net, n: usize, config: &str) {
    // Off the machine's LAN, like every devnet daemon.
    std::fs::write(
        net.dir(n).join("myco.toml"),
        format!("{config}mdns = false\n"),
    )
    .expect("write myco.toml");
    let daemon = net.start_daemon(n);
    net.daemons.push(daemon);
}

#[test]
fn three_hundred_silent_strangers_leave_room_for_a_new_pod_member_to_replicate() {
    let mut net = empty_net();
    let first = create_agent(&net, 0);
    let newcomer = create_agent(&net, 1);
    // The per-address bound is out of the way (every stranger is on 127.0.0.1), and the idle
    // bound too: the strangers must still hold their slots when the member arrives.
    start_with_config(
        &mut net,
        0,
        "strangers_per_ip = 100000\nstranger_idle_secs = 3600\n",
    );
    let manifest = dna_with_founders(TEMPLATES[0].1, &[first, newcomer], "strangers");
    let pod = found_pod(&net.daemons[0].api, &manifest);

    let rt = runtime();
    let crowd = Crowd::flood(&rt, &net.daemon_address(0), FLOOD, Duration::from_secs(2));
    assert!(
        crowd.settled.load(Ordering::SeqCst) >= FLOOD,
        "not every stranger's dial ended"
    );
    let held_before = crowd.open();
    assert!(
        held_before >= MAX_STRANGERS / 2,
        "only {held_before} strangers connected: the flood did not fill the daemon, so it proves nothing"
    );

    // A new member arrives while the strangers hold their slots.
    let member = net.start_daemon(1);
    net.daemons.push(member);
    assert_eq!(found_pod(&net.daemons[1].api, &manifest), pod);
    wait_until(
        "the new member and the first daemon to meet in the pod",
        || peers_in(&net.daemons[0].api, &pod) == 1 && peers_in(&net.daemons[1].api, &pod) == 1,
    );
    let from_first = publish(&net.daemons[0].api, &pod, "one", "from the first", "pod");
    let from_member = publish(&net.daemons[1].api, &pod, "two", "from the member", "pod");
    wait_until("the new member to hold the first daemon's record", || {
        holds(&net.daemons[1].api, &from_first)
    });
    wait_until("the first daemon to hold the new member's record", || {
        holds(&net.daemons[0].api, &from_member)
    });

    // The strangers never held more than their budget, and still hold it: the member got in
    // by the budget, not because the flood went away.
    let held_after = crowd.open();
    assert!(
        held_before <= MAX_STRANGERS && held_after <= MAX_STRANGERS,
        "the daemon held {held_before} then {held_after} strangers; at most {MAX_STRANGERS}"
    );
    assert!(
        held_after >= MAX_STRANGERS / 2,
        "only {held_after} strangers are left, so the member may have got in for another reason"
    );
    let api = &net.daemons[0].api;
    assert!(metric(api, "strangers_connected") <= MAX_STRANGERS as u64);
    assert!(
        metric(api, "strangers_evicted_total") > 0,
        "no quiet stranger was closed to make room"
    );
    drop(rt);
}

#[test]
fn silent_strangers_are_closed_after_the_idle_bound_and_few_are_held_per_address() {
    // Long enough for the flood to settle and be counted before the first stranger is closed.
    const IDLE: Duration = Duration::from_secs(5);
    let mut net = empty_net();
    let only = create_agent(&net, 0);
    start_with_config(
        &mut net,
        0,
        &format!("stranger_idle_secs = {}\n", IDLE.as_secs()),
    );
    let manifest = dna_with_founders(TEMPLATES[0].1, &[only], "idle-strangers");
    let pod_text = found_pod(&net.daemons[0].api, &manifest);
    let pod: DnaHash = pod_text.parse().expect("pod id");
    let address = net.daemon_address(0);
    let daemon = peer_of(&address);
    let rt = runtime();

    // A follower: no member, but on the pod's topic, which is a use of the connection.
    let follower_connected = Arc::new(AtomicBool::new(false));
    let flag = follower_connected.clone();
    let target = address.clone();
    rt.spawn(async move {
        let mut swarm = probe(&Keypair::generate_ed25519(), 64 * 1024);
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&myco_node::net::topic(&pod))
            .expect("subscribe");
        connect(&mut swarm, std::slice::from_ref(&target), Some(&pod)).await;
        flag.store(swarm.is_connected(&daemon), Ordering::SeqCst);
        loop {
            let _ = swarm.select_next_some().await;
            flag.store(swarm.is_connected(&daemon), Ordering::SeqCst);
        }
    });
    wait_until("the follower to be on the pod's topic", || {
        follower_connected.load(Ordering::SeqCst)
    });

    // Twice the per-address budget of silent strangers, all from 127.0.0.1.
    let started = Instant::now();
    let crowd = Crowd::flood(
        &rt,
        &address,
        2 * MAX_STRANGERS_PER_IP,
        Duration::from_millis(500),
    );
    let held = crowd.open();
    assert!(
        started.elapsed() < IDLE,
        "the flood took longer than the idle bound; the count below would prove nothing"
    );
    assert!(
        (1..MAX_STRANGERS_PER_IP).contains(&held),
        "{held} silent strangers are held from one address besides the follower; between 1 and {}",
        MAX_STRANGERS_PER_IP - 1
    );

    // Our pings go on (the strangers answer them), yet the quiet strangers are closed.
    let flooded = Instant::now();
    while crowd.open() > 0 {
        assert!(
            flooded.elapsed() < IDLE + SLACK,
            "{} silent strangers were still connected {:?} after the flood; the idle bound is {IDLE:?}",
            crowd.open(),
            flooded.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let api = &net.daemons[0].api;
    assert!(metric(api, "strangers_closed_idle_total") >= 1);
    assert!(metric(api, "strangers_evicted_total") >= 1);
    // The follower was quiet for as long, but on the topic: it stays.
    std::thread::sleep(IDLE + Duration::from_secs(1));
    assert!(
        follower_connected.load(Ordering::SeqCst),
        "a stranger on a hosted pod's topic was closed as idle"
    );
    drop(rt);
}
