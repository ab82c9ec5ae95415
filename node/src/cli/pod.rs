//! `myco pod`: create, join and list pods, through the running daemon's API.

use std::fmt;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use serde::Serialize;

use super::{output, Context};
use crate::api::client::ApiClient;
use crate::api::types::{JoinRequest, PodSummary};

/// Shown after `myco pod --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco pod create --dna dna/examples/territory-dk.toml
  myco pod join --dna river.toml --proof-file invitation.hex
  myco pod list --json
  myco pod page dna_…                    a link to the pod's transparency page";

const CREATE_EXAMPLES: &str = "\
Examples:
  myco pod create --dna pod.toml          this agent must be among the DNA's founders
  myco pod create --dna pod.toml --json";

const JOIN_EXAMPLES: &str = "\
Examples:
  myco pod join --dna pod.toml                          an open pod
  myco pod join --dna pod.toml --proof-file proof.hex   an invitation or Admit decision";

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
        /// A file holding the membrane proof, hex-encoded
        #[arg(long)]
        proof_file: Option<PathBuf>,
    },
    /// List the pods this node hosts
    #[command(after_help = "Examples:\n  myco pod list\n  myco pod list --json")]
    List,
    /// Print a link that opens the pod's transparency page in a browser on this machine
    #[command(after_help = PAGE_EXAMPLES)]
    Page {
        /// The pod's id (`dna_…`, from `myco pod list`)
        pod: myco_dna::DnaHash,
    },
}

const PAGE_EXAMPLES: &str = "\
Examples:
  myco pod page dna_…            open the printed link in a browser on this machine
  myco pod page dna_… --json

The link signs the browser in for reading only, until the daemon restarts; keep it to
yourself as you would the API token.";

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
struct PodReport(PodSummary);

impl fmt::Display for PodReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {} ({} peers)",
            self.0.dna_hash, self.0.name, self.0.peers
        )
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

pub(super) fn run(ctx: &Context, command: PodCommand) -> anyhow::Result<()> {
    let api = client(ctx)?;
    match command {
        PodCommand::Create { dna } => {
            let request = JoinRequest {
                manifest: read_small(&dna, "DNA manifest")?,
                membrane_proof_hex: String::new(),
            };
            let pod: PodSummary = api.post("/pods", &request)?;
            output::emit(&PodReport(pod), ctx.json())
        }
        PodCommand::Join { dna, proof_file } => {
            let proof = match proof_file {
                Some(path) => read_small(&path, "membrane proof")?.trim().to_string(),
                None => String::new(),
            };
            let request = JoinRequest {
                manifest: read_small(&dna, "DNA manifest")?,
                membrane_proof_hex: proof,
            };
            let pod: PodSummary = api.post("/pods/join", &request)?;
            output::emit(&PodReport(pod), ctx.json())
        }
        PodCommand::List => {
            let pods: Vec<PodSummary> = api.get("/pods")?;
            output::emit(&PodList { pods }, ctx.json())
        }
        PodCommand::Page { pod } => {
            let pods: Vec<PodSummary> = api.get("/pods")?;
            let pod = pod.to_string();
            if !pods.iter().any(|p| p.dna_hash == pod) {
                anyhow::bail!(
                    "this node does not host pod {pod}; `myco pod list` shows the ones it does"
                );
            }
            let url = api.login_link(&format!("/pods/{pod}/page"));
            output::emit(&PageLink { pod, url }, ctx.json())
        }
    }
}
