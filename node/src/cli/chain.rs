//! `myco chain`: check every stored source chain, and repair damaged ones.

use std::fmt;

use anyhow::{bail, Context as _};
use clap::Subcommand;
use serde::Serialize;

use super::{output, passphrase, Context};
use crate::datadir::DataDir;
use crate::store::{
    holds_sled_store, salvage, ChainFault, IntegrityReport, SqliteStore, StoreError, StoreKey,
};

/// Shown after `myco chain --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco chain verify
  myco chain verify --repair --json";

const VERIFY_EXAMPLES: &str = "\
Examples:
  myco chain verify                  check every record of every stored chain
  myco chain verify --repair         rebuild the store from every record proven sound
  myco chain verify --json           the result as one JSON object

Records dropped by --repair are recovered from pod peers by sync.";

/// A `myco chain` command.
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Check every record of every stored chain (exits 1 if any chain is damaged)
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify {
        /// Rebuild the store from every record that can be proven sound (each chain keeps its
        /// sound prefix; sync restores the rest)
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
    dropped: u64,
    problem: Option<String>,
}

/// What `myco chain verify` prints.
#[derive(Serialize)]
struct VerifyReport {
    data_dir: String,
    chains: usize,
    records: u64,
    sound: bool,
    /// Damage to the store's file itself, found by SQLite or at open.
    damage: Option<String>,
    faults: Vec<FaultView>,
    repaired: Vec<RepairView>,
    /// What a repair found and fixed, if one ran.
    repair: Option<RepairSummary>,
    /// Rows a repair could not read through SQLite (it then read the file's pages directly).
    unreadable_rows: u64,
}

/// What `--repair` started from and kept.
#[derive(Serialize)]
struct RepairSummary {
    /// The damage found before the repair: to the file, or in how many chains.
    found: String,
    /// Records kept.
    kept_records: u64,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.repaired {
            let kept = match r.kept_through {
                Some(seq) => format!("kept seq 0..={seq}"),
                None => "removed the whole chain".to_string(),
            };
            let why = r.problem.as_deref().unwrap_or("unsound");
            writeln!(
                f,
                "Repaired chain of {} in pod {}: dropped {} ({why}), {kept}.",
                r.author,
                r.pod,
                output::count(r.dropped, "record")
            )?;
        }
        if self.unreadable_rows > 0 {
            writeln!(
                f,
                "SQLite could not read {} stored rows; the repair read the file's pages directly too.",
                self.unreadable_rows
            )?;
        }
        if let Some(damage) = &self.damage {
            writeln!(f, "DAMAGED store file: {damage}")?;
        }
        if let Some(repair) = &self.repair {
            writeln!(
                f,
                "Repaired the store ({}): kept {} that are proven sound.",
                repair.found,
                output::count(repair.kept_records, "record")
            )?;
        }
        if self.repair.is_some() {
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
            "Checked {}, {} in {}: {verdict}.",
            output::count(self.chains as u64, "chain"),
            output::count(self.records, "record"),
            self.data_dir
        )
    }
}

pub(super) fn run(ctx: &Context, command: ChainCommand) -> anyhow::Result<()> {
    let ChainCommand::Verify { repair } = command;
    let dir = DataDir::open(ctx.paths()?)?;
    let key = StoreKey::derive(&passphrase::unlock_agent(ctx, &dir.paths().keystore())?);
    let store_dir = dir.paths().store_dir();
    if holds_sled_store(&store_dir) {
        // An old-format store is moved into the sealed one first, as `myco run` would.
        dir.open_store(&key).with_context(|| {
            format!(
                "cannot move the store in {} into the sealed format",
                store_dir.display()
            )
        })?;
    }
    let mut checked = match dir.store_lost() {
        Some(loss) => Checked {
            damage: Some(loss),
            report: IntegrityReport::default(),
        },
        None => check(&store_dir, &key),
    };
    let mut repaired = Vec::new();
    let mut unreadable = 0;
    let mut repair_summary = None;
    if repair && !checked.is_sound() {
        let salvaged = salvage(&store_dir, &key).with_context(|| {
            format!(
                "the repair of {} failed, and the store is as it was",
                store_dir.display()
            )
        })?;
        unreadable = salvaged.unreadable;
        repair_summary = Some(RepairSummary {
            found: checked
                .damage
                .clone()
                .unwrap_or_else(|| format!("{} damaged chains", checked.report.faults.len())),
            kept_records: salvaged.kept,
        });
        for (chain, kept) in &salvaged.chains {
            if kept.dropped == 0 {
                continue;
            }
            tracing::warn!(pod = %chain.pod, author = %chain.author, kept_through = ?kept.kept_through, dropped = kept.dropped, "chain cut back");
            repaired.push(RepairView {
                pod: chain.pod.to_string(),
                author: chain.author.to_string(),
                kept_through: kept.kept_through,
                dropped: kept.dropped,
                problem: kept.problem.clone(),
            });
        }
        checked = check(&store_dir, &key);
    }
    let faults = checked.report.faults.len();
    let view = VerifyReport {
        data_dir: dir.paths().root().display().to_string(),
        chains: checked.report.chains,
        records: checked.report.records,
        sound: checked.is_sound(),
        damage: checked.damage.clone(),
        faults: checked.report.faults.iter().map(fault_view).collect(),
        repaired,
        repair: repair_summary,
        unreadable_rows: unreadable,
    };
    output::emit(&view, ctx.json())?;
    if !checked.is_sound() && repair {
        bail!(
            "the store is still damaged after repair; move {} aside and let sync restore it",
            store_dir.display()
        );
    }
    if !checked.is_sound() {
        bail!("the store is damaged ({faults} chains); run `myco chain verify --repair` to keep every record that can be proven sound");
    }
    Ok(())
}

/// What a check found: damage to the file itself, and the chains' report.
struct Checked {
    damage: Option<String>,
    report: IntegrityReport,
}

impl Checked {
    fn is_sound(&self) -> bool {
        self.damage.is_none() && self.report.is_sound()
    }
}

/// SQLite's page check, then a full check of every chain (quarantined ones included, so the
/// fault is reported at the seq where the damage really is). A store that does not even open
/// is reported as damage, never as a failure of the command.
fn check(store_dir: &std::path::Path, key: &StoreKey) -> Checked {
    let store = match SqliteStore::open_unchecked(store_dir, key.clone()) {
        Ok(store) => store,
        Err(error) => {
            return Checked {
                damage: Some(damage_of(&error)),
                report: IntegrityReport::default(),
            }
        }
    };
    let page_damage = match store.page_check(20) {
        Ok(found) => found,
        Err(error) => Some(damage_of(&error)),
    };
    match store.full_check() {
        Ok(report) => Checked {
            damage: page_damage,
            report,
        },
        Err(error) => Checked {
            damage: Some(
                page_damage.map_or(damage_of(&error), |p| format!("{p}; {}", damage_of(&error))),
            ),
            report: IntegrityReport::default(),
        },
    }
}

/// What a store error says is damaged, without the advice the command gives anyway.
fn damage_of(error: &StoreError) -> String {
    match error {
        StoreError::Damaged(detail) => detail.clone(),
        other => other.to_string(),
    }
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
