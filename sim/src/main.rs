//! `myco-sim`: the deterministic simulator's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget};
use myco_sim::plot::{delivery_cdf, Curve};
use myco_sim::scenario::Scenario;

/// Myco's deterministic simulator: thousands of agents on the daemon's own engine, under
/// virtual time, reproducible from a seed.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a scenario file and prints one JSON line per seed.
    ///
    /// Exit codes: 0 every run met its expectations; 1 a run failed one (invalid record
    /// accepted, leak, missed target); 2 bad usage or a bad scenario file.
    #[command(after_help = "Examples:
  myco-sim run sim/scenarios/quickstart.toml
  myco-sim run sim/scenarios/pod-1000.toml --seed 7 --json out.json --plot out.svg
  myco-sim run sim/scenarios/adversarial-30pct.toml --seeds 1..20
  # reproduce a failing seed exactly:
  myco-sim run sim/scenarios/churn.toml --seed 13 --json failing.json")]
    Run {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Seed to run with (default: the scenario's `seed`).
        #[arg(long, conflicts_with = "seeds")]
        seed: Option<u64>,
        /// A range of seeds, A..B (B excluded), each run in turn.
        #[arg(long, value_name = "A..B")]
        seeds: Option<String>,
        /// Write the full report(s) as JSON here (an array when several seeds run).
        #[arg(long, value_name = "OUT")]
        json: Option<PathBuf>,
        /// Write an SVG plot of delivery latency (one curve per seed) here.
        #[arg(long, value_name = "OUT.svg")]
        plot: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
}

fn parse_seeds(text: &str) -> Option<std::ops::Range<u64>> {
    let (a, b) = text.split_once("..")?;
    let range = a.trim().parse().ok()?..b.trim().parse().ok()?;
    (!range.is_empty()).then_some(range)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Command::Run {
        file,
        seed,
        seeds,
        json,
        plot,
        quiet,
    } = cli.command;
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read scenario {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let scenario = match Scenario::from_toml(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let seeds = match (&seeds, seed) {
        (Some(text), _) => match parse_seeds(text) {
            Some(range) => range.collect::<Vec<u64>>(),
            None => {
                eprintln!("error: --seeds wants A..B with A < B, e.g. --seeds 1..10; got {text}");
                return ExitCode::from(2);
            }
        },
        (None, Some(seed)) => vec![seed],
        (None, None) => vec![scenario.seed],
    };
    match run_all(&scenario, &file, &seeds, json, plot, quiet) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs every seed; true if all met their expectations.
fn run_all(
    scenario: &Scenario,
    file: &std::path::Path,
    seeds: &[u64],
    json: Option<PathBuf>,
    plot: Option<PathBuf>,
    quiet: bool,
) -> anyhow::Result<bool> {
    let base_dir = file.parent();
    let mut reports = Vec::new();
    let mut curves = Vec::new();
    let mut all_ok = true;
    for &seed in seeds {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        };
        let outcome = myco_sim::run::run(scenario, seed, base_dir, &bar)
            .with_context(|| format!("scenario {}", file.display()))?;
        let report = outcome.report;
        println!("{}", serde_json::to_string(&report)?);
        if !report.failures.is_empty() {
            all_ok = false;
            eprintln!(
                "seed {seed} FAILED: {}\n  reproduce with: myco-sim run {} --seed {seed}",
                report.failures.join("; "),
                file.display()
            );
        }
        curves.push(Curve {
            label: format!("seed {seed}"),
            values: outcome.latencies_ms,
        });
        reports.push(report);
    }
    if let Some(path) = json {
        let text = if reports.len() == 1 {
            serde_json::to_string_pretty(&reports[0])?
        } else {
            serde_json::to_string_pretty(&reports)?
        };
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    if let Some(path) = plot {
        let svg = delivery_cdf(&format!("{}: delivery latency CDF", scenario.name), &curves);
        std::fs::write(&path, svg)
            .with_context(|| format!("cannot write the plot to {}", path.display()))?;
    }
    Ok(all_ok)
}
