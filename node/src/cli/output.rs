//! Printing a command's result: text for people, or one JSON object for machines (`--json`).

use std::fmt::Display;
use std::io::{self, Write};

use anyhow::Context as _;
use serde::Serialize;

/// Prints `report` on stdout: its `Display` form, or with `json` one line of JSON.
pub(crate) fn emit<R: Serialize + Display>(report: &R, json: bool) -> anyhow::Result<()> {
    let text = if json {
        serde_json::to_string(report).context("cannot encode the result as JSON")?
    } else {
        report.to_string()
    };
    let mut stdout = io::stdout().lock();
    match writeln!(stdout, "{}", text.trim_end()).and_then(|()| stdout.flush()) {
        // A closed pipe (`myco key show | head -1`) is the reader's choice, not a failure.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}
