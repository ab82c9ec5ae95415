//! `reads`: how long a storyteller's reads take through a real daemon's API on a pod of N
//! records (1,000,000 by default), against the same reads on a pod of 1,000 records, in the
//! same run. Reads come from the store's indexes, so the goal is a ratio near 1
//! (at most 2).
//!
//! How it runs:
//!
//! 1. Two agents each create a one-founder pod ([`myco_tests::bench::SoloPod`]); their
//!    daemons stop.
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

use myco_node::api::views::{FeedView, StoryView};
use myco_node::devnet::process::Daemon;
use myco_tests::bench::{bench_main, count_from_env, stop};
use myco_tests::side_by_side::{alternate, report, seeded_pair, Requests, Run};

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

/// The reads measured, by name, with the path each asks.
fn reads(pod: &str, author: &str, middle: &str) -> Requests {
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

fn run() -> anyhow::Result<serde_json::Value> {
    let total = count_from_env("MYCO_READS_RECORDS", DEFAULT_RECORDS)?.max(BASELINE_RECORDS + 1);
    let rounds = count_from_env("MYCO_READS_ROUNDS", DEFAULT_ROUNDS)?;
    let pair = seeded_pair("reads", BASELINE_RECORDS, total)?;
    let small_paths = reads(
        &pair.small_pod.pod,
        &pair.small_pod.key.to_string(),
        &pair.small.signatures[BASELINE_RECORDS / 2].1.to_string(),
    );
    let big_paths = reads(
        &pair.big_pod.pod,
        &pair.big_pod.key.to_string(),
        &pair.big.signatures[total / 2].1.to_string(),
    );
    let (mut small_daemon, mut big_daemon) = pair.start()?;
    say(format_args!(
        "{rounds} rounds of each read on each daemon, alternating…"
    ));
    let timings = alternate(
        "reads",
        (&small_daemon, &small_paths),
        (&big_daemon, &big_paths),
        rounds,
        ask,
    )?;
    stop(&mut small_daemon)?;
    stop(&mut big_daemon)?;
    let run = Run {
        bench: "reads",
        records: total,
        baseline_records: BASELINE_RECORDS,
        rounds,
        goal_ratio: GOAL_RATIO,
    };
    Ok(report(&run, &big_paths, &timings))
}
