//! `myco recover`: this agent's chains back from its pods' peers, with only the recovery
//! phrase: on a data dir recreated by `myco init --from-phrase` whose daemon runs
//! ([`crate::api`]'s `/recover`).

use std::fmt;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::pod::client;
use super::{output, Context};
use crate::api::types::{RecoverPod, RecoverStarted, RecoveryPodView, RecoveryView};

/// Shown after `myco recover --help`.
pub(super) const EXAMPLES: &str = "\
Examples:
  myco init --from-phrase && myco run &     a new data dir with the old agent key
  myco recover                              its chains back from the pods' peers
  myco recover --json --wait 300

The registry pointer names your pods; their members give back each pod's DNA and your chain
in it, checked record by record. Nothing is written in a pod until its peers have said how far
your chain goes there, so recovering never forks it. Private entries never leave your node:
they come back only from a backup (`myco backup restore`), and the report lists the Private
records it could not fill.";

/// `myco recover`'s flags.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// How long to wait for the pods' peers, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    wait: u64,
}

/// How long the first call may take: a registry lookup and a DNA fetch, each bounded.
const START_TIMEOUT: Duration = Duration::from_secs(150);
/// How often progress is read.
const POLL: Duration = Duration::from_millis(500);

/// What `myco recover` prints once every pod is back.
#[derive(Serialize)]
struct Recovered {
    key_hash: String,
    records: u64,
    private_unfilled_count: usize,
    pods: Vec<RecoveryPodView>,
}

impl fmt::Display for Recovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Recovered {} of {} in {}:",
            output::count(self.records, "record"),
            self.key_hash,
            output::count(self.pods.len() as u64, "pod")
        )?;
        for pod in &self.pods {
            writeln!(
                f,
                "  {} ({}): {}",
                pod.name,
                pod.dna_hash,
                output::count(pod.records, "record")
            )?;
            if pod.private_unfilled_count > 0 {
                writeln!(
                    f,
                    "    {} Private record(s) without their entry; only a backup can fill them:",
                    pod.private_unfilled_count
                )?;
                for hash in &pod.private_unfilled {
                    writeln!(f, "      {hash}")?;
                }
            }
        }
        write!(
            f,
            "Your chains match what your pods' members hold; you can write again."
        )
    }
}

pub(super) fn run(ctx: &Context, args: RecoverArgs) -> anyhow::Result<()> {
    let api = client(ctx)?;
    let started: RecoverStarted =
        api.post_slow("/recover", &serde_json::json!({}), START_TIMEOUT)?;
    let lost: Vec<&RecoverPod> = started
        .pods
        .iter()
        .filter(|p| p.status == "not_found")
        .collect();
    if started.pods.is_empty() {
        anyhow::bail!(
            "no pod to recover: {} (is the bootstrap peer reachable? `myco status` shows the node's peers; a pointer is republished every few hours while a node of this agent runs)",
            if started.pointer_found {
                "the registry pointer of this agent lists no pod"
            } else {
                "no registry pointer of this agent was found"
            }
        );
    }
    let bar = if ctx.json() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("recovering {bar:40} {pos}/{len} records ({msg})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    let view = loop {
        let view: RecoveryView = api.get("/recover")?;
        let have: u64 = view.pods.iter().map(|p| p.records).sum();
        let want: u64 = view
            .pods
            .iter()
            .map(|p| p.claimed_seq.map_or(p.records, |s| (s + 1).max(p.records)))
            .sum();
        let waiting = view.pods.iter().filter(|p| !p.anchored).count();
        bar.set_length(want.max(have));
        bar.set_position(have);
        bar.set_message(format!("{waiting} pod(s) still asking their peers"));
        if waiting == 0 || Instant::now() >= deadline {
            break view;
        }
        std::thread::sleep(POLL);
    };
    bar.finish_and_clear();
    let behind: Vec<String> = view
        .pods
        .iter()
        .filter(|p| !p.anchored)
        .map(|p| match p.claimed_seq {
            Some(seq) => format!(
                "{} ({}): {} of {} records, still fetching",
                p.name,
                p.dna_hash,
                p.records,
                seq + 1
            ),
            None => format!(
                "{} ({}): no member answered yet ({} of them so far)",
                p.name, p.dna_hash, p.answered
            ),
        })
        .chain(lost.iter().map(|p| {
            format!(
                "{}: {}",
                p.dna_hash,
                p.detail.as_deref().unwrap_or("not found")
            )
        }))
        .collect();
    if !behind.is_empty() {
        anyhow::bail!(
            "not every pod is back after {} s: {}. Run `myco recover` again once more members are online; what came back is kept, and nothing is written in a pod until its peers confirm your chain",
            args.wait,
            behind.join("; ")
        );
    }
    output::emit(
        &Recovered {
            key_hash: started.key_hash,
            records: view.pods.iter().map(|p| p.records).sum(),
            private_unfilled_count: view.pods.iter().map(|p| p.private_unfilled_count).sum(),
            pods: view.pods,
        },
        ctx.json(),
    )
}
