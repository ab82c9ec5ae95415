//! `myco pod`: create, join and list pods, through the running daemon's API.

use std::fmt;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use serde::Serialize;

use super::{output, Context};
use crate::api::client::ApiClient;
use crate::api::types::{Forgotten, InvitationView, InviteRequest, JoinRequest, PodSummary};
use myco_zomes::membership::{encode_membrane_proof, MembraneProof};

/// Shown after `myco pod --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco pod create --dna dna/examples/territory-dk.toml
  myco pod join --dna dna/examples/storytelling.toml --proof-file invitation.hex
  myco pod invite --pod dna_… --invitee kh_… --out invitation.hex
  myco pod list --json
  myco pod members --pod dna_…           members, roles and the decisions that granted them
  myco pod state --pod dna_…             the transparency figures and your dashboard
  myco pod audit --pod dna_…             this replica against peers, backups, imports
  myco pod leave --pod dna_…
  myco pod page dna_…                    a link to the pod's transparency page";

const CREATE_EXAMPLES: &str = "\
Examples:
  myco pod create --dna pod.toml          this agent must be among the DNA's founders
  myco pod create --dna pod.toml --json";

const JOIN_EXAMPLES: &str = "\
Examples:
  myco pod join --dna pod.toml                              an open pod
  myco pod join --dna pod.toml --proof-file invitation.hex  a steward's invitation
  myco pod join --dna pod.toml --admitted-by act_…          a pod that admits by vote: the
                                                            Decision record of your Admit
  myco pod join --dna pod.toml --archivist                  a community's backup server: served
                                                            once an approve_replica decision
                                                            names this agent and node";

const INVITE_EXAMPLES: &str = "\
Examples:
  myco pod invite --pod dna_… --invitee kh_… --out invitation.hex      as a founder
  myco pod invite --pod dna_… --invitee kh_… --days 2 --grant act_… --json

The invitee gets their key hash from `myco key show` and joins with
`myco pod join --dna POD.toml --proof-file invitation.hex` before the invitation expires.
Only pods whose DNA admits by invitation take one, and only a steward may sign it: a founder,
or a member with a GrantRole decision for the steward role (--grant).";

/// A `myco pod` command.
#[derive(Debug, Subcommand)]
pub enum PodCommand {
    /// Create a pod from a DNA manifest, as one of its founders
    #[command(after_help = CREATE_EXAMPLES)]
    Create {
        /// The DNA manifest (TOML)
        #[arg(long)]
        dna: PathBuf,
    },
    /// Join a pod from its DNA manifest
    #[command(after_help = JOIN_EXAMPLES)]
    Join {
        /// The DNA manifest (TOML)
        #[arg(long)]
        dna: PathBuf,
        /// A file holding the membrane proof, hex-encoded (an invitation from `myco pod invite`)
        #[arg(long, conflicts_with = "admitted_by")]
        proof_file: Option<PathBuf>,
        /// In a pod that admits by vote: the Decision record that admitted this agent
        #[arg(long)]
        admitted_by: Option<myco_dna::ActionHash>,
        /// Host the pod as an archivist (a community's backup server): no member, served the
        /// whole pod only while a passed approve_replica decision names this agent and node
        #[arg(long, conflicts_with_all = ["proof_file", "admitted_by"])]
        archivist: bool,
    },
    /// Sign an invitation to a pod for someone's key hash, as a steward
    #[command(after_help = INVITE_EXAMPLES)]
    Invite {
        /// The pod's id (`dna_…`)
        #[arg(long)]
        pod: myco_dna::DnaHash,
        /// Whom to invite: their key hash (`kh_…`, from `myco key show`)
        #[arg(long)]
        invitee: myco_dna::KeyHash,
        /// Days the invitation holds (1 to 365)
        #[arg(long, default_value_t = crate::api::types::DEFAULT_INVITATION_DAYS)]
        days: u32,
        /// The GrantRole decision that makes you a steward (`act_…`); omit if you are a founder
        #[arg(long)]
        grant: Option<myco_dna::ActionHash>,
        /// Write the invitation (hex) to this file for the invitee, instead of printing it
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the pods this node hosts
    #[command(after_help = "Examples:\n  myco pod list\n  myco pod list --json")]
    List,
    /// Print a link that signs a browser on this machine in to the web app, landing on the
    /// pod's transparency page (or, with --app, its stories)
    #[command(after_help = PAGE_EXAMPLES)]
    Page {
        /// The pod's id (`dna_…`, from `myco pod list`)
        pod: myco_dna::DnaHash,
        /// Land on the pod's stories in the web app, where you publish, vote and see your
        /// dashboard
        #[arg(long)]
        app: bool,
    },
    /// Leave a pod: this node writes nothing more in it
    #[command(after_help = super::membership::LEAVE_EXAMPLES)]
    Leave {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
        /// Why, if you want to say
        #[arg(long)]
        reason: Option<String>,
    },
    /// List a pod's members, their roles, and the decision that granted each
    #[command(after_help = super::membership::MEMBERS_EXAMPLES)]
    Members {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
    },
    /// Show a pod's transparency figures and your storyteller dashboard
    #[command(after_help = super::inspect::STATE_EXAMPLES)]
    State {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
    },
    /// Check this node's replica of a pod against its peers' heights, the latest backup
    /// listing and the migration manifests: counts by type, missing ranges, extra records
    #[command(after_help = super::audit::AUDIT_EXAMPLES)]
    Audit {
        /// The pod (dna_…)
        #[arg(long)]
        pod: String,
    },
    /// Stop hosting a pod whose join was refused (this agent is not a member)
    #[command(after_help = FORGET_EXAMPLES)]
    Forget {
        /// The pod's id (`dna_…`, from `myco pod list`)
        pod: myco_dna::DnaHash,
    },
}

const FORGET_EXAMPLES: &str = "\
Examples:
  myco pod forget dna_…          after a refused `myco pod join`
  myco pod forget dna_… --json

A pod this agent is a member of is not forgotten: a member leaves it.";

/// What `myco pod forget` prints.
#[derive(Serialize)]
struct ForgetReport(Forgotten);

impl fmt::Display for ForgetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Pod {} forgotten: this node no longer hosts it.",
            self.0.forgotten
        )
    }
}

const PAGE_EXAMPLES: &str = "\
Examples:
  myco pod page dna_…            open the printed link in a browser on this machine
  myco pod page dna_… --app      land on the pod's stories: publish, vote, your dashboard
  myco pod page dna_… --json

The link signs the browser in to the web app for 12 hours, or until the daemon restarts. It
holds the API token: keep it to yourself as you would the token.";

#[derive(Serialize)]
struct PageLink {
    pod: String,
    url: String,
}

impl fmt::Display for PageLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Open this link in a browser on this machine (it works until the daemon restarts):\n{}",
            self.url
        )
    }
}

#[derive(Serialize)]
struct InvitationReport {
    #[serde(flatten)]
    invitation: InvitationView,
    days: u32,
    /// Where the invitation was written, if to a file.
    file: Option<String>,
}

impl fmt::Display for InvitationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.invitation;
        writeln!(
            f,
            "Invitation for {} to pod {}, valid for {} days.",
            i.invitee, i.pod, self.days
        )?;
        match &self.file {
            Some(file) => write!(
                f,
                "Written to {file}. The invitee joins with:\n  myco pod join --dna POD.toml --proof-file {file}"
            ),
            None => write!(
                f,
                "{}\nSave that line to a file; the invitee joins with:\n  myco pod join --dna POD.toml --proof-file FILE",
                i.membrane_proof_hex
            ),
        }
    }
}

#[derive(Serialize)]
struct PodReport(PodSummary);

impl fmt::Display for PodReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {} ({})",
            self.0.dna_hash,
            self.0.name,
            output::count(self.0.peers as u64, "peer")
        )?;
        if !self.0.joined {
            write!(
                f,
                "  not joined: the pod refused this agent's Genesis; `myco pod join` again with a valid --proof-file or --admitted-by"
            )?;
        }
        if let Some(warning) = &self.0.warning {
            write!(f, "\n  WARNING: {warning}")?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct PodList {
    pods: Vec<PodSummary>,
}

impl fmt::Display for PodList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pods.is_empty() {
            return write!(
                f,
                "This node hosts no pod yet: `myco pod create` or `myco pod join`."
            );
        }
        for pod in &self.pods {
            writeln!(f, "{}", PodReport(pod.clone()))?;
        }
        Ok(())
    }
}

pub(super) fn client(ctx: &Context) -> anyhow::Result<ApiClient> {
    Ok(ApiClient::for_data_dir(ctx.paths()?.root())?)
}

fn read_small(path: &PathBuf, what: &str) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?;
    if meta.len() > 1024 * 1024 {
        anyhow::bail!(
            "the {what} {} is over 1 MiB; is it the right file?",
            path.display()
        );
    }
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))
}

/// The invitation in `path`: the one line of hex `myco pod invite` prints.
fn invitation_hex(path: &PathBuf) -> anyhow::Result<String> {
    let text = read_small(path, "membrane proof")?.trim().to_string();
    if let Err(error) = hex::decode(&text) {
        anyhow::bail!(
            "{} does not hold an invitation: an invitation is the one line of hex that `myco pod invite` prints (or writes with --out), and this file is not hex ({error})",
            path.display()
        );
    }
    Ok(text)
}

pub(super) fn run(ctx: &Context, command: PodCommand) -> anyhow::Result<()> {
    // The daemon is asked only once the command's own files have been read and checked.
    let api = || client(ctx);
    match command {
        PodCommand::Create { dna } => {
            let request = JoinRequest {
                manifest: read_small(&dna, "DNA manifest")?,
                membrane_proof_hex: String::new(),
                archivist: false,
            };
            let pod: PodSummary = api()?.post("/pods", &request)?;
            output::emit(&PodReport(pod), ctx.json())
        }
        PodCommand::Join {
            dna,
            proof_file,
            admitted_by,
            archivist,
        } => {
            let proof = match (proof_file, admitted_by) {
                (Some(path), _) => invitation_hex(&path)?,
                (None, Some(decision)) => {
                    hex::encode(encode_membrane_proof(&MembraneProof::Admit { decision }))
                }
                (None, None) => String::new(),
            };
            let request = JoinRequest {
                manifest: read_small(&dna, "DNA manifest")?,
                membrane_proof_hex: proof,
                archivist,
            };
            let pod: PodSummary = api()?.post("/pods/join", &request)?;
            output::emit(&PodReport(pod), ctx.json())
        }
        PodCommand::Invite {
            pod,
            invitee,
            days,
            grant,
            out,
        } => {
            let request = InviteRequest {
                invitee: invitee.to_string(),
                days: Some(days),
                grant: grant.map(|g| g.to_string()),
            };
            let invitation: InvitationView =
                api()?.post(&format!("/pods/{pod}/invitations"), &request)?;
            if let Some(path) = &out {
                std::fs::write(path, format!("{}\n", invitation.membrane_proof_hex)).with_context(
                    || format!("cannot write the invitation to {}", path.display()),
                )?;
            }
            output::emit(
                &InvitationReport {
                    invitation,
                    days,
                    file: out.map(|p| p.display().to_string()),
                },
                ctx.json(),
            )
        }
        PodCommand::Forget { pod } => {
            let forgotten: Forgotten =
                api()?.post(&format!("/pods/{pod}/forget"), &serde_json::json!({}))?;
            output::emit(&ForgetReport(forgotten), ctx.json())
        }
        PodCommand::Leave { pod, reason } => super::membership::leave(ctx, &pod, reason),
        PodCommand::Members { pod } => super::membership::members(ctx, &pod),
        PodCommand::State { pod } => super::inspect::state(ctx, &pod),
        PodCommand::Audit { pod } => super::audit::audit(ctx, &api()?, &pod),
        PodCommand::List => {
            let pods: Vec<PodSummary> = api()?.get("/pods")?;
            output::emit(&PodList { pods }, ctx.json())
        }
        PodCommand::Page { pod, app } => {
            let pods: Vec<PodSummary> = api()?.get("/pods")?;
            let pod = pod.to_string();
            if !pods.iter().any(|p| p.dna_hash == pod) {
                anyhow::bail!(
                    "this node does not host pod {pod}; `myco pod list` shows the ones it does"
                );
            }
            let landing = if app {
                format!("/app/pods/{pod}")
            } else {
                format!("/pods/{pod}/page")
            };
            let url = api()?.login_link(&landing);
            output::emit(&PageLink { pod, url }, ctx.json())
        }
    }
}
