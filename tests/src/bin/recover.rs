//! `recover`: `myco recover` with real processes. Daemon A holds a chain of N content records
//! (100,000 by default) in the `territory-dk` pod, and member B holds a copy. A's data dir is
//! then lost: it is recreated from A's recovery phrase (`myco init --phrase-file`), A is
//! started on it, and `POST /recover` looks up A's registry pointer, fetches the pod's DNA from
//! B, and sync brings A's chain back from B, every record checked. The figure is the time
//! from `POST /recover` until `GET /recover` says the pod is anchored and A holds its whole
//! chain; the goal is 10 s for 100k.
//!
//! How it runs:
//!
//! 1. `myco init` makes agents A and B; the pod's manifest names both as founders. A creates
//!    the pod, is stopped, and N content records are appended to its chain offline (as the
//!    `catchup-daemons` bench does).
//! 2. Baseline, in the same run: a bare `verify_strict` loop over the N records' signatures.
//! 3. A bootstrap peer, A and B are started; B joins and catches up A's chain; A publishes
//!    its registry pointer.
//! 4. A is stopped, its data dir removed, and recreated from its phrase; A starts, and the
//!    clock starts just before `POST /recover`. `GET /recover` is read every 50 ms.
//!
//! Progress goes to stderr; the last stdout line is one JSON object: `records`, `seconds`,
//! `records_per_s`, `baseline_records_per_s`, `ratio`, `goal_seconds`, and `start_seconds`
//! (until `POST /recover` answered: the registry lookup, the DNA fetch, the join).
//!
//! ```sh
//! cargo build --release -p myco-node && cargo run --release -p myco-tests --bin recover
//! ```

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use myco_node::api::types::{RecordView, RecoverStarted, RecoveryView};
use myco_node::devnet::process::{init_agent, loopback_tcp, start_bootstrap, start_daemon, Daemon};
use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use myco_tests::bench::{
    bench_main, count_from_env, create_pod, metric, myco_binary, seed, verify_strict_count,
    wait_for, POLL,
};

const USAGE: &str = "\
recover: `myco recover` between real `myco run` daemons on loopback.

Daemon A holds a chain of N content records of the territory-dk pod and member B a copy; A's
data dir is lost and recreated from its recovery phrase, and A recovers its chain from B.
Measures the time from POST /recover until A holds its whole chain again (goal: 100,000
records in 10 s), and a bare verify_strict loop over the same records as the baseline.
Progress goes to stderr; the last stdout line is JSON: records, seconds, records_per_s,
baseline_records_per_s, ratio, goal_seconds.

usage: recover [--help]

environment:
  MYCO_RECOVER_RECORDS  content records in A's chain (default 100000)
  MYCO_BIN              the myco binary (default: `myco` next to this executable)
  MYCO_DEVNET_LOG       RUST_LOG of the daemons (default info), e.g. myco_node=debug

example:
  cargo build --release -p myco-node && cargo run --release -p myco-tests --bin recover
  MYCO_RECOVER_RECORDS=5000 cargo run --release -p myco-tests --bin recover";

/// Default number of content records in A's chain.
const DEFAULT_RECORDS: usize = 100_000;
/// The goal, for the report.
const GOAL_SECONDS: u64 = 10;
/// Recovery fails when A's chain does not grow for this long.
const STALL: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    bench_main("recover", USAGE, run)
}

fn say(message: impl std::fmt::Display) {
    eprintln!("recover: {message}");
}

fn run() -> anyhow::Result<serde_json::Value> {
    let total = count_from_env("MYCO_RECOVER_RECORDS", DEFAULT_RECORDS)?;
    let binary = myco_binary()?;
    let root = tempfile::Builder::new()
        .prefix("myco-recover-")
        .tempdir()
        .context("cannot create a temp dir; check TMPDIR and free space")?;
    bench(&binary, root.path(), total)
}

/// Runs `myco ARGS` on data dir `dir`; its stdout, or why it failed.
fn myco(binary: &Path, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .env_remove("MYCO_PASSPHRASE")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .context("cannot run myco")?;
    if !output.status.success() {
        bail!(
            "`myco {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn bench(binary: &Path, root: &Path, total: usize) -> anyhow::Result<serde_json::Value> {
    let (dir_a, dir_b) = (root.join("a"), root.join("b"));
    let key_a = init_agent(binary, &dir_a, DEVNET_PASSPHRASE).context("`myco init` for A")?;
    let key_b = init_agent(binary, &dir_b, DEVNET_PASSPHRASE).context("`myco init` for B")?;
    let (_, template) = TEMPLATES
        .iter()
        .find(|(name, _)| *name == "territory-dk")
        .ok_or_else(|| anyhow!("the devnet templates no longer include territory-dk"))?;
    let manifest = dna_with_founders(template, &[key_a, key_b], "recover");
    let dna = myco_zomes::load_dna(&manifest).context("the pod's manifest")?;
    let region = dna.properties.allowed_regions.first().cloned();
    let (mut bootstrap, address) =
        start_bootstrap(binary, &root.join("boot")).context("cannot start the bootstrap peer")?;
    let start = |name: &str, dir: &Path, key: myco_dna::KeyHash| -> anyhow::Result<Daemon> {
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
        .with_context(|| format!("cannot start daemon {name}"))
    };

    say("A creates the pod…");
    let mut a = start("A", &dir_a, key_a)?;
    create_pod(&a.api, &manifest).context("A cannot create the pod")?;
    if !a.process.stop() {
        bail!(
            "daemon A did not stop cleanly; its log:\n{}",
            a.process.log_tail()
        );
    }
    say(format_args!(
        "signing and storing {total} records in A's chain…"
    ));
    let seeded = seed(&dir_a, &dna, total, |n| {
        say(format_args!("  {n} of {total} stored"))
    })
    .context("cannot seed A's store")?;

    say("baseline: verify_strict over the same records…");
    let started = Instant::now();
    if verify_strict_count(&seeded.signatures) != total {
        bail!("the baseline refused some signatures: the seeded records are broken");
    }
    let baseline_rate = total as f64 / started.elapsed().as_secs_f64();
    say(format_args!("baseline: {baseline_rate:.0} verify_strict/s"));

    a = start("A", &dir_a, key_a)?;
    wait_for(&mut a, Duration::from_secs(60), "A to announce", |api| {
        Ok(metric(api, "peers_connected")? >= 1 && metric(api, "registry_published_total")? >= 1)
    })?;
    std::thread::sleep(Duration::from_secs(1));
    let mut b = start("B", &dir_b, key_b)?;
    create_pod(&b.api, &manifest).context("B cannot join the pod")?;
    say("B catches up A's chain…");
    let goal = 1 + seeded.chain_len;
    wait_for(
        &mut b,
        Duration::from_secs(300),
        "B to hold A's chain",
        |api| Ok(metric(api, "records_accepted_total")? >= goal),
    )?;

    let pass = root.join("passphrase");
    std::fs::write(&pass, DEVNET_PASSPHRASE)?;
    let shown: serde_json::Value = serde_json::from_str(&myco(
        binary,
        &dir_a,
        &[
            "--json",
            "key",
            "phrase",
            "--passphrase-file",
            pass.to_str().unwrap_or_default(),
        ],
    )?)?;
    let phrase = root.join("phrase");
    std::fs::write(
        &phrase,
        shown["recovery_phrase"]
            .as_str()
            .ok_or_else(|| anyhow!("no phrase shown"))?,
    )?;
    say("A loses its data dir and is recreated from its phrase…");
    a.process.stop();
    std::fs::remove_dir_all(&dir_a).context("cannot remove A's data dir")?;
    myco(
        binary,
        &dir_a,
        &[
            "init",
            "--phrase-file",
            phrase.to_str().unwrap_or_default(),
            "--passphrase-file",
            pass.to_str().unwrap_or_default(),
        ],
    )?;
    a = start("A", &dir_a, key_a)?;
    wait_for(&mut a, Duration::from_secs(60), "A to connect", |api| {
        Ok(metric(api, "peers_connected")? >= 1)
    })?;

    say("A recovers…");
    let started = Instant::now();
    let begun: RecoverStarted = a
        .api
        .post_slow("/recover", &serde_json::json!({}), Duration::from_secs(150))
        .context("POST /recover failed")?;
    let start_secs = started.elapsed().as_secs_f64();
    if !begun.pods.iter().any(|p| p.status == "joined") {
        bail!(
            "A's recovery found no pod to join: {begun:?}; A's log:\n{}",
            a.process.log_tail()
        );
    }
    let (mut last, mut progress, mut report) = (0u64, Instant::now(), Instant::now());
    loop {
        let view: RecoveryView = a.api.get("/recover").context("GET /recover failed")?;
        let records: u64 = view.pods.iter().map(|p| p.records).sum();
        if view.pods.iter().all(|p| p.anchored) && records >= seeded.chain_len {
            break;
        }
        if records > last {
            (last, progress) = (records, Instant::now());
        } else if progress.elapsed() > STALL {
            bail!(
                "recovery stalled at {records} of {} records; A's log:\n{}",
                seeded.chain_len,
                a.process.log_tail()
            );
        }
        if report.elapsed() >= Duration::from_secs(1) {
            report = Instant::now();
            say(format_args!(
                "{:5.1} s: A holds {records} of {} records",
                started.elapsed().as_secs_f64(),
                seeded.chain_len
            ));
        }
        std::thread::sleep(POLL);
    }
    let secs = started.elapsed().as_secs_f64();
    let head: RecordView = a
        .api
        .get(&format!("/records/{}", seeded.head))
        .context("cannot ask A for its head record")?;
    if !head.stored || !head.entry {
        bail!(
            "A says it recovered but does not store its head {} with its entry",
            seeded.head
        );
    }
    let clean = a.process.stop() & b.process.stop() & bootstrap.stop();
    let rate = seeded.chain_len as f64 / secs;
    Ok(serde_json::json!({
        "bench": "recover",
        "records": seeded.chain_len,
        "seconds": (secs * 1000.0).round() / 1000.0,
        "start_seconds": (start_secs * 1000.0).round() / 1000.0,
        "records_per_s": rate.round(),
        "baseline_records_per_s": baseline_rate.round(),
        "ratio": ((rate / baseline_rate) * 1000.0).round() / 1000.0,
        "goal_seconds": GOAL_SECONDS,
        "clean_shutdown": clean,
        "baseline": "ed25519_dalek verify_strict over the same records, same run",
    }))
}
