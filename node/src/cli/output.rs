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

/// A command that ran but found something wrong, and the report showing what: with `--json`
/// the error's object carries the report as `report`, so stdout stays one JSON object;
/// without, the report is printed before the error.
#[derive(Debug)]
pub(crate) struct FailedWithReport {
    /// What is wrong and what to do about it.
    pub message: String,
    /// The report, as JSON.
    pub report: serde_json::Value,
}

impl Display for FailedWithReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FailedWithReport {}

/// Prints `report` as [`emit`] does and returns `Ok` if `ok`; otherwise fails with `message`,
/// the report printed before it (text) or carried in the error's object (`--json`).
pub(crate) fn emit_or_fail<R: Serialize + Display>(
    report: &R,
    json: bool,
    ok: bool,
    message: &str,
) -> anyhow::Result<()> {
    if ok || !json {
        emit(report, json)?;
    }
    if ok {
        return Ok(());
    }
    Err(FailedWithReport {
        message: message.to_string(),
        report: serde_json::to_value(report).context("cannot encode the result as JSON")?,
    }
    .into())
}

/// `count` and `noun`, in the plural unless there is one: "1 peer", "3 peers".
pub(crate) fn count(count: impl Into<u64>, noun: &str) -> String {
    let count = count.into();
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// A time in µs since the Unix epoch, as a person reads it: `2026-12-02 14:05 UTC`.
pub(crate) fn date(micros: u64) -> String {
    crate::dates::micros_as_date(micros)
}

#[cfg(test)]
mod tests {

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(super::count(1u64, "peer"), "1 peer");
        assert_eq!(super::count(0u64, "peer"), "0 peers");
        assert_eq!(super::count(2u64, "record"), "2 records");
    }
}
