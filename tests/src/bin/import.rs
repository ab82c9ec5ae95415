//! `import`: `myco import` of N rows (100,000 by default, one in 10,000 malformed) into a real
//! daemon's pod, against a same-run baseline of rows written one by one through `myco
//! publish`'s own write path (`POST /pods/{pod}/content`) into a second pod of the same daemon.
//!
//! The import must account for every row: written + refused + duplicates = source, with the
//! malformed rows refused. The figure is rows per second; the baseline writes the first
//! `MYCO_IMPORT_BASELINE_ROWS` rows (10,000 by default) and gives its rows per second.
//!
//! ```sh
//! cargo build --release -p myco-node -p myco-tests --bins && ./target/release/import
//! ```

use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context};
use myco_node::api::types::{PublishRequest, Written};
use myco_node::devnet::{dna_with_founders, TEMPLATES};
use myco_node::import::{ImportMap, Source};
use myco_tests::airtable;
use myco_tests::bench::{bench_main, count_from_env, create_pod, SoloPod};
use serde_json::{json, Value};

const USAGE: &str = "\
import: `myco import` of N rows into a real daemon, against the same rows written one by one
through `myco publish`'s write path (POST /pods/{pod}/content) in the same run.

Progress goes to stderr; the last stdout line is JSON: rows, written, refused, duplicates,
balanced, seconds, rows_per_s, baseline_rows, baseline_rows_per_s, ratio.

usage: import [--help]

environment:
  MYCO_IMPORT_ROWS           rows in the source (default 100000; one in 10000 malformed)
  MYCO_IMPORT_BASELINE_ROWS  rows written one by one for the baseline (default 10000)
  MYCO_BIN                   the myco binary (default: `myco` next to this executable)

example:
  cargo build --release -p myco-node -p myco-tests --bins && ./target/release/import
  MYCO_IMPORT_ROWS=5000 MYCO_IMPORT_BASELINE_ROWS=1000 ./target/release/import";

/// Every this many rows, one has no title.
const MALFORMED_EVERY: usize = 10_000;

fn main() -> ExitCode {
    bench_main("import", USAGE, run)
}

fn say(message: impl std::fmt::Display) {
    eprintln!("import: {message}");
}

fn run() -> anyhow::Result<Value> {
    let rows = count_from_env("MYCO_IMPORT_ROWS", 100_000)?;
    let baseline_rows = count_from_env("MYCO_IMPORT_BASELINE_ROWS", 10_000)?.min(rows);
    let solo = SoloPod::found("import")?;
    let daemon = solo.start().context("cannot start the daemon")?;
    // The baseline writes into a second pod, so its rows are not duplicates of the import's.
    let (_, template) = TEMPLATES
        .iter()
        .find(|(name, _)| *name == "territory-dk")
        .context("the devnet templates no longer include territory-dk")?;
    let baseline_pod = create_pod(
        &daemon.api,
        &dna_with_founders(template, &[solo.key], "import-baseline"),
    )?
    .dna_hash;

    let document = airtable::export(rows, MALFORMED_EVERY);
    let file = solo.root().join("source.json");
    std::fs::write(&file, serde_json::to_vec(&document)?)?;
    let map_file = solo.root().join("map.toml");
    std::fs::write(&map_file, airtable::MAP)?;

    say(format_args!(
        "baseline: {baseline_rows} rows through POST /pods/{{pod}}/content…"
    ));
    let map = ImportMap::from_toml(airtable::MAP)?;
    let parsed = Source::from_json(&serde_json::to_vec(&document)?, &map)?;
    let stories: Vec<PublishRequest> = parsed
        .rows
        .iter()
        .take(baseline_rows)
        .filter_map(|row| map.story(row).ok())
        .collect();
    let started = Instant::now();
    for story in &stories {
        let _: Written = daemon
            .api
            .post(&format!("/pods/{baseline_pod}/content"), story)
            .context("a baseline write failed")?;
    }
    let baseline_rate = stories.len() as f64 / started.elapsed().as_secs_f64();
    say(format_args!("baseline: {baseline_rate:.0} rows/s"));

    say(format_args!("myco import of {rows} rows…"));
    let started = Instant::now();
    let output = Command::new(&solo.binary)
        .env_remove("MYCO_PASSPHRASE")
        .arg("--json")
        .arg("--data-dir")
        .arg(&solo.dir)
        .args(["import", "--pod", &solo.pod, "--from"])
        .arg(&file)
        .arg("--map")
        .arg(&map_file)
        .output()
        .context("cannot run myco import")?;
    let secs = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "myco import failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let report: Value = serde_json::from_slice(&output.stdout).context("the import's report")?;
    let malformed = rows / MALFORMED_EVERY;
    if report["balanced"] != true
        || report["source"] != rows
        || report["refused"] != malformed
        || report["written"] != rows - malformed
    {
        bail!("the import did not account for the rows as expected: {report}");
    }
    let rate = rows as f64 / secs;
    say(format_args!("{secs:.2} s: {rate:.0} rows/s"));
    Ok(json!({
        "bench": "import",
        "rows": rows,
        "written": report["written"],
        "refused": report["refused"],
        "duplicates": report["duplicates"],
        "balanced": report["balanced"],
        "seconds": (secs * 1000.0).round() / 1000.0,
        "rows_per_s": rate.round(),
        "baseline_rows": stories.len(),
        "baseline_rows_per_s": baseline_rate.round(),
        "ratio": ((rate / baseline_rate) * 1000.0).round() / 1000.0,
        "baseline": "the same rows written one by one through POST /pods/{pod}/content (myco publish's write path), same daemon, same run",
    }))
}
