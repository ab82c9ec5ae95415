//! `myco backup create | verify | restore`: encrypted backups of the whole data dir
//! ([`crate::backup`]), opened by the recovery phrase.

use std::fmt;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use myco_dna::{AgentKey, SigningKey};
use serde::Serialize;

use super::pod::client;
use super::{files, output, passphrase, Context};
use crate::backup::{unpack_into, BackupError, BackupHeader, BackupKey, Decrypting};
use crate::restored::RestoredMark;
use crate::store::{full_check, SqliteStore, StoreKey};

/// Shown after `myco backup --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco backup create --out ~/myco.backup        from the running daemon, while it runs
  myco backup verify ~/myco.backup              asks for this data dir's passphrase
  myco backup verify ~/myco.backup --phrase-file words.txt
  myco --data-dir ./restored backup restore ~/myco.backup
                                                asks for the 24-word recovery phrase

A backup holds every chain and entry this node stores (Private ones too), the encrypted agent
key, pods.toml and myco.toml, encrypted under a key that comes from the recovery phrase: the
phrase alone opens it. A restored node asks its pods' peers for anything newer before it
writes, so restoring an old backup does not fork your chains.";

/// A `myco backup` command.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take an encrypted backup from the running daemon, while it runs
    #[command(after_help = EXAMPLES)]
    Create {
        /// Write the backup to FILE (refuses to overwrite it)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Check a backup without restoring it: every chunk, the key, pods.toml, every chain
    #[command(after_help = EXAMPLES)]
    Verify {
        /// The backup file
        file: PathBuf,
        #[command(flatten)]
        phrase: PhraseArgs,
    },
    /// Write a fresh data dir (--data-dir, which must not exist or be empty) from a backup
    #[command(after_help = EXAMPLES)]
    Restore {
        /// The backup file
        file: PathBuf,
        #[command(flatten)]
        phrase: PhraseArgs,
    },
}

/// Where the key that opens a backup comes from.
#[derive(Debug, Args)]
pub struct PhraseArgs {
    /// Open it with the recovery phrase, typed at a hidden prompt (the default when the
    /// data dir has no agent key)
    #[arg(long)]
    from_phrase: bool,
    /// Open it with the recovery phrase read from FILE
    #[arg(long, value_name = "FILE")]
    phrase_file: Option<PathBuf>,
}

/// What a backup holds, once checked.
#[derive(Serialize)]
struct Contents {
    file: String,
    agent_key: String,
    created_at: u64,
    pods: usize,
    chains: usize,
    records: u64,
    files: Vec<String>,
}

impl Contents {
    fn lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  agent:   {}", self.agent_key)?;
        writeln!(f, "  made:    {}", output::date(self.created_at))?;
        writeln!(f, "  pods:    {}", self.pods)?;
        write!(
            f,
            "  chains:  {} ({}), every one checked",
            self.chains,
            output::count(self.records, "record")
        )
    }
}

/// What `myco backup create` prints.
#[derive(Serialize)]
struct Created {
    file: String,
    bytes: u64,
    agent_key: String,
    created_at: u64,
}

impl fmt::Display for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Backed up agent {} to {} ({})",
            self.agent_key,
            self.file,
            crate::store::human_bytes(self.bytes)
        )?;
        write!(
            f,
            "It opens with your recovery phrase alone. Check it: myco backup verify {}",
            self.file
        )
    }
}

/// What `myco backup verify` prints.
#[derive(Serialize)]
struct Verified(Contents);

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} is sound:", self.0.file)?;
        self.0.lines(f)
    }
}

/// What `myco backup restore` prints.
#[derive(Serialize)]
struct Restored {
    data_dir: String,
    #[serde(flatten)]
    contents: Contents,
}

impl fmt::Display for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Restored {} into {}:", self.contents.file, self.data_dir)?;
        self.contents.lines(f)?;
        writeln!(f)?;
        write!(
            f,
            "Start it with `myco --data-dir {} run` (the agent key keeps the passphrase it had when \
             the backup was made). Before it writes in a pod, it asks the pod's peers for anything \
             of yours newer than the backup, so the chains do not fork.",
            self.data_dir
        )
    }
}

pub(super) fn run(ctx: &Context, command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::Create { out } => create(ctx, &out),
        BackupCommand::Verify { file, phrase } => {
            let key = opening_key(ctx, &phrase)?;
            let staging = tempfile::tempdir().context("cannot make a folder to check it in")?;
            let contents = open_into(&file, &key, staging.path())?;
            output::emit(&Verified(contents), ctx.json())
        }
        BackupCommand::Restore { file, phrase } => restore(ctx, &file, &phrase),
    }
}

fn create(ctx: &Context, out: &Path) -> anyhow::Result<()> {
    files::refuse_existing(out)?;
    let api = client(ctx)?;
    let context = || format!("cannot write the backup to {}", out.display());
    let bar = if ctx.json() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} backing up: {bytes} ({binary_bytes_per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        )
    };
    let (file, bytes) =
        files::download_beside(&api, "/backup", out, "backup", |n| bar.set_position(n))?;
    bar.finish_and_clear();
    // What the daemon sent must at least be a backup of its own agent; `verify` checks the
    // rest with the key.
    let (header, _) = Decrypting::open(File::open(file.path()).with_context(context)?)
        .context("the daemon's answer is not a backup")?;
    files::keep(file, out, "backup")?;
    output::emit(
        &Created {
            file: out.display().to_string(),
            bytes,
            agent_key: header.agent.to_string(),
            created_at: header.created_at,
        },
        ctx.json(),
    )
}

/// The key that opens a backup: the phrase's if one is given or the data dir has no agent
/// key, else the data dir's agent key, unlocked with its passphrase.
fn opening_key(ctx: &Context, phrase: &PhraseArgs) -> anyhow::Result<SigningKey> {
    let keystore = ctx.paths()?.keystore();
    if phrase.from_phrase || phrase.phrase_file.is_some() || !keystore.exists() {
        let words = passphrase::recovery_phrase(phrase.phrase_file.as_deref())?;
        return Ok(crate::phrase::signing_key_from_phrase(&words)?);
    }
    passphrase::unlock_agent(ctx, &keystore)
}

/// Opens `file` with `key` and unpacks it into the empty folder `into`, checking everything
/// a data dir needs: every chunk, the agent key's owner, pods.toml, every chain.
fn open_into(file: &Path, key: &SigningKey, into: &Path) -> anyhow::Result<Contents> {
    let named = |error: BackupError| anyhow::anyhow!("{}: {error}", file.display());
    let input =
        File::open(file).with_context(|| format!("cannot read the backup {}", file.display()))?;
    let (header, sealed) = Decrypting::open(input).map_err(named)?;
    let agent = myco_dna::agent_key_of(key);
    let files = unpack_into(sealed, &BackupKey::derive(key), &agent, into).map_err(named)?;
    let (pods, chains, records) = check_data_dir(into, &header, key).map_err(named)?;
    Ok(Contents {
        file: file.display().to_string(),
        agent_key: agent.to_string(),
        created_at: header.created_at,
        pods,
        chains,
        records,
        files,
    })
}

/// Checks an unpacked data dir: its key is the backup's agent's, its pods list parses, every
/// chain of its store is sound. Returns the pods, chains and records.
fn check_data_dir(
    dir: &Path,
    header: &BackupHeader,
    key: &SigningKey,
) -> Result<(usize, usize, u64), BackupError> {
    let contents = BackupError::Contents;
    let holder: AgentKey =
        crate::keystore::Keystore::new(dir.join(crate::backup::archive::AGENT_KEY))
            .public_key()
            .map_err(|e| contents(format!("its agent.key does not read ({e})")))?;
    if holder != header.agent {
        return Err(contents(format!(
            "its agent.key is agent {holder}'s, not the backup's agent {}",
            header.agent
        )));
    }
    let pods = crate::daemon::pods::PodsList::load(dir)
        .map_err(|e| contents(format!("its pods.toml does not load ({e})")))?
        .manifests()
        .count();
    let store = SqliteStore::open(&dir.join("store"), StoreKey::derive(key))
        .map_err(|e| contents(format!("its store does not open ({e})")))?;
    let report =
        full_check(&store).map_err(|e| contents(format!("its store does not read ({e})")))?;
    if let Some(fault) = report.faults.first() {
        return Err(contents(format!(
            "the chain of {} in pod {} fails at seq {}: {}",
            fault.chain.author, fault.chain.pod, fault.seq, fault.problem
        )));
    }
    Ok((pods, report.chains, report.records))
}

fn restore(ctx: &Context, file: &Path, phrase: &PhraseArgs) -> anyhow::Result<()> {
    let target = ctx.paths()?.root().to_path_buf();
    let empty = |dir: &Path| std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_none());
    if target.exists() && !empty(&target) {
        anyhow::bail!(
            "{} is not empty; restore into a new data dir (--data-dir NEW), and move the old one aside first if it is to be replaced",
            target.display()
        );
    }
    let words = passphrase::recovery_phrase(phrase.phrase_file.as_deref())?;
    let key = crate::phrase::signing_key_from_phrase(&words)?;
    // Whose backup it is, before anything is made on the disk.
    let input =
        File::open(file).with_context(|| format!("cannot read the backup {}", file.display()))?;
    let (header, _) =
        Decrypting::open(input).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let agent = myco_dna::agent_key_of(&key);
    if header.agent != agent {
        let error = BackupError::OtherAgent {
            backup: header.agent,
            given: agent,
        };
        anyhow::bail!("{}: {error}", file.display());
    }
    let parent = files::parent_of(&target);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot make {}", parent.display()))?;
    // Unpacked beside the target and moved there only once all of it checks out: a bad
    // backup leaves nothing behind.
    let staging = tempfile::Builder::new()
        .prefix(".myco-restore-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot make a folder in {}", parent.display()))?;
    std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o700))?;
    let contents = open_into(file, &key, staging.path())?;
    RestoredMark::new(
        format!(
            "from {}, a backup made {}",
            file.display(),
            output::date(contents.created_at)
        ),
        crate::dates::now_micros(),
    )
    .save(staging.path())?;
    if target.exists() {
        std::fs::remove_dir(&target)
            .with_context(|| format!("cannot replace the empty {}", target.display()))?;
    }
    let staged = staging.keep();
    if let Err(error) = std::fs::rename(&staged, &target) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(error)
            .with_context(|| format!("cannot move the restored data dir to {}", target.display()));
    }
    files::sync_dir(&parent);
    output::emit(
        &Restored {
            data_dir: target.display().to_string(),
            contents,
        },
        ctx.json(),
    )
}
