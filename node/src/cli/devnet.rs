//! `myco devnet`: a local test network of real daemons, scenarios played across it, a report.

use std::fmt;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use super::{output, Context};
use crate::devnet::{self, Options, Report};

/// Shown after `myco devnet --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco devnet                           2 pods of 3 daemons each, plus a bootstrap peer
  myco devnet --pods 1 --nodes 20 --json
  MYCO_DEVNET_LOG=debug myco devnet     more detail in each daemon's myco.log

Each daemon is a real `myco run` process on 127.0.0.1 with a temporary data dir; all of them
are stopped and the dirs removed at the end. Exits 1 if any leak is found.";

/// `myco devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Pods to create
    #[arg(long, default_value_t = 2)]
    pub pods: usize,
    /// Daemons per pod
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Public stories each daemon publishes
    #[arg(long, default_value_t = 3)]
    pub stories: usize,
}

#[derive(Serialize)]
struct Shown(Report);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.0;
        writeln!(
            f,
            "Devnet: {} in {}, {} written.",
            output::count(r.nodes as u64, "daemon"),
            output::count(r.pods as u64, "pod"),
            output::count(r.records as u64, "record")
        )?;
        writeln!(
            f,
            "  propagation (publish until every member stored it): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} records",
            r.propagation_ms.p50, r.propagation_ms.p99, r.propagation_ms.max, r.propagation_ms.samples
        )?;
        writeln!(
            f,
            "  baseline (one API poll, same run): p50 {:.2} ms; propagation p99 is {:.1}× it",
            r.baseline_poll_ms.p50, r.p99_over_baseline
        )?;
        writeln!(
            f,
            "  cross-pod lookups: {} ok, {} failed",
            r.lookups.ok, r.lookups.failed
        )?;
        writeln!(
            f,
            "  members admitted by invitation or vote: {}",
            r.admitted
        )?;
        writeln!(f, "  decisions after votes: {}", r.decisions)?;
        writeln!(
            f,
            "  forbidden actions refused as expected: {}",
            r.refused_as_expected
        )?;
        writeln!(f, "  leaks: {}", r.leaks)?;
        if !r.happened.is_empty() {
            writeln!(f, "What happened:")?;
            for line in &r.happened {
                writeln!(f, "  - {line}")?;
            }
        }
        writeln!(f, "  idle RSS (largest daemon): {} KiB", r.idle_rss_kib_max)?;
        write!(
            f,
            "  finished in {:.1} s; shutdown {}",
            r.duration_ms as f64 / 1000.0,
            if r.clean_shutdown {
                "clean"
            } else {
                "NOT clean"
            }
        )?;
        write!(
            f,
            "\nNext, your own pod: `myco init`; `myco key show` prints your key hash; put it in \
             the `founders` of a copy of dna/examples/storytelling.toml; then `myco run`, and in \
             another terminal `myco pod create --dna <your copy>`."
        )
    }
}

pub(super) fn run(ctx: &Context, args: DevnetArgs) -> anyhow::Result<()> {
    let binary = std::env::current_exe().context("cannot find the running myco binary")?;
    let options = Options {
        binary,
        pods: args.pods,
        nodes: args.nodes,
        stories_per_node: args.stories,
    };
    let report = devnet::run(&options).context("the devnet failed")?;
    let leaks = report.leaks;
    output::emit(&Shown(report), ctx.json())?;
    if leaks > 0 {
        anyhow::bail!("{leaks} leaks found: data was seen where it must not be");
    }
    Ok(())
}
