//! Writes through the running daemon: `myco publish`, `profile set`, `propose`, `vote`,
//! `decide`, `approve` and `delete`. The daemon validates each like any record; a write the
//! pod would reject is refused with the reason.

use std::fmt;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::pod::client;
use super::{output, Context};
use crate::api::types::{
    ApproveRequest, ConsentBody, DecideRequest, DeleteRequest, ProfileRequestBody, ProposeRequest,
    PublishRequest, VoteRequest, Written,
};

/// Shown after `myco publish --help`.
pub(super) const PUBLISH_EXAMPLES: &str = "\
Examples:
  myco publish --pod dna_... --title \"River song\" --body \"...\" --visibility public \\
      --consent public_sharing --consent community_sharing
  myco publish --pod dna_... --title \"Elders' story\" --visibility pod --protocol sacred \\
      --consent community_sharing --principle collective-benefit --principle ethics \\
      --principle authority-to-control --principle responsibility --json
  myco publish --pod dna_... --title Song --consent community_sharing \\
      --share me=7500 --share kh_...=2500      75% to you, 25% to a co-author

You state every consent flag and every principle the pod requires: the daemon never
fills one in. A missing required principle is refused, naming it; Pod visibility needs
--consent community_sharing and Public needs --consent public_sharing.";

/// Shown after `myco profile --help`.
pub(super) const PROFILE_EXAMPLES: &str = "\
Examples:
  myco profile set --pod dna_... --username ana --display-name \"Ana\" --public
  myco profile set --pod dna_... --username ana          visible to pod members only";

/// Shown after `myco propose --help`.
pub(super) const PROPOSE_EXAMPLES: &str = "\
Examples:
  myco propose --pod dna_... --kind grant_role --member kh_... --role manager --text \"Ana runs DK\"
  myco propose --pod dna_... --kind approve_backup_schedule --detail \"0 3 * * *\" --decision act_... --retention-days 30
      the archivist the approve_replica decision act_... names backs the pod up at 03:00 UTC
      daily and keeps each backup 30 days
  myco propose --pod dna_... --kind emergency_restore --detail act_... --text \"most of us lost our data\"
      the archivist that listed backup act_... restores it into the members' nodes, once the
      stewards pass it under the pod's emergency rule
  myco propose --pod dna_... --kind change_policy --min-creator-share-bp 8000 --text \"80% floor\"
  myco propose --pod dna_... --kind change_policy --add-principle reciprocity --restrict-region EU

A change_policy proposal may only tighten the DNA: a lower floor or threshold, or a region
outside the DNA's list, is refused with the reason.";

/// Shown after `myco vote --help`.
pub(super) const VOTE_EXAMPLES: &str = "\
Examples:
  myco vote --pod dna_... --proposal act_... --choice yes";

/// Shown after `myco decide --help`.
pub(super) const DECIDE_EXAMPLES: &str = "\
Examples:
  myco decide --pod dna_... --proposal act_...      lists the yes votes this node holds";

/// Shown after `myco approve --help`.
pub(super) const APPROVE_EXAMPLES: &str = "\
Examples:
  myco approve --pod dna_... --content act_... --protocol sacred          as a founder
  myco approve --pod dna_... --content act_... --protocol sacred --grant act_...";

/// Shown after `myco delete --help`.
pub(super) const DELETE_EXAMPLES: &str = "\
Examples:
  myco delete --pod dna_... --target act_...     every member purges the entry bytes";

/// `myco publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// Title
    #[arg(long)]
    title: String,
    /// Text body
    #[arg(long, default_value = "")]
    body: String,
    /// Kind of work
    #[arg(long, default_value = "story")]
    kind: String,
    /// public, pod or private
    #[arg(long, default_value = "pod")]
    visibility: String,
    /// Cultural protocol tags
    #[arg(long = "protocol")]
    protocols: Vec<String>,
    /// A principle you affirm (repeat for each the pod requires)
    #[arg(long = "principle", value_name = "PRINCIPLE")]
    principles: Vec<String>,
    /// A consent flag you give: KEY or KEY=true|false, KEY one of public_sharing,
    /// community_sharing, ai_analysis, commercial_use, attribution_required,
    /// modification_allowed (repeatable)
    #[arg(long = "consent", value_name = "KEY[=BOOL]")]
    consent: Vec<String>,
    /// Consent to AI analysis (as --consent ai_analysis)
    #[arg(long)]
    ai_analysis: bool,
    /// Consent to commercial use (as --consent commercial_use)
    #[arg(long)]
    commercial_use: bool,
    /// Allow others to modify it (as --consent modification_allowed)
    #[arg(long)]
    modification_allowed: bool,
    /// How to credit you
    #[arg(long)]
    attribution: Option<String>,
    /// A revenue share, RECIPIENT=BP: RECIPIENT is kh_…, `me` or `community`; the shares
    /// sum to 10000 (repeatable; none means all revenue goes to you)
    #[arg(long = "share", value_name = "RECIPIENT=BP")]
    shares: Vec<String>,
}

/// A `myco profile` command.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Set this agent's profile in a pod
    #[command(after_help = PROFILE_EXAMPLES)]
    Set {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
        /// Short handle
        #[arg(long)]
        username: String,
        /// Name shown to others
        #[arg(long, default_value = "")]
        display_name: String,
        /// About you
        #[arg(long, default_value = "")]
        bio: String,
        /// Let people in other pods find this profile (profile_public)
        #[arg(long)]
        public: bool,
    },
}

/// `myco propose`.
#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// admit, remove, grant_role, revoke_role, change_policy, approve_replica (a region, or an archivist with --member and --node),
    /// revoke_replica, approve_backup_schedule, emergency_block, emergency_restore (--detail: the backup listing act_…)
    #[arg(long)]
    kind: String,
    /// The member concerned (kh_…)
    #[arg(long)]
    member: Option<String>,
    /// steward, manager, treasurer or archivist
    #[arg(long)]
    role: Option<String>,
    /// The region (approve_replica) or schedule (approve_backup_schedule: cron form, UTC,
    /// for example "0 3 * * *")
    #[arg(long)]
    detail: Option<String>,
    /// approve_replica: the archivist's node, its peer id (`12D3…`, from its `myco status`)
    #[arg(long)]
    node: Option<String>,
    /// revoke_replica: the approve_replica decision to revoke; approve_backup_schedule: the
    /// approve_replica decision naming the archivist that takes the backups (act_…)
    #[arg(long)]
    decision: Option<String>,
    /// approve_backup_schedule: days each backup is kept (1 to 3650)
    #[arg(long, value_name = "DAYS")]
    retention_days: Option<u32>,
    /// The case for it
    #[arg(long, default_value = "")]
    text: String,
    /// change_policy: a new floor on the creator's share, in basis points (never lower
    /// than the DNA's)
    #[arg(long, value_name = "BP")]
    min_creator_share_bp: Option<u16>,
    /// change_policy: a new vote threshold, in basis points (never lower than the DNA's)
    #[arg(long, value_name = "BP")]
    threshold_bp: Option<u16>,
    /// change_policy: a principle content must also affirm (repeatable)
    #[arg(long = "add-principle", value_name = "PRINCIPLE")]
    add_principles: Vec<String>,
    /// change_policy: a region data may stay in, narrowing the DNA's list (repeatable)
    #[arg(long = "restrict-region", value_name = "REGION")]
    restrict_regions: Vec<String>,
}

/// `myco vote`.
#[derive(Debug, Args)]
pub struct VoteArgs {
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// The proposal (act_…)
    #[arg(long)]
    proposal: String,
    /// yes, no or abstain
    #[arg(long)]
    choice: String,
}

/// `myco decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// The proposal (act_…)
    #[arg(long)]
    proposal: String,
}

/// `myco approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// The content's Create (act_…)
    #[arg(long)]
    content: String,
    /// The cultural protocol
    #[arg(long)]
    protocol: String,
    /// The GrantRole decision making you a steward (omit as a founder)
    #[arg(long)]
    grant: Option<String>,
}

/// `myco delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The pod (dna_…)
    #[arg(long)]
    pod: String,
    /// The record to delete (act_…)
    #[arg(long)]
    target: String,
}

#[derive(Serialize)]
struct WrittenReport(Written);

impl fmt::Display for WrittenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Written {} in pod {}", self.0.hash, self.0.pod)
    }
}

pub(super) fn post<B: Serialize>(
    ctx: &Context,
    pod: &str,
    what: &str,
    body: &B,
) -> anyhow::Result<()> {
    let written: Written = client(ctx)?.post(&format!("/pods/{}/{what}", pod.trim()), body)?;
    output::emit(&WrittenReport(written), ctx.json())
}

pub(super) fn publish(ctx: &Context, a: PublishArgs) -> anyhow::Result<()> {
    let mut consent = ConsentBody::default();
    for (flag, value) in super::community::consent_flags(&a.consent)? {
        if let Some(slot) = consent.flag_mut(&flag) {
            *slot = value;
        }
    }
    consent.ai_analysis |= a.ai_analysis;
    consent.commercial_use |= a.commercial_use;
    consent.modification_allowed |= a.modification_allowed;
    let revenue_share = if a.shares.is_empty() {
        None
    } else {
        Some(super::community::shares(ctx, &a.shares)?)
    };
    let request = PublishRequest {
        title: a.title,
        body: a.body,
        kind: Some(a.kind),
        consent,
        visibility: a.visibility,
        principles: a.principles,
        protocols: a.protocols,
        attribution: a.attribution,
        revenue_share,
    };
    post(ctx, &a.pod, "content", &request)
}

pub(super) fn profile(ctx: &Context, command: ProfileCommand) -> anyhow::Result<()> {
    let ProfileCommand::Set {
        pod,
        username,
        display_name,
        bio,
        public,
    } = command;
    let request = ProfileRequestBody {
        username,
        display_name,
        bio,
        profile_public: public,
        visibility: None,
    };
    post(ctx, &pod, "profile", &request)
}

pub(super) fn propose(ctx: &Context, a: ProposeArgs) -> anyhow::Result<()> {
    let request = ProposeRequest {
        kind: a.kind,
        member: a.member,
        role: a.role,
        detail: a.detail,
        node: a.node,
        decision: a.decision,
        retention_days: a.retention_days,
        text: a.text,
        min_creator_share_bp: a.min_creator_share_bp,
        threshold_bp: a.threshold_bp,
        add_principles: a.add_principles,
        restrict_regions: a.restrict_regions,
    };
    post(ctx, &a.pod, "proposals", &request)
}

pub(super) fn vote(ctx: &Context, a: VoteArgs) -> anyhow::Result<()> {
    post(
        ctx,
        &a.pod,
        "votes",
        &VoteRequest {
            proposal: a.proposal,
            choice: a.choice,
        },
    )
}

pub(super) fn decide(ctx: &Context, a: DecideArgs) -> anyhow::Result<()> {
    post(
        ctx,
        &a.pod,
        "decisions",
        &DecideRequest {
            proposal: a.proposal,
        },
    )
}

pub(super) fn approve(ctx: &Context, a: ApproveArgs) -> anyhow::Result<()> {
    let request = ApproveRequest {
        content: a.content,
        protocol: a.protocol,
        grant: a.grant,
    };
    post(ctx, &a.pod, "approvals", &request)
}

pub(super) fn delete(ctx: &Context, a: DeleteArgs) -> anyhow::Result<()> {
    post(ctx, &a.pod, "delete", &DeleteRequest { target: a.target })
}
