//! `myco key`: show the agent's public key, and check the passphrase.

use std::fmt;

use clap::Subcommand;
use serde::Serialize;

use super::{output, passphrase, Context};

/// Shown after `myco key --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco key show
  myco key show --verify --json
  myco key phrase                  the recovery phrase again, after the passphrase";

const PHRASE_EXAMPLES: &str = "\
Examples:
  myco key phrase
  myco key phrase --json           {\"recovery_phrase\": \"…\", …}

The phrase is computed from the unlocked key; it is never stored. Anyone who reads it can
become this agent: show it only where nobody looks over your shoulder.";

const SHOW_EXAMPLES: &str = "\
Examples:
  myco key show                    public key and key hash; no passphrase needed
  myco key show --verify           also check that the passphrase decrypts the key
  myco --data-dir ./alice key show --json";

/// A `myco key` command.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Show the agent's public key and key hash
    #[command(after_help = SHOW_EXAMPLES)]
    Show {
        /// Also ask for the passphrase and check that it decrypts the key
        #[arg(long)]
        verify: bool,
    },
    /// Show the recovery phrase again, after the passphrase
    #[command(after_help = PHRASE_EXAMPLES)]
    Phrase,
}

/// What `myco key phrase` prints.
#[derive(Serialize)]
struct PhraseReport {
    agent_key: String,
    key_hash: String,
    recovery_phrase: String,
}

impl fmt::Display for PhraseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "agent key: {}", self.agent_key)?;
        writeln!(f, "recovery phrase:")?;
        write!(f, "  {}", self.recovery_phrase)
    }
}

/// What `myco key show` prints.
#[derive(Serialize)]
struct KeyReport {
    agent_key: String,
    key_hash: String,
    key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase_ok: Option<bool>,
}

impl fmt::Display for KeyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "agent key: {}", self.agent_key)?;
        write!(f, "key hash:  {}", self.key_hash)?;
        if self.passphrase_ok == Some(true) {
            write!(f, "\nThe passphrase decrypts {}.", self.key_file)?;
        }
        Ok(())
    }
}

pub(super) fn run(ctx: &Context, command: KeyCommand) -> anyhow::Result<()> {
    let keystore = ctx.paths()?.keystore();
    let verify = match command {
        KeyCommand::Show { verify } => verify,
        KeyCommand::Phrase => {
            let key = passphrase::unlock_agent(ctx, &keystore)?;
            let agent = myco_dna::agent_key_of(&key);
            let report = PhraseReport {
                agent_key: agent.to_string(),
                key_hash: agent.key_hash().to_string(),
                recovery_phrase: crate::phrase::phrase_of(&key).to_string(),
            };
            return output::emit(&report, ctx.json());
        }
    };
    let agent = keystore.public_key()?;
    let passphrase_ok = if verify {
        let passphrase =
            passphrase::existing(ctx.global.passphrase_file.as_deref(), keystore.path())?;
        keystore.unlock(passphrase.as_bytes())?;
        Some(true)
    } else {
        None
    };
    let report = KeyReport {
        agent_key: agent.to_string(),
        key_hash: agent.key_hash().to_string(),
        key_file: keystore.path().display().to_string(),
        passphrase_ok,
    };
    output::emit(&report, ctx.json())
}
