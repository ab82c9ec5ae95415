//! The shipped scenario files, bad scenario files, and the command's exit codes.

use std::process::Command;

use myco_sim::scenario::Scenario;

fn scenarios_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

#[test]
fn every_shipped_scenario_parses_and_names_a_known_dna() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        let scenario =
            Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        myco_sim::setup::load_dna(&scenario.pods.dna, path.parent())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        names.push(scenario.name);
    }
    names.sort();
    for wanted in [
        "adversarial-30pct",
        "churn",
        "partition-heal",
        "pod-1000",
        "quickstart",
        "registry-10k",
    ] {
        assert!(names.iter().any(|n| n == wanted), "missing {wanted}");
    }
}

#[test]
fn a_bad_scenario_file_gets_an_error_naming_the_field() {
    let missing = Scenario::from_toml("name = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert!(missing.contains("duration_s"), "{missing}");
    let wrong_type =
        Scenario::from_toml("name = \"x\"\nduration_s = 1\n[pods]\nmembers = \"ten\"\n")
            .unwrap_err()
            .to_string();
    assert!(wrong_type.contains("members"), "{wrong_type}");
    let readers_in_open_pod =
        Scenario::from_toml("name = \"x\"\nduration_s = 1\n[adversaries]\nreaders = 1\n")
            .expect("parses");
    let err = myco_sim::run::run(
        &readers_in_open_pod,
        1,
        None,
        &indicatif::ProgressBar::hidden(),
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("adversaries.readers"), "{err}");
}

#[test]
fn the_command_exits_2_on_a_bad_file_and_0_on_a_passing_run() {
    let exe = env!("CARGO_BIN_EXE_myco-sim");
    let dir = std::env::temp_dir().join(format!("myco-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nduration_s = -1\n").expect("write");
    let out = Command::new(exe)
        .args(["run", "-q"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("duration_s"));
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "name = \"tiny\"\nduration_s = 4\n[pods]\nmembers = 4\n[expect]\nmin_delivery_ratio = 1.0\n",
    )
    .expect("write");
    let json = dir.join("out.json");
    let svg = dir.join("out.svg");
    let out = Command::new(exe)
        .args(["run", "-q", "--seed", "3"])
        .arg(&good)
        .arg("--json")
        .arg(&json)
        .arg("--plot")
        .arg(&svg)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid");
    for key in [
        "delivery",
        "convergence_ms",
        "copies_per_node_per_record",
        "bytes_per_node",
        "invalid_accepted",
        "leaks",
        "lookups",
        "events_per_s",
        "trace_hash",
    ] {
        assert!(report.get(key).is_some(), "report lacks {key}");
    }
    assert!(std::fs::read_to_string(&svg)
        .expect("svg")
        .starts_with("<svg"));
    let _ = std::fs::remove_dir_all(&dir);
}
