//! The `myco` command line: argument parsing (clap derive), logging, and one module per
//! command group. Errors are `anyhow` here, at the edge, with context that says what to do
//! next; the library modules below use `thiserror` enums.
//!
//! Exit codes: 0 success, 1 failure, 2 bad usage.

mod chain;
mod dna;
mod init;
mod key;
mod output;
mod passphrase;

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
  myco dna check pod.toml                 check a DNA manifest and print its pod id";

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
    /// Create the data dir and a new agent key, encrypted with a passphrase
    #[command(after_help = init::EXAMPLES)]
    Init,
    /// Show or check the agent key
    #[command(subcommand, after_help = key::EXAMPLES)]
    Key(key::KeyCommand),
    /// Check and repair the stored source chains
    #[command(subcommand, after_help = chain::EXAMPLES)]
    Chain(chain::ChainCommand),
    /// Work with DNA manifests (pod definitions)
    #[command(subcommand, after_help = dna::EXAMPLES)]
    Dna(dna::DnaCommand),
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
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context { global: cli.global };
    match cli.command {
        Command::Init => init::run(&ctx),
        Command::Key(command) => key::run(&ctx, command),
        Command::Chain(command) => chain::run(&ctx, command),
        Command::Dna(command) => dna::run(&ctx, command),
    }
}

/// Logs go to stderr, filtered by `RUST_LOG`; commands default to warnings only.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    // Fails only if a subscriber is already set, and then that one is used.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
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
