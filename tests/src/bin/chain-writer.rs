//! `chain-writer DIR SEED`: appends to one source chain in a Myco store (SQLite), forever, acknowledging
//! each batch once it is durable. It exists to be killed: the crash test sends it SIGKILL
//! mid-write and then checks that every acknowledged record survived.
//!
//! The chain's key is derived from SEED ([`myco_tests::signing_key_from_seed`]) and its pod is
//! [`myco_tests::CRASH_POD`]. On start it resumes from the chain's head in the store (or writes
//! a Genesis if the chain is empty), then loops: it builds a batch of 1 to [`MAX_BATCH`]
//! records with [`ENTRY_BYTES`]-byte entries, stores it with one `append_batch` (atomic, one
//! flush), and only then prints `durable <seq> <action-hash>` for the batch's last record and
//! flushes stdout. Timestamps come from a counter, not the clock.
//!
//! Exit codes: 2 for bad usage, 1 when the store fails or stdout is closed.
//!
//! ```sh
//! chain-writer /tmp/crash-store writer-1
//! ```

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use myco_dna::{blake2b_256, ChainAuthor, Record, Timestamp, Visibility};
use myco_node::store::{Heads, SqliteStore, Store, StoreKey, ValidRecord};
use myco_tests::{crash_chain, filler_entry, signing_key_from_seed, DurableLine, CRASH_POD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Largest batch the writer appends at once. Batches vary from 1 to this, so kills land in
/// both small and large group commits.
const MAX_BATCH: usize = 64;

/// Entry size, in bytes: about the size of a small app record.
const ENTRY_BYTES: usize = 300;

const USAGE: &str = "usage: chain-writer DIR SEED\n\
    Appends records to the chain of SEED's key in the store at DIR until killed, \
    printing `durable <seq> <action-hash>` after each durable batch.\n\
    example: chain-writer /tmp/crash-store writer-1";

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let (dir, seed) = match args.as_slice() {
        [dir, seed] => match seed.to_str() {
            Some(seed) => (Path::new(dir), seed),
            None => {
                eprintln!("chain-writer: SEED must be UTF-8 text\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write_forever(dir, seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chain-writer: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Resumes (or starts) the chain and appends until something fails.
fn write_forever(dir: &Path, seed: &str) -> anyhow::Result<()> {
    let key = signing_key_from_seed(seed);
    let mut store = SqliteStore::open(dir, StoreKey::derive(&key)).with_context(|| {
        format!(
            "could not open the store at {}; is another writer still running on it?",
            dir.display()
        )
    })?;
    let chain = crash_chain(seed);
    let mut stdout = std::io::stdout().lock();
    // Each batch passes the system checks every node applies before it is appended.
    let mut heads = Heads::new();

    let (mut author, mut clock) = match store.head(&chain).context("reading the chain head")? {
        Some(head) => {
            let newest = store
                .get_by_seq(&chain, head.seq)
                .context("reading the chain's newest record")?
                .ok_or_else(|| {
                    anyhow!(
                        "the head names seq {} but no record is stored there; run `myco chain verify`",
                        head.seq
                    )
                })?;
            let clock = newest.action().timestamp.0;
            heads.insert(chain, newest.signed.clone());
            (ChainAuthor::resume(key, &newest.signed), clock)
        }
        None => {
            let mut author = ChainAuthor::new(key, CRASH_POD);
            let genesis = author.genesis(Timestamp(0), Vec::new());
            let genesis = ValidRecord::check_all(vec![genesis], &mut heads)
                .map_err(|(_, e)| anyhow!("the Genesis is invalid: {e}"))?;
            store.append(&genesis[0]).context("appending the Genesis")?;
            acknowledge(&mut stdout, &genesis[0])?;
            (author, 0)
        }
    };

    // Batch sizes are reproducible from the seed and the point where this run resumed.
    let mut rng_seed = [0u8; 32];
    let resume_point = format!("{seed}/{}", author.next_seq());
    rng_seed.copy_from_slice(&blake2b_256(resume_point.as_bytes()));
    let mut rng = StdRng::from_seed(rng_seed);

    loop {
        let size = rng.gen_range(1..=MAX_BATCH);
        let batch: Vec<Record> = (0..size)
            .map(|_| {
                clock += 1;
                let entry = filler_entry(author.next_seq(), ENTRY_BYTES);
                author.create(
                    Timestamp(clock),
                    "crash",
                    "filler",
                    Visibility::Public,
                    entry,
                )
            })
            .collect();
        let batch = ValidRecord::check_all(batch, &mut heads)
            .map_err(|(at, e)| anyhow!("record {at} of a batch is invalid: {e}"))?;
        store
            .append_batch(&batch)
            .with_context(|| format!("appending a batch of {size} records"))?;
        if let Some(last) = batch.last() {
            acknowledge(&mut stdout, last)?;
        }
    }
}

/// Prints the durable line for `record` and flushes it, so the reader sees it at once.
fn acknowledge(out: &mut impl Write, record: &Record) -> anyhow::Result<()> {
    let line = DurableLine {
        seq: record.action().seq,
        hash: record.hash(),
    };
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .context("writing to stdout; the reader has gone")
}
