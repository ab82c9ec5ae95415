//! `myco export`: everything about this agent in one file, from the running daemon; and
//! `myco export verify`, which checks such a file offline ([`crate::export`]).

use std::fmt;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::pod::client;
use super::{files, output, Context};
use crate::export::{verify, VerifyReport};

/// Largest export file `myco export` keeps and `myco export verify` reads: it is checked in
/// memory, at about three times its size.
const MAX_EXPORT_BYTES: u64 = 1024 * 1024 * 1024;

/// Shown after `myco export --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco export --out me.json                  every pod: chains, entries (Private ones too), DNAs
  myco export --out harbour.json --pod dna_…  one pod
  myco export verify me.json                 checks every signature, hash and link, offline
  myco export verify me.json --json

The file is JSON (docs/export.md): each record's signed canonical bytes in hex, beside a plain
view with its entry as JSON. It holds your Private entries in the clear and is written with
mode 0600: keep it as you would keep the stories themselves.";

/// `myco export`'s flags.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ExportArgs {
    /// Check an export file instead of making one
    #[command(subcommand)]
    command: Option<ExportCommand>,
    /// Write the export to FILE (refuses to overwrite it)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Only this pod (dna_…)
    #[arg(long)]
    pod: Option<String>,
}

/// `myco export verify`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Check an export offline: every signature, hash, entry hash and chain link, each DNA
    /// against its pod, each plain view against its record
    #[command(after_help = EXAMPLES)]
    Verify {
        /// The export file
        file: PathBuf,
    },
}

/// What `myco export` prints.
#[derive(Serialize)]
struct ExportReport {
    file: String,
    bytes: u64,
    #[serde(flatten)]
    counts: VerifyReport,
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Exported {} in {} to {} ({})",
            output::count(self.counts.records as u64, "record"),
            output::count(self.counts.pods as u64, "pod"),
            self.file,
            crate::store::human_bytes(self.bytes)
        )?;
        write!(
            f,
            "Check it any time, offline: myco export verify {}",
            self.file
        )
    }
}

/// What `myco export verify` prints.
#[derive(Serialize)]
struct Verified {
    file: String,
    #[serde(flatten)]
    counts: VerifyReport,
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        writeln!(
            f,
            "{} is sound: every signature, hash and link checks out.",
            self.file
        )?;
        writeln!(f, "  agent:   {}", c.agent_key)?;
        writeln!(f, "  pods:    {}", c.pods)?;
        write!(
            f,
            "  records: {} ({} with their entry, {} without: purged or never held)",
            c.records, c.entries, c.without_entry
        )
    }
}

pub(super) fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<()> {
    if let Some(ExportCommand::Verify { file }) = args.command {
        let bytes = files::read_bounded(&file, MAX_EXPORT_BYTES, "export")?;
        let counts =
            verify(&bytes).with_context(|| format!("{} does not verify", file.display()))?;
        return output::emit(
            &Verified {
                file: file.display().to_string(),
                counts,
            },
            ctx.json(),
        );
    }
    let Some(out) = args.out else {
        anyhow::bail!("say where to write the export: myco export --out FILE (or check one: myco export verify FILE)");
    };
    files::refuse_existing(&out)?;
    let path = match &args.pod {
        Some(pod) => format!("/export?pod={}", pod.trim()),
        None => "/export".to_string(),
    };
    let (file, bytes) = files::download_beside(&client(ctx)?, &path, &out, "export", |_| ())?;
    // The daemon's own answer is checked before it is kept: a bad export is never written.
    let counts = verify(&files::read_bounded(
        file.path(),
        MAX_EXPORT_BYTES,
        "export",
    )?)
    .context("the daemon's export does not verify")?;
    files::keep(file, &out, "export")?;
    output::emit(
        &ExportReport {
            file: out.display().to_string(),
            bytes,
            counts,
        },
        ctx.json(),
    )
}
