//! `peers-footprint`: TARGETS.md P8's peer half. A daemon's resident memory with 100 peers
//! connected to it on its pod's topic (goal ≤ 80 MiB), against the same daemon idle with none
//! (the baseline, same run).
//!
//! How it runs:
//!
//! 1. `myco init` makes an agent; its daemon founds a one-founder `territory-dk` pod and is
//!    started again on that store ([`myco_tests::bench::SoloPod`]).
//! 2. Baseline: after `MYCO_FOOTPRINT_SETTLE_SECS` (10 by default) idle, its RSS is read.
//! 3. `MYCO_FOOTPRINT_PEERS` (100 by default) libp2p peers in this process, each speaking
//!    Myco's protocols (identify, Kademlia, gossipsub, sync: [`myco_tests::probe`]), connect to
//!    the daemon and subscribe to the pod's topic. The daemon treats each as a pod peer: it
//!    keeps the connection, meshes with it in gossipsub and asks it for sync rounds.
//! 4. Once every peer saw the daemon on the topic, and after the same settling time, the RSS
//!    is read again; the daemon's `peers_connected` metric confirms the count.
//!
//! Progress goes to stderr; the last stdout line is one JSON object: `peers`, `rss_kib`,
//! `baseline_rss_kib`, `ratio`, `goal_kib`, `peers_connected`.
//!
//! ```sh
//! cargo build --release -p myco-node && cargo run --release -p myco-tests --bin peers-footprint
//! ```

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use libp2p::futures::StreamExt;
use libp2p::identity::Keypair;
use myco_dna::DnaHash;
use myco_node::engine::MAX_SYNC_BYTES;
use myco_node::net::topic;
use myco_tests::bench::{bench_main, count_from_env, metric, stop, SoloPod};
use myco_tests::loopback::tcp_address;
use myco_tests::probe::{connect, probe};

const USAGE: &str = "\
peers-footprint: TARGETS.md P8, a daemon's RSS with N peers on its pod's topic, against the
same daemon idle with none (the baseline, same run).

usage: peers-footprint [--help]

environment:
  MYCO_FOOTPRINT_PEERS         peers to connect (default 100)
  MYCO_FOOTPRINT_SETTLE_SECS   seconds to wait before each reading (default 10)
  MYCO_BIN                     the myco binary (default: `myco` next to this executable)

example:
  cargo build --release -p myco-node && cargo run --release -p myco-tests --bin peers-footprint
  MYCO_FOOTPRINT_PEERS=20 cargo run --release -p myco-tests --bin peers-footprint";

/// The goal of TARGETS.md P8 with 100 peers, in KiB.
const GOAL_KIB: u64 = 80 * 1024;

fn main() -> ExitCode {
    bench_main("peers-footprint", USAGE, run)
}

fn say(message: impl std::fmt::Display) {
    eprintln!("peers-footprint: {message}");
}

fn run() -> anyhow::Result<serde_json::Value> {
    let peers = count_from_env("MYCO_FOOTPRINT_PEERS", 100)?;
    let settle = Duration::from_secs(count_from_env("MYCO_FOOTPRINT_SETTLE_SECS", 10)? as u64);
    say("the daemon founds the pod…");
    let solo = SoloPod::found("footprint")?;
    let mut daemon = solo.start().context("cannot start the daemon")?;
    let pod: DnaHash = solo.pod.parse().map_err(|e| anyhow!("pod id: {e:?}"))?;
    let address = tcp_address(&solo.dir);

    say(format_args!("idle for {} s…", settle.as_secs()));
    std::thread::sleep(settle);
    let baseline_rss_kib = daemon
        .process
        .rss_kib()
        .ok_or_else(|| anyhow!("cannot read the daemon's RSS (Linux /proc only)"))?;

    say(format_args!("{peers} peers join the pod's topic…"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start a tokio runtime")?;
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(peers);
    for _ in 0..peers {
        let ready = ready_tx.clone();
        let address = address.clone();
        rt.spawn(async move {
            let mut swarm = probe(&Keypair::generate_ed25519(), MAX_SYNC_BYTES);
            if swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&topic(&pod))
                .is_err()
            {
                return;
            }
            connect(&mut swarm, std::slice::from_ref(&address), Some(&pod)).await;
            let _ = ready.send(()).await;
            // Keep the connection: answer nothing, but keep polling the swarm.
            loop {
                swarm.select_next_some().await;
            }
        });
    }
    drop(ready_tx);
    let joined = rt.block_on(async {
        let mut joined = 0;
        while joined < peers {
            match tokio::time::timeout(Duration::from_secs(120), ready_rx.recv()).await {
                Ok(Some(())) => joined += 1,
                // A peer task ended (its connect failed) or none came in time.
                Ok(None) | Err(_) => break,
            }
        }
        joined
    });
    if joined < peers {
        bail!(
            "only {joined} of {peers} peers met the daemon on the pod's topic; its log:\n{}",
            daemon.process.log_tail()
        );
    }
    say(format_args!(
        "all {peers} on the topic; settling for {} s…",
        settle.as_secs()
    ));
    std::thread::sleep(settle);
    let rss_kib = daemon
        .process
        .rss_kib()
        .ok_or_else(|| anyhow!("cannot read the daemon's RSS"))?;
    let peers_connected = metric(&daemon.api, "peers_connected")?;
    if !daemon.process.is_running() {
        bail!("the daemon exited; its log:\n{}", daemon.process.log_tail());
    }
    stop(&mut daemon)?;
    rt.shutdown_timeout(Duration::from_secs(1));

    let ratio = rss_kib as f64 / baseline_rss_kib.max(1) as f64;
    say(format_args!(
        "RSS {:.1} MiB with {peers} peers ({peers_connected} connected), {:.1} MiB idle (ratio {ratio:.2}; goal {} MiB)",
        rss_kib as f64 / 1024.0,
        baseline_rss_kib as f64 / 1024.0,
        GOAL_KIB / 1024
    ));
    Ok(serde_json::json!({
        "bench": "peers-footprint",
        "peers": peers,
        "peers_connected": peers_connected,
        "rss_kib": rss_kib,
        "baseline": "the same daemon idle with no peer but the bootstrap peer, same run",
        "baseline_rss_kib": baseline_rss_kib,
        "ratio": (ratio * 100.0).round() / 100.0,
        "goal_kib": GOAL_KIB,
        "settle_secs": settle.as_secs(),
    }))
}
