//! The `myco` command line: argument parsing (clap derive), logging, and one module per
//! command group. Errors are `anyhow` here, at the edge, with context that says what to do
//! next; the library modules below use `thiserror` enums.
//!
//! Exit codes: 0 success, 1 failure, 2 bad usage.

#[cfg(feature = "net")]
mod audit;
#[cfg(feature = "net")]
mod backup;
mod chain;
#[cfg(feature = "net")]
mod community;
#[cfg(feature = "net")]
mod devnet;
mod dna;
#[cfg(feature = "net")]
mod export;
#[cfg(feature = "net")]
mod files;
#[cfg(feature = "net")]
mod import;
mod init;
#[cfg(feature = "net")]
mod inspect;
mod key;
#[cfg(feature = "net")]
mod membership;
mod output;
mod passphrase;
#[cfg(feature = "net")]
mod pod;
#[cfg(feature = "net")]
mod query;
#[cfg(feature = "net")]
mod read;
#[cfg(feature = "net")]
mod recover;
#[cfg(feature = "net")]
mod run;
#[cfg(feature = "net")]
mod write;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::datadir::DataPaths;

const EXAMPLES: &str = "\
Examples:
  myco init                               create an agent key in the default data dir
  myco --data-dir ./alice init --json     create one in ./alice, print it as JSON
  myco key show                           print the agent's public key
  myco chain verify --repair              check every stored chain and repair damage
  myco dna check pod.toml                 check a DNA manifest and print its pod id
  myco run                                start the daemon (then use the commands below)
  myco pod create --dna pod.toml          create a pod as one of its founders
  myco publish --pod dna_... --title Hi --consent community_sharing
                                          publish content (you state consent and principles)
  myco edit act_... --pod dna_... --body \"...\"   a new version of your story
  myco value statement --pod dna_...      what each member earned and was paid
  myco lookup kh_...                      find a person's pods and public profile
  myco devnet --pods 2 --nodes 3          run a local test network and report on it";

/// The `myco` command line.
#[derive(Debug, Parser)]
#[command(
    name = "myco",
    version,
    about = "Myco: keep your community's data under your community's control",
    long_about = "Myco: keep your community's data under your community's control.\n\n\
        The passphrase for the agent key comes from --passphrase-file, else the \
        MYCO_PASSPHRASE environment variable, else a prompt on the terminal. Logs go to \
        stderr; set RUST_LOG (for example RUST_LOG=info) to see more.",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// The data dir holding the agent key and store [default: the platform's data dir,
    /// e.g. ~/.local/share/myco]
    #[arg(long, global = true, env = "MYCO_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print one JSON object on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Read the passphrase from the first line of FILE
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// A `myco` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data dir and an agent key, encrypted with a passphrase: a new key with
    /// its recovery phrase, or the key of a phrase
    #[command(after_help = init::EXAMPLES)]
    Init(init::InitArgs),
    /// Show or check the agent key
    #[command(subcommand, after_help = key::EXAMPLES)]
    Key(key::KeyCommand),
    /// Check and repair the stored source chains
    #[command(subcommand, after_help = chain::EXAMPLES)]
    Chain(chain::ChainCommand),
    /// Work with DNA manifests (pod definitions)
    #[command(subcommand, after_help = dna::EXAMPLES)]
    Dna(dna::DnaCommand),
    /// Run the daemon: host the agent in its pods, serve the local API
    #[cfg(feature = "net")]
    #[command(after_help = run::RUN_EXAMPLES)]
    Run(run::NetArgs),
    /// Run a bootstrap peer: registry DHT server and rendezvous point, no agent data
    #[cfg(feature = "net")]
    #[command(after_help = run::BOOTSTRAP_EXAMPLES)]
    Bootstrap(run::PeerArgs),
    /// Show the running daemon's status
    #[cfg(feature = "net")]
    #[command(after_help = query::STATUS_EXAMPLES)]
    Status,
    /// Create, join and list pods
    #[cfg(feature = "net")]
    #[command(subcommand, after_help = pod::EXAMPLES)]
    Pod(pod::PodCommand),
    /// Publish content in a pod
    #[cfg(feature = "net")]
    #[command(after_help = write::PUBLISH_EXAMPLES)]
    Publish(write::PublishArgs),
    /// Set your profile in a pod
    #[cfg(feature = "net")]
    #[command(subcommand, after_help = write::PROFILE_EXAMPLES)]
    Profile(write::ProfileCommand),
    /// Open a proposal
    #[cfg(feature = "net")]
    #[command(after_help = write::PROPOSE_EXAMPLES)]
    Propose(write::ProposeArgs),
    /// Vote on a proposal
    #[cfg(feature = "net")]
    #[command(after_help = write::VOTE_EXAMPLES)]
    Vote(write::VoteArgs),
    /// Record the decision on a proposal that has enough yes votes
    #[cfg(feature = "net")]
    #[command(after_help = write::DECIDE_EXAMPLES)]
    Decide(write::DecideArgs),
    /// Approve content under a cultural protocol, as a steward
    #[cfg(feature = "net")]
    #[command(after_help = write::APPROVE_EXAMPLES)]
    Approve(write::ApproveArgs),
    /// Delete one of your records; every member purges its entry
    #[cfg(feature = "net")]
    #[command(after_help = write::DELETE_EXAMPLES)]
    Delete(write::DeleteArgs),
    /// List the stories of a pod you may see, newest first, a page at a time
    #[cfg(feature = "net")]
    #[command(after_help = read::FEED_EXAMPLES)]
    Feed(read::FeedArgs),
    /// Show one story: text, consent, revenue share, approval, versions, responses, receipts
    #[cfg(feature = "net")]
    #[command(after_help = read::SHOW_EXAMPLES)]
    Show(read::ShowArgs),
    /// Show a story's consent
    #[cfg(feature = "net")]
    #[command(subcommand, after_help = read::CONSENT_EXAMPLES)]
    Consent(read::ConsentCommand),
    /// Whether the daemon stores a record, and its entry
    #[cfg(feature = "net")]
    #[command(after_help = inspect::RECORD_EXAMPLES)]
    Record {
        /// The record (act_…)
        hash: String,
    },
    /// Print the daemon's metrics
    #[cfg(feature = "net")]
    #[command(after_help = inspect::METRICS_EXAMPLES)]
    Metrics,
    /// Edit your content: a new version; what you leave out stays as it is
    #[cfg(feature = "net")]
    #[command(after_help = community::EDIT_EXAMPLES)]
    Edit(community::EditArgs),
    /// React to content
    #[cfg(feature = "net")]
    #[command(after_help = community::REACT_EXAMPLES)]
    React(community::ReactArgs),
    /// Comment on content
    #[cfg(feature = "net")]
    #[command(after_help = community::COMMENT_EXAMPLES)]
    Comment(community::CommentArgs),
    /// Record value, distribute it, and show who earned and was paid what
    #[cfg(feature = "net")]
    #[command(subcommand, after_help = community::VALUE_EXAMPLES)]
    Value(community::ValueCommand),
    /// Export everything about this agent in one file, or check an export offline
    #[cfg(feature = "net")]
    #[command(after_help = export::EXAMPLES)]
    Export(export::ExportArgs),
    /// Encrypted backups of the whole data dir: take one while the daemon runs, check one,
    /// restore one into a fresh data dir
    #[cfg(feature = "net")]
    #[command(subcommand, after_help = backup::EXAMPLES)]
    Backup(backup::BackupCommand),
    /// Import a community's data from a JSON or CSV file, every row accounted for
    #[cfg(feature = "net")]
    #[command(after_help = import::EXAMPLES)]
    Import(import::ImportArgs),
    /// Rebuild this agent's chains from its pods' peers, with only the recovery phrase
    #[cfg(feature = "net")]
    #[command(after_help = recover::EXAMPLES)]
    Recover(recover::RecoverArgs),
    /// Look a person up by key hash: their pods, and their profile if public
    #[cfg(feature = "net")]
    #[command(after_help = query::LOOKUP_EXAMPLES)]
    Lookup {
        /// The key hash (kh_…)
        key_hash: String,
    },
    /// Run a local test network of real daemons, play scenarios, report
    #[cfg(feature = "net")]
    #[command(after_help = devnet::EXAMPLES)]
    Devnet(devnet::DevnetArgs),
}

/// Runs `myco` with the process's arguments and returns its exit code.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` come through here too, with exit code 0.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    init_logging(default_log_level(&cli.command));
    let json = cli.global.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report_error(&err, json);
            ExitCode::FAILURE
        }
    }
}

/// Prints a failed command's error: its message, then each cause that adds something (a
/// cause already quoted in the message above it is not printed twice). With `--json`, the
/// same as one JSON object on stdout: `error`, `causes`, `http_status` when the daemon
/// refused, and `report` when the command's own report shows what is wrong.
fn report_error(err: &anyhow::Error, json: bool) {
    let mut causes: Vec<String> = Vec::new();
    let mut above = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !above.contains(&text) {
            causes.push(text.clone());
        }
        above = text;
    }
    if json {
        #[cfg(feature = "net")]
        let status = err.chain().find_map(|cause| match cause.downcast_ref() {
            Some(crate::api::client::ClientError::Refused { status, .. }) => Some(*status),
            _ => None,
        });
        #[cfg(not(feature = "net"))]
        let status: Option<u16> = None;
        let mut line = serde_json::json!({
            "error": err.to_string(),
            "causes": causes,
            "http_status": status,
        });
        if let Some(failed) = err.downcast_ref::<output::FailedWithReport>() {
            line["report"] = failed.report.clone();
        }
        println!("{line}");
        return;
    }
    eprintln!("error: {err}");
    for cause in causes {
        eprintln!("  caused by: {cause}");
    }
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context { global: cli.global };
    match cli.command {
        Command::Init(args) => init::run(&ctx, args),
        Command::Key(command) => key::run(&ctx, command),
        Command::Chain(command) => chain::run(&ctx, command),
        Command::Dna(command) => dna::run(&ctx, command),
        #[cfg(feature = "net")]
        Command::Run(args) => run::run(&ctx, args),
        #[cfg(feature = "net")]
        Command::Bootstrap(args) => run::bootstrap(&ctx, args),
        #[cfg(feature = "net")]
        Command::Status => query::status(&ctx),
        #[cfg(feature = "net")]
        Command::Pod(command) => pod::run(&ctx, command),
        #[cfg(feature = "net")]
        Command::Publish(args) => write::publish(&ctx, args),
        #[cfg(feature = "net")]
        Command::Profile(command) => write::profile(&ctx, command),
        #[cfg(feature = "net")]
        Command::Propose(args) => write::propose(&ctx, args),
        #[cfg(feature = "net")]
        Command::Vote(args) => write::vote(&ctx, args),
        #[cfg(feature = "net")]
        Command::Decide(args) => write::decide(&ctx, args),
        #[cfg(feature = "net")]
        Command::Approve(args) => write::approve(&ctx, args),
        #[cfg(feature = "net")]
        Command::Delete(args) => write::delete(&ctx, args),
        #[cfg(feature = "net")]
        Command::Feed(args) => read::feed(&ctx, args),
        #[cfg(feature = "net")]
        Command::Show(args) => read::show(&ctx, args),
        #[cfg(feature = "net")]
        Command::Consent(command) => read::consent(&ctx, command),
        #[cfg(feature = "net")]
        Command::Record { hash } => inspect::record(&ctx, &hash),
        #[cfg(feature = "net")]
        Command::Export(args) => export::run(&ctx, args),
        #[cfg(feature = "net")]
        Command::Recover(args) => recover::run(&ctx, args),
        #[cfg(feature = "net")]
        Command::Import(args) => import::run(&ctx, args),
        #[cfg(feature = "net")]
        Command::Backup(command) => backup::run(&ctx, command),
        #[cfg(feature = "net")]
        Command::Metrics => inspect::metrics(&ctx),
        #[cfg(feature = "net")]
        Command::Edit(args) => community::edit(&ctx, args),
        #[cfg(feature = "net")]
        Command::React(args) => community::react(&ctx, args),
        #[cfg(feature = "net")]
        Command::Comment(args) => community::comment(&ctx, args),
        #[cfg(feature = "net")]
        Command::Value(command) => community::value(&ctx, command),
        #[cfg(feature = "net")]
        Command::Lookup { key_hash } => query::lookup(&ctx, &key_hash),
        #[cfg(feature = "net")]
        Command::Devnet(args) => devnet::run(&ctx, args),
    }
}

/// Long-running commands say what they do at info level; one-shot commands only warn.
fn default_log_level(command: &Command) -> &'static str {
    match command {
        #[cfg(feature = "net")]
        Command::Run(_) | Command::Bootstrap(_) => "info",
        _ => "warn",
    }
}

/// Logs go to stderr, filtered by `RUST_LOG`, else at `default` level.
fn init_logging(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Fails only if a subscriber is already set, and then that one is used.
    // Colours only for a person at a terminal: a log file or a pipe gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// What every command gets: the global flags.
struct Context {
    global: GlobalArgs,
}

impl Context {
    fn paths(&self) -> anyhow::Result<DataPaths> {
        Ok(DataPaths::resolve(self.global.data_dir.clone())?)
    }

    fn json(&self) -> bool {
        self.global.json
    }
}
