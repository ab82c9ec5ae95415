//! `startup-daemon`: TARGETS.md P8's start-up half. How long `myco run` takes to be ready
//! (its API answering, every pod resumed) on a store of N records (1,000,000 by default),
//! against the same daemon on a store holding only its Genesis, in the same run. The goal is
//! 300 ms with 1M records: no full scan at start. It also reports the daemon's RSS once ready.
//!
//! How it runs:
//!
//! 1. `myco init` makes an agent; its daemon creates a one-founder `territory-dk` pod through
//!    the API (so the daemon writes its Genesis and pods list) and is stopped.
//! 2. Baseline: the daemon is started and stopped `MYCO_STARTUP_RUNS` times (5 by default)
//!    on that store; each start is timed from spawning the process until `GET /status`
//!    answers and lists the pod.
//! 3. N content records, built by the daemon's own write path, are appended to the agent's
//!    chain offline ([`myco_tests::bench::seed`]).
//! 4. The daemon is started and stopped the same number of times on the full store, timed
//!    the same way; the RSS is read one second after each is ready.
//!
//! Progress goes to stderr; the last stdout line is one JSON object: `records`, `runs`,
//! `ready_ms` and `baseline_ready_ms` (median and max), `ratio` (median over baseline
//! median), `goal_ms`, `rss_kib` (largest), `store_bytes`.
//!
//! ```sh
//! cargo build --release -p myco-node && cargo run --release -p myco-tests --bin startup-daemon
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use myco_node::api::types::StatusView;
use myco_node::devnet::process::Daemon;
use myco_tests::bench::{bench_main, count_from_env, seed, stop, SoloPod};

const USAGE: &str = "\
startup-daemon: TARGETS.md P8, how long `myco run` takes to be ready on a store of N records,
against the same daemon on a store holding only its Genesis (the baseline, same run).

usage: startup-daemon [--help]

environment:
  MYCO_STARTUP_RECORDS  content records in the agent's chain (default 1000000)
  MYCO_STARTUP_RUNS     starts timed on each store (default 5)
  MYCO_BIN              the myco binary (default: `myco` next to this executable)

example:
  cargo build --release -p myco-node && cargo run --release -p myco-tests --bin startup-daemon
  MYCO_STARTUP_RECORDS=100000 cargo run --release -p myco-tests --bin startup-daemon";

/// Default number of content records seeded.
const DEFAULT_RECORDS: usize = 1_000_000;
/// Default number of timed starts on each store.
const DEFAULT_RUNS: usize = 5;
/// How often `/status` is asked while the daemon starts.
const POLL: Duration = Duration::from_millis(2);
/// A start that takes longer than this is a failure, not a figure.
const START_LIMIT: Duration = Duration::from_secs(120);
/// The goal of TARGETS.md P8, for the report.
const GOAL_MS: u64 = 300;

fn main() -> ExitCode {
    bench_main("startup-daemon", USAGE, run)
}

fn say(message: impl std::fmt::Display) {
    eprintln!("startup-daemon: {message}");
}

fn run() -> anyhow::Result<serde_json::Value> {
    let total = count_from_env("MYCO_STARTUP_RECORDS", DEFAULT_RECORDS)?;
    let runs = count_from_env("MYCO_STARTUP_RUNS", DEFAULT_RUNS)?;
    say("the daemon creates the pod…");
    let solo = SoloPod::found("startup")?;
    let (dir, dna, pod) = (&solo.dir, &solo.dna, &solo.pod);
    let start = || solo.start();

    say(format_args!(
        "baseline: {runs} starts on a store holding the Genesis…"
    ));
    let baseline = time_starts(runs, &start, pod)?;

    say(format_args!("seeding {total} records…"));
    let started = Instant::now();
    seed(dir, dna, total, |n| {
        say(format_args!("  {n} of {total} stored"))
    })
    .context("cannot seed the store")?;
    say(format_args!(
        "seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let store_bytes = dir_bytes(dir);

    say(format_args!(
        "{runs} starts on the store of {total} records…"
    ));
    let full = time_starts(runs, &start, pod)?;

    let ratio = full.median_ms / baseline.median_ms.max(0.001);
    say(format_args!(
        "ready in {:.1} ms (median; baseline {:.1} ms, ratio {ratio:.2}; goal {GOAL_MS} ms)",
        full.median_ms, baseline.median_ms
    ));
    Ok(serde_json::json!({
        "bench": "startup-daemon",
        "records": total,
        "runs": runs,
        "ready_ms": { "median": round1(full.median_ms), "max": round1(full.max_ms) },
        "baseline": "the same daemon on a store holding only its Genesis, same run",
        "baseline_ready_ms": { "median": round1(baseline.median_ms), "max": round1(baseline.max_ms) },
        "ratio": (ratio * 100.0).round() / 100.0,
        "goal_ms": GOAL_MS,
        "rss_kib": full.rss_kib,
        "baseline_rss_kib": baseline.rss_kib,
        "store_bytes": store_bytes,
    }))
}

/// Start-up times of several runs.
struct Starts {
    median_ms: f64,
    max_ms: f64,
    /// The largest RSS seen one second after ready.
    rss_kib: Option<u64>,
}

/// Starts and stops the daemon `runs` times, timing each start until it is ready.
fn time_starts(
    runs: usize,
    start: &dyn Fn() -> Result<Daemon, myco_node::devnet::DevnetError>,
    pod: &str,
) -> anyhow::Result<Starts> {
    let mut times = Vec::with_capacity(runs);
    let mut rss_kib = None;
    for run in 0..runs {
        let started = Instant::now();
        let mut daemon = start().context("cannot start the daemon")?;
        wait_ready(&daemon, pod, started)?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        say(format_args!("  start {}: ready in {ms:.1} ms", run + 1));
        times.push(ms);
        std::thread::sleep(Duration::from_secs(1));
        rss_kib = rss_kib.max(daemon.process.rss_kib());
        stop(&mut daemon)?;
    }
    times.sort_by(f64::total_cmp);
    Ok(Starts {
        median_ms: times[times.len() / 2],
        max_ms: times[times.len() - 1],
        rss_kib,
    })
}

/// Waits until the daemon's `/status` answers and lists `pod`.
fn wait_ready(daemon: &Daemon, pod: &str, started: Instant) -> anyhow::Result<()> {
    loop {
        if let Ok(status) = daemon.api.get::<StatusView>("/status") {
            if status.pods.iter().any(|p| p.dna_hash == pod) {
                return Ok(());
            }
        }
        if started.elapsed() > START_LIMIT {
            bail!(
                "the daemon was not ready after {} s; its log:\n{}",
                START_LIMIT.as_secs(),
                daemon.process.log_tail()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
