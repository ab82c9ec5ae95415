//! `reads`: how long a storyteller's reads take through a real daemon's API on a pod of N
//! records (1,000,000 by default), against the same reads on a pod of 1,000 records, in the
//! same run. Reads come from the store's indexes, so the goal is a ratio near 1
//! (at most 2).
//!
//! How it runs:
//!
//! 1. Two agents each create a one-founder pod ([`SoloPod`]); their daemons stop.
//! 2. Stories are appended to each agent's chain offline ([`myco_tests::bench::seed`]),
//!    built by the daemon's own write path: 1,000 in the small pod, N in the big one.
//! 3. Both daemons start. Each read is asked `MYCO_READS_ROUNDS` times (200 by default) of
//!    each daemon after a warm-up, alternating between them round by round so both see the
//!    same machine: the feed's first page, a feed page from the middle of the pod
//!    (`before=` a story halfway), the feed filtered by author, and `show` of a story halfway.
//!
//! Progress goes to stderr; the last stdout line is one JSON object with, per read, the
//! median and p95 in µs at 1k and at N, and their median ratio.
//!
//! ```sh
//! cargo build --release -p myco-node && cargo run --release -p myco-tests --bin reads
//! ```

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use myco_node::api::views::{FeedView, StoryView};
use myco_node::devnet::process::Daemon;
use myco_tests::bench::{bench_main, count_from_env, seed, stop, SoloPod};

const USAGE: &str = "\
reads: feed and show latency through the daemon's API on a pod of N records, against the
same reads on a pod of 1,000 records (the baseline, same run, on a daemon beside it).

usage: reads [--help]

environment:
  MYCO_READS_RECORDS  records in the big pod (default 1000000)
  MYCO_READS_ROUNDS   times each read is asked at each size (default 200)
  MYCO_BIN            the myco binary (default: `myco` next to this executable)

example:
  cargo build --release -p myco-node && cargo run --release -p myco-tests --bin reads
  MYCO_READS_RECORDS=100000 cargo run --release -p myco-tests --bin reads";

/// Records in the pod for the baseline.
const BASELINE_RECORDS: usize = 1_000;
/// Default records in the big pod.
const DEFAULT_RECORDS: usize = 1_000_000;
/// Default rounds per read.
const DEFAULT_ROUNDS: usize = 200;
/// The goal: reads on the big pod take at most this many times as long.
const GOAL_RATIO: f64 = 2.0;

fn main() -> ExitCode {
    bench_main("reads", USAGE, run)
}

fn say(message: impl std::fmt::Display) {
    eprintln!("reads: {message}");
}

/// Latencies of one read, in µs.
struct Timing {
    median_us: f64,
    p95_us: f64,
}

/// The reads measured, by name, with the path each asks.
fn reads(pod: &str, author: &str, middle: &str) -> Vec<(&'static str, String)> {
    vec![
        ("feed_first_page", format!("/pods/{pod}/feed?limit=20")),
        (
            "feed_middle_page",
            format!("/pods/{pod}/feed?limit=20&before={middle}"),
        ),
        (
            "feed_by_author",
            format!("/pods/{pod}/feed?limit=20&author={author}"),
        ),
        ("show", format!("/content/{middle}")),
    ]
}

/// Asks one read of `daemon` and checks the answer is a full one.
fn ask(daemon: &Daemon, name: &str, path: &str) -> anyhow::Result<()> {
    if name == "show" {
        let story: StoryView = daemon.api.get(path)?;
        anyhow::ensure!(story.held, "the story halfway is not held");
    } else {
        let feed: FeedView = daemon.api.get(path)?;
        anyhow::ensure!(
            feed.items.len() == 20,
            "{name} returned {} items",
            feed.items.len()
        );
    }
    Ok(())
}

fn timing(mut micros: Vec<f64>) -> Timing {
    micros.sort_by(f64::total_cmp);
    Timing {
        median_us: micros[micros.len() / 2],
        p95_us: micros[micros.len() * 95 / 100],
    }
}

/// Times each read on both daemons, alternating round by round; (small, big) per read.
fn time_reads(
    small: (&Daemon, Vec<(&'static str, String)>),
    big: (&Daemon, Vec<(&'static str, String)>),
    rounds: usize,
) -> anyhow::Result<Vec<(Timing, Timing)>> {
    let mut out = Vec::new();
    for ((name, small_path), (_, big_path)) in small.1.iter().zip(&big.1) {
        for _ in 0..rounds.min(20) {
            ask(small.0, name, small_path).with_context(|| format!("cannot read {small_path}"))?;
            ask(big.0, name, big_path).with_context(|| format!("cannot read {big_path}"))?;
        }
        let (mut at_small, mut at_big) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let started = Instant::now();
            ask(small.0, name, small_path)?;
            at_small.push(started.elapsed().as_secs_f64() * 1e6);
            let started = Instant::now();
            ask(big.0, name, big_path)?;
            at_big.push(started.elapsed().as_secs_f64() * 1e6);
        }
        let (small_timing, big_timing) = (timing(at_small), timing(at_big));
        say(format_args!(
            "  {name}: median {:.0} µs at N, {:.0} µs at 1k (p95 {:.0} and {:.0})",
            big_timing.median_us, small_timing.median_us, big_timing.p95_us, small_timing.p95_us
        ));
        out.push((small_timing, big_timing));
    }
    Ok(out)
}

fn run() -> anyhow::Result<serde_json::Value> {
    let total = count_from_env("MYCO_READS_RECORDS", DEFAULT_RECORDS)?.max(BASELINE_RECORDS + 1);
    let rounds = count_from_env("MYCO_READS_ROUNDS", DEFAULT_ROUNDS)?;
    say("the daemons create their pods…");
    let small_pod = SoloPod::found("reads-1k")?;
    let big_pod = SoloPod::found("reads-big")?;
    say(format_args!(
        "seeding {BASELINE_RECORDS} stories in the small pod…"
    ));
    let small = seed(&small_pod.dir, &small_pod.dna, BASELINE_RECORDS, |_| {})
        .context("cannot seed the small pod")?;
    say(format_args!("seeding {total} stories in the big pod…"));
    let big = seed(&big_pod.dir, &big_pod.dna, total, |n| {
        say(format_args!("  {n} of {total} stored"))
    })
    .context("cannot seed the big pod")?;
    let small_paths = reads(
        &small_pod.pod,
        &small_pod.key.to_string(),
        &small.signatures[BASELINE_RECORDS / 2].1.to_string(),
    );
    let big_paths = reads(
        &big_pod.pod,
        &big_pod.key.to_string(),
        &big.signatures[total / 2].1.to_string(),
    );
    let mut small_daemon = small_pod
        .start()
        .context("cannot start the small pod's daemon")?;
    let mut big_daemon = big_pod
        .start()
        .context("cannot start the big pod's daemon")?;
    say(format_args!(
        "{rounds} rounds of each read on each daemon, alternating…"
    ));
    let timings = time_reads(
        (&small_daemon, small_paths.clone()),
        (&big_daemon, big_paths.clone()),
        rounds,
    )?;
    stop(&mut small_daemon)?;
    stop(&mut big_daemon)?;

    let mut report = serde_json::Map::new();
    report.insert("bench".into(), "reads".into());
    report.insert("records".into(), total.into());
    report.insert("baseline_records".into(), BASELINE_RECORDS.into());
    report.insert("rounds".into(), rounds.into());
    report.insert(
        "baseline".into(),
        "the same reads on a pod of 1,000 records, on a daemon running beside it, same run".into(),
    );
    report.insert("goal_ratio".into(), GOAL_RATIO.into());
    let mut worst: f64 = 0.0;
    for ((name, _), (small, big)) in big_paths.iter().zip(&timings) {
        let ratio = big.median_us / small.median_us.max(1.0);
        worst = worst.max(ratio);
        report.insert(
            (*name).into(),
            serde_json::json!({
                "median_us": big.median_us.round(),
                "p95_us": big.p95_us.round(),
                "baseline_median_us": small.median_us.round(),
                "baseline_p95_us": small.p95_us.round(),
                "ratio": (ratio * 100.0).round() / 100.0,
            }),
        );
    }
    report.insert(
        "worst_ratio".into(),
        ((worst * 100.0).round() / 100.0).into(),
    );
    say(format_args!("worst ratio {worst:.2} (goal ≤ {GOAL_RATIO})"));
    Ok(serde_json::Value::Object(report))
}
