//! Shared helpers: run an inline scenario quietly.

use indicatif::ProgressBar;
use myco_sim::report::Report;
use myco_sim::scenario::Scenario;

/// Parses `toml` and runs it with `seed`, with no progress bar.
pub fn run(toml: &str, seed: u64) -> Report {
    let scenario = Scenario::from_toml(toml).expect("the test scenario is valid");
    myco_sim::run::run(&scenario, seed, None, &ProgressBar::hidden())
        .expect("the test scenario runs")
        .report
}
