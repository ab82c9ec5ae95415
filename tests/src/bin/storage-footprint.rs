//! `storage-footprint`: TARGETS.md P9, a daemon's store on disk after churn, against the live
//! data it holds (goal ≤ 2.0×, raised from 2.5× by issue #12).
//!
//! How it runs:
//!
//! 1. `myco init` makes an agent; its daemon founds a one-founder `territory-dk` pod and stops
//!    ([`myco_tests::bench::SoloPod`]).
//! 2. `MYCO_STORAGE_RECORDS` (50 000 by default) stories are appended to its chain offline,
//!    built by the daemon's own write path ([`myco_tests::bench::seed`]).
//! 3. Churn: the daemon is started and deletes `MYCO_STORAGE_DELETE_PERCENT` (50 by default)
//!    of them through its API, `POST /pods/{pod}/delete`, one by one. Each is a signed Delete,
//!    and the engine purges the story's entry bytes from the store. The daemon stops cleanly.
//! 4. Live data: every record the store now holds, at its wire size (purged stories keep
//!    their signed action only). On disk: the files of `<data-dir>/store/`, by their length
//!    and by the blocks the file system gave them.
//! 5. Baseline, same run: the same live records appended afresh to an empty sled store, in
//!    batches as sync appends them: what the store costs with no churn behind it.
//!
//! Progress goes to stderr; the last stdout line is one JSON object: `records`, `deleted`,
//! `live_bytes`, `disk_bytes`, `ratio` (disk over live), `fresh_disk_bytes`, `fresh_ratio`,
//! `goal_ratio`, and `rss_kib_after_churn`, the daemon's memory once its API writes are over.
//!
//! ```sh
//! cargo build --release -p myco-node && cargo run --release -p myco-tests --bin storage-footprint
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use myco_dna::Record;
use myco_node::api::types::{DeleteRequest, Written};
use myco_node::datadir::{DataDir, DataPaths};
use myco_node::devnet::DEVNET_PASSPHRASE;
use myco_node::store::{ChainId, SqliteStore, Store, StoreKey};
use myco_tests::bench::{bench_main, count_from_env, disk_usage, seed, stop, SoloPod, SEED_BATCH};

const USAGE: &str = "\
storage-footprint: TARGETS.md P9, a daemon's store on disk after churn (stories written, then
deleted and purged through the API) against the live data it holds, and against the same live
records written afresh to an empty store (the baseline, same run).

usage: storage-footprint [--help]

environment:
  MYCO_STORAGE_RECORDS         stories written (default 50000)
  MYCO_STORAGE_DELETE_PERCENT  share of them deleted through the API (default 50)
  MYCO_BIN                     the myco binary (default: `myco` next to this executable)

example:
  cargo build --release -p myco-node && cargo run --release -p myco-tests --bin storage-footprint
  MYCO_STORAGE_RECORDS=5000 cargo run --release -p myco-tests --bin storage-footprint";

/// Default number of stories written.
const DEFAULT_RECORDS: usize = 50_000;
/// Default share of them deleted, in percent.
const DEFAULT_DELETE_PERCENT: usize = 50;
/// TARGETS.md P9's goal, for the report.
const GOAL_RATIO: f64 = 2.0;
/// Records read from the store at a time.
const READ_BATCH: usize = 4096;

fn main() -> ExitCode {
    bench_main("storage-footprint", USAGE, run)
}

fn say(message: impl std::fmt::Display) {
    eprintln!("storage-footprint: {message}");
}

fn run() -> anyhow::Result<serde_json::Value> {
    let total = count_from_env("MYCO_STORAGE_RECORDS", DEFAULT_RECORDS)?;
    let percent = count_from_env("MYCO_STORAGE_DELETE_PERCENT", DEFAULT_DELETE_PERCENT)?;
    if percent > 100 {
        bail!("MYCO_STORAGE_DELETE_PERCENT={percent} is over 100; set it to 0–100");
    }
    say("the daemon creates the pod…");
    let solo = SoloPod::found("storage")?;
    say(format_args!("writing {total} stories offline…"));
    let seeded = seed(&solo.dir, &solo.dna, total, |n| {
        say(format_args!("{n} written"))
    })?;

    let deletes = total * percent / 100;
    say(format_args!("deleting {deletes} of them through the API…"));
    let mut daemon = solo.start().context("cannot start the daemon")?;
    let started = Instant::now();
    let mut last_report = Instant::now();
    // Every other story first, so the purged entries are spread over the whole log.
    let targets = seeded
        .signatures
        .iter()
        .step_by(2)
        .chain(seeded.signatures.iter().skip(1).step_by(2))
        .take(deletes);
    for (n, (_, hash, _)) in targets.enumerate() {
        let _: Written = daemon
            .api
            .post(
                &format!("/pods/{}/delete", solo.pod),
                &DeleteRequest {
                    target: hash.to_string(),
                },
            )
            .with_context(|| format!("the daemon refused to delete story {hash}"))?;
        if last_report.elapsed() >= Duration::from_secs(2) {
            last_report = Instant::now();
            say(format_args!("{} deleted", n + 1));
        }
    }
    let churn_seconds = started.elapsed().as_secs_f64();
    // Memory once the writes are over and the daemon is idle: it must not keep what the
    // writes passed through.
    std::thread::sleep(Duration::from_secs(2));
    let rss_kib_after_churn = daemon.process.rss_kib();
    stop(&mut daemon)?;

    let paths = DataPaths::new(&solo.dir);
    let store_dir = paths.store_dir();
    let live = live_records(&solo, &paths)?;
    let live_bytes: u64 = live.iter().map(|r| r.to_bytes().len() as u64).sum();
    let disk = disk_usage(&store_dir)?;

    say("baseline: the same live records written afresh to an empty store…");
    let fresh_dir = solo.root().join("fresh-store");
    {
        let mut fresh = SqliteStore::open(&fresh_dir, store_key(&paths)?)
            .context("cannot open the baseline store")?;
        let mut heads = myco_node::store::Heads::new();
        for batch in live.chunks(SEED_BATCH) {
            let batch = myco_node::store::ValidRecord::check_all(batch.to_vec(), &mut heads)
                .map_err(|(at, e)| {
                    anyhow::anyhow!("live record {at} of a batch is invalid: {e}")
                })?;
            fresh
                .append_batch(&batch)
                .context("the baseline store refused the live records")?;
        }
    }
    let fresh = disk_usage(&fresh_dir)?;

    let ratio = |bytes: u64| (bytes as f64 / live_bytes.max(1) as f64 * 100.0).round() / 100.0;
    say(format_args!(
        "{} MiB on disk for {} MiB of live records: {:.2}× (fresh store {:.2}×; goal {GOAL_RATIO}×)",
        disk.apparent / (1 << 20),
        live_bytes / (1 << 20),
        ratio(disk.apparent),
        ratio(fresh.apparent)
    ));
    Ok(serde_json::json!({
        "bench": "storage-footprint",
        "records": total,
        "deleted": deletes,
        "live_records": live.len(),
        "live_bytes": live_bytes,
        "disk_bytes": disk.apparent,
        "disk_allocated_bytes": disk.allocated,
        "ratio": ratio(disk.apparent),
        "ratio_allocated": ratio(disk.allocated),
        "baseline": "the same live records appended afresh to an empty store, same run",
        "fresh_disk_bytes": fresh.apparent,
        "fresh_ratio": ratio(fresh.apparent),
        "goal_ratio": GOAL_RATIO,
        "churn_seconds": (churn_seconds * 10.0).round() / 10.0,
        "api_writes": deletes,
        "rss_kib_after_churn": rss_kib_after_churn,
    }))
}

/// The agent's store key (the devnet passphrase unlocks its agent key).
fn store_key(paths: &DataPaths) -> anyhow::Result<StoreKey> {
    let key = paths
        .keystore()
        .unlock(DEVNET_PASSPHRASE.as_bytes())
        .context("cannot unlock the agent's key with the devnet passphrase")?;
    Ok(StoreKey::derive(&key))
}

/// Every record of the agent's chain in the pod, as the store holds it now.
fn live_records(solo: &SoloPod, paths: &DataPaths) -> anyhow::Result<Vec<Record>> {
    let key = paths
        .keystore()
        .public_key()
        .context("cannot read the agent's public key")?;
    let chain = ChainId {
        pod: solo.dna.dna_hash(),
        author: key,
    };
    let data = DataDir::open(DataPaths::new(&solo.dir))
        .context("cannot lock the data dir; did the daemon stop?")?;
    let store = data
        .open_store(&store_key(paths)?)
        .context("cannot open the churned store")?;
    let mut records = Vec::new();
    loop {
        let next = store
            .range(&chain, records.len() as u64, READ_BATCH)
            .context("cannot read the chain")?;
        if next.is_empty() {
            break;
        }
        records.extend(next);
    }
    Ok(records)
}
