//! One run of a scenario with one seed: every pod's world (on worker threads when there are
//! many), then the registry, then the report.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::lookup::{self, Agent};
use crate::metrics::PodResult;
use crate::report::{self, Report};
use crate::scenario::{Scenario, ScenarioError};
use crate::setup;
use crate::world::World;

/// A finished run: its report, and every delivery latency (sorted, ms) for plots.
pub struct Outcome {
    /// The report.
    pub report: Report,
    /// Delivery latencies, sorted, ms.
    pub latencies_ms: Vec<u64>,
}

/// Runs `scenario` with `seed`. `base_dir` resolves a DNA given as a path; `progress` is
/// drawn on stderr (pass [`ProgressBar::hidden`] for none).
pub fn run(
    scenario: &Scenario,
    seed: u64,
    base_dir: Option<&Path>,
    progress: &ProgressBar,
) -> Result<Outcome, ScenarioError> {
    let started = Instant::now();
    let base = setup::load_dna(&scenario.pods.dna, base_dir)?;
    let count = scenario.pods.count;
    let pods: Vec<PodResult> = if count == 1 {
        progress.set_style(style(
            "{elapsed_precise} [{bar:40}] {pos}/{len} virtual ms {msg}",
        ));
        progress.set_length(scenario.duration_s as u64 * 1_000);
        progress.set_message(format!("seed {seed}"));
        let world = World::new(scenario, &base, seed, 0)?;
        vec![world.run(&mut |virtual_us| progress.set_position(virtual_us / 1_000))]
    } else {
        progress.set_style(style("{elapsed_precise} [{bar:40}] {pos}/{len} pods {msg}"));
        progress.set_length(count as u64);
        progress.set_message(format!("seed {seed}"));
        run_pods(scenario, &base, seed, progress)?
    };
    let nodes = (count * (scenario.pods.members + scenario.adversaries.readers)) as u64;
    let registry = scenario.registry.as_ref().map(|spec| {
        let agents: Vec<Agent> = pods
            .iter()
            .zip(0..)
            .flat_map(|(pod, index)| {
                (0..scenario.pods.members).map(move |i| Agent {
                    key: setup::key_for(seed, index, i),
                    pods: vec![myco_dna::DnaHash(pod.pod)],
                })
            })
            .collect();
        progress.set_style(style(
            "{elapsed_precise} [{bar:40}] {pos}/{len} registry puts+lookups {msg}",
        ));
        lookup::run(spec, agents, &scenario.link, seed, &mut |done, total| {
            progress.set_length(total);
            progress.set_position(done);
        })
    });
    let mut parts: Vec<[u8; 32]> = pods.iter().map(|p| p.trace).collect();
    if let Some(r) = &registry {
        parts.push(r.trace);
    }
    let trace = crate::trace::combine(&parts);
    progress.finish_and_clear();
    let mut report = report::build(
        &scenario.name,
        seed,
        &pods,
        nodes,
        registry.as_ref(),
        trace,
        started.elapsed(),
    );
    report.check(&scenario.expect);
    let mut latencies_ms: Vec<u64> = pods
        .iter()
        .flat_map(|p| p.latencies.iter().map(|l| l / 1_000))
        .collect();
    latencies_ms.sort_unstable();
    Ok(Outcome {
        report,
        latencies_ms,
    })
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Runs every pod on up to `scenario.threads` threads; results come back in pod order.
fn run_pods(
    scenario: &Scenario,
    base: &myco_dna::DnaManifest,
    seed: u64,
    progress: &ProgressBar,
) -> Result<Vec<PodResult>, ScenarioError> {
    let count = scenario.pods.count;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<PodResult, ScenarioError>>>> =
        Mutex::new((0..count).map(|_| None).collect());
    let threads = scenario.threads.clamp(1, count.max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let result = World::new(scenario, base, seed, index).map(|w| w.run(&mut |_| {}));
                let failed = result.is_err();
                if let Ok(mut slots) = results.lock() {
                    slots[index] = Some(result);
                }
                progress.inc(1);
                if failed {
                    next.store(count, Ordering::Relaxed);
                }
            });
        }
    });
    let slots = results.into_inner().map_err(|_| ScenarioError::Invalid {
        field: "threads",
        reason: "a worker thread panicked".into(),
    })?;
    let mut out = Vec::with_capacity(count);
    for slot in slots {
        match slot {
            Some(Ok(pod)) => out.push(pod),
            Some(Err(e)) => return Err(e),
            None => continue,
        }
    }
    Ok(out)
}
