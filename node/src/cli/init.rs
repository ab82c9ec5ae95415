//! `myco init`: create the data dir and an agent key, encrypted with a passphrase: a new key
//! with its recovery phrase, or (`--from-phrase`) the key a recovery phrase holds.

use std::fmt;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::{output, passphrase, Context};
use crate::datadir::DataDir;
use crate::keystore::{new_signing_key, KdfParams, KeystoreError};
use crate::phrase::{phrase_of, signing_key_from_phrase};

/// Shown after `myco init --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco init                                        prompts for a passphrase twice
  myco --data-dir ./alice init --json              a second agent in ./alice
  myco init --passphrase-file ~/.myco-pass         for scripts (first line of the file)
  myco init --from-phrase                          the same agent again, from its 24 words
  myco init --phrase-file words.txt                the same, the words read from a file

A new key comes with a recovery phrase of 24 words, printed once. Write it down and keep it
offline: it alone recreates the agent key, and the key that seals its store, if the data dir and the
passphrase are lost. It is never written to disk; `myco key phrase` shows it again.";

/// `myco init`'s flags.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Recreate the agent key from its recovery phrase (asked for at a hidden prompt)
    /// instead of making a new key
    #[arg(long)]
    from_phrase: bool,
    /// Read the recovery phrase from FILE (implies --from-phrase)
    #[arg(long, value_name = "FILE")]
    phrase_file: Option<PathBuf>,
}

/// What `myco init` prints.
#[derive(Serialize)]
struct InitReport {
    agent_key: String,
    key_hash: String,
    data_dir: String,
    key_file: String,
    /// Only for a new key: the phrase is shown once, never for a key that came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_phrase: Option<String>,
    from_phrase: bool,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from_phrase {
            writeln!(
                f,
                "Recreated the agent key from its recovery phrase in {}",
                self.data_dir
            )?;
        } else {
            writeln!(f, "Created a new agent key in {}", self.data_dir)?;
        }
        writeln!(f, "  agent key: {}", self.agent_key)?;
        writeln!(f, "  key hash:  {}", self.key_hash)?;
        if let Some(words) = &self.recovery_phrase {
            writeln!(f)?;
            writeln!(
                f,
                "Recovery phrase (write it down now, on paper; it is shown only this once):"
            )?;
            for (row, chunk) in words.split(' ').collect::<Vec<_>>().chunks(6).enumerate() {
                let numbered: Vec<String> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, word)| format!("{:>2}. {word:<9}", row * 6 + i + 1))
                    .collect();
                writeln!(f, "  {}", numbered.join(" ").trim_end())?;
            }
            writeln!(f)?;
            writeln!(
                f,
                "The phrase alone recreates this agent (`myco init --from-phrase`)."
            )?;
        }
        if self.from_phrase {
            write!(
                f,
                "This data dir holds no chain yet. Restore a backup instead if you have one (`myco backup restore`). Otherwise start the daemon and join your pods again with their DNAs: before it writes anything in a pod, the node asks the pod's peers for your chain there and fetches it, so no second Genesis forks it. Private entries come back only from a backup."
            )
        } else {
            write!(
                f,
                "Remember the passphrase: it unlocks {} day to day.",
                self.key_file
            )
        }
    }
}

pub(super) fn run(ctx: &Context, args: InitArgs) -> anyhow::Result<()> {
    let paths = ctx.paths()?;
    let keystore = paths.keystore();
    // Refuse before creating anything or asking for a passphrase.
    if keystore.exists() {
        return Err(KeystoreError::AlreadyExists {
            path: keystore.path().to_path_buf(),
        }
        .into());
    }
    let from_phrase = args.from_phrase || args.phrase_file.is_some();
    let key = if from_phrase {
        let words = passphrase::recovery_phrase(args.phrase_file.as_deref())?;
        signing_key_from_phrase(&words)?
    } else {
        new_signing_key()?
    };
    let dir = DataDir::create(paths)?;
    let passphrase = passphrase::new(ctx.global.passphrase_file.as_deref())?;
    // The keystore checks again, now under the lock, and never overwrites.
    let agent = keystore.save(&key, passphrase.as_bytes(), KdfParams::OWASP)?;
    if from_phrase {
        // This agent may have chains on its pods' peers: the daemon writes in a pod only
        // once they have said how far (`crate::restored`).
        crate::restored::RestoredMark::new(
            "recreated from the recovery phrase",
            crate::dates::now_micros(),
        )
        .save(dir.paths().root())?;
    }
    let report = InitReport {
        agent_key: agent.to_string(),
        key_hash: agent.key_hash().to_string(),
        data_dir: dir.paths().root().display().to_string(),
        key_file: keystore.path().display().to_string(),
        recovery_phrase: (!from_phrase).then(|| phrase_of(&key).to_string()),
        from_phrase,
    };
    output::emit(&report, ctx.json())
}
