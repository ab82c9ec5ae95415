//! A member's day beyond publishing, through the running daemon: `myco edit`, `react`,
//! `comment` and `value record | distribute | statement`. Each has an API route and `--json`.

use std::fmt;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::pod::client;
use super::write::post;
use super::{output, Context};
use crate::api::types::{
    CommentRequest, ConsentBody, ConsentChanges, DistributeRequest, Distributed, EditRequest,
    Edited, ReactRequest, ShareBody, StatementView, StatusView, ValueEventRequest,
};

/// Shown after `myco edit --help`.
pub(super) const EDIT_EXAMPLES: &str = "\
Examples:
  myco edit act_... --pod dna_... --body \"the river, told again\"
  myco edit act_... --pod dna_... --visibility private                 a revocation
  myco edit act_... --pod dna_... --consent ai_analysis=false --json

Every field you leave out keeps the current version's value. Only the author may edit;
narrowing the visibility or consent makes every node that may no longer hold the story
purge it.";

/// Shown after `myco react --help`.
pub(super) const REACT_EXAMPLES: &str = "\
Examples:
  myco react act_... --pod dna_... --kind heart
  myco react act_... --pod dna_... --kind thanks --visibility private --json

A reaction has the visibility of the content it answers, unless you narrow it.";

/// Shown after `myco comment --help`.
pub(super) const COMMENT_EXAMPLES: &str = "\
Examples:
  myco comment act_... --pod dna_... --body \"My grandmother told it too\"
  myco comment act_... --pod dna_... --body \"Just for me\" --visibility private --json

A comment has the visibility of the content it answers, unless you narrow it.";

/// Shown after `myco value --help`.
pub(super) const VALUE_EXAMPLES: &str = "\
Examples:
  myco value record --pod dna_... --content act_... --amount 1001 --currency EUR
  myco value distribute --pod dna_... --event act_...
  myco value statement --pod dna_... --member kh_... --json

Amounts are integers in the currency's minor units (1001 EUR minor units = 10.01 EUR).
The daemon computes the payouts of a distribution from the content's revenue share and
the DNA's benefit model: largest remainder, ties to the lower key hash.";

/// `myco edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The content (act_…: its first version or any later one)
    content: String,
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// New title
    #[arg(long)]
    title: Option<String>,
    /// New text body
    #[arg(long)]
    body: Option<String>,
    /// New visibility: public, pod or private
    #[arg(long)]
    visibility: Option<String>,
    /// A consent flag to change: KEY=true|false (or KEY for true), repeatable
    #[arg(long = "consent", value_name = "KEY[=BOOL]")]
    consent: Vec<String>,
    /// The principles you affirm, replacing the current list (repeatable)
    #[arg(long = "principle", value_name = "PRINCIPLE")]
    principles: Vec<String>,
    /// How to credit you
    #[arg(long)]
    attribution: Option<String>,
}

/// `myco react`.
#[derive(Debug, Args)]
pub struct ReactArgs {
    /// The content (act_…)
    content: String,
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// The reaction, for example an emoji or a word
    #[arg(long)]
    kind: String,
    /// Narrow it: pod or private (default: the content's visibility)
    #[arg(long)]
    visibility: Option<String>,
}

/// `myco comment`.
#[derive(Debug, Args)]
pub struct CommentArgs {
    /// The content (act_…)
    content: String,
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// The comment
    #[arg(long)]
    body: String,
    /// Narrow it: pod or private (default: the content's visibility)
    #[arg(long)]
    visibility: Option<String>,
}

/// A `myco value` command.
#[derive(Debug, Subcommand)]
pub enum ValueCommand {
    /// Record revenue a content earned, as its creator or a treasurer
    #[command(after_help = VALUE_EXAMPLES)]
    Record {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
        /// The content (act_…)
        #[arg(long)]
        content: String,
        /// How much, in the currency's minor units
        #[arg(long)]
        amount: u64,
        /// ISO 4217 code, for example EUR
        #[arg(long)]
        currency: String,
        /// The GrantRole decision making you a treasurer (omit as the content's creator)
        #[arg(long)]
        grant: Option<String>,
    },
    /// Pay out a value event: the daemon computes the payouts
    #[command(after_help = VALUE_EXAMPLES)]
    Distribute {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
        /// The value event (act_…)
        #[arg(long)]
        event: String,
        /// The GrantRole decision making you a treasurer (omit as the content's creator)
        #[arg(long)]
        grant: Option<String>,
    },
    /// Show what each member earned and was paid, per currency
    #[command(after_help = VALUE_EXAMPLES)]
    Statement {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
        /// Only this member (kh_…)
        #[arg(long)]
        member: Option<String>,
    },
}

/// `--consent` items as (flag, value): `KEY` is true, `KEY=true|false` says which.
pub(super) fn consent_flags(items: &[String]) -> anyhow::Result<Vec<(String, bool)>> {
    items
        .iter()
        .map(|item| {
            let (key, value) = match item.split_once('=') {
                None => (item.trim(), true),
                Some((key, value)) => match value.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" => (key.trim(), true),
                    "false" | "no" => (key.trim(), false),
                    other => bail!("--consent {item}: `{other}` is not true or false"),
                },
            };
            if !ConsentBody::FLAGS.contains(&key) {
                bail!(
                    "--consent {item}: `{key}` is not a consent flag; use one of {}",
                    ConsentBody::FLAGS.join(", ")
                );
            }
            Ok((key.to_string(), value))
        })
        .collect()
}

/// `--share RECIPIENT=BP` items, `me` resolved to this agent's key hash.
pub(super) fn shares(ctx: &Context, items: &[String]) -> anyhow::Result<Vec<ShareBody>> {
    let mut me: Option<String> = None;
    let mut out = Vec::new();
    for item in items {
        let Some((recipient, bp)) = item.split_once('=') else {
            bail!("--share {item}: give RECIPIENT=BP, for example me=7500 or community=2500");
        };
        let bp: u16 = bp
            .trim()
            .parse()
            .with_context(|| format!("--share {item}: `{bp}` is not basis points (0 to 10000)"))?;
        let recipient = match recipient.trim() {
            "me" => match &me {
                Some(key) => key.clone(),
                None => {
                    let status: StatusView = client(ctx)?.get("/status")?;
                    me = Some(status.key_hash.clone());
                    status.key_hash
                }
            },
            other => other.to_string(),
        };
        out.push(ShareBody { recipient, bp });
    }
    Ok(out)
}

#[derive(Serialize)]
struct EditReport(Edited);

impl fmt::Display for EditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Edited {}: the new version is {} in pod {}",
            self.0.replaces, self.0.hash, self.0.pod
        )
    }
}

pub(super) fn edit(ctx: &Context, a: EditArgs) -> anyhow::Result<()> {
    let consent = if a.consent.is_empty() {
        None
    } else {
        let mut changes = ConsentChanges::default();
        for (flag, value) in consent_flags(&a.consent)? {
            if let Some(slot) = changes.flag_mut(&flag) {
                *slot = Some(value);
            }
        }
        Some(changes)
    };
    let request = EditRequest {
        title: a.title,
        body: a.body,
        kind: None,
        visibility: a.visibility,
        consent,
        principles: (!a.principles.is_empty()).then_some(a.principles),
        protocols: None,
        attribution: a.attribution,
    };
    let edited: Edited = client(ctx)?.post(
        &format!("/pods/{}/content/{}", a.pod.trim(), a.content.trim()),
        &request,
    )?;
    output::emit(&EditReport(edited), ctx.json())
}

pub(super) fn react(ctx: &Context, a: ReactArgs) -> anyhow::Result<()> {
    let request = ReactRequest {
        content: a.content,
        reaction: a.kind,
        visibility: a.visibility,
    };
    post(ctx, &a.pod, "reactions", &request)
}

pub(super) fn comment(ctx: &Context, a: CommentArgs) -> anyhow::Result<()> {
    let request = CommentRequest {
        content: a.content,
        body: a.body,
        visibility: a.visibility,
    };
    post(ctx, &a.pod, "comments", &request)
}

#[derive(Serialize)]
struct DistributionReport(Distributed);

impl fmt::Display for DistributionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        writeln!(
            f,
            "Distributed value event {} as {} in pod {}:",
            d.event, d.hash, d.pod
        )?;
        for payout in &d.payouts {
            writeln!(
                f,
                "  {}  {} {}",
                payout.recipient, payout.amount, d.currency
            )?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct StatementReport(StatementView);

impl fmt::Display for StatementReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        writeln!(
            f,
            "Pod {}: {}, {} ({} not yet distributed)",
            s.pod,
            output::count(s.events as u64, "value event"),
            output::count(s.distributions as u64, "distribution"),
            s.undistributed.len()
        )?;
        if s.members.is_empty() {
            return write!(f, "No member has earned anything yet.");
        }
        writeln!(f, "member  currency  earned  paid  (minor units)")?;
        for line in &s.members {
            for (currency, balance) in &line.currencies {
                writeln!(
                    f,
                    "{}  {currency}  {}  {}",
                    line.member, balance.earned, balance.paid
                )?;
            }
        }
        Ok(())
    }
}

pub(super) fn value(ctx: &Context, command: ValueCommand) -> anyhow::Result<()> {
    match command {
        ValueCommand::Record {
            pod,
            content,
            amount,
            currency,
            grant,
        } => post(
            ctx,
            &pod,
            "value/events",
            &ValueEventRequest {
                content,
                amount,
                currency,
                grant,
            },
        ),
        ValueCommand::Distribute { pod, event, grant } => {
            let distributed: Distributed = client(ctx)?.post(
                &format!("/pods/{}/value/distributions", pod.trim()),
                &DistributeRequest { event, grant },
            )?;
            output::emit(&DistributionReport(distributed), ctx.json())
        }
        ValueCommand::Statement { pod, member } => {
            let query = member.map_or(String::new(), |m| format!("?member={}", m.trim()));
            let view: StatementView =
                client(ctx)?.get(&format!("/pods/{}/value/statement{query}", pod.trim()))?;
            output::emit(&StatementReport(view), ctx.json())
        }
    }
}
