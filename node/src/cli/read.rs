//! `myco feed`, `myco show` and `myco consent show`: reading stories through the running
//! daemon. Each read is one bounded page, answered from the store's indexes.

use std::fmt;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::pod::client;
use super::{output, Context};
use crate::api::views::{ConsentView, FeedView, StoryView};

/// Shown after `myco feed --help`.
pub(super) const FEED_EXAMPLES: &str = "\
Examples:
  myco feed --pod dna_...                          the newest 20 stories you may see
  myco feed --pod dna_... --author kh_... --kind story --limit 50
  myco feed --pod dna_... --before act_...         the page after the one that ended at act_...
  myco feed --pod dna_... --json";

/// Shown after `myco show --help`.
pub(super) const SHOW_EXAMPLES: &str = "\
Examples:
  myco show act_...                 a story: text, consent, share, approval, versions, responses
  myco show act_... --comments-after act_...     the next page of comments
  myco show act_... --json          every field, receipts for erasure included";

/// Shown after `myco consent --help`.
pub(super) const CONSENT_EXAMPLES: &str = "\
Examples:
  myco consent show act_...
  myco consent show act_... --json

To change consent, write a new version: `myco edit act_... --consent ai_analysis=false`.
A narrower consent or visibility is a revocation: every other node purges the old version.";

/// `myco feed`.
#[derive(Debug, Args)]
pub struct FeedArgs {
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// Only this author's stories (kh_…)
    #[arg(long)]
    author: Option<String>,
    /// Only this kind of work (story, article, video…)
    #[arg(long)]
    kind: Option<String>,
    /// Stories per page (1 to 100)
    #[arg(long, default_value_t = crate::api::reads::DEFAULT_FEED_PAGE)]
    limit: usize,
    /// Start after this story: the `next` hash the page before printed (act_…)
    #[arg(long)]
    before: Option<String>,
}

/// `myco show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The story, or any version of it (act_…)
    hash: String,
    /// The next page of comments, after this one (act_…)
    #[arg(long)]
    comments_after: Option<String>,
}

/// A `myco consent` command.
#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Show what the storyteller consents to, for a story
    #[command(after_help = CONSENT_EXAMPLES)]
    Show {
        /// The story (act_…)
        hash: String,
    },
}

fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let present: Vec<(&str, String)> = pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (*k, v)))
        .collect();
    if present.is_empty() {
        return String::new();
    }
    let encoded = serde_urlencoded::to_string(&present).unwrap_or_default();
    format!("?{encoded}")
}

#[derive(Serialize)]
struct Feed(FeedView);

impl fmt::Display for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let feed = &self.0;
        if feed.items.is_empty() {
            return write!(
                f,
                "No stories you may see in pod {} on this page.",
                feed.pod
            );
        }
        for item in &feed.items {
            let who = item.author_name.as_deref().unwrap_or(&item.author);
            writeln!(
                f,
                "{}  {}  [{} {}] by {} on {}",
                item.hash,
                item.title,
                item.kind,
                item.visibility,
                who,
                output::date(item.published_micros)
            )?;
            if !item.excerpt.is_empty() {
                writeln!(f, "    {}", item.excerpt)?;
            }
            writeln!(
                f,
                "    {}, {}, {}",
                output::count(item.versions, "version"),
                output::count(item.comments, "comment"),
                output::count(item.reactions, "reaction")
            )?;
        }
        match &feed.next_before {
            Some(next) => write!(f, "Next page: myco feed --pod {} --before {next}", feed.pod),
            None => write!(f, "End of the feed."),
        }
    }
}

pub(super) fn feed(ctx: &Context, args: FeedArgs) -> anyhow::Result<()> {
    let path = format!(
        "/pods/{}/feed{}",
        args.pod.trim(),
        query_string(&[
            ("author", args.author),
            ("kind", args.kind),
            ("limit", Some(args.limit.to_string())),
            ("before", args.before),
        ])
    );
    let view: FeedView = client(ctx)?.get(&path)?;
    output::emit(&Feed(view), ctx.json())
}

fn story(ctx: &Context, hash: &str, comments_after: Option<String>) -> anyhow::Result<StoryView> {
    let path = format!(
        "/content/{}{}",
        hash.trim(),
        query_string(&[("comments_after", comments_after)])
    );
    Ok(client(ctx)?.get(&path)?)
}

fn flags(consent: &ConsentView) -> String {
    let named = [
        ("public_sharing", consent.public_sharing),
        ("community_sharing", consent.community_sharing),
        ("ai_analysis", consent.ai_analysis),
        ("commercial_use", consent.commercial_use),
        ("attribution_required", consent.attribution_required),
        ("modification_allowed", consent.modification_allowed),
    ];
    let given: Vec<&str> = named
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
    if given.is_empty() {
        "nothing".into()
    } else {
        given.join(", ")
    }
}

#[derive(Serialize)]
struct Story(StoryView);

impl fmt::Display for Story {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        let who = s.author_name.as_deref().unwrap_or(&s.author);
        if s.held {
            writeln!(f, "{}", s.title)?;
            writeln!(f, "{} by {who}, {} visibility", s.kind, s.visibility)?;
            writeln!(f)?;
            writeln!(f, "{}", s.body)?;
            writeln!(f)?;
        } else if s.deleted {
            writeln!(f, "Deleted by its author ({who}); its text is erased here.")?;
        } else {
            writeln!(
                f,
                "This node holds no text of it ({} visibility, by {who}).",
                s.visibility
            )?;
        }
        writeln!(f, "story:       {} (newest version {})", s.hash, s.latest)?;
        writeln!(
            f,
            "views:       {} on this node (counted here only, never shared)",
            s.views_here
        )?;
        if let Some(consent) = &s.consent {
            writeln!(f, "consent:     {}", flags(consent))?;
        }
        if !s.principles.is_empty() {
            writeln!(f, "principles:  {}", s.principles.join(", "))?;
        }
        if let Some(attribution) = &s.attribution {
            writeln!(f, "credit:      {attribution}")?;
        }
        let shares: Vec<String> = s
            .revenue_share
            .iter()
            .map(|share| {
                format!(
                    "{} {}.{:02}%",
                    share.recipient,
                    share.bp / 100,
                    share.bp % 100
                )
            })
            .collect();
        if !shares.is_empty() {
            writeln!(f, "revenue:     {}", shares.join(", "))?;
        }
        write!(f, "approval:    {}", s.approval.status)?;
        if !s.approval.required.is_empty() {
            write!(f, " (needs {})", s.approval.required.join(", "))?;
        }
        writeln!(f)?;
        for approval in &s.approval.approvals {
            writeln!(
                f,
                "             approved under {} by {} ({})",
                approval.protocol, approval.steward, approval.record
            )?;
        }
        writeln!(f, "versions:")?;
        for version in &s.versions {
            writeln!(
                f,
                "  {}  {}  {}  {}{}",
                version.hash,
                output::date(version.micros),
                version.visibility,
                version.entry,
                version
                    .title
                    .as_deref()
                    .map(|t| format!("  \"{t}\""))
                    .unwrap_or_default()
            )?;
        }
        let counts: Vec<String> = s
            .reactions
            .counts
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        writeln!(
            f,
            "reactions:   {}{}",
            output::count(s.reactions.total, "reaction"),
            if counts.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts.join(", "))
            }
        )?;
        writeln!(
            f,
            "comments:    {}",
            output::count(s.comments_total, "comment")
        )?;
        for comment in &s.comments {
            let who = comment.author_name.as_deref().unwrap_or(&comment.author);
            writeln!(
                f,
                "  {who} on {}: {}",
                output::date(comment.micros),
                comment.body
            )?;
        }
        if let Some(next) = &s.next_comments_after {
            writeln!(f, "  more: myco show {} --comments-after {next}", s.hash)?;
        }
        if !s.receipts.revocations.is_empty() {
            writeln!(
                f,
                "erasure:     {} confirmed, {} owed",
                output::count(s.receipts.confirmed.len() as u64, "receipt"),
                s.receipts.owed.len()
            )?;
            for receipt in &s.receipts.confirmed {
                writeln!(
                    f,
                    "  confirmed by {} on {}",
                    receipt.member,
                    output::date(receipt.purged_micros)
                )?;
            }
            for member in &s.receipts.owed {
                writeln!(f, "  still owed by {member}")?;
            }
            write!(f, "  ({})", s.receipts.note)?;
        }
        Ok(())
    }
}

pub(super) fn show(ctx: &Context, args: ShowArgs) -> anyhow::Result<()> {
    let view = story(ctx, &args.hash, args.comments_after)?;
    output::emit(&Story(view), ctx.json())
}

/// What `myco consent show` prints.
#[derive(Serialize)]
struct ConsentReport {
    story: String,
    visibility: String,
    consent: Option<ConsentView>,
}

impl fmt::Display for ConsentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.consent {
            None => write!(
                f,
                "This node holds no text of {}, so no consent to show.",
                self.story
            ),
            Some(consent) => {
                writeln!(
                    f,
                    "story:      {} ({} visibility)",
                    self.story, self.visibility
                )?;
                writeln!(f, "consents to: {}", flags(consent))?;
                if consent.distribution_channels.is_empty() {
                    write!(f, "channels:   none named")
                } else {
                    write!(
                        f,
                        "channels:   {}",
                        consent.distribution_channels.join(", ")
                    )
                }
            }
        }
    }
}

pub(super) fn consent(ctx: &Context, command: ConsentCommand) -> anyhow::Result<()> {
    match command {
        ConsentCommand::Show { hash } => {
            let view = story(ctx, &hash, None)?;
            output::emit(
                &ConsentReport {
                    story: view.hash,
                    visibility: view.visibility,
                    consent: view.consent,
                },
                ctx.json(),
            )
        }
    }
}
