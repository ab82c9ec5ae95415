//! `myco import`: a community's data from elsewhere, every row accounted for
//! ([`crate::import`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::pod::client;
use super::{files, output, Context};
use crate::api::import::{ImportAnswer, ImportRequest, ImportRow, MAX_IMPORT_ROWS};
use crate::import::{ImportMap, RowOutcome, Source, MAX_SOURCE_BYTES};

/// Shown after `myco import --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco import --pod dna_… --from airtable.json --map map.toml --dry-run
  myco import --pod dna_… --from airtable.json --map map.toml
  myco import --pod dna_… --from stories.csv --map map.toml --json

The map (TOML) says which field becomes the title, body, kind, visibility, consent flags,
protocol tags and attribution, and gives defaults for what the source lacks:

  [source]
  table = \"records\"      # the list of rows in a JSON export (Airtable: \"records\")
  id = \"id\"              # names a row in the report
  [fields]
  title = \"Title\"
  body = \"Story\"
  [defaults]
  visibility = \"pod\"
  consent = { community_sharing = true }
  principles = [\"…\"]     # the pod's principles, affirmed by you for every row

Every row ends written, refused (with the reason) or a duplicate of one already imported
(same content): the report balances, and a second run writes nothing new.";

/// Bytes of rows sent in one batch: under the API's body bound with room to spare.
const BATCH_BYTES: usize = 192 * 1024;
/// Refused rows listed by reason in the text report.
const LISTED_REFUSALS: usize = 20;

/// `myco import`'s flags.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ImportArgs {
    /// Check the pod's migration manifests instead of importing
    #[command(subcommand)]
    command: Option<ImportCommand>,
    /// The pod (dna_…)
    #[arg(long)]
    pod: Option<String>,
    /// The source: JSON (a list of rows, or an object holding one) or CSV (*.csv)
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// The import map (TOML)
    #[arg(long, value_name = "MAP.toml")]
    map: Option<PathBuf>,
    /// Check every row without writing any
    #[arg(long)]
    dry_run: bool,
}

/// `myco import verify`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Check every migration manifest of a pod against this node's replica: the records it
    /// names are all here, as many as it counts, with its Merkle root
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
    },
}

const VERIFY_EXAMPLES: &str = "\
Examples:
  myco import verify --pod dna_…
  myco import verify --pod dna_… --json

Any member can run it: it reads the manifests the importers signed and checks them against
the records this node holds, naming every record of an import it lacks.";

/// What `myco import verify` prints.
#[derive(Serialize)]
struct Verified {
    pod: String,
    manifests: Vec<crate::api::import::ManifestCheck>,
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} migration manifest(s) in pod {}:",
            self.manifests.len(),
            self.pod
        )?;
        for m in &self.manifests {
            writeln!(
                f,
                "  {} by {}: {} of {} records held, Merkle root {}",
                m.source,
                m.importer,
                m.held,
                m.written,
                if m.root_matches { "matches" } else { "DIFFERS" }
            )?;
        }
        write!(f, "Every manifest matches this node's replica.")
    }
}

/// One row that was refused.
#[derive(Serialize)]
struct Refusal {
    row: usize,
    id: String,
    reason: String,
}

/// Counts of one table, by outcome.
#[derive(Default, Serialize)]
struct Counts {
    source: usize,
    written: usize,
    refused: usize,
    duplicates: usize,
    would_write: usize,
}

/// What `myco import` prints.
#[derive(Serialize)]
struct ImportReport {
    file: String,
    pod: String,
    dry_run: bool,
    #[serde(flatten)]
    counts: Counts,
    balanced: bool,
    tables: BTreeMap<String, Counts>,
    refused_rows: Vec<Refusal>,
    /// The first and last record written, for the manifest.
    #[serde(skip)]
    first_and_last: Option<(String, String)>,
    /// The signed migration manifest, when the run wrote anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<crate::api::import::ManifestWritten>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        let verb = if self.dry_run { "Checked" } else { "Imported" };
        writeln!(f, "{verb} {} into pod {}", self.file, self.pod)?;
        writeln!(
            f,
            "  table         source  written  would write  refused  duplicates"
        )?;
        for (table, t) in &self.tables {
            writeln!(
                f,
                "  {table:<12} {:>7} {:>8} {:>12} {:>8} {:>11}",
                t.source, t.written, t.would_write, t.refused, t.duplicates
            )?;
        }
        writeln!(
            f,
            "  {} = {} written + {} would write + {} refused + {} duplicates: {}",
            c.source,
            c.written,
            c.would_write,
            c.refused,
            c.duplicates,
            if self.balanced {
                "balanced"
            } else {
                "NOT BALANCED"
            }
        )?;
        for refusal in self.refused_rows.iter().take(LISTED_REFUSALS) {
            writeln!(
                f,
                "  refused {} (row {}): {}",
                refusal.id, refusal.row, refusal.reason
            )?;
        }
        if self.refused_rows.len() > LISTED_REFUSALS {
            writeln!(
                f,
                "  … and {} more refused rows (--json lists them all)",
                self.refused_rows.len() - LISTED_REFUSALS
            )?;
        }
        if let Some(manifest) = &self.manifest {
            writeln!(
                f,
                "  migration manifest {} (Merkle root {}): any member checks it with `myco import verify --pod {}`",
                manifest.hash, manifest.merkle_root, self.pod
            )?;
        }
        write!(
            f,
            "A second run writes nothing new: rows already imported count as duplicates."
        )
    }
}

pub(super) fn run(ctx: &Context, args: ImportArgs) -> anyhow::Result<()> {
    if let Some(ImportCommand::Verify { pod }) = &args.command {
        return verify(ctx, pod.trim());
    }
    let (Some(pod), Some(from), Some(map_path)) = (&args.pod, &args.from, &args.map) else {
        anyhow::bail!("say what to import: myco import --pod dna_… --from FILE --map MAP.toml (or check a pod's imports: myco import verify --pod dna_…)");
    };
    let map_text = String::from_utf8(files::read_bounded(
        map_path,
        crate::import::MAX_MAP_BYTES,
        "import map",
    )?)
    .context("the import map is not UTF-8 text")?;
    let map = ImportMap::from_toml(&map_text)?;
    let bytes = files::read_bounded(from, MAX_SOURCE_BYTES, "source")?;
    let is_csv = from
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let source = if is_csv {
        Source::from_csv(&bytes, &map)?
    } else {
        Source::from_json(&bytes, &map)?
    };
    drop(bytes);
    let api = client(ctx)?;
    let pod = pod.trim().to_string();
    let bar = if ctx.json() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(source.rows.len() as u64).with_style(
            ProgressStyle::with_template("importing {bar:40} {pos}/{len} rows ({eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    // Each row's outcome, in source order; rows the map refuses never leave this process.
    let mut outcomes: Vec<Option<RowOutcome>> = vec![None; source.rows.len()];
    let mut batch: Vec<(usize, ImportRow)> = Vec::new();
    let mut batch_bytes = 0;
    let send = |batch: &mut Vec<(usize, ImportRow)>,
                outcomes: &mut Vec<Option<RowOutcome>>|
     -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let request = ImportRequest {
            rows: batch.iter().map(|(_, row)| row.clone()).collect(),
            dry_run: args.dry_run,
        };
        let answer: ImportAnswer = api.post(&format!("/pods/{pod}/import"), &request)?;
        if answer.outcomes.len() != batch.len() {
            anyhow::bail!(
                "the daemon answered {} outcomes for {} rows",
                answer.outcomes.len(),
                batch.len()
            );
        }
        for ((index, _), outcome) in batch.drain(..).zip(answer.outcomes) {
            outcomes[index] = Some(outcome);
        }
        bar.set_position(outcomes.iter().filter(|o| o.is_some()).count() as u64);
        Ok(())
    };
    for (index, row) in source.rows.iter().enumerate() {
        match map.story(row) {
            Err(reason) => outcomes[index] = Some(RowOutcome::Refused { reason }),
            Ok(story) => {
                let size = serde_json::to_vec(&story).map_or(0, |b| b.len());
                if batch.len() >= MAX_IMPORT_ROWS || batch_bytes + size > BATCH_BYTES {
                    send(&mut batch, &mut outcomes)?;
                    batch_bytes = 0;
                }
                batch_bytes += size;
                batch.push((
                    index,
                    ImportRow {
                        id: row.id.clone(),
                        story,
                    },
                ));
            }
        }
    }
    send(&mut batch, &mut outcomes)?;
    bar.finish_and_clear();
    let mut report = reconcile(&args, from, &pod, &source, outcomes);
    if let Some((first, last)) = report.first_and_last.take() {
        let request = crate::api::import::ManifestRequest {
            source: from.file_name().map_or_else(
                || from.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            tables: report
                .tables
                .iter()
                .map(|(name, t)| myco_zomes::content::TableCount {
                    name: name.clone(),
                    source: t.source as u64,
                    written: t.written as u64,
                    refused: t.refused as u64,
                    duplicates: t.duplicates as u64,
                })
                .collect(),
            first,
            last,
        };
        let written: crate::api::import::ManifestWritten = api
            .post(&format!("/pods/{pod}/import/manifest"), &request)
            .context("the rows are written, but the migration manifest was refused")?;
        report.manifest = Some(written);
    }
    output::emit(&report, ctx.json())
}

fn verify(ctx: &Context, pod: &str) -> anyhow::Result<()> {
    let checked: crate::api::import::ImportVerified =
        client(ctx)?.get(&format!("/pods/{pod}/import/verify"))?;
    let unsound: Vec<String> = checked
        .manifests
        .iter()
        .filter(|m| !m.sound)
        .map(|m| {
            format!(
                "manifest {} ({} by {}): {} of {} records held, Merkle root {}{}",
                m.manifest,
                m.source,
                m.importer,
                m.held,
                m.written,
                if m.root_matches { "matches" } else { "differs" },
                if m.missing.is_empty() {
                    String::new()
                } else {
                    format!("; missing here: {}", m.missing.join(", "))
                }
            )
        })
        .collect();
    if !unsound.is_empty() {
        anyhow::bail!(
            "this node's replica does not match: {}. Wait for sync, or ask the importer's node for the missing records",
            unsound.join("; ")
        );
    }
    output::emit(
        &Verified {
            pod: pod.to_string(),
            manifests: checked.manifests,
        },
        ctx.json(),
    )
}

fn reconcile(
    args: &ImportArgs,
    from: &Path,
    pod: &str,
    source: &Source,
    outcomes: Vec<Option<RowOutcome>>,
) -> ImportReport {
    let mut counts = Counts::default();
    let mut refused_rows = Vec::new();
    let mut first_and_last: Option<(String, String)> = None;
    for (row, outcome) in source.rows.iter().zip(outcomes) {
        counts.source += 1;
        match outcome {
            Some(RowOutcome::Written { hash }) => {
                counts.written += 1;
                first_and_last = Some(match first_and_last.take() {
                    None => (hash.clone(), hash),
                    Some((first, _)) => (first, hash),
                });
            }
            Some(RowOutcome::WouldWrite { .. }) => counts.would_write += 1,
            Some(RowOutcome::Duplicate { .. }) => counts.duplicates += 1,
            Some(RowOutcome::Refused { reason }) => {
                counts.refused += 1;
                refused_rows.push(Refusal {
                    row: row.number,
                    id: row.id.clone(),
                    reason,
                });
            }
            None => {
                counts.refused += 1;
                refused_rows.push(Refusal {
                    row: row.number,
                    id: row.id.clone(),
                    reason: "the daemon gave no outcome for it".into(),
                });
            }
        }
    }
    let balanced =
        counts.source == counts.written + counts.would_write + counts.refused + counts.duplicates;
    let mut tables = BTreeMap::new();
    tables.insert(
        source.table.clone(),
        Counts {
            source: counts.source,
            written: counts.written,
            refused: counts.refused,
            duplicates: counts.duplicates,
            would_write: counts.would_write,
        },
    );
    ImportReport {
        file: from.display().to_string(),
        first_and_last,
        manifest: None,
        pod: pod.to_string(),
        dry_run: args.dry_run,
        counts,
        balanced,
        tables,
        refused_rows,
    }
}
