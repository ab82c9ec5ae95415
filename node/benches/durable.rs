//! Durable local authoring (target P2): group-commit throughput and single-append latency of
//! the daemon's store (`SqliteStore`, entries sealed, every commit `fsync`ed), and of
//! `SledStore` for comparison, against the raw fsync latency of the same disk.
//!
//! All figures come from one temp dir, in one run, for each store:
//!
//! - group commit: [`TIMED_BATCHES`] batches of [`BATCH`] records, each stored with one
//!   `append_batch`, which returns after one flush → records/s;
//! - single durable append: [`SINGLE_APPENDS`] calls of `append`, one record each, each
//!   returning after its own flush → p50 and p99 latency in µs;
//! - baseline: [`FSYNCS`] calls of `File::sync_data`, each after a small write to a file in
//!   the same dir → p50 latency in µs: what one durable commit costs on this disk, the
//!   yardstick for the single-append figures.
//!
//! Note what sled's flush is (it is why the daemon no longer runs on sled): on Linux, sled 0.34 makes a write stable with
//! `sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)`, not `fsync`. That waits for the data
//! pages to reach the device, but flushes neither the device's write cache nor the file's
//! metadata, so the `sync_data` baseline is the stricter of the two. A process crash loses
//! nothing either way; a power cut is where they differ.
//!
//! Records are built and signed before any timing. The temp dir is made under
//! `$MYCO_BENCH_DIR` if set, else the system temp dir: point it at the disk you care about (a
//! tmpfs makes fsync free and the figures meaningless; the fsync baseline shows it).
//!
//! The last stdout line is JSON. Under `cargo test --benches` (no `--bench` argument) the bench
//! only runs a few of each step as a smoke test and prints no figures.
//!
//! ```sh
//! cargo bench -p myco-node --bench durable
//! ```

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use myco_dna::{ChainAuthor, DnaHash, Entry, SigningKey, Timestamp, Visibility};
use myco_node::store::{SledStore, SqliteStore, Store, StoreKey, ValidRecord};

/// Records per group commit.
const BATCH: usize = 256;

/// Batches written before timing starts, so sled has allocated its first segments.
const WARM_UP_BATCHES: usize = 4;

/// Batches timed for the group-commit rate: about 30k records, a few seconds at most.
const TIMED_BATCHES: usize = 120;

/// Single appends made before timing starts.
const WARM_UP_APPENDS: usize = 20;

/// Single appends timed: enough for a stable p99.
const SINGLE_APPENDS: usize = 1000;

/// fsyncs timed for the baseline.
const FSYNCS: usize = 1000;

/// Entry size of each record: a small app payload, as in the ingest bench.
const ENTRY_BYTES: usize = 32;

/// Bytes written before each baseline fsync: about one record.
const FSYNC_WRITE_BYTES: usize = 420;

/// How many of each step a run makes.
struct Sizes {
    warm_up_batches: usize,
    timed_batches: usize,
    warm_up_appends: usize,
    single_appends: usize,
    fsyncs: usize,
}

/// The sizes of a real run.
const FULL: Sizes = Sizes {
    warm_up_batches: WARM_UP_BATCHES,
    timed_batches: TIMED_BATCHES,
    warm_up_appends: WARM_UP_APPENDS,
    single_appends: SINGLE_APPENDS,
    fsyncs: FSYNCS,
};

/// The sizes of a smoke run under `cargo test --benches`.
const SMOKE: Sizes = Sizes {
    warm_up_batches: 1,
    timed_batches: 2,
    warm_up_appends: 1,
    single_appends: 5,
    fsyncs: 5,
};

fn main() -> anyhow::Result<()> {
    let benchmarking = std::env::args().any(|a| a == "--bench")
        && !std::env::args().any(|a| a == "--test" || a == "--list");
    let sizes = if benchmarking { FULL } else { SMOKE };
    let parent = std::env::var_os("MYCO_BENCH_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let temp = tempfile::Builder::new()
        .prefix("myco-durable-bench-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a temp dir in {}", parent.display()))?;
    eprintln!("durable: measuring in {}", temp.path().display());

    let fsync = fsync_latencies(&temp.path().join("fsync-probe"), sizes.fsyncs)?;
    let key = StoreKey::derive(&SigningKey::from_bytes(&[9; 32]));
    let mut sqlite =
        SqliteStore::open(&temp.path().join("sqlite"), key).context("opening the SQLite store")?;
    let (sqlite_rate, sqlite_single) = measure(&mut sqlite, &sizes)?;
    let mut sled = SledStore::open(&temp.path().join("sled")).context("opening the sled store")?;
    let (sled_rate, sled_single) = measure(&mut sled, &sizes)?;

    if !benchmarking {
        eprintln!("durable: test mode (no --bench); no figures to report");
        return Ok(());
    }
    let fsync_p50 = micros(percentile(&fsync, 0.50));
    let line = serde_json::json!({
        "bench": "durable",
        "batch": BATCH,
        "group_commit_records_per_s": sqlite_rate.round(),
        "single_append_p50_us": micros(percentile(&sqlite_single, 0.50)),
        "single_append_p99_us": micros(percentile(&sqlite_single, 0.99)),
        "single_append_p50_over_fsync_p50": ratio(micros(percentile(&sqlite_single, 0.50)), fsync_p50),
        "sled_group_commit_records_per_s": sled_rate.round(),
        "sled_single_append_p50_us": micros(percentile(&sled_single, 0.50)),
        "sled_single_append_p99_us": micros(percentile(&sled_single, 0.99)),
        "fsync_p50_us": fsync_p50,
        "fsync_p99_us": micros(percentile(&fsync, 0.99)),
        "baseline": "File::sync_data after a 420-byte write, same dir",
    });
    println!("{line}");
    Ok(())
}

/// Group-commit rate and single-append latencies of one store.
fn measure(store: &mut impl Store, sizes: &Sizes) -> anyhow::Result<(f64, Vec<Duration>)> {
    let rate = group_commit_rate(store, sizes)?;
    let single = single_append_latencies(store, sizes)?;
    Ok((rate, single))
}

fn ratio(value: f64, baseline: f64) -> f64 {
    (value / baseline.max(f64::MIN_POSITIVE) * 100.0).round() / 100.0
}

/// One signed chain of `count` records after Genesis, with Genesis first, checked as every
/// node checks records (outside the timed part).
fn build_chain(key_seed: u8, count: usize) -> Vec<ValidRecord> {
    let mut author = ChainAuthor::new(SigningKey::from_bytes(&[key_seed; 32]), DnaHash([7; 32]));
    let start = 1_700_000_000_000_000u64;
    let mut records = vec![author.genesis(Timestamp(start), Vec::new())];
    records.extend((1..=count as u64).map(|i| {
        let entry = Entry((0..ENTRY_BYTES).map(|j| (i as usize + j) as u8).collect());
        author.create(
            Timestamp(start + i),
            "bench",
            "note",
            Visibility::Public,
            entry,
        )
    }));
    ValidRecord::check_all(records, &mut Default::default())
        .unwrap_or_else(|(at, error)| panic!("bench record {at} is invalid: {error}"))
}

/// Appends whole batches and returns records per second over the timed ones.
fn group_commit_rate(store: &mut impl Store, sizes: &Sizes) -> anyhow::Result<f64> {
    let total = (sizes.warm_up_batches + sizes.timed_batches) * BATCH;
    // Genesis plus total - 1 Creates: exactly `total` records.
    let records = build_chain(1, total - 1);
    let (warm_up, timed) = records.split_at(sizes.warm_up_batches * BATCH);
    for batch in warm_up.chunks(BATCH) {
        store.append_batch(batch).context("warm-up batch")?;
    }
    let started = Instant::now();
    for batch in timed.chunks(BATCH) {
        store.append_batch(batch).context("timed batch")?;
    }
    let elapsed = started.elapsed();
    Ok(timed.len() as f64 / elapsed.as_secs_f64())
}

/// Appends one record at a time on a second chain, and returns each timed call's latency.
fn single_append_latencies(store: &mut impl Store, sizes: &Sizes) -> anyhow::Result<Vec<Duration>> {
    let records = build_chain(2, sizes.warm_up_appends + sizes.single_appends - 1);
    let (warm_up, timed) = records.split_at(sizes.warm_up_appends);
    for record in warm_up {
        store.append(record).context("warm-up append")?;
    }
    let mut latencies = Vec::with_capacity(timed.len());
    for record in timed {
        let started = Instant::now();
        store.append(record).context("timed append")?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// Writes a few bytes to `path` and times `sync_data`, `count` times.
fn fsync_latencies(path: &Path, count: usize) -> anyhow::Result<Vec<Duration>> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let chunk = [0x5a; FSYNC_WRITE_BYTES];
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        file.write_all(&chunk).context("baseline write")?;
        let started = Instant::now();
        file.sync_data().context("baseline fsync")?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// The nearest-rank `q` quantile (0 < q ≤ 1); zero for no samples.
fn percentile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

/// A duration in µs, to one decimal place.
fn micros(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e7).round() / 10.0
}
