//! # A local test network of real daemons
//!
//! [`run`] starts a bootstrap peer and `pods × nodes` real `myco run` processes on loopback,
//! each in a temporary data dir, creates the pods and admits their members as each DNA says
//! ([`admission`]: founders, invitations, or Admit decisions), plays the example communities' scenarios across them ([`scenario`]) and returns
//! a [`Report`]; dropping the processes stops them cleanly. `myco devnet` prints the report;
//! the end-to-end tests use the same pieces ([`process`]).

pub mod admission;
pub mod process;
pub mod scenario;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::api::client::ClientError;
use process::{init_agent, loopback_tcp, start_bootstrap, start_daemon, Daemon, Process};

/// The passphrase of devnet agents: their keys are throwaway.
pub const DEVNET_PASSPHRASE: &str = "devnet-throwaway-passphrase";
/// The example DNAs the pods are made from, in turn.
pub const TEMPLATES: [(&str, &str); 3] = [
    (
        "territory-dk",
        include_str!("../../../dna/examples/territory-dk.toml"),
    ),
    (
        "storytelling",
        include_str!("../../../dna/examples/storytelling.toml"),
    ),
    (
        "community-media",
        include_str!("../../../dna/examples/community-media.toml"),
    ),
];
/// Most daemons one devnet starts: each is a process with its own ports and store.
pub const MAX_DAEMONS: usize = 64;

/// Why the devnet failed.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// A file or process operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On what.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A process exited early.
    #[error("{name} exited early; the end of its log:\n{log}")]
    Exited {
        /// Which.
        name: String,
        /// The last lines of its log.
        log: String,
    },
    /// Something did not happen in time.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// An API call failed.
    #[error(transparent)]
    Api(#[from] ClientError),
    /// A scenario step failed.
    #[error("{0}")]
    Scenario(String),
}

impl DevnetError {
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        DevnetError::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
    /// Samples.
    pub samples: usize,
}

impl Percentiles {
    /// Percentiles of `samples` (ms).
    pub fn of(mut samples: Vec<f64>) -> Self {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        Percentiles {
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
            samples: samples.len(),
        }
    }
}

/// Lookup outcomes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LookupCounts {
    /// Lookups whose answer was what the scenario expected.
    pub ok: usize,
    /// Lookups that found nothing, or the wrong thing.
    pub failed: usize,
}

/// What `myco devnet` reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Daemons started (not counting the bootstrap peer).
    pub nodes: usize,
    /// Pods created.
    pub pods: usize,
    /// Records written through the daemons' APIs.
    pub records: usize,
    /// Time from publish until every member stored the record.
    pub propagation_ms: Percentiles,
    /// The baseline, same run: one API round trip asking a member whether it stores a record
    /// (the poll every propagation sample waits on).
    pub baseline_poll_ms: Percentiles,
    /// Propagation p99 over the baseline's median.
    pub p99_over_baseline: f64,
    /// Cross-pod lookups.
    pub lookups: LookupCounts,
    /// Forbidden actions refused as they should be (invalid profile, double vote,
    /// non-public profile lookup).
    pub refused_as_expected: usize,
    /// Decisions recorded after a vote.
    pub decisions: usize,
    /// Members admitted by a steward's invitation or an Admit decision (the rest founded
    /// their pods).
    pub admitted: usize,
    /// Data seen where it must not be: purged entries still held, pod records at
    /// non-members, non-public profiles returned. Must be 0.
    pub leaks: usize,
    /// What happened, in words: each pod by name and how its members came in, and each
    /// refused action with the daemon's reason.
    pub happened: Vec<String>,
    /// Resident memory of each daemon once started and idle, in KiB: the largest.
    pub idle_rss_kib_max: u64,
    /// Wall time of the whole run, in ms.
    pub duration_ms: u128,
    /// Every daemon stopped cleanly at the end.
    pub clean_shutdown: bool,
}

/// One daemon of the devnet and the pod it belongs to.
pub struct Member {
    /// The daemon.
    pub daemon: Daemon,
    /// Index of its pod.
    pub pod: usize,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The `myco` binary to start.
    pub binary: PathBuf,
    /// Pods to create.
    pub pods: usize,
    /// Daemons per pod.
    pub nodes: usize,
    /// Stories each daemon publishes.
    pub stories_per_node: usize,
}

/// A DNA from `template` whose founders are `founders` and whose network seed is `seed`.
pub fn dna_with_founders(template: &str, founders: &[myco_dna::KeyHash], seed: &str) -> String {
    let list: Vec<String> = founders.iter().map(|k| format!("\"{k}\"")).collect();
    let mut out = String::new();
    let mut skipping = false;
    for line in template.lines() {
        let trimmed = line.trim_start();
        if skipping {
            if trimmed.contains(']') {
                skipping = false;
            }
            continue;
        }
        if trimmed.starts_with("founders") {
            out.push_str(&format!("founders = [{}]\n", list.join(", ")));
            skipping = !trimmed.contains(']');
        } else if trimmed.starts_with("network_seed") {
            out.push_str(&format!("network_seed = \"{seed}\"\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The region a member of a pod made from `template` declares: the first the DNA allows.
fn region_of(template: &str) -> Option<String> {
    myco_zomes::load_dna(template)
        .ok()
        .and_then(|dna| dna.properties.allowed_regions.first().cloned())
}

/// The devnet's root dir: removed at the end unless asked to keep it.
enum Kept {
    Temp(tempfile::TempDir),
    Dir(PathBuf),
}

impl Kept {
    fn path(&self) -> &Path {
        match self {
            Kept::Temp(t) => t.path(),
            Kept::Dir(d) => d,
        }
    }
}

/// Starts the network, plays the scenarios, stops everything, and reports.
pub fn run(options: &Options) -> Result<Report, DevnetError> {
    let started = Instant::now();
    let daemons = options.pods * options.nodes;
    if options.pods == 0 || options.nodes == 0 || daemons > MAX_DAEMONS {
        return Err(DevnetError::Scenario(format!(
            "--pods × --nodes must be between 1 and {MAX_DAEMONS}"
        )));
    }
    let root = tempfile::Builder::new()
        .prefix("myco-devnet-")
        .tempdir()
        .map_err(|e| DevnetError::io("create a temporary dir in", &std::env::temp_dir(), e))?;
    tracing::info!(dir = %root.path().display(), "devnet data dirs");
    // MYCO_DEVNET_KEEP=1 keeps the data dirs and logs for a look afterwards.
    let root = if std::env::var_os("MYCO_DEVNET_KEEP").is_some() {
        let kept = root.keep();
        eprintln!("keeping the devnet's data dirs in {}", kept.display());
        Kept::Dir(kept)
    } else {
        Kept::Temp(root)
    };
    let (mut bootstrap, address): (Process, _) =
        start_bootstrap(&options.binary, &root.path().join("bootstrap"))?;
    let mut members = Vec::new();
    for pod in 0..options.pods {
        let region = region_of(TEMPLATES[pod % TEMPLATES.len()].1);
        for node in 0..options.nodes {
            let dir = root.path().join(format!("pod{pod}-node{node}"));
            let key_hash = init_agent(&options.binary, &dir, DEVNET_PASSPHRASE)?;
            let daemon = start_daemon(
                &options.binary,
                &format!("pod{pod}-node{node}"),
                &dir,
                DEVNET_PASSPHRASE,
                &address,
                key_hash,
                region.as_deref(),
                &loopback_tcp(),
            )?;
            members.push(Member { daemon, pod });
        }
    }
    let mut report = Report {
        nodes: daemons,
        pods: options.pods,
        ..Report::default()
    };
    let outcome = scenario::play(&mut members, options, &mut report);
    let mut clean = true;
    for member in &mut members {
        clean &= member.daemon.process.stop();
    }
    clean &= bootstrap.stop();
    report.clean_shutdown = clean;
    report.duration_ms = started.elapsed().as_millis();
    outcome?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_dnas_name_their_founders_and_parse() {
        let founders = [myco_dna::KeyHash([1; 32]), myco_dna::KeyHash([2; 32])];
        for (_, template) in TEMPLATES {
            let text = dna_with_founders(template, &founders, "seed-x");
            let dna = myco_zomes::load_dna(&text).expect("valid");
            assert_eq!(dna.properties.founders, founders.to_vec());
            assert_eq!(dna.network_seed, "seed-x");
        }
    }

    #[test]
    fn percentiles_pick_ranks() {
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        assert_eq!(p.p50, 51.0);
        assert_eq!(p.p99, 99.0);
        assert_eq!(p.max, 100.0);
    }
}
