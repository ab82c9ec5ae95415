//! `myco dna`: check a DNA manifest and print its pod id.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use serde::Serialize;

use super::{output, Context};

/// Largest manifest file read. Every text field and list in a manifest is bounded, so a real
/// one is a few KiB; the bound stops a wrong path from being read into memory.
const MAX_MANIFEST_FILE_BYTES: u64 = 1024 * 1024;

/// Shown after `myco dna --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco dna check dna/examples/storytelling.toml";

const CHECK_EXAMPLES: &str = "\
Examples:
  myco dna check pod.toml            check the manifest and print the pod id
  myco dna check pod.toml --json     the same, as one JSON object";

/// A `myco dna` command.
#[derive(Debug, Subcommand)]
pub enum DnaCommand {
    /// Check a DNA manifest (TOML) and print its pod id
    #[command(after_help = CHECK_EXAMPLES)]
    Check {
        /// The manifest file
        file: PathBuf,
    },
}

/// What `myco dna check` prints.
#[derive(Serialize)]
struct DnaReport {
    name: String,
    dna_hash: String,
    zomes: Vec<String>,
    file: String,
}

impl fmt::Display for DnaReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} is a valid DNA manifest.", self.file)?;
        writeln!(f, "  name:   {}", self.name)?;
        writeln!(f, "  pod id: {}", self.dna_hash)?;
        write!(f, "  zomes:  {}", self.zomes.join(", "))
    }
}

pub(super) fn run(ctx: &Context, command: DnaCommand) -> anyhow::Result<()> {
    let DnaCommand::Check { file } = command;
    let text = read_manifest(&file)?;
    let invalid = || {
        format!(
            "{} is not a valid DNA manifest; fix it and run `myco dna check` again",
            file.display()
        )
    };
    let manifest = myco_zomes::load_dna(&text).with_context(invalid)?;
    let report = DnaReport {
        name: manifest.name.clone(),
        dna_hash: manifest.dna_hash().to_string(),
        zomes: manifest.zomes.clone(),
        file: file.display().to_string(),
    };
    output::emit(&report, ctx.json())
}

fn read_manifest(path: &Path) -> anyhow::Result<String> {
    let context = || format!("cannot read the DNA manifest {}", path.display());
    let file = File::open(path).with_context(context)?;
    let mut text = String::new();
    file.take(MAX_MANIFEST_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(context)?;
    if text.len() as u64 > MAX_MANIFEST_FILE_BYTES {
        bail!(
            "the DNA manifest {} is over {MAX_MANIFEST_FILE_BYTES} bytes; is it the right file?",
            path.display()
        );
    }
    Ok(text)
}
