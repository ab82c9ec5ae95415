//! `myco chain`: check every stored source chain, and repair damaged ones.

use std::fmt;

use anyhow::{bail, Context as _};
use clap::Subcommand;
use serde::Serialize;

use super::{output, Context};
use crate::datadir::DataDir;
use crate::store::{ChainFault, IntegrityReport, SledStore};

/// Most check-and-repair rounds one `--repair` makes. Each round cuts every faulty chain
/// back strictly, and a second round is needed only when damage older than the open-time
/// check's window shows up after a quarantine is lifted; the bound keeps the worst case
/// (a full check per round) predictable.
const MAX_REPAIR_ROUNDS: usize = 8;

/// Shown after `myco chain --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco chain verify
  myco chain verify --repair --json";

const VERIFY_EXAMPLES: &str = "\
Examples:
  myco chain verify                  check every record of every stored chain
  myco chain verify --repair         cut damaged chains back to their last good record
  myco chain verify --json           the result as one JSON object

Records dropped by --repair are recovered from pod peers by sync.";

/// A `myco chain` command.
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Check every record of every stored chain (exits 1 if any chain is damaged)
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify {
        /// Cut each damaged chain back to its last good record
        #[arg(long)]
        repair: bool,
    },
}

/// One damaged chain, as printed.
#[derive(Serialize)]
struct FaultView {
    pod: String,
    author: String,
    seq: u64,
    problem: String,
    last_good: Option<u64>,
}

/// One repaired chain, as printed.
#[derive(Serialize)]
struct RepairView {
    pod: String,
    author: String,
    kept_through: Option<u64>,
    dropped: usize,
}

/// What `myco chain verify` prints.
#[derive(Serialize)]
struct VerifyReport {
    data_dir: String,
    chains: usize,
    records: u64,
    sound: bool,
    faults: Vec<FaultView>,
    repaired: Vec<RepairView>,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.repaired {
            let kept = match r.kept_through {
                Some(seq) => format!("kept seq 0..={seq}"),
                None => "removed the whole chain".to_string(),
            };
            writeln!(
                f,
                "Repaired chain of {} in pod {}: dropped {} records, {kept}.",
                r.author, r.pod, r.dropped
            )?;
        }
        if !self.repaired.is_empty() {
            writeln!(
                f,
                "Dropped records are recovered from pod peers by sync when the node next runs."
            )?;
        }
        for fault in &self.faults {
            let last_good = match fault.last_good {
                Some(seq) => format!("last good seq {seq}"),
                None => "no good records".to_string(),
            };
            writeln!(
                f,
                "DAMAGED chain of {} in pod {}: seq {}: {} ({last_good})",
                fault.author, fault.pod, fault.seq, fault.problem
            )?;
        }
        let verdict = if self.sound {
            "all sound"
        } else {
            "some damaged"
        };
        write!(
            f,
            "Checked {} chains, {} records in {}: {verdict}.",
            self.chains, self.records, self.data_dir
        )
    }
}

pub(super) fn run(ctx: &Context, command: ChainCommand) -> anyhow::Result<()> {
    let ChainCommand::Verify { repair } = command;
    let dir = DataDir::open(ctx.paths()?)?;
    let mut store = dir.open_store().with_context(|| {
        format!(
            "cannot open the store in {}; if it is damaged beyond repair, move it aside and let sync restore it",
            dir.paths().store_dir().display()
        )
    })?;
    let mut report = check(&store)?;
    let mut repaired = Vec::new();
    if repair {
        for _ in 0..MAX_REPAIR_ROUNDS {
            if report.is_sound() {
                break;
            }
            for fault in &report.faults {
                let dropped = store
                    .truncate_chain(&fault.chain, fault.last_good)
                    .context("repair failed; the store is unchanged past the last flush")?;
                tracing::warn!(pod = %fault.chain.pod, author = %fault.chain.author, kept_through = ?fault.last_good, dropped, "chain cut back");
                repaired.push(RepairView {
                    pod: fault.chain.pod.to_string(),
                    author: fault.chain.author.to_string(),
                    kept_through: fault.last_good,
                    dropped,
                });
            }
            report = check(&store)?;
        }
    }
    let faults = report.faults.len();
    let view = VerifyReport {
        data_dir: dir.paths().root().display().to_string(),
        chains: report.chains,
        records: report.records,
        sound: report.is_sound(),
        faults: report.faults.iter().map(fault_view).collect(),
        repaired,
    };
    output::emit(&view, ctx.json())?;
    if faults > 0 && repair {
        bail!("{faults} chains are still damaged after repair; move the store aside and let sync restore it");
    }
    if faults > 0 {
        bail!("{faults} chains are damaged; run `myco chain verify --repair` to cut them back to their last good record");
    }
    Ok(())
}

/// A full check of every chain; the store reads quarantined chains for it, so the fault is
/// reported at the seq where the damage really is.
fn check(store: &SledStore) -> anyhow::Result<IntegrityReport> {
    store
        .full_check()
        .context("cannot read the store to check it")
}

fn fault_view(fault: &ChainFault) -> FaultView {
    FaultView {
        pod: fault.chain.pod.to_string(),
        author: fault.chain.author.to_string(),
        seq: fault.seq,
        problem: fault.problem.clone(),
        last_good: fault.last_good,
    }
}
