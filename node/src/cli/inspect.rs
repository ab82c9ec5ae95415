//! `myco record`, `myco metrics` and `myco pod state`: what the daemon holds of one record,
//! its metrics, and a pod's transparency figures.

use std::fmt;

use serde::Serialize;

use super::pod::client;
use super::{output, Context};
use crate::api::types::RecordView;

/// Shown after `myco record --help`.
pub(super) const RECORD_EXAMPLES: &str = "\
Examples:
  myco record act_...           whether this node stores the record, and its entry
  myco record act_... --json

A record held without its entry is one this node may not read (Private, awaiting a
steward's approval) or whose entry was purged (deleted or narrowed).";

/// Shown after `myco metrics --help`.
pub(super) const METRICS_EXAMPLES: &str = "\
Examples:
  myco metrics                  Prometheus text, as GET /metrics serves it
  myco metrics --json           {\"name\": value, ...}";

/// Shown after `myco pod state --help`.
pub(super) const STATE_EXAMPLES: &str = "\
Examples:
  myco pod state --pod dna_...          the figures, in words
  myco pod state --pod dna_... --json   as GET /pods/{pod}/state: figures, roster, value, the
                                        newest proposals and audit entries, your dashboard";

/// `GET /pods/{pod}/state`, passed through.
#[derive(Serialize)]
#[serde(transparent)]
struct PodState(serde_json::Value);

impl fmt::Display for PodState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = &self.0;
        let figures = &state["state"]["figures"];
        let number = |value: &serde_json::Value| value.as_u64().unwrap_or(0);
        let percent = |value: &serde_json::Value| {
            let bp = number(value);
            format!("{}.{:02}%", bp / 100, bp % 100)
        };
        writeln!(
            f,
            "{} ({})",
            state["name"].as_str().unwrap_or(""),
            state["pod"].as_str().unwrap_or("")
        )?;
        writeln!(
            f,
            "members:     {} ({} active in 30 days)",
            number(&figures["members"]),
            number(&figures["active_members_30d"])
        )?;
        writeln!(
            f,
            "proposals:   {} open, {} passed, {} failed; mean participation {}",
            number(&figures["proposals_open"]),
            number(&figures["proposals_passed"]),
            number(&figures["proposals_failed"]),
            percent(&figures["mean_vote_participation_bp"])
        )?;
        let by = &figures["content_by_visibility"];
        writeln!(
            f,
            "stories:     {} public, {} pod, {} private",
            number(&by["public"]),
            number(&by["pod"]),
            number(&by["private"])
        )?;
        writeln!(
            f,
            "creators:    share compliance {}, mean creator share {}",
            percent(&figures["creator_share_compliance_bp"]),
            percent(&figures["average_creator_share_bp"])
        )?;
        writeln!(
            f,
            "erasure:     {} deletions, {} revocations, {} receipts, {} owed",
            number(&figures["deletions"]),
            number(&figures["revocations"]),
            number(&figures["erasure_receipts"]),
            number(&figures["receipts_owed"])
        )?;
        write!(
            f,
            "safety:      {} warrants, {} blocked",
            number(&figures["warrants"]),
            number(&figures["blocked_authors"])
        )
    }
}

pub(super) fn state(ctx: &Context, pod: &str) -> anyhow::Result<()> {
    let view: serde_json::Value = client(ctx)?.get(&format!("/pods/{}/state", pod.trim()))?;
    output::emit(&PodState(view), ctx.json())
}

#[derive(Serialize)]
struct Held(RecordView);

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.0;
        match (r.stored, r.entry) {
            (false, _) => write!(
                f,
                "{} is not stored here; check the hash, or wait for sync",
                r.hash
            ),
            (true, true) => write!(f, "{} is stored here, with its entry", r.hash),
            (true, false) => write!(
                f,
                "{} is stored here without its entry (not readable here, or purged)",
                r.hash
            ),
        }
    }
}

pub(super) fn record(ctx: &Context, hash: &str) -> anyhow::Result<()> {
    let view: RecordView = client(ctx)?.get(&format!("/records/{}", hash.trim()))?;
    output::emit(&Held(view), ctx.json())
}

/// The metrics, by name.
#[derive(Serialize)]
#[serde(transparent)]
struct Metrics {
    #[serde(skip)]
    text: String,
    values: std::collections::BTreeMap<String, f64>,
}

impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

pub(super) fn metrics(ctx: &Context) -> anyhow::Result<()> {
    let text = client(ctx)?.get_text("/metrics")?;
    let values = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_string(), value.trim().parse().ok()?))
        })
        .collect();
    output::emit(&Metrics { text, values }, ctx.json())
}
