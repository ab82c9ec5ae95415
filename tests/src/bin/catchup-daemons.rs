//! `catchup-daemons`: TARGETS.md P3 with real processes. Two `myco run` daemons on loopback;
//! A holds a chain of N content records (100,000 by default) in the `territory-dk` pod, B
//! joins the pod with an empty store and catches up by sync. The figure is the time from B's
//! join (`POST /pods`) until B stores every record of A's chain; the goal is 10 s for 100k.
//!
//! How it runs:
//!
//! 1. `myco init` makes agents A and B; the pod's manifest (from the `territory-dk` template)
//!    names both as founders.
//! 2. A is started once and creates the pod through its API, so the daemon writes its own
//!    Genesis and pods list; then A is stopped cleanly.
//! 3. With A stopped, its sled store is opened directly and N content records, built by the
//!    daemon's own write path (`Write::Content`, as `POST /pods/{pod}/content` builds them) and
//!    signed with A's key (unlocked with the devnet passphrase), are appended to A's chain in
//!    large batches.
//! 4. Baseline, in the same run: a bare `verify_strict` loop over the N records' signatures.
//! 5. A bootstrap peer and A are started; once A is up and announced, B is started, and B
//!    creates the pod (it is a founder). The clock starts just before that call. B's
//!    `/metrics` (`myco_records_accepted_total`) is read every 50 ms until B holds A's whole
//!    chain plus its own Genesis; then `GET /records/{hash}` confirms B stores A's head.
//!
//! Progress goes to stderr; the last stdout line is one JSON object: `records`, `seconds`,
//! `records_per_s`, `baseline_records_per_s`, `ratio` and `goal_seconds`, and for finding where
//! the time goes: `first_record_seconds` (A's Genesis, which A pushes on meeting B),
//! `second_record_seconds` (the ranges start), `transfer_records_per_s` (from then on),
//! `cpu_seconds_a` / `cpu_seconds_b` (during the catch-up, Linux only), `server_sync_requests`
//! (every sync request A answered), `client_failed_requests` and `record_bytes`. Every process
//! is stopped (SIGTERM, then SIGKILL) when the bench ends, also on errors.
//!
//! ```sh
//! cargo build --release -p myco-node && cargo run --release -p myco-tests --bin catchup-daemons
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use myco_node::api::types::RecordView;
use myco_node::devnet::process::{
    init_agent, loopback_tcp, start_bootstrap, start_daemon, Process,
};
use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use myco_tests::bench::{
    bench_main, count_from_env, cpu_seconds, create_pod, metric, myco_binary, seed,
    verify_strict_count, wait_for, POLL,
};

const USAGE: &str = "\
catchup-daemons: TARGETS.md P3, catch-up sync between two real `myco run` daemons on loopback.

Daemon A holds a chain of N content records of the territory-dk pod; daemon B joins the pod
with an empty store. Measures the time from B's join until B stores all of A's chain (goal:
100,000 records in 10 s), and a bare verify_strict loop over the same records as the baseline.
Progress goes to stderr; the last stdout line is JSON: records, seconds, records_per_s,
baseline_records_per_s, ratio, goal_seconds.

usage: catchup-daemons [--help]

environment:
  MYCO_CATCHUP_RECORDS  content records in A's chain (default 100000)
  MYCO_BIN              the myco binary (default: `myco` next to this executable)
  MYCO_DEVNET_LOG       RUST_LOG of the daemons (default info), e.g. myco_node=debug
  MYCO_CATCHUP_KEEP     set to 1 to keep the temp dir (data dirs, daemon logs) for inspection

example:
  cargo build --release -p myco-node && cargo run --release -p myco-tests --bin catchup-daemons
  MYCO_CATCHUP_RECORDS=5000 cargo run --release -p myco-tests --bin catchup-daemons";

/// Default number of content records in A's chain.
const DEFAULT_RECORDS: usize = 100_000;
/// Catch-up fails when B's count does not grow for this long.
const STALL: Duration = Duration::from_secs(60);
/// The goal of TARGETS.md P3, for the report.
const GOAL_SECONDS: u64 = 10;
/// Records B writes itself when it joins: its Genesis.
const OWN_RECORDS: u64 = 1;

fn main() -> ExitCode {
    bench_main("catchup-daemons", USAGE, run)
}

fn say(message: impl std::fmt::Display) {
    eprintln!("catchup-daemons: {message}");
}

fn run() -> anyhow::Result<serde_json::Value> {
    let total = count_from_env("MYCO_CATCHUP_RECORDS", DEFAULT_RECORDS)?;
    let binary = myco_binary()?;
    let root = tempfile::Builder::new()
        .prefix("myco-catchup-")
        .tempdir()
        .context("cannot create a temp dir; check TMPDIR and free space")?;
    let keep = std::env::var("MYCO_CATCHUP_KEEP").is_ok_and(|v| v == "1");
    say(format_args!(
        "{total} records, myco at {}, data in {}",
        binary.display(),
        root.path().display()
    ));
    let result = bench(&binary, root.path(), total);
    if keep {
        let path = root.keep();
        say(format_args!(
            "kept {} (MYCO_CATCHUP_KEEP=1)",
            path.display()
        ));
    }
    result
}

fn bench(binary: &Path, root: &Path, total: usize) -> anyhow::Result<serde_json::Value> {
    let (dir_a, dir_b) = (root.join("a"), root.join("b"));
    let key_a = init_agent(binary, &dir_a, DEVNET_PASSPHRASE).context("`myco init` for A")?;
    let key_b = init_agent(binary, &dir_b, DEVNET_PASSPHRASE).context("`myco init` for B")?;
    let (_, template) = TEMPLATES
        .iter()
        .find(|(name, _)| *name == "territory-dk")
        .ok_or_else(|| anyhow!("the devnet templates no longer include territory-dk"))?;
    let manifest = dna_with_founders(template, &[key_a, key_b], "catchup");
    let dna = myco_zomes::load_dna(&manifest).context("the catch-up pod's manifest")?;
    let pod = dna.dna_hash();
    let region = dna.properties.allowed_regions.first().cloned();

    // Every process handle lives in this function: it is stopped when the function returns,
    // on success or error, before the caller removes the temp dir.
    let (mut bootstrap, address) =
        start_bootstrap(binary, &root.join("boot")).context("cannot start the bootstrap peer")?;

    let start = |name: &str, dir: &Path, key: myco_dna::KeyHash| {
        start_daemon(
            binary,
            name,
            dir,
            DEVNET_PASSPHRASE,
            &address,
            key,
            region.as_deref(),
            &loopback_tcp(),
        )
    };
    // A creates the pod once, so its daemon writes its own Genesis and pods list.
    say("A creates the pod…");
    let mut a = start("A", &dir_a, key_a).context("cannot start daemon A")?;
    create_pod(&a.api, &manifest).context("A cannot create the pod")?;
    if !a.process.stop() {
        bail!(
            "daemon A did not stop cleanly after creating the pod; its log:\n{}",
            a.process.log_tail()
        );
    }

    say(format_args!(
        "signing and storing {total} records in A's chain…"
    ));
    let started = Instant::now();
    let seeded = seed(&dir_a, &dna, total, |n| {
        say(format_args!("  {n} of {total} stored"))
    })
    .context("cannot seed A's store")?;
    say(format_args!(
        "seeded in {:.1} s; A's chain now has {} records",
        started.elapsed().as_secs_f64(),
        seeded.chain_len
    ));

    say("baseline: verify_strict over the same records…");
    let started = Instant::now();
    let verified = verify_strict_count(&seeded.signatures);
    let baseline_secs = started.elapsed().as_secs_f64();
    if verified != total {
        bail!(
            "the baseline refused {} of {total} signatures: the seeded records are broken",
            total - verified
        );
    }
    let baseline_rate = total as f64 / baseline_secs;
    say(format_args!("baseline: {baseline_rate:.0} verify_strict/s"));

    say("restarting A with its full chain…");
    let started = Instant::now();
    a = start("A", &dir_a, key_a).context("cannot restart daemon A on its seeded store")?;
    // Up, connected to the bootstrap peer and announced (it publishes its registry pointer
    // on the first tick after subscribing to its pods).
    wait_for(
        &mut a,
        Duration::from_secs(60),
        "A to connect and announce",
        |api| {
            Ok(metric(api, "peers_connected")? >= 1
                && metric(api, "registry_published_total")? >= 1)
        },
    )?;
    // Its rendezvous registration is sent on the same tick: give it a moment to land.
    std::thread::sleep(Duration::from_secs(1));
    say(format_args!(
        "A is up in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    let mut b = start("B", &dir_b, key_b).context("cannot start daemon B")?;
    wait_for(&mut b, Duration::from_secs(60), "B to connect", |api| {
        Ok(metric(api, "peers_connected")? >= 1)
    })?;

    say("B joins; catching up…");
    let goal = OWN_RECORDS + seeded.chain_len;
    let cpu_before = (cpu_seconds(&a.process), cpu_seconds(&b.process));
    let started = Instant::now();
    create_pod(&b.api, &manifest).context("B cannot join the pod")?;
    // When B stored the first record of A's chain, and when it held more than that one
    // (A pushes its Genesis on meeting B; the ranges follow).
    let (mut first, mut flowing) = (None, None);
    let (mut last_count, mut last_progress, mut last_report) = (0, Instant::now(), Instant::now());
    loop {
        let counts = metric(&b.api, "records_accepted_total")
            .and_then(|held| Ok((held, metric(&b.api, "records_rejected_total")?)));
        let (held, rejected) = match counts {
            Ok(counts) => counts,
            Err(error) if !b.process.is_running() => {
                return Err(error.context(format!(
                    "daemon B exited during catch-up; the end of its log:\n{}",
                    b.process.log_tail()
                )))
            }
            Err(error) => return Err(error),
        };
        let elapsed = started.elapsed();
        if rejected > 0 {
            bail!(
                "B refused {rejected} records of A's chain (the seeded records are not what the daemon accepts); B's log:\n{}",
                b.process.log_tail()
            );
        }
        if first.is_none() && held > OWN_RECORDS {
            first = Some(elapsed);
        }
        if flowing.is_none() && held > OWN_RECORDS + 1 {
            flowing = Some(elapsed);
        }
        if held >= goal {
            break;
        }
        if held > last_count {
            (last_count, last_progress) = (held, Instant::now());
        } else if last_progress.elapsed() > STALL {
            bail!(
                "catch-up stalled at {} of {} records for {} s; A's log:\n{}\nB's log:\n{}\n\
                 rerun with MYCO_CATCHUP_KEEP=1 MYCO_DEVNET_LOG=myco_node=debug to keep the logs",
                held.saturating_sub(OWN_RECORDS),
                seeded.chain_len,
                STALL.as_secs(),
                a.process.log_tail(),
                b.process.log_tail()
            );
        }
        if !a.process.is_running() || !b.process.is_running() {
            bail!(
                "a daemon exited during catch-up; A's log:\n{}\nB's log:\n{}",
                a.process.log_tail(),
                b.process.log_tail()
            );
        }
        if last_report.elapsed() >= Duration::from_secs(1) {
            last_report = Instant::now();
            say(format_args!(
                "{:5.1} s: B holds {} of {} records",
                elapsed.as_secs_f64(),
                held.saturating_sub(OWN_RECORDS),
                seeded.chain_len
            ));
        }
        std::thread::sleep(POLL);
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu =
        |before: Option<f64>, process: &Process| Some(round3(cpu_seconds(process)? - before?));
    let (cpu_a, cpu_b) = (cpu(cpu_before.0, &a.process), cpu(cpu_before.1, &b.process));
    let first_secs = first.map_or(secs, |d| d.as_secs_f64());
    let flowing_secs = flowing.map_or(secs, |d| d.as_secs_f64());
    say(format_args!(
        "{secs:.2} s: B holds all {} records (the first after {first_secs:.2} s, more than one after {flowing_secs:.2} s)",
        seeded.chain_len
    ));
    let head: RecordView = b
        .api
        .get(&format!("/records/{}", seeded.head))
        .context("cannot ask B for A's head record")?;
    if !head.stored || !head.entry {
        bail!(
            "B counts enough records but does not store A's head {} with its entry",
            seeded.head
        );
    }

    // Requests A served (heights, ranges, pushes) and B's failed ones: against the least
    // possible, about one range per `sync_batch` records, they show duplicate or lost work.
    let served = metric(&a.api, "sync_requests_total")?;
    let failed = metric(&b.api, "sync_requests_failed_total")?;
    let clean = b.process.stop() & a.process.stop() & bootstrap.stop();
    if !clean {
        say("warning: a process did not stop cleanly within its grace period");
    }

    let rate = total as f64 / secs;
    let transfer_secs = secs - flowing_secs;
    Ok(serde_json::json!({
        "bench": "catchup-daemons",
        "records": total,
        "chain_records": seeded.chain_len,
        "record_bytes": (seeded.record_bytes * 10.0).round() / 10.0,
        "seconds": round3(secs),
        "records_per_s": rate.round(),
        "baseline_records_per_s": baseline_rate.round(),
        "ratio": round3(rate / baseline_rate),
        "goal_seconds": GOAL_SECONDS,
        "first_record_seconds": round3(first_secs),
        "second_record_seconds": round3(flowing_secs),
        "transfer_records_per_s": if transfer_secs > 0.0 { (seeded.chain_len.saturating_sub(1) as f64 / transfer_secs).round() } else { 0.0 },
        "cpu_seconds_a": cpu_a,
        "cpu_seconds_b": cpu_b,
        "server_sync_requests": served,
        "client_failed_requests": failed,
        "pod": pod.to_string(),
        "clean_shutdown": clean,
        "baseline": "ed25519_dalek verify_strict over the same records, same run",
    }))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
