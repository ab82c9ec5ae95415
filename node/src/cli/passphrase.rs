//! Where the passphrase comes from: `--passphrase-file`, else `MYCO_PASSPHRASE`, else a
//! prompt on the terminal. Passphrases are zeroized when dropped.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{bail, Context as _};
use zeroize::Zeroizing;

/// The environment variable read when no passphrase file is given.
pub(crate) const ENV_VAR: &str = "MYCO_PASSPHRASE";
/// Largest passphrase file read. A passphrase is a line of text; the bound stops a wrong path
/// from being read into memory.
const MAX_PASSPHRASE_FILE_BYTES: u64 = 4096;

const NO_SOURCE: &str =
    "no passphrase: pass --passphrase-file, set MYCO_PASSPHRASE, or run in a terminal";

/// The passphrase of an existing key.
pub(crate) fn existing(file: Option<&Path>, key_file: &Path) -> anyhow::Result<Zeroizing<String>> {
    if let Some(passphrase) = non_interactive(file)? {
        return Ok(passphrase);
    }
    prompt(&format!("Passphrase for {}: ", key_file.display()))
}

/// The agent key of `keystore`, unlocked with the passphrase from wherever `ctx` says.
pub(crate) fn unlock_agent(
    ctx: &super::Context,
    keystore: &crate::keystore::Keystore,
) -> anyhow::Result<myco_dna::SigningKey> {
    let passphrase = existing(ctx.global.passphrase_file.as_deref(), keystore.path())?;
    Ok(keystore.unlock(passphrase.as_bytes())?)
}

/// A passphrase for a new key: never empty, and typed twice when prompted.
pub(crate) fn new(file: Option<&Path>) -> anyhow::Result<Zeroizing<String>> {
    let passphrase = match non_interactive(file)? {
        Some(passphrase) => passphrase,
        None => {
            let first = prompt("New passphrase for the agent key: ")?;
            let second = prompt("Repeat the passphrase: ")?;
            if first != second {
                bail!("the two passphrases differ; run the command again");
            }
            first
        }
    };
    if passphrase.is_empty() {
        bail!("the passphrase is empty; an agent key needs a non-empty passphrase");
    }
    Ok(passphrase)
}

fn non_interactive(file: Option<&Path>) -> anyhow::Result<Option<Zeroizing<String>>> {
    if let Some(path) = file {
        return from_file(path).map(Some);
    }
    match std::env::var(ENV_VAR) {
        Ok(value) => Ok(Some(Zeroizing::new(value))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("{ENV_VAR} is not valid UTF-8; use a UTF-8 passphrase or --passphrase-file")
        }
    }
}

/// The first line of `path`, without its line ending.
fn from_file(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let text = bounded_text(path, "passphrase file")?;
    let first_line = text.lines().next().unwrap_or_default();
    Ok(Zeroizing::new(first_line.to_string()))
}

/// A recovery phrase: the whole of `file` (its words may span lines), else typed at a
/// hidden prompt. It is held only in memory, and zeroized when dropped.
pub(crate) fn recovery_phrase(file: Option<&Path>) -> anyhow::Result<Zeroizing<String>> {
    match file {
        Some(path) => bounded_text(path, "phrase file"),
        None => {
            if !std::io::stdin().is_terminal() {
                bail!(
                    "no recovery phrase: pass --phrase-file FILE, or run in a terminal to type it"
                );
            }
            rpassword::prompt_password("Recovery phrase (24 words): ")
                .map(Zeroizing::new)
                .context("cannot read the recovery phrase from the terminal")
        }
    }
}

/// The text of `path`, at most [`MAX_PASSPHRASE_FILE_BYTES`], never reallocated.
fn bounded_text(path: &Path, what: &str) -> anyhow::Result<Zeroizing<String>> {
    let context = || format!("cannot read the {what} {}", path.display());
    let file = File::open(path).with_context(context)?;
    // Reserved up front so the text is never reallocated, which would leave copies behind.
    let mut text = Zeroizing::new(String::with_capacity(
        MAX_PASSPHRASE_FILE_BYTES as usize + 1,
    ));
    file.take(MAX_PASSPHRASE_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(context)?;
    if text.len() as u64 > MAX_PASSPHRASE_FILE_BYTES {
        bail!(
            "the {what} {} is over {MAX_PASSPHRASE_FILE_BYTES} bytes; it should hold a few lines of text",
            path.display()
        );
    }
    Ok(text)
}

fn prompt(text: &str) -> anyhow::Result<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        bail!(NO_SOURCE);
    }
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .context("cannot read the passphrase from the terminal")
}
