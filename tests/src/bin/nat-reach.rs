//! `nat-reach`: how fast a daemon behind NAT gets a pod's records, and how much of its sync
//! goes direct, in the topology of `tests/tests/nat.rs` ([`myco_tests::nat`]): a public
//! network with a bootstrap peer (relay, AutoNAT server) and two homes behind NAT routers.
//!
//! Three scenarios, one run, each on a fresh set of namespaces:
//!
//! - **baseline**: both daemons in the public network (no NAT);
//! - **relayed**: each in a home whose router picks a random port per mapping, so hole
//!   punching cannot work and everything goes through the relay;
//! - **direct**: each in a home whose router keeps source ports, so hole punching works.
//!
//! In each, daemon A founds the pod and writes `MYCO_NAT_RECORDS` stories (20 by default).
//! Behind NAT, A is reachable once it holds a relay slot: `reachable_ms` is how long that took
//! from A's start, and B starts only then, as it would join a member already online. Then
//! daemon B starts, and the clock runs until B holds A's first story (`first_record_ms`) and
//! all of them (`all_records_ms`). A then writes as many again, and B's
//! `/metrics` give the share of the sync bytes it received that came over a direct
//! connection (`direct_share`). For **direct**, `direct_ms` is when B's connection to A
//! became direct. Each time is also given as a `ratio` to the baseline's.
//!
//! It needs root, iproute2 and nftables. Progress goes to stderr; the last stdout line is one
//! JSON object with the three scenarios.
//!
//! ```sh
//! cargo build --release -p myco-node && cargo run --release -p myco-tests --bin nat-reach
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use libp2p::Multiaddr;
use myco_node::devnet::process::{init_agent, Process};
use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use myco_tests::bench::{bench_main, count_from_env, myco_binary, POLL};
use myco_tests::loopback::{found_pod, start_bootstrap_with};
use myco_tests::nat::{self, public_address, start_member, Internet, Mapping, Member};
use myco_tests::netns::{within, Namespace};

/// How long any one step may take before the bench gives up.
const PATIENCE: Duration = Duration::from_secs(120);

const USAGE: &str = "\
nat-reach: time to first replicated record behind NAT, relayed and direct, beside a
baseline with no NAT; and the share of sync bytes that went direct.

  MYCO_NAT_RECORDS=20 cargo run --release -p myco-tests --bin nat-reach

Needs root, iproute2 and nftables.";

fn main() -> ExitCode {
    bench_main("nat-reach", USAGE, run)
}

fn run() -> anyhow::Result<serde_json::Value> {
    if let Err(why) = nat::available() {
        bail!("nat-reach {why}");
    }
    let records = count_from_env("MYCO_NAT_RECORDS", 20)?;
    let baseline = scenario("baseline", None, records)?;
    let relayed = scenario("relayed", Some(Mapping::RandomPorts), records)?;
    let direct = scenario("direct", Some(Mapping::PortPreserving), records)?;
    let ratio = |s: &Measured, of: fn(&Measured) -> u64| {
        (of(s) as f64 / of(&baseline).max(1) as f64 * 100.0).round() / 100.0
    };
    let row = |s: &Measured| {
        serde_json::json!({
            "reachable_ms": s.reachable_ms,
            "first_record_ms": s.first_record_ms,
            "first_record_ratio": ratio(s, |m| m.first_record_ms),
            "all_records_ms": s.all_records_ms,
            "all_records_ratio": ratio(s, |m| m.all_records_ms),
            "direct_ms": s.direct_ms,
            "direct_share": s.direct_share,
        })
    };
    Ok(serde_json::json!({
        "records": records,
        "baseline": row(&baseline),
        "relayed": row(&relayed),
        "direct": row(&direct),
    }))
}

struct Measured {
    reachable_ms: Option<u64>,
    first_record_ms: u64,
    all_records_ms: u64,
    direct_ms: Option<u64>,
    direct_share: f64,
}

fn wait(what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > PATIENCE {
            bail!(
                "timed out after {} s waiting for {what}",
                PATIENCE.as_secs()
            );
        }
        std::thread::sleep(POLL);
    }
    Ok(())
}

/// One scenario: `mapping` puts the daemons in the two homes behind NAT, `None` in the
/// public network.
fn scenario(name: &str, mapping: Option<Mapping>, records: usize) -> anyhow::Result<Measured> {
    eprintln!("nat-reach: {name}");
    let internet = Internet::build(&name[..3], mapping.unwrap_or(Mapping::PortPreserving))?;
    let places: [&Namespace; 2] = match mapping {
        Some(_) => [&internet.homes[0], &internet.homes[1]],
        None => [&internet.public, &internet.public],
    };
    let root = tempfile::tempdir()?;
    let listen: Multiaddr = format!("/ip4/{}/tcp/0", public_address()).parse()?;
    let binary = myco_binary()?;
    let (_boot, bootstrap): (Process, Multiaddr) = within(&internet.public, || {
        start_bootstrap_with(&binary, &root.path().join("boot"), &listen)
    });
    let dirs = [root.path().join("a"), root.path().join("b")];
    let mut keys = Vec::new();
    for dir in &dirs {
        keys.push(init_agent(&binary, dir, DEVNET_PASSPHRASE)?);
    }
    let manifest = dna_with_founders(TEMPLATES[0].1, &keys, &format!("nat-reach-{name}"));
    let start = |i: usize| -> anyhow::Result<Member> {
        let daemon = start_member(
            places[i],
            &binary,
            &format!("node{i}"),
            &dirs[i],
            keys[i],
            Some(&bootstrap),
            false,
        )?;
        let peer = nat::status(places[i], &daemon.api)
            .context("the daemon's API does not answer")?
            .peer_id;
        Ok(Member {
            daemon,
            home: places[i],
            peer,
        })
    };
    let a_started = Instant::now();
    let a = start(0)?;
    let pod = within(a.home, || found_pod(&a.daemon.api, &manifest));
    let written: Vec<String> = (0..records)
        .map(|n| a.publish(&pod, &format!("story {n}")))
        .collect();
    let reachable_ms = match mapping {
        Some(_) => {
            wait("A's relay slot", || !a.relay_addresses().is_empty())?;
            Some(a_started.elapsed().as_millis() as u64)
        }
        None => None,
    };

    let started = Instant::now();
    let b = start(1)?;
    within(b.home, || found_pod(&b.daemon.api, &manifest));
    if let Err(error) = wait("B's first replicated record", || b.holds(&written[0])) {
        eprintln!(
            "--- A ---\n{}\n--- B ---\n{}",
            a.daemon.process.log_tail(),
            b.daemon.process.log_tail()
        );
        return Err(error);
    }
    let first_record_ms = started.elapsed().as_millis() as u64;
    wait("all of A's records at B", || {
        written.iter().all(|h| b.holds(h))
    })?;
    let all_records_ms = started.elapsed().as_millis() as u64;
    let direct_ms = if mapping == Some(Mapping::PortPreserving) {
        wait("the connection to become direct", || {
            let paths = b.paths_to(&a);
            !paths.is_empty() && paths.iter().all(|(_, relayed)| !relayed)
        })?;
        Some(started.elapsed().as_millis() as u64)
    } else {
        None
    };
    let more: Vec<String> = (0..records)
        .map(|n| a.publish(&pod, &format!("later story {n}")))
        .collect();
    wait("A's later records at B", || more.iter().all(|h| b.holds(h)))?;
    let direct = b.metric("sync_bytes_direct_total");
    let relayed = b.metric("sync_bytes_relayed_total");
    let direct_share = (direct as f64 / (direct + relayed).max(1) as f64 * 1000.0).round() / 1000.0;
    eprintln!(
        "nat-reach: {name}: A reachable at {reachable_ms:?} ms, first record at B {first_record_ms} ms, all {all_records_ms} ms, direct at {direct_ms:?} ms, {direct} B direct / {relayed} B relayed"
    );
    Ok(Measured {
        reachable_ms,
        first_record_ms,
        all_records_ms,
        direct_ms,
        direct_share,
    })
}
