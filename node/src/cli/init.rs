//! `myco init`: create the data dir and a new encrypted agent key.

use std::fmt;

use serde::Serialize;

use super::{output, passphrase, Context};
use crate::datadir::DataDir;
use crate::keystore::{KdfParams, KeystoreError};

/// Shown after `myco init --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco init                                        prompts for a passphrase twice
  myco --data-dir ./alice init --json              a second agent in ./alice
  myco init --passphrase-file ~/.myco-pass         for scripts (first line of the file)

Back up agent.key from the data dir: without it and the passphrase, the key is lost.";

/// What `myco init` prints.
#[derive(Serialize)]
struct InitReport {
    agent_key: String,
    key_hash: String,
    data_dir: String,
    key_file: String,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Created a new agent key in {}", self.data_dir)?;
        writeln!(f, "  agent key: {}", self.agent_key)?;
        writeln!(f, "  key hash:  {}", self.key_hash)?;
        write!(
            f,
            "Back up {} and remember the passphrase: the key cannot be recovered without both.",
            self.key_file
        )
    }
}

pub(super) fn run(ctx: &Context) -> anyhow::Result<()> {
    let paths = ctx.paths()?;
    let keystore = paths.keystore();
    // Refuse before creating anything or asking for a passphrase.
    if keystore.exists() {
        return Err(KeystoreError::AlreadyExists {
            path: keystore.path().to_path_buf(),
        }
        .into());
    }
    let dir = DataDir::create(paths)?;
    let passphrase = passphrase::new(ctx.global.passphrase_file.as_deref())?;
    // The keystore checks again, now under the lock, and never overwrites.
    let agent = keystore.generate(passphrase.as_bytes(), KdfParams::OWASP)?;
    let report = InitReport {
        agent_key: agent.to_string(),
        key_hash: agent.key_hash().to_string(),
        data_dir: dir.paths().root().display().to_string(),
        key_file: keystore.path().display().to_string(),
    };
    output::emit(&report, ctx.json())
}
