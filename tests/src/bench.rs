//! What the benchmark binaries in `src/bin/` share: seeding a daemon's store offline with
//! records its own write path builds, and waiting on a daemon's API with clear errors.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use std::path::{Path, PathBuf};
//! let dna = myco_zomes::load_dna(&std::fs::read_to_string("pod.toml")?)?;
//! // The daemon of `node0` joined the pod and is stopped: give its chain 1000 stories.
//! let seeded = myco_tests::bench::seed(Path::new("node0"), &dna, 1000, |n| eprintln!("{n}"))?;
//! assert_eq!(seeded.signatures.len(), 1000);
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use libp2p::Multiaddr;
use myco_dna::{
    agent_key_of, ActionHash, AgentKey, ChainAuthor, DnaManifest, KeyHash, Record, Signature,
    Timestamp, Visibility,
};
use myco_node::api::client::ApiClient;
use myco_node::api::types::{JoinRequest, PodSummary, PublishRequest};
use myco_node::datadir::{DataDir, DataPaths};
use myco_node::devnet::process::{
    init_agent, loopback_tcp, start_bootstrap, start_daemon, Daemon, Process,
};
use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use myco_node::store::{ChainId, Store};

use crate::loopback::metric_in;

/// One agent's daemon that founded a one-founder `territory-dk` pod, with a bootstrap peer:
/// the set-up of the single-daemon benches. The daemon is stopped once the pod exists; start
/// it again with [`SoloPod::start`]. Everything lives in a temp dir removed on drop.
pub struct SoloPod {
    /// The `myco` binary.
    pub binary: PathBuf,
    /// The agent's data dir.
    pub dir: PathBuf,
    /// The agent's key hash.
    pub key: KeyHash,
    /// The pod's manifest.
    pub manifest: String,
    /// The pod's DNA.
    pub dna: DnaManifest,
    /// The pod's id, as the API spells it.
    pub pod: String,
    /// The bootstrap peer's address.
    pub bootstrap_address: Multiaddr,
    _bootstrap: Process,
    /// Kept last so it is removed after the processes stop.
    root: tempfile::TempDir,
}

impl SoloPod {
    /// `myco init`, a bootstrap peer, and the daemon creating the pod (named after `tag`).
    pub fn found(tag: &str) -> anyhow::Result<SoloPod> {
        let binary = myco_binary()?;
        let root = tempfile::Builder::new()
            .prefix(&format!("myco-{tag}-"))
            .tempdir()
            .context("cannot create a temp dir; check TMPDIR and free space")?;
        let dir = root.path().join("node");
        let key = init_agent(&binary, &dir, DEVNET_PASSPHRASE).context("`myco init`")?;
        let (_, template) = TEMPLATES
            .iter()
            .find(|(name, _)| *name == "territory-dk")
            .ok_or_else(|| anyhow!("the devnet templates no longer include territory-dk"))?;
        let manifest = dna_with_founders(template, &[key], tag);
        let dna = myco_zomes::load_dna(&manifest).context("the bench pod's manifest")?;
        let pod = dna.dna_hash().to_string();
        let (bootstrap, bootstrap_address) = start_bootstrap(&binary, &root.path().join("boot"))
            .context("cannot start the bootstrap peer")?;
        let solo = SoloPod {
            binary,
            dir,
            key,
            manifest,
            dna,
            pod,
            bootstrap_address,
            _bootstrap: bootstrap,
            root,
        };
        let mut daemon = solo.start().context("cannot start the daemon")?;
        create_pod(&daemon.api, &solo.manifest).context("the daemon cannot create the pod")?;
        stop(&mut daemon)?;
        Ok(solo)
    }

    /// Starts the agent's daemon (region DK, TCP on loopback).
    pub fn start(&self) -> Result<Daemon, myco_node::devnet::DevnetError> {
        start_daemon(
            &self.binary,
            "node",
            &self.dir,
            DEVNET_PASSPHRASE,
            &self.bootstrap_address,
            self.key,
            Some("DK"),
            &loopback_tcp(),
        )
    }

    /// The temp dir everything lives in.
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

/// Stops a daemon, failing with its log if it does not stop cleanly.
pub fn stop(daemon: &mut Daemon) -> anyhow::Result<()> {
    if !daemon.process.stop() {
        bail!(
            "the daemon did not stop cleanly; its log:\n{}",
            daemon.process.log_tail()
        );
    }
    Ok(())
}

/// Records appended per `append_batch` while seeding.
pub const SEED_BATCH: usize = 4096;
/// How often [`wait_for`] asks.
pub const POLL: Duration = Duration::from_millis(50);

/// `POST /pods`: create the pod as a founder.
pub fn create_pod(api: &ApiClient, manifest: &str) -> anyhow::Result<PodSummary> {
    Ok(api.post(
        "/pods",
        &JoinRequest {
            manifest: manifest.to_string(),
            membrane_proof_hex: String::new(),
            archivist: false,
        },
    )?)
}

/// A counter or gauge of the daemon's `/metrics`, by its name without the `myco_` prefix.
pub fn metric(api: &ApiClient, name: &str) -> anyhow::Result<u64> {
    let text = api
        .get_text("/metrics")
        .context("cannot read the daemon's /metrics")?;
    metric_in(&text, name).ok_or_else(|| anyhow!("the daemon's /metrics has no myco_{name}; is the myco binary older than this bench? rebuild it with `cargo build --release -p myco-node`"))
}

/// Polls `done` every [`POLL`] until it holds, the daemon exits, or `timeout` passes.
pub fn wait_for(
    daemon: &mut Daemon,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&ApiClient) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if done(&daemon.api)? {
            return Ok(());
        }
        if !daemon.process.is_running() {
            bail!(
                "the daemon exited while waiting for {what}; its log:\n{}",
                daemon.process.log_tail()
            );
        }
        if started.elapsed() > timeout {
            bail!(
                "timed out after {} s waiting for {what}; the daemon's log:\n{}",
                timeout.as_secs(),
                daemon.process.log_tail()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// CPU time (user and system) a process has used, in seconds; `None` off Linux.
pub fn cpu_seconds(process: &Process) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", process.pid()?)).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces): utime
    // and stime are the 12th and 13th, in clock ticks of 1/100 s on Linux.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// What seeding left in A's store.
pub struct Seeded {
    /// Records in A's chain: its Genesis (and anything else the daemon wrote) plus the seeded.
    pub chain_len: u64,
    /// The hash of the chain's newest record.
    pub head: ActionHash,
    /// Mean size of a seeded record on the wire, in bytes.
    pub record_bytes: f64,
    /// Author, hash and signature of every seeded record, for the baseline.
    pub signatures: Vec<(AgentKey, ActionHash, Signature)>,
}

/// Appends `total` content records to the chain of the agent of data dir `dir` in pod `dna`
/// (its daemon must be stopped, and must have joined the pod), built as the daemon builds
/// `POST /pods/{pod}/content` and signed with the agent's key (the devnet passphrase unlocks
/// it). `progress` hears how many are stored, every couple of seconds.
pub fn seed(
    dir: &Path,
    dna: &DnaManifest,
    total: usize,
    mut progress: impl FnMut(usize),
) -> anyhow::Result<Seeded> {
    let paths = DataPaths::new(dir);
    let key = paths
        .keystore()
        .unlock(DEVNET_PASSPHRASE.as_bytes())
        .context("cannot unlock A's key with the devnet passphrase")?;
    let data = DataDir::open(paths)
        .context("cannot lock A's data dir; is a daemon still running on it?")?;
    let mut store = data
        .open_store(&myco_node::store::StoreKey::derive(&key))
        .context("cannot open A's store")?;
    let chain = ChainId {
        pod: dna.dna_hash(),
        author: agent_key_of(&key),
    };
    let head = store
        .head(&chain)
        .context("cannot read A's chain head")?
        .ok_or_else(|| anyhow!("A has no chain in the pod: creating the pod wrote no Genesis"))?;
    let head: Record = store
        .get_by_seq(&chain, head.seq)
        .context("cannot read A's head record")?
        .ok_or_else(|| anyhow!("A's head record {} is missing from its store", head.hash))?;
    let mut author = ChainAuthor::resume(key, &head.signed);
    let mut heads = myco_node::store::Heads::new();
    heads.insert(chain, head.signed.clone());
    let mut signatures = Vec::with_capacity(total);
    let mut batch: Vec<Record> = Vec::with_capacity(SEED_BATCH);
    let mut newest = head.hash();
    let mut bytes = 0u64;
    let mut last_report = Instant::now();
    for i in 0..total {
        let request = PublishRequest::story(
            format!("Story {i}"),
            "A short story shared with the territory.",
            "pod",
            &[],
            myco_node::api::types::ConsentBody::community(),
        );
        let now = myco_node::daemon::now_micros();
        let (body, entry) = myco_node::daemon::Write::Content {
            request: Box::new(request),
            visibility: Visibility::Pod,
        }
        .build(now, dna, Vec::new)
        .context("cannot build a content record")?;
        let record = author.next(Timestamp(now), body, entry);
        bytes += record.to_bytes().len() as u64;
        signatures.push((
            record.signed.action.author,
            record.signed.hash,
            record.signed.signature,
        ));
        newest = record.hash();
        batch.push(record);
        if batch.len() == SEED_BATCH || i + 1 == total {
            let valid =
                myco_node::store::ValidRecord::check_all(std::mem::take(&mut batch), &mut heads)
                    .map_err(|(at, e)| anyhow!("seeded record {at} of a batch is invalid: {e}"))?;
            store
                .append_batch(&valid)
                .context("A's store refused the seeded records")?;
            if last_report.elapsed() >= Duration::from_secs(2) {
                last_report = Instant::now();
                progress(i + 1);
            }
        }
    }
    let chain_len = store
        .head(&chain)
        .context("cannot read A's chain head")?
        .map_or(0, |h| h.seq + 1);
    Ok(Seeded {
        chain_len,
        head: newest,
        record_bytes: bytes as f64 / total as f64,
        signatures,
    })
}

/// A positive count from environment variable `name`, or `default` when it is unset.
pub fn count_from_env(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!("{name}=`{text}` is not a positive whole number; set it to e.g. 5000, or unset it for {default}"),
        },
    }
}

/// The `myco` binary: `MYCO_BIN`, else `myco` next to this executable (`target/<profile>/`).
pub fn myco_binary() -> anyhow::Result<PathBuf> {
    let binary = match std::env::var_os("MYCO_BIN") {
        Some(path) => PathBuf::from(path),
        // Next to a bench binary (`target/<profile>/`), or one folder up from a test's
        // (`target/<profile>/deps/`).
        None => {
            let exe = std::env::current_exe()
                .context("cannot find this executable's path; set MYCO_BIN to the myco binary")?;
            let dir = exe
                .parent()
                .ok_or_else(|| anyhow!("this executable has no parent dir; set MYCO_BIN"))?;
            let dir = match dir.file_name() {
                Some(name) if name == "deps" => dir.parent().unwrap_or(dir),
                _ => dir,
            };
            dir.join("myco")
        }
    };
    if !binary.is_file() {
        bail!(
            "the myco binary is not at {}; build it first with `cargo build --release -p myco-node` \
             (same profile as this bench), or set MYCO_BIN to its path",
            binary.display()
        );
    }
    Ok(binary)
}

/// The `main` of a bench binary called `name`: `--help` prints `usage`; otherwise `run`'s
/// report is printed as the last stdout line, or its error on stderr with exit code 1. Any
/// argument but `--help` is a usage error (exit code 2): settings come from the environment.
pub fn bench_main(
    name: &str,
    usage: &str,
    run: impl FnOnce() -> anyhow::Result<serde_json::Value>,
) -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{usage}");
        return std::process::ExitCode::SUCCESS;
    }
    if let Some(arg) = args.first() {
        eprintln!("{name}: unknown argument `{arg}`\n\n{usage}");
        return std::process::ExitCode::from(2);
    }
    match run() {
        Ok(report) => {
            println!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{name}: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Bytes in a directory's files: by length, and by blocks allocated.
pub struct DiskUsage {
    /// By file length.
    pub apparent: u64,
    /// By blocks allocated.
    pub allocated: u64,
}

/// What the files under `dir` take.
pub fn disk_usage(dir: &Path) -> anyhow::Result<DiskUsage> {
    use std::os::unix::fs::MetadataExt;
    let mut usage = DiskUsage {
        apparent: 0,
        allocated: 0,
    };
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let meta = entry
            .metadata()
            .with_context(|| format!("cannot stat {}", entry.path().display()))?;
        if meta.is_dir() {
            let inner = disk_usage(&entry.path())?;
            usage.apparent += inner.apparent;
            usage.allocated += inner.allocated;
        } else {
            usage.apparent += meta.len();
            usage.allocated += meta.blocks() * 512;
        }
    }
    Ok(usage)
}

/// A bare `verify_strict` loop over `signatures`, the benches' same-run baseline; returns how
/// many hold.
pub fn verify_strict_count(
    signatures: &[(
        myco_dna::AgentKey,
        myco_dna::ActionHash,
        myco_dna::Signature,
    )],
) -> usize {
    signatures
        .iter()
        .filter(|(author, hash, signature)| {
            ed25519_dalek::VerifyingKey::from_bytes(author.as_bytes()).is_ok_and(|key| {
                let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
                key.verify_strict(hash.as_bytes(), &signature).is_ok()
            })
        })
        .count()
}
