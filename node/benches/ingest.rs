//! Ingest throughput (target P1): decode, system validation and store, against a bare
//! `verify_strict` loop over the same records.
//!
//! The records are [`RECORDS`] signed records with [`ENTRY_BYTES`]-byte entries (about 420
//! bytes on the wire), from [`AUTHORS`] chains that each start at Genesis, interleaved as
//! gossip would deliver them, and pre-encoded with `Record::to_bytes`. Criterion measures one
//! pass over all of them, three ways:
//!
//! - `baseline_verify_strict`: `ed25519_dalek::VerifyingKey::verify_strict` over each action
//!   hash, with keys and signatures parsed beforehand. This is the bare signature cost, the
//!   yardstick of TARGETS.md.
//! - `pipeline_single`: `Record::from_bytes` → `check_record_shape` (sizes, action hash,
//!   entry hash, Genesis position) → `check_signature` → `check_successor` against the chain's
//!   previous record → `MemoryStore::append_batch` every [`CHUNK`] records, into a fresh
//!   store each pass.
//! - `pipeline_batch`: the same, with the signatures of each chunk checked together by
//!   `check_signatures`.
//!
//! Two more runs measure what app validation (the zomes) adds, on records that zomes really
//! judge: stories in the `territory-dk` example pod, each a `content` entry with consent,
//! principles and attribution (about 600 bytes on the wire).
//!
//! - `content_system_only`: the batch pipeline on those records.
//! - `content_with_zomes`: the same, plus `myco_zomes::validate` on every record against a
//!   store-backed context, as the engine does.
//!
//! The issue's goal is that app validation adds at most 20% to the per-record cost:
//! `app_overhead` = time with zomes / time without − 1.
//!
//! The last stdout line is JSON with the three rates (records/s, from criterion's mean
//! estimates) and each pipeline's ratio to the baseline:
//!
//! ```sh
//! cargo bench -p myco-node --bench ingest
//! ```

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Context};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};
use myco_dna::{ChainAuthor, DnaHash, Entry, Record, SigningKey, Timestamp, Visibility};
use myco_node::store::{ChainId, Heads, MemoryStore, Store, ValidRecord};

/// Records per pass: enough that per-pass overhead (a fresh store) is noise, few enough that
/// a pass takes a fraction of a second.
const RECORDS: usize = 2048;

/// Chains the records come from.
const AUTHORS: usize = 8;

/// Entry size of each Create. TARGETS.md P1 speaks of ~300-byte records, but a signed Create
/// already takes 386 bytes on the wire with an empty entry (keys, hashes, signature and CBOR
/// field names), so the records carry a small payload (a short note or a vote) and come out
/// near 420 bytes; the JSON line reports the exact average.
const ENTRY_BYTES: usize = 32;

/// Records validated and stored together: the store's batch, and the signature batch of
/// `pipeline_batch`.
const CHUNK: usize = 64;

/// Criterion's group name, and so the directory its estimates are written to.
const GROUP: &str = "ingest";

/// The three benchmark ids, in the order they run.
const BASELINE: &str = "baseline_verify_strict";
const SINGLE: &str = "pipeline_single";
const BATCH: &str = "pipeline_batch";
const CONTENT_SYSTEM: &str = "content_system_only";
const CONTENT_ZOMES: &str = "content_with_zomes";

fn main() -> anyhow::Result<()> {
    let started = SystemTime::now();
    let records = build_records();
    let wire: Vec<Vec<u8>> = records.iter().map(Record::to_bytes).collect();
    let record_bytes = wire.iter().map(Vec::len).sum::<usize>() as f64 / wire.len() as f64;
    let parsed = parse_signatures(&records)?;

    // Each pipeline must accept every record, or it would be measuring its error path.
    ingest_single(&wire, &mut MemoryStore::new()).context("pipeline_single refused a record")?;
    ingest_batch(&wire, &mut MemoryStore::new()).context("pipeline_batch refused a record")?;
    if baseline(&parsed) != RECORDS {
        bail!("the baseline refused a signature");
    }
    let dna = myco_zomes::load_dna(include_str!("../../dna/examples/territory-dk.toml"))
        .context("the territory-dk example DNA")?;
    let content_wire: Vec<Vec<u8>> = build_content_records(&dna)
        .iter()
        .map(Record::to_bytes)
        .collect();
    let content_bytes =
        content_wire.iter().map(Vec::len).sum::<usize>() as f64 / content_wire.len() as f64;
    ingest_chunks(&content_wire, &mut MemoryStore::new(), None)
        .context("content_system_only refused a record")?;
    ingest_chunks(&content_wire, &mut MemoryStore::new(), Some(&dna))
        .context("content_with_zomes refused a record")?;

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    {
        let mut group = criterion.benchmark_group(GROUP);
        // One pass takes ~100 ms: flat sampling keeps the run short.
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(RECORDS as u64));
        group.bench_function(BASELINE, |b| b.iter(|| baseline(black_box(&parsed))));
        group.bench_function(SINGLE, |b| {
            b.iter_batched(
                MemoryStore::new,
                |mut store| {
                    let verdict = ingest_single(black_box(&wire), &mut store);
                    (store, verdict)
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(BATCH, |b| {
            b.iter_batched(
                MemoryStore::new,
                |mut store| {
                    let verdict = ingest_batch(black_box(&wire), &mut store);
                    (store, verdict)
                },
                BatchSize::PerIteration,
            )
        });
        for (id, dna) in [(CONTENT_SYSTEM, None), (CONTENT_ZOMES, Some(&dna))] {
            group.bench_function(id, |b| {
                b.iter_batched(
                    MemoryStore::new,
                    |mut store| {
                        let verdict = ingest_chunks(black_box(&content_wire), &mut store, dna);
                        (store, verdict)
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }
    criterion.final_summary();

    if !benchmarking() {
        eprintln!("ingest: test mode (no --bench); no figures to report");
        return Ok(());
    }
    let dir = criterion_dir()?;
    let rate = |id: &str| -> anyhow::Result<f64> {
        let ns = mean_ns(&dir, id, started)?;
        Ok(RECORDS as f64 / (ns * 1e-9))
    };
    let baseline_rate = rate(BASELINE)?;
    let single_rate = rate(SINGLE)?;
    let batch_rate = rate(BATCH)?;
    let content_system_rate = rate(CONTENT_SYSTEM)?;
    let content_zomes_rate = rate(CONTENT_ZOMES)?;
    let line = serde_json::json!({
        "bench": "ingest",
        "records": RECORDS,
        "record_bytes": round(record_bytes, 1),
        "baseline_records_per_s": round(baseline_rate, 0),
        "records_per_s_single": round(single_rate, 0),
        "records_per_s_batch": round(batch_rate, 0),
        "ratio_single": round(single_rate / baseline_rate, 3),
        "ratio_batch": round(batch_rate / baseline_rate, 3),
        "baseline": "ed25519_dalek VerifyingKey::verify_strict, keys pre-parsed, same records",
        "content_record_bytes": round(content_bytes, 1),
        "content_records_per_s_system_only": round(content_system_rate, 0),
        "content_records_per_s_with_zomes": round(content_zomes_rate, 0),
        "app_overhead": round(content_system_rate / content_zomes_rate - 1.0, 3),
    });
    println!("{line}");
    Ok(())
}

/// `RECORDS` records from `AUTHORS` chains, each starting at Genesis, interleaved round-robin.
fn build_records() -> Vec<Record> {
    let pod = DnaHash([0x42; 32]);
    let mut authors: Vec<ChainAuthor> = (0..AUTHORS)
        .map(|i| ChainAuthor::new(SigningKey::from_bytes(&[i as u8 + 1; 32]), pod))
        .collect();
    (0..RECORDS)
        .map(|i| {
            let author = &mut authors[i % AUTHORS];
            let now = Timestamp(1_700_000_000_000_000 + i as u64);
            if author.next_seq() == 0 {
                author.genesis(now, Vec::new())
            } else {
                author.create(
                    now,
                    "bench",
                    "note",
                    Visibility::Public,
                    entry(i, ENTRY_BYTES),
                )
            }
        })
        .collect()
}

/// `len` bytes that differ from record to record.
fn entry(index: usize, len: usize) -> Entry {
    Entry((0..len).map(|j| (index * 31 + j * 7) as u8).collect())
}

/// The keys, signatures and messages of the baseline, parsed outside the timed loop.
fn parse_signatures(
    records: &[Record],
) -> anyhow::Result<Vec<(VerifyingKey, DalekSignature, [u8; 32])>> {
    records
        .iter()
        .map(|record| {
            let signed = &record.signed;
            let key = VerifyingKey::from_bytes(signed.action.author.as_bytes())
                .map_err(|e| anyhow!("author key of {} does not parse: {e}", signed.hash))?;
            let signature = DalekSignature::from_bytes(&signed.signature.0);
            Ok((key, signature, signed.hash.0))
        })
        .collect()
}

/// The bare `verify_strict` loop. Returns how many signatures verified.
fn baseline(parsed: &[(VerifyingKey, DalekSignature, [u8; 32])]) -> usize {
    parsed
        .iter()
        .filter(|(key, signature, hash)| key.verify_strict(hash, signature).is_ok())
        .count()
}

/// The pipeline with one `verify_strict` per record. Returns the number stored.
fn ingest_single(wire: &[Vec<u8>], store: &mut MemoryStore) -> anyhow::Result<usize> {
    let mut heads = Heads::new();
    let mut pending = Vec::with_capacity(CHUNK);
    for bytes in wire {
        let record = Record::from_bytes(bytes)?;
        // Shape and size, hashes, one signature, the link to the chain's previous record.
        let chain = ChainId::of(&record);
        let valid = ValidRecord::checked(heads.get(&chain), record)?;
        heads.insert(chain, valid.signed.clone());
        pending.push(valid);
        if pending.len() == CHUNK {
            store.append_batch(&pending)?;
            pending.clear();
        }
    }
    store.append_batch(&pending)?;
    Ok(wire.len())
}

/// The pipeline with the signatures of each chunk verified as one batch.
fn ingest_batch(wire: &[Vec<u8>], store: &mut MemoryStore) -> anyhow::Result<usize> {
    ingest_chunks(wire, store, None)
}

/// True when criterion is measuring (`cargo bench`), false under `cargo test --benches` or
/// `-- --test` / `--list`, which run each routine once and write no estimates.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list")
}

/// Where criterion writes its results: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else `criterion/` in the target dir that holds this executable.
fn criterion_dir() -> anyhow::Result<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Ok(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().context("locating the bench executable")?;
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|target| target.join("criterion"))
        .ok_or_else(|| {
            anyhow!(
                "no cargo target dir above {}; set CARGO_TARGET_DIR",
                exe.display()
            )
        })
}

/// Criterion's mean time per iteration of `id`, in ns, from an estimate written by this run.
fn mean_ns(dir: &Path, id: &str, started: SystemTime) -> anyhow::Result<f64> {
    let path = dir.join(GROUP).join(id).join("new").join("estimates.json");
    let stale = || {
        anyhow!(
            "{} was not written by this run; run the whole bench without a filter",
            path.display()
        )
    };
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .map_err(|_| stale())?;
    if modified < started {
        return Err(stale());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let estimates: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    estimates["mean"]["point_estimate"]
        .as_f64()
        .filter(|ns| *ns > 0.0)
        .ok_or_else(|| anyhow!("{} has no positive mean.point_estimate", path.display()))
}

/// `value` rounded to `places` decimal places, for a readable JSON line.
fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// `RECORDS` stories in `dna`'s pod from `AUTHORS` members, each chain starting at Genesis.
fn build_content_records(dna: &myco_dna::DnaManifest) -> Vec<Record> {
    let pod = dna.dna_hash();
    let mut authors: Vec<ChainAuthor> = (0..AUTHORS)
        .map(|i| ChainAuthor::new(SigningKey::from_bytes(&[i as u8 + 101; 32]), pod))
        .collect();
    (0..RECORDS)
        .map(|i| {
            let author = &mut authors[i % AUTHORS];
            let now = Timestamp(1_700_000_000_000_000 + i as u64);
            if author.next_seq() == 0 {
                return author.genesis(now, Vec::new());
            }
            let creator = author.agent().key_hash();
            let story = myco_zomes::content::Content {
                title: format!("Story {i}"),
                body: "A short story told for the community, with its consent recorded.".into(),
                blob: None,
                kind: "story".into(),
                consent: myco_zomes::content::Consent {
                    community_sharing: true,
                    attribution_required: true,
                    ..Default::default()
                },
                revenue_share: Some(vec![
                    myco_zomes::content::Share {
                        recipient: myco_zomes::content::Recipient::Member(creator),
                        bp: myco_dna::BasisPoints(8000),
                    },
                    myco_zomes::content::Share {
                        recipient: myco_zomes::content::Recipient::Community,
                        bp: myco_dna::BasisPoints(2000),
                    },
                ]),
                principles: dna.properties.required_principles.clone(),
                protocols: Vec::new(),
                attribution: Some("told by a member".into()),
            };
            author.create(
                now,
                "content",
                "content",
                Visibility::Pod,
                myco_zomes::codec::encode(&story),
            )
        })
        .collect()
}

/// What a zome may read during the bench: the store, plus the chunk being validated.
struct BenchContext<'a> {
    store: &'a MemoryStore,
    pending: &'a [Record],
    chain: ChainId,
}

impl myco_dna::ValidationContext for BenchContext<'_> {
    fn get(&self, hash: &myco_dna::ActionHash) -> Option<Record> {
        self.pending
            .iter()
            .find(|r| &r.hash() == hash)
            .cloned()
            .or_else(|| self.store.get(hash).ok().flatten())
    }

    fn author_records(&self, zome: &str, entry_type: &str) -> Vec<Record> {
        let mut out = self
            .store
            .typed_records(&self.chain, zome, entry_type)
            .unwrap_or_default();
        out.extend(
            self.pending
                .iter()
                .filter(|r| {
                    ChainId::of(r) == self.chain && myco_zomes::codec::is_entry(r, zome, entry_type)
                })
                .cloned(),
        );
        out
    }
}

/// The batch pipeline: each chunk decoded and shape-checked, its signatures verified as one
/// batch, linked to its chains and stored; with `dna`, every record also goes through the
/// zomes. Returns the number stored.
fn ingest_chunks(
    wire: &[Vec<u8>],
    store: &mut MemoryStore,
    dna: Option<&myco_dna::DnaManifest>,
) -> anyhow::Result<usize> {
    let mut heads = Heads::new();
    for chunk in wire.chunks(CHUNK) {
        let records = chunk
            .iter()
            .map(|bytes| Ok(Record::from_bytes(bytes)?))
            .collect::<anyhow::Result<Vec<Record>>>()?;
        // Shapes, one batch signature check, and each record's link to its chain.
        let records = ValidRecord::check_all(records, &mut heads)
            .map_err(|(at, error)| anyhow!("record {at} of a chunk is invalid: {error}"))?;
        if let Some(dna) = dna {
            let plain: Vec<Record> = records.iter().map(|r| r.record().clone()).collect();
            for (index, record) in plain.iter().enumerate() {
                let ctx = BenchContext {
                    store,
                    pending: &plain[..index],
                    chain: ChainId::of(record),
                };
                match myco_zomes::validate(record, dna, &ctx) {
                    myco_dna::Verdict::Valid => {}
                    other => bail!("the zomes refused record {index}: {other:?}"),
                }
            }
        }
        store.append_batch(&records)?;
    }
    Ok(wire.len())
}
