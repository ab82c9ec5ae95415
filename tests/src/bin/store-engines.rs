//! `store-engines`: the daemon's store (SQLite) and sled, measured on the same records in one
//! run, against the storage goals of issue #12: what a purge leaves on disk (point 1), what
//! is in clear (point 2), durable group commit (point 3, TARGETS.md P2) and the footprint
//! after churn (point 4, TARGETS.md P9).
//!
//! For each engine, in a fresh temp dir:
//!
//! 1. `MYCO_ENGINES_RECORDS` stories (20 000 by default; ≈ 700-byte entries, each holding a
//!    unique marker) are appended in batches of 256; the rate is timed.
//! 2. Every other story is purged, one by one (as Deletes arriving do); then the store closes.
//! 3. Live data: the wire size of what the store then holds. On disk: its files. Baseline,
//!    same run: the same live records appended afresh to an empty store of the same engine.
//! 4. Every file is read raw: how many purged markers remain in clear, how many live ones
//!    are in clear, and (SQLite) how many purged entries' sealed bytes remain.
//!
//! The last stdout line is one JSON object with both engines' figures.
//!
//! ```sh
//! cargo run --release -p myco-tests --bin store-engines
//! ```

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use myco_dna::{ChainAuthor, DnaHash, Entry, Record, SigningKey, Timestamp, Visibility};
use myco_node::store::{ChainId, SledStore, SqliteStore, Store, StoreKey, ValidRecord};
use myco_tests::bench::{bench_main, count_from_env, disk_usage};
use myco_tests::scan;

const USAGE: &str = "\
store-engines: the SQLite store and sled on the same records in one run: what a purge leaves
on disk, what is in clear, durable group commit, and the footprint after churn.

usage: store-engines [--help]

environment:
  MYCO_ENGINES_RECORDS  stories written to each engine (default 20000)
  MYCO_BENCH_DIR        where the stores are made (default: the system temp dir)

example:
  cargo run --release -p myco-tests --bin store-engines";

const DEFAULT_RECORDS: usize = 20_000;
const BATCH: usize = 256;

fn main() -> ExitCode {
    bench_main("store-engines", USAGE, run)
}

fn marker(i: usize) -> String {
    format!("ENGINE-MARKER-{i:07}-")
}

/// A chain of Genesis and `count` stories of about 700 bytes, each with its marker.
fn stories(count: usize) -> Vec<ValidRecord> {
    let mut author = ChainAuthor::new(SigningKey::from_bytes(&[8; 32]), DnaHash([6; 32]));
    let mut records = vec![author.genesis(Timestamp(1), Vec::new())];
    for i in 0..count {
        let mut text = marker(i);
        while text.len() < 700 {
            text.push_str(" a story told to the territory, word by word.");
        }
        records.push(author.create(
            Timestamp(2 + i as u64),
            "content",
            "content",
            Visibility::Pod,
            Entry(text.into_bytes()),
        ));
    }
    ValidRecord::check_all(records, &mut Default::default())
        .unwrap_or_else(|(at, e)| panic!("story {at} is invalid: {e}"))
}

/// How many of `needles` occur in any file under `dir`.
fn found(dir: &Path, needles: &[Vec<u8>]) -> usize {
    let needles: Vec<&[u8]> = needles.iter().map(Vec::as_slice).collect();
    let found: HashSet<usize> = scan::occurrences(dir, &needles)
        .into_iter()
        .map(|(_, index)| index)
        .collect();
    found.len()
}

struct Figures {
    group_commit_records_per_s: f64,
    purge_per_s: f64,
    live_bytes: u64,
    disk_bytes: u64,
    fresh_disk_bytes: u64,
    purged_in_clear: usize,
    live_in_clear: usize,
    purged_sealed_left: Option<usize>,
}

impl Figures {
    fn json(&self) -> serde_json::Value {
        let ratio =
            |bytes: u64| (bytes as f64 / self.live_bytes.max(1) as f64 * 100.0).round() / 100.0;
        serde_json::json!({
            "group_commit_records_per_s": self.group_commit_records_per_s.round(),
            "purges_per_s": self.purge_per_s.round(),
            "live_bytes": self.live_bytes,
            "disk_bytes": self.disk_bytes,
            "ratio": ratio(self.disk_bytes),
            "fresh_disk_bytes": self.fresh_disk_bytes,
            "fresh_ratio": ratio(self.fresh_disk_bytes),
            "purged_markers_in_clear": self.purged_in_clear,
            "live_markers_in_clear": self.live_in_clear,
            "purged_sealed_entries_left": self.purged_sealed_left,
        })
    }
}

/// Runs the steps on one engine; `open` makes (or reopens) its store in a dir.
fn measure<S: Store>(
    records: &[ValidRecord],
    dir: &Path,
    open: impl Fn(&Path) -> anyhow::Result<S>,
    sealed_form: impl Fn(&Record) -> Option<Vec<u8>>,
) -> anyhow::Result<Figures> {
    let store_dir = dir.join("store");
    let mut store = open(&store_dir)?;
    let started = Instant::now();
    for batch in records.chunks(BATCH) {
        store.append_batch(batch).context("append")?;
    }
    let group_commit_records_per_s = records.len() as f64 / started.elapsed().as_secs_f64();
    let purged: Vec<&ValidRecord> = records.iter().skip(1).step_by(2).collect();
    let sealed: Vec<Vec<u8>> = purged.iter().filter_map(|r| sealed_form(r)).collect();
    let started = Instant::now();
    for record in &purged {
        store.purge_entry(&record.hash()).context("purge")?;
    }
    let purge_per_s = purged.len() as f64 / started.elapsed().as_secs_f64();
    let chain = ChainId::of(&records[0]);
    let live = store.range(&chain, 0, usize::MAX).context("read back")?;
    drop(store);
    let live_bytes = live.iter().map(|r| r.to_bytes().len() as u64).sum();
    let disk_bytes = disk_usage(&store_dir)?.apparent;

    let fresh_dir = dir.join("fresh");
    {
        let mut fresh = open(&fresh_dir)?;
        let live = ValidRecord::check_all(live, &mut Default::default())
            .map_err(|(at, e)| anyhow::anyhow!("live record {at}: {e}"))?;
        for batch in live.chunks(BATCH) {
            fresh.append_batch(batch).context("baseline append")?;
        }
    }
    let fresh_disk_bytes = disk_usage(&fresh_dir)?.apparent;

    let purged_markers: Vec<Vec<u8>> = (0..records.len() - 1)
        .step_by(2)
        .map(|i| marker(i).into_bytes())
        .collect();
    let live_markers: Vec<Vec<u8>> = (1..records.len() - 1)
        .step_by(2)
        .map(|i| marker(i).into_bytes())
        .collect();
    Ok(Figures {
        group_commit_records_per_s,
        purge_per_s,
        live_bytes,
        disk_bytes,
        fresh_disk_bytes,
        purged_in_clear: found(&store_dir, &purged_markers),
        live_in_clear: found(&store_dir, &live_markers),
        purged_sealed_left: (!sealed.is_empty()).then(|| found(&store_dir, &sealed)),
    })
}

fn run() -> anyhow::Result<serde_json::Value> {
    let count = count_from_env("MYCO_ENGINES_RECORDS", DEFAULT_RECORDS)?;
    let parent = std::env::var_os("MYCO_BENCH_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let temp = tempfile::Builder::new()
        .prefix("myco-store-engines-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot make a temp dir in {}", parent.display()))?;
    let records = stories(count);
    let key = StoreKey::derive(&SigningKey::from_bytes(&[5; 32]));

    eprintln!("store-engines: SQLite ({count} stories)…");
    let sqlite = measure(
        &records,
        &temp.path().join("sqlite"),
        |dir| Ok(SqliteStore::open(dir, key.clone())?),
        |record| {
            // The middle 32 bytes of the entry as sealed: what the disk would show of it.
            let sealed = key.seal(&record.hash(), record.entry.as_ref()?);
            let middle = sealed.len() / 2;
            Some(sealed[middle - 16..middle + 16].to_vec())
        },
    )?;
    eprintln!("store-engines: sled ({count} stories)…");
    let sled = measure(
        &records,
        &temp.path().join("sled"),
        |dir| Ok(SledStore::open(dir)?),
        |_| None,
    )?;
    Ok(serde_json::json!({
        "bench": "store-engines",
        "records": records.len(),
        "batch": BATCH,
        "baseline": "each engine's own fresh store holding the same live records, same run",
        "sqlite": sqlite.json(),
        "sled": sled.json(),
    }))
}
