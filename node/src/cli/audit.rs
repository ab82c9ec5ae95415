//! `myco pod audit`: this node's replica of a pod against its peers' heights, the latest
//! backup listing and the migration manifests ([`crate::api::audit`]).

use std::fmt;

use serde::Serialize;

use super::{output, Context};
use crate::api::audit::{AuditReport, SeqRange};
use crate::api::client::ApiClient;

/// Shown after `myco pod audit --help`.
pub(super) const AUDIT_EXAMPLES: &str = "\
Examples:
  myco pod audit --pod dna_…           counts by type, and what is missing or extra here
  myco pod audit --pod dna_… --json

It compares this node's replica with the chain heights the pod's peers last claimed, with
the latest backup an archivist listed, and with every migration manifest. It exits with an
error when something listed or claimed is missing here: wait for sync, then run it again.";

#[derive(Serialize)]
struct Audit(AuditReport);

fn ranges(ranges: &[SeqRange]) -> String {
    ranges
        .iter()
        .map(|r| {
            if r.from == r.to {
                format!("{} seq {}", r.author, r.from)
            } else {
                format!("{} seq {}..={}", r.author, r.from, r.to)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Audit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.0;
        writeln!(
            f,
            "Pod {}: {} records in {} chains held here.",
            r.pod, r.records, r.chains
        )?;
        for (kind, count) in &r.counts {
            writeln!(f, "  {count:>8}  {kind}")?;
        }
        if r.peers.is_empty() {
            writeln!(f, "Peers: none heard from yet.")?;
        }
        for peer in &r.peers {
            let mut line = format!("Peer {}: ", peer.peer);
            if peer.missing.is_empty() && peer.forks.is_empty() && peer.extra.is_empty() {
                line.push_str("same heights");
            }
            for (what, list) in [
                ("missing here", &peer.missing),
                ("extra here", &peer.extra),
                ("forked", &peer.forks),
            ] {
                if !list.is_empty() {
                    line.push_str(&format!("{what}: {}; ", ranges(list)));
                }
            }
            writeln!(f, "{}", line.trim_end_matches("; "))?;
        }
        match &r.backup {
            None => writeln!(f, "Backup: none listed in this pod.")?,
            Some(b) => {
                writeln!(
                    f,
                    "Backup {} by {}: {} records listed, {} held here up to its heads, counts {}{}{}; {} newer here.",
                    b.listing,
                    b.archivist,
                    b.listed,
                    b.held,
                    if b.held_counts == b.listed_counts { "match" } else { "differ" },
                    if b.missing.is_empty() { String::new() } else { format!("; missing here: {}", ranges(&b.missing)) },
                    if b.forks.is_empty() { String::new() } else { format!("; forked: {}", ranges(&b.forks)) },
                    b.newer,
                )?;
            }
        }
        for m in &r.migrations {
            writeln!(
                f,
                "Migration {} ({}): {} of {} records held, {}",
                m.manifest,
                m.source,
                m.held,
                m.written,
                if m.sound { "sound" } else { "NOT sound" }
            )?;
        }
        write!(
            f,
            "{}",
            if r.sound {
                "Sound: nothing claimed or listed is missing here."
            } else {
                "NOT sound: see what is missing above."
            }
        )
    }
}

/// Runs `myco pod audit`.
pub(super) fn audit(ctx: &Context, api: &ApiClient, pod: &str) -> anyhow::Result<()> {
    let report: AuditReport = api.get(&format!("/pods/{}/audit", pod.trim()))?;
    let sound = report.sound;
    output::emit_or_fail(
        &Audit(report),
        ctx.json(),
        sound,
        "this node's replica of the pod lacks records its peers or its backup listing hold; wait for sync and run `myco pod audit` again",
    )
}
