//! Latency of the same requests on a big pod and a small one, measured in one run on two
//! daemons side by side, alternating round by round so both see the same machine: what the
//! `reads` and `pages` benches share. The small pod is the baseline; each request's figure is
//! the ratio of its medians.

use std::time::Instant;

use anyhow::Context;
use myco_node::devnet::process::Daemon;

use crate::bench::{seed, Seeded, SoloPod};

/// Two one-founder pods, seeded offline with stories by the daemon's own write path: the
/// baseline's small one and the big one.
pub struct Pair {
    /// The small pod (the baseline).
    pub small_pod: SoloPod,
    /// The big pod.
    pub big_pod: SoloPod,
    /// What the small pod was seeded with.
    pub small: Seeded,
    /// What the big pod was seeded with.
    pub big: Seeded,
}

/// Founds the two pods of `bench` and seeds `baseline` stories in one and `total` in the
/// other, reporting progress on stderr.
pub fn seeded_pair(bench: &str, baseline: usize, total: usize) -> anyhow::Result<Pair> {
    eprintln!("{bench}: the daemons create their pods…");
    let small_pod = SoloPod::found(&format!("{bench}-small"))?;
    let big_pod = SoloPod::found(&format!("{bench}-big"))?;
    eprintln!("{bench}: seeding {baseline} stories in the small pod…");
    let small = seed(&small_pod.dir, &small_pod.dna, baseline, |_| {})
        .context("cannot seed the small pod")?;
    eprintln!("{bench}: seeding {total} stories in the big pod…");
    let big = seed(&big_pod.dir, &big_pod.dna, total, |n| {
        eprintln!("{bench}:   {n} of {total} stored")
    })
    .context("cannot seed the big pod")?;
    Ok(Pair {
        small_pod,
        big_pod,
        small,
        big,
    })
}

impl Pair {
    /// Starts both daemons: (small, big).
    pub fn start(&self) -> anyhow::Result<(Daemon, Daemon)> {
        let small = self
            .small_pod
            .start()
            .context("cannot start the small pod's daemon")?;
        let big = self
            .big_pod
            .start()
            .context("cannot start the big pod's daemon")?;
        Ok((small, big))
    }
}

/// One request's latencies, in µs.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// The median.
    pub median_us: f64,
    /// The 95th percentile.
    pub p95_us: f64,
}

fn timing(mut micros: Vec<f64>) -> Timing {
    micros.sort_by(f64::total_cmp);
    Timing {
        median_us: micros[micros.len() / 2],
        p95_us: micros[micros.len() * 95 / 100],
    }
}

/// Named requests: a name, and the path asked of each daemon.
pub type Requests = Vec<(&'static str, String)>;

/// Asks each request of both daemons `rounds` times after a warm-up (at most 20 rounds),
/// alternating between them; `ask` makes one request and checks its answer is a full one.
/// Returns (small, big) per request, and reports each on stderr under `bench`.
pub fn alternate(
    bench: &str,
    small: (&Daemon, &Requests),
    big: (&Daemon, &Requests),
    rounds: usize,
    ask: impl Fn(&Daemon, &str, &str) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<(Timing, Timing)>> {
    let mut out = Vec::new();
    for ((name, small_path), (_, big_path)) in small.1.iter().zip(big.1) {
        for _ in 0..rounds.min(20) {
            ask(small.0, name, small_path).with_context(|| format!("cannot ask {small_path}"))?;
            ask(big.0, name, big_path).with_context(|| format!("cannot ask {big_path}"))?;
        }
        let (mut at_small, mut at_big) = (Vec::new(), Vec::new());
        for _ in 0..rounds.max(1) {
            let started = Instant::now();
            ask(small.0, name, small_path)?;
            at_small.push(started.elapsed().as_secs_f64() * 1e6);
            let started = Instant::now();
            ask(big.0, name, big_path)?;
            at_big.push(started.elapsed().as_secs_f64() * 1e6);
        }
        let (small_timing, big_timing) = (timing(at_small), timing(at_big));
        eprintln!(
            "{bench}:   {name}: median {:.0} µs at N, {:.0} µs at 1k (p95 {:.0} and {:.0})",
            big_timing.median_us, small_timing.median_us, big_timing.p95_us, small_timing.p95_us
        );
        out.push((small_timing, big_timing));
    }
    Ok(out)
}

/// What was measured, for a bench's report.
pub struct Run<'a> {
    /// The bench's name.
    pub bench: &'a str,
    /// Records in the big pod.
    pub records: usize,
    /// Records in the baseline's pod.
    pub baseline_records: usize,
    /// Rounds per request.
    pub rounds: usize,
    /// The goal: no median ratio above it.
    pub goal_ratio: f64,
}

/// The bench's report: per request its medians and p95s at both sizes and their ratio, and
/// the worst ratio (also printed on stderr).
pub fn report(run: &Run, requests: &Requests, timings: &[(Timing, Timing)]) -> serde_json::Value {
    let mut report = serde_json::Map::new();
    report.insert("bench".into(), run.bench.into());
    report.insert("records".into(), run.records.into());
    report.insert("baseline_records".into(), run.baseline_records.into());
    report.insert("rounds".into(), run.rounds.into());
    report.insert(
        "baseline".into(),
        format!(
            "the same requests on a pod of {} records, on a daemon running beside it, same run",
            run.baseline_records
        )
        .into(),
    );
    report.insert("goal_ratio".into(), run.goal_ratio.into());
    let mut worst: f64 = 0.0;
    for ((name, _), (small, big)) in requests.iter().zip(timings) {
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
    eprintln!(
        "{}: worst ratio {worst:.2} (goal ≤ {})",
        run.bench, run.goal_ratio
    );
    serde_json::Value::Object(report)
}
