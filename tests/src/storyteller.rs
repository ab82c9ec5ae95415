//! Driving real daemons through the `myco` CLI as a storyteller would, for the end-to-end
//! tests of a member's day: every command runs with `--json`, so a test reads its answer or
//! its error as one JSON object.

use std::path::{Path, PathBuf};
use std::process::Command;

use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use serde_json::Value;

use crate::loopback::{found_pod, start_net, Net, STORYTELLING_PRINCIPLES};
use crate::myco_binary;

/// What one `myco --json …` run printed.
pub struct Run {
    /// Its exit code.
    pub code: Option<i32>,
    /// Its one JSON object on stdout.
    pub json: Value,
    /// What it logged.
    pub stderr: String,
}

impl Run {
    /// The JSON of a run that must have succeeded.
    pub fn ok(self) -> Value {
        assert_eq!(self.code, Some(0), "{}\n{}", self.json, self.stderr);
        self.json
    }

    /// The error message and its causes, for a run that must have failed.
    pub fn refused(self) -> String {
        assert_eq!(self.code, Some(1), "{}\n{}", self.json, self.stderr);
        let mut text = self.json["error"].as_str().unwrap_or_default().to_string();
        for cause in self.json["causes"].as_array().into_iter().flatten() {
            text.push_str(" / ");
            text.push_str(cause.as_str().unwrap_or_default());
        }
        text
    }
}

/// Runs `myco --json --data-dir DIR ARGS` against the daemon of `dir`.
pub fn myco(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(myco_binary())
        .env_remove("MYCO_PASSPHRASE")
        .env_remove("RUST_LOG")
        .arg("--json")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run myco");
    let stdout = String::from_utf8_lossy(&output.stdout);
    Run {
        code: output.status.code(),
        json: serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {stdout}")),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `nodes` daemons, all founders of one storytelling pod; returns the net and the pod id.
pub fn storytelling_pod(nodes: usize, tag: &str) -> (Net, String) {
    let net = start_net(nodes);
    let founders: Vec<_> = net.daemons.iter().map(|d| d.key_hash).collect();
    let manifest = dna_with_founders(TEMPLATES[1].1, &founders, tag);
    let mut pod = String::new();
    for daemon in &net.daemons {
        pod = found_pod(&daemon.api, &manifest);
    }
    (net, pod)
}

/// `--principle P` for each of the storytelling pod's required principles.
pub fn affirming() -> Vec<&'static str> {
    STORYTELLING_PRINCIPLES
        .iter()
        .flat_map(|p| ["--principle", p])
        .collect()
}

/// Publishes a story on daemon `n` with every principle, and community sharing unless it is
/// private; returns its hash.
pub fn publish(
    net: &Net,
    n: usize,
    pod: &str,
    title: &str,
    visibility: &str,
    extra: &[&str],
) -> String {
    let mut args = vec![
        "publish",
        "--pod",
        pod,
        "--title",
        title,
        "--body",
        "told by the river",
        "--visibility",
        visibility,
    ];
    if visibility != "private" {
        args.extend(["--consent", "community_sharing"]);
    }
    args.extend(affirming());
    args.extend(extra);
    let json = myco(&net.dir(n), &args).ok();
    json["hash"].as_str().expect("hash").to_string()
}

/// The `hash` a write printed.
pub fn hash_of(json: &Value) -> String {
    json["hash"].as_str().expect("a hash").to_string()
}

/// The passphrase file of the devnet's agents.
pub fn passphrase_file(net: &Net) -> PathBuf {
    let file = net.root.path().join("passphrase");
    std::fs::write(&file, DEVNET_PASSPHRASE).expect("write");
    file
}

/// Daemon `n`'s recovery phrase, written to a file.
pub fn phrase_file(net: &Net, n: usize) -> PathBuf {
    let pass = passphrase_file(net);
    let shown = myco(
        &net.dir(n),
        &["key", "phrase", "--passphrase-file", pass.to_str().unwrap()],
    )
    .ok();
    let file = net.root.path().join(format!("phrase{n}"));
    std::fs::write(&file, shown["recovery_phrase"].as_str().expect("phrase")).expect("write");
    file
}

/// A path as a command-line argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Daemon `n` stops and its data dir is gone.
pub fn lose_data_dir(net: &mut Net, n: usize) {
    net.daemons[n].process.stop();
    std::fs::remove_dir_all(net.dir(n)).expect("wipe");
}

/// Daemon `n` loses its data dir and is recreated from its recovery phrase (`myco init
/// --phrase-file`), running again; returns what `myco init` printed.
pub fn wipe_and_reinit(net: &mut Net, n: usize) -> Value {
    let phrase = phrase_file(net, n);
    let pass = passphrase_file(net);
    lose_data_dir(net, n);
    let init = myco(
        &net.dir(n),
        &[
            "init",
            "--phrase-file",
            arg(&phrase),
            "--passphrase-file",
            arg(&pass),
        ],
    )
    .ok();
    net.daemons[n] = net.start_daemon(n);
    init
}
