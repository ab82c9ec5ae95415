//! `pages`: how long the web app's pages take through a real daemon on a pod of N records
//! (1,000,000 by default), against the same pages on a pod of 1,000 records, in the same
//! run. Pages are built from the store's indexes and the pod's kept figures, so the goal is a
//! ratio near 1 (at most 2).
//!
//! How it runs:
//!
//! 1. Two agents each create a one-founder pod; their daemons stop.
//! 2. Stories are appended to each agent's chain offline ([`myco_tests::bench::seed`]),
//!    built by the daemon's own write path: 1,000 in the small pod, N in the big one.
//! 3. Both daemons start. The pod's figures are counted once on each (the first load of the
//!    transparency page, timed and reported apart: it folds the whole pod).
//! 4. Each page is asked `MYCO_PAGES_ROUNDS` times (200 by default) of each daemon after a
//!    warm-up, alternating between them round by round: my pods, the feed, a feed page from
//!    the middle, a story halfway, the publish form, the proposals, the value statement, my
//!    dashboard and the transparency page. Each answer is checked to be the whole page.
//!
//! Progress goes to stderr; the last stdout line is one JSON object with, per page, the
//! median and p95 in µs at 1k and at N, and their median ratio.
//!
//! ```sh
//! cargo build --release -p myco-node && cargo run --release -p myco-tests --bin pages
//! ```

use std::process::ExitCode;
use std::time::Instant;

use myco_node::devnet::process::Daemon;
use myco_tests::bench::{bench_main, count_from_env, stop};
use myco_tests::side_by_side::{alternate, report, seeded_pair, Requests, Run};

const USAGE: &str = "\
pages: the web app's page latency through the daemon on a pod of N records, against the same
pages on a pod of 1,000 records (the baseline, same run, on a daemon beside it).

usage: pages [--help]

environment:
  MYCO_PAGES_RECORDS  records in the big pod (default 1000000)
  MYCO_PAGES_ROUNDS   times each page is asked at each size (default 200)
  MYCO_BIN            the myco binary (default: `myco` next to this executable)

example:
  cargo build --release -p myco-node && cargo run --release -p myco-tests --bin pages
  MYCO_PAGES_RECORDS=100000 cargo run --release -p myco-tests --bin pages";

/// Records in the pod for the baseline.
const BASELINE_RECORDS: usize = 1_000;
/// Default records in the big pod.
const DEFAULT_RECORDS: usize = 1_000_000;
/// Default rounds per page.
const DEFAULT_ROUNDS: usize = 200;
/// The goal: pages on the big pod take at most this many times as long.
const GOAL_RATIO: f64 = 2.0;

fn main() -> ExitCode {
    bench_main("pages", USAGE, run)
}

/// The pages measured, by name, with the path of each, and a piece of text only the whole
/// page holds.
fn pages(pod: &str, middle: &str) -> Requests {
    vec![
        ("my_pods", "/app".to_string()),
        ("feed", format!("/app/pods/{pod}")),
        ("feed_middle", format!("/app/pods/{pod}?before={middle}")),
        ("story", format!("/app/stories/{middle}")),
        ("publish_form", format!("/app/pods/{pod}/publish")),
        ("proposals", format!("/app/pods/{pod}/proposals")),
        ("value", format!("/app/pods/{pod}/value")),
        ("dashboard", format!("/app/pods/{pod}/dashboard")),
        ("transparency", format!("/pods/{pod}/page")),
    ]
}

/// Asks one page of `daemon` and checks it is the whole page.
fn ask(daemon: &Daemon, name: &str, path: &str) -> anyhow::Result<()> {
    let html = daemon.api.get_text(path)?;
    let whole = html.trim_end().ends_with("</html>");
    let filled = match name {
        "feed" | "feed_middle" => html.matches("<article class=\"story\">").count() == 20,
        "story" => html.contains("<h2>Versions</h2>"),
        "publish_form" => html.contains("id=\"publish\""),
        "dashboard" => html.contains("Your storyteller dashboard") && html.contains("Your stories"),
        "transparency" => html.contains("Members and roles") && !html.contains("being counted"),
        _ => true,
    };
    anyhow::ensure!(
        whole && filled,
        "{name} ({path}) is not the whole page: {html}"
    );
    Ok(())
}

fn run() -> anyhow::Result<serde_json::Value> {
    let total = count_from_env("MYCO_PAGES_RECORDS", DEFAULT_RECORDS)?.max(BASELINE_RECORDS + 1);
    let rounds = count_from_env("MYCO_PAGES_ROUNDS", DEFAULT_ROUNDS)?;
    let pair = seeded_pair("pages", BASELINE_RECORDS, total)?;
    let small_paths = pages(
        &pair.small_pod.pod,
        &pair.small.signatures[BASELINE_RECORDS / 2].1.to_string(),
    );
    let big_paths = pages(
        &pair.big_pod.pod,
        &pair.big.signatures[total / 2].1.to_string(),
    );
    let (mut small_daemon, mut big_daemon) = pair.start()?;
    let mut first_count = serde_json::Map::new();
    for (daemon, pod, size) in [
        (&small_daemon, &pair.small_pod.pod, "baseline"),
        (&big_daemon, &pair.big_pod.pod, "big"),
    ] {
        let started = Instant::now();
        ask(daemon, "transparency", &format!("/pods/{pod}/page"))?;
        let ms = started.elapsed().as_millis() as u64;
        eprintln!("pages: counting the {size} pod's figures the first time took {ms} ms");
        first_count.insert(format!("{size}_ms"), ms.into());
    }
    eprintln!("pages: {rounds} rounds of each page on each daemon, alternating…");
    let timings = alternate(
        "pages",
        (&small_daemon, &small_paths),
        (&big_daemon, &big_paths),
        rounds,
        ask,
    )?;
    stop(&mut small_daemon)?;
    stop(&mut big_daemon)?;
    let run = Run {
        bench: "pages",
        records: total,
        baseline_records: BASELINE_RECORDS,
        rounds,
        goal_ratio: GOAL_RATIO,
    };
    let mut out = report(&run, &big_paths, &timings);
    out["first_count_of_the_figures"] = serde_json::Value::Object(first_count);
    Ok(out)
}
