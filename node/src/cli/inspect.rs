//! `myco record` and `myco metrics`: what the daemon holds of one record, and its metrics.

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
