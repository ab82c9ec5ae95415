//! `reads`: how long a storyteller's reads take through a real daemon's API on a pod of N
//! records (1,000,000 by default), against the same reads on the same pod at 1,000 records,
//! in the same run. Reads come from the store's indexes, so the goal is a ratio near 1
//! (at most 2).
//!
//! How it runs:
//!
//! 1. `myco init` makes an agent; its daemon creates a one-founder pod and is stopped.
//! 2. 1,000 stories are appended to the agent's chain offline
//!    ([`myco_tests::bench::seed`]), built by the daemon's own write path.
//! 3. The daemon starts; each read is asked `MYCO_READS_ROUNDS` times (200 by default) after
//!    a warm-up: the feed's first page, a feed page from the middle of the pod
//!    (`before=` a story halfway), the feed filtered by author, and `show` of a story halfway.
//!    The daemon stops.
//! 4. Stories are appended up to N, and step 3 runs again.
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
same reads on the same pod at 1,000 records (the baseline, same run).

usage: reads [--help]

environment:
  MYCO_READS_RECORDS  records in the pod for the second measurement (default 1000000)
  MYCO_READS_ROUNDS   times each read is asked at each size (default 200)
  MYCO_BIN            the myco binary (default: `myco` next to this executable)

example:
  cargo build --release -p myco-node && cargo run --release -p myco-tests --bin reads
  MYCO_READS_RECORDS=100000 cargo run --release -p myco-tests --bin reads";

/// Records in the pod for the baseline.
const BASELINE_RECORDS: usize = 1_000;
/// Default records for the second measurement.
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

fn time_reads(
    daemon: &Daemon,
    paths: &[(&'static str, String)],
    rounds: usize,
) -> anyhow::Result<Vec<Timing>> {
    let mut out = Vec::new();
    for (name, path) in paths {
        let ask = || -> anyhow::Result<()> {
            if *name == "show" {
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
        };
        for _ in 0..rounds.min(20) {
            ask().with_context(|| format!("cannot read {path}"))?;
        }
        let mut micros = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = Instant::now();
            ask()?;
            micros.push(started.elapsed().as_secs_f64() * 1e6);
        }
        micros.sort_by(f64::total_cmp);
        let timing = Timing {
            median_us: micros[micros.len() / 2],
            p95_us: micros[micros.len() * 95 / 100],
        };
        say(format_args!(
            "  {name}: median {:.0} µs, p95 {:.0} µs",
            timing.median_us, timing.p95_us
        ));
        out.push(timing);
    }
    Ok(out)
}

fn run() -> anyhow::Result<serde_json::Value> {
    let total = count_from_env("MYCO_READS_RECORDS", DEFAULT_RECORDS)?.max(BASELINE_RECORDS + 1);
    let rounds = count_from_env("MYCO_READS_ROUNDS", DEFAULT_ROUNDS)?;
    say("the daemon creates the pod…");
    let solo = SoloPod::found("reads")?;
    let (dir, dna, pod) = (&solo.dir, &solo.dna, &solo.pod);
    let author = solo.key.to_string();

    say(format_args!("seeding {BASELINE_RECORDS} stories…"));
    let small = seed(dir, dna, BASELINE_RECORDS, |_| {}).context("cannot seed the store")?;
    let middle_small = small.signatures[BASELINE_RECORDS / 2].1.to_string();
    let mut daemon = solo.start().context("cannot start the daemon")?;
    say(format_args!(
        "{rounds} rounds of each read at {BASELINE_RECORDS} records…"
    ));
    let baseline = time_reads(&daemon, &reads(pod, &author, &middle_small), rounds)?;
    stop(&mut daemon)?;

    let more = total - BASELINE_RECORDS;
    say(format_args!("seeding {more} more stories…"));
    let big = seed(dir, dna, more, |n| {
        say(format_args!("  {n} of {more} stored"))
    })
    .context("cannot seed the store")?;
    let middle_big = big.signatures[more / 2].1.to_string();
    let mut daemon = solo.start().context("cannot start the daemon")?;
    say(format_args!(
        "{rounds} rounds of each read at {total} records…"
    ));
    let full = time_reads(&daemon, &reads(pod, &author, &middle_big), rounds)?;
    stop(&mut daemon)?;

    let mut report = serde_json::Map::new();
    report.insert("bench".into(), "reads".into());
    report.insert("records".into(), total.into());
    report.insert("baseline_records".into(), BASELINE_RECORDS.into());
    report.insert("rounds".into(), rounds.into());
    report.insert(
        "baseline".into(),
        "the same reads on the same pod at 1,000 records, same run".into(),
    );
    report.insert("goal_ratio".into(), GOAL_RATIO.into());
    let mut worst: f64 = 0.0;
    for (((name, _), small), big) in reads(pod, &author, "").iter().zip(&baseline).zip(&full) {
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
