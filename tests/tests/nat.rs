//! Reachable from home: real daemons behind two NAT routers, in network namespaces
//! ([`myco_tests::nat`]), and two daemons on one LAN with no bootstrap peer.
//!
//! - Behind routers that keep source ports, each home daemon reserves a slot at the
//!   bootstrap peer's relay, AutoNAT finds it private, and the two replicate both ways;
//!   hole punching then makes their connection direct, which the test reads from the
//!   connection's remote address (the other router's public address, no `/p2p-circuit`).
//! - Behind routers that pick a random port for every mapping, hole punching cannot work,
//!   and the two still replicate both ways, through the relay; a capture of every frame in
//!   the public network shows the records' text never crossed it in plaintext.
//! - Behind a router that forwards inbound connections to it, a home daemon reserves a relay
//!   slot as soon as it sees its address translated, and gives it back once AutoNAT finds
//!   it public.
//! - On one LAN, mDNS alone brings two daemons of a pod together.
//!
//! It needs root, iproute2 and nftables (`.ci/run` installs nftables); elsewhere each test
//! says so and does nothing.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::time::{Duration, Instant};

use libp2p::Multiaddr;
use myco_node::daemon::reach::Reachability;
use myco_node::devnet::process::init_agent;
use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use myco_tests::capture::{contains, Capture};
use myco_tests::loopback::{found_pod, peer_of, start_bootstrap_on, PATIENCE};
use myco_tests::myco_binary;
use myco_tests::nat::{
    self, public_address, router_address, start_member, Internet, Mapping, Member,
};
use myco_tests::netns::{within, Namespace};

fn skip() -> bool {
    if let Err(why) = nat::available() {
        eprintln!("skipped: the NAT test {why}");
        return true;
    }
    false
}

fn wait_for(what: &str, members: &[&Member], mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > PATIENCE {
            for m in members {
                eprintln!("--- {} ---\n{}", m.peer, m.daemon.process.log_tail());
                eprintln!("status: {:?}", nat::status(m.home, &m.daemon.api));
            }
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Two agents in `root`, each a founder of one pod, started in `homes` and dialling
/// `bootstrap`; returns them and the pod.
fn two_founders<'a>(
    root: &Path,
    homes: [&'a Namespace; 2],
    bootstrap: Option<&Multiaddr>,
    mdns: bool,
    tag: &str,
) -> ([Member<'a>; 2], String) {
    let binary = myco_binary();
    let dirs = [root.join("a"), root.join("b")];
    let keys = dirs
        .each_ref()
        .map(|dir| init_agent(&binary, dir, DEVNET_PASSPHRASE).expect("init"));
    let members = [0, 1].map(|i| {
        let daemon = start_member(
            homes[i],
            &binary,
            &format!("home{i}"),
            &dirs[i],
            keys[i],
            bootstrap,
            mdns,
        )
        .expect("daemon starts");
        let peer = nat::status(homes[i], &daemon.api).expect("status").peer_id;
        Member {
            daemon,
            home: homes[i],
            peer,
        }
    });
    let manifest = dna_with_founders(TEMPLATES[0].1, &keys, tag);
    let mut pod = String::new();
    for m in &members {
        pod = within(m.home, || found_pod(&m.daemon.api, &manifest));
    }
    (members, pod)
}

/// Each writes a record and the other receives it.
fn replicate_both_ways(members: &[Member; 2], pod: &str, title: &str) {
    let [a, b] = members;
    let from_a = a.publish(pod, &format!("{title} from A"));
    let from_b = b.publish(pod, &format!("{title} from B"));
    wait_for("records to cross both ways", &[a, b], || {
        b.holds(&from_a) && a.holds(&from_b)
    });
}

/// The small internet of `mapping`, with a bootstrap peer and relay in its public network.
/// Fields drop in order: the bootstrap peer stops before its data dir and the namespaces go.
struct Relayed {
    bootstrap: Multiaddr,
    _boot: myco_node::devnet::process::Process,
    root: tempfile::TempDir,
    internet: Internet,
}

/// Builds it (`tag` keeps concurrent tests apart), or `None` where the test must skip.
fn internet_with_relay(tag: &str, mapping: Mapping) -> Option<Relayed> {
    if skip() {
        return None;
    }
    let internet = Internet::build(tag, mapping).expect("internet");
    let root = tempfile::tempdir().expect("tempdir");
    let listen: Multiaddr = format!("/ip4/{}/tcp/0", public_address())
        .parse()
        .expect("address");
    let (boot, bootstrap) = within(&internet.public, || {
        start_bootstrap_on(&root.path().join("boot"), &listen)
    });
    Some(Relayed {
        bootstrap,
        _boot: boot,
        root,
        internet,
    })
}

/// Both home daemons find themselves private and hold a relay slot.
fn wait_until_relayed(members: &[Member; 2]) {
    let [a, b] = members;
    wait_for("AutoNAT to find both homes private", &[a, b], || {
        members
            .iter()
            .all(|m| m.reachability() == Some(Reachability::Private))
    });
    wait_for("both homes to reserve a relay slot", &[a, b], || {
        members.iter().all(|m| m.metric("relay_reservations") >= 1)
    });
}

#[test]
fn two_homes_behind_nat_replicate_through_the_relay_and_hole_punching_makes_them_direct() {
    let Some(world) = internet_with_relay("hp", Mapping::PortPreserving) else {
        return;
    };
    let (members, pod) = two_founders(
        world.root.path(),
        [&world.internet.homes[0], &world.internet.homes[1]],
        Some(&world.bootstrap),
        false,
        "nat-hp",
    );
    let [a, b] = &members;
    wait_until_relayed(&members);
    wait_for("the homes to meet in the pod", &[a, b], || {
        a.peers(&pod) == 1 && b.peers(&pod) == 1
    });
    replicate_both_ways(&members, &pod, "first");

    // The connection is direct once hole punching succeeds: its remote address is the other
    // router's public address, and the relayed one is closed.
    wait_for(
        "hole punching to make the connection direct",
        &[a, b],
        || {
            let paths = a.paths_to(b);
            !paths.is_empty()
                && paths.iter().all(|(address, relayed)| {
                    !relayed && address.contains(&format!("/ip4/{}/", router_address(1)))
                })
        },
    );
    let back = b.paths_to(a);
    assert!(
        back.iter().all(|(address, relayed)| !relayed
            && address.contains(&format!("/ip4/{}/", router_address(0)))),
        "B's side of the connection is not direct: {back:?}"
    );
    assert!(
        a.metric("hole_punches_succeeded_total") + b.metric("hole_punches_succeeded_total") >= 1,
        "no hole punch was counted"
    );

    // What is written now crosses the direct connection.
    let direct_before = b.metric("sync_bytes_direct_total") + a.metric("sync_bytes_direct_total");
    replicate_both_ways(&members, &pod, "after the punch");
    wait_for("sync to run over the direct connection", &[a, b], || {
        b.metric("sync_bytes_direct_total") + a.metric("sync_bytes_direct_total") > direct_before
    });
}

#[test]
fn when_hole_punching_cannot_work_the_homes_still_replicate_through_the_relay() {
    let Some(world) = internet_with_relay("rl", Mapping::RandomPorts) else {
        return;
    };
    let boot_peer = peer_of(&world.bootstrap).to_string();
    let (members, pod) = two_founders(
        world.root.path(),
        [&world.internet.homes[0], &world.internet.homes[1]],
        Some(&world.bootstrap),
        false,
        "nat-rl",
    );
    let [a, b] = &members;
    wait_until_relayed(&members);
    wait_for("the homes to meet in the pod", &[a, b], || {
        a.peers(&pod) == 1 && b.peers(&pod) == 1
    });
    replicate_both_ways(&members, &pod, "first");
    wait_for("the hole punch to be tried and fail", &[a, b], || {
        a.metric("hole_punches_failed_total") + b.metric("hole_punches_failed_total") >= 1
    });
    // What the relay's machine carries: every frame in the public network while records
    // cross through it. Their text must not be there; a datagram sent in the clear from a
    // home shows the capture sees what crosses the homes' routers.
    let capture = Capture::start(&world.internet.public).expect("capture in the public network");
    let canary = format!("relay-canary-{}", peer_of(&world.bootstrap).to_base58());
    replicate_both_ways(&members, &pod, &canary);
    let control = format!("in-the-clear-{}", peer_of(&world.bootstrap).to_base58());
    within(&world.internet.homes[0], || {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0").expect("udp socket");
        socket
            .send_to(control.as_bytes(), (public_address(), 9))
            .expect("datagram");
    });
    std::thread::sleep(Duration::from_millis(300));
    let seen = capture.stop();
    assert!(
        contains(&seen, control.as_bytes()),
        "the capture in the public network missed a datagram from a home ({} bytes captured)",
        seen.len()
    );
    assert!(
        !contains(&seen, canary.as_bytes()),
        "a record's text crossed the relay's network in plaintext"
    );
    let paths = a.paths_to(b);
    assert!(
        !paths.is_empty()
            && paths
                .iter()
                .all(|(address, relayed)| *relayed && address.contains(&boot_peer)),
        "A reaches B other than through the bootstrap peer's relay: {paths:?}"
    );
    assert!(
        b.metric("sync_bytes_relayed_total") > 0 && b.metric("sync_bytes_direct_total") == 0,
        "sync did not run through the relay alone"
    );
}

#[test]
fn a_home_with_its_ports_forwarded_is_found_public_and_gives_back_its_early_relay_slot() {
    let Some(world) = internet_with_relay("pf", Mapping::ExposedHost) else {
        return;
    };
    let binary = myco_binary();
    let dir = world.root.path().join("a");
    let key = init_agent(&binary, &dir, DEVNET_PASSPHRASE).expect("init");
    let home = &world.internet.homes[0];
    let daemon = start_member(
        home,
        &binary,
        "home0",
        &dir,
        key,
        Some(&world.bootstrap),
        false,
    )
    .expect("daemon starts");
    let peer = nat::status(home, &daemon.api).expect("status").peer_id;
    let a = Member { daemon, home, peer };
    // The bootstrap peer sees the home at its router's address, so the daemon reserves a
    // slot at once; the dial-back AutoNAT then asks for arrives through the forward.
    let mut held_a_slot = false;
    wait_for("AutoNAT to find the forwarded home public", &[&a], || {
        held_a_slot |= !a.relay_addresses().is_empty();
        a.reachability() == Some(Reachability::Public)
    });
    assert!(
        held_a_slot,
        "the daemon behind address translation did not reserve a relay slot before AutoNAT's verdict"
    );
    wait_for("the relay slot to be given back", &[&a], || {
        a.relay_addresses().is_empty() && a.metric("relay_reservations") == 0
    });
    let confirmed = nat::status(home, &a.daemon.api)
        .expect("status")
        .network
        .confirmed;
    assert!(
        confirmed
            .iter()
            .any(|address| address.contains(&format!("/ip4/{}/", router_address(0)))),
        "AutoNAT confirmed no address at the router: {confirmed:?}"
    );
}

#[test]
fn two_daemons_on_one_lan_find_each_other_by_mdns_with_no_bootstrap_peer() {
    if skip() {
        return;
    }
    let lan = Namespace::create("myco-lan-md").expect("namespace");
    lan.lan("lanmd", std::net::Ipv4Addr::new(10, 234, 0, 1))
        .expect("LAN interface");
    let root = tempfile::tempdir().expect("tempdir");
    let (members, pod) = two_founders(root.path(), [&lan, &lan], None, true, "nat-mdns");
    let [a, b] = &members;
    wait_for("mDNS to bring the pod's members together", &[a, b], || {
        a.peers(&pod) == 1 && b.peers(&pod) == 1
    });
    replicate_both_ways(&members, &pod, "on the LAN");
    assert_eq!(
        nat::status(&lan, &a.daemon.api)
            .expect("status")
            .network
            .reachability,
        Reachability::Unknown,
        "with no bootstrap peer, nobody can tell the node whether it is reachable"
    );
}
