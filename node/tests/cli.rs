//! End-to-end tests of the `myco` binary: each runs the real executable against a temporary
//! data dir, with the passphrase in the child's environment only.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use myco_dna::{ChainAuthor, DnaHash, DnaManifest, Entry, SigningKey, Timestamp, Visibility};
use myco_node::datadir::DataPaths;
use myco_node::store::{ChainId, SqliteStore, Store, StoreKey};
use serde_json::Value;
use tempfile::TempDir;

const PASSPHRASE: &str = "a long and memorable passphrase";

/// What a run of `myco` produced.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn assert_failed_with(&self, text: &str) -> &Self {
        assert_eq!(
            self.code,
            Some(1),
            "stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stderr.contains(text),
            "expected {text:?} in stderr: {}",
            self.stderr
        );
        self
    }
}

/// `myco` with a clean environment: no passphrase, no data dir, no terminal.
fn myco() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_myco"));
    command
        .env_remove("MYCO_PASSPHRASE")
        .env_remove("MYCO_DATA_DIR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

fn run(command: &mut Command) -> Run {
    let output = command.output().expect("run myco");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `myco --data-dir DIR ARGS` with the test passphrase in its environment.
fn in_dir(dir: &Path, args: &[&str]) -> Run {
    run(myco()
        .env("MYCO_PASSPHRASE", PASSPHRASE)
        .arg("--data-dir")
        .arg(dir)
        .args(args))
}

/// A fresh temp dir and a data dir inside it, initialised.
fn initialised() -> (TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("data");
    in_dir(&data, &["init"]).assert_ok();
    (temp, data)
}

#[test]
fn init_json_prints_the_agent_key_its_hash_and_the_data_dir() {
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("data");
    let init = in_dir(&data, &["init", "--json"]);
    init.assert_ok();
    let json = init.json();
    let agent = json["agent_key"].as_str().expect("agent_key");
    assert!(agent.starts_with("agent_"), "{json}");
    assert!(
        json["key_hash"]
            .as_str()
            .expect("key_hash")
            .starts_with("kh_"),
        "{json}"
    );
    assert_eq!(json["data_dir"].as_str(), data.to_str());

    // `key show` reads the same key back without a passphrase, and `--verify` unlocks it.
    let show = run(myco()
        .arg("--data-dir")
        .arg(&data)
        .args(["key", "show", "--json"]));
    assert_eq!(show.assert_ok().json()["agent_key"].as_str(), Some(agent));
    let verify = in_dir(&data, &["key", "show", "--verify", "--json"]);
    assert_eq!(
        verify.assert_ok().json()["passphrase_ok"],
        Value::Bool(true)
    );
}

#[test]
fn a_second_init_refuses_and_leaves_the_key_file_untouched() {
    let (_temp, data) = initialised();
    let key_file = data.join("agent.key");
    let before = fs::read(&key_file).expect("read key file");
    in_dir(&data, &["init"]).assert_failed_with("already exists");
    assert_eq!(fs::read(&key_file).expect("read key file"), before);
}

#[test]
fn a_wrong_passphrase_is_a_clear_error_with_exit_code_1() {
    let (_temp, data) = initialised();
    let verify = run(myco()
        .env("MYCO_PASSPHRASE", "not the passphrase")
        .arg("--data-dir")
        .arg(&data)
        .args(["key", "show", "--verify"]));
    verify.assert_failed_with("wrong passphrase");
    assert!(verify.stderr.contains("backup"), "{}", verify.stderr);
}

#[test]
fn the_passphrase_file_gives_the_first_line_without_its_newline() {
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("data");
    let pass_file = temp.path().join("pass");
    fs::write(
        &pass_file,
        format!("{PASSPHRASE}\nsecond line is ignored\n"),
    )
    .expect("write");
    run(myco()
        .arg("--data-dir")
        .arg(&data)
        .arg("--passphrase-file")
        .arg(&pass_file)
        .arg("init"))
    .assert_ok();
    in_dir(&data, &["key", "show", "--verify"]).assert_ok();
}

#[test]
fn init_without_any_passphrase_source_says_how_to_give_one() {
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("data");
    run(myco().arg("--data-dir").arg(&data).arg("init"))
        .assert_failed_with("no passphrase: pass --passphrase-file, set MYCO_PASSPHRASE");
    assert!(!data.join("agent.key").exists());
}

#[test]
fn an_empty_passphrase_is_refused_on_init() {
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("data");
    run(myco()
        .env("MYCO_PASSPHRASE", "")
        .arg("--data-dir")
        .arg(&data)
        .arg("init"))
    .assert_failed_with("passphrase is empty");
    assert!(!data.join("agent.key").exists());
}

#[test]
fn a_corrupted_key_file_is_a_clear_error() {
    let temp = tempfile::tempdir().expect("temp dir");
    fs::write(
        temp.path().join("agent.key"),
        b"MYCOKEY\x01\xff\xfe garbage",
    )
    .expect("write");
    let show = in_dir(temp.path(), &["key", "show"]);
    show.assert_failed_with("is damaged");
    assert!(
        show.stderr.contains("restore it from your backup"),
        "{}",
        show.stderr
    );
}

#[test]
fn key_show_without_a_key_says_to_run_init() {
    let temp = tempfile::tempdir().expect("temp dir");
    in_dir(temp.path(), &["key", "show"]).assert_failed_with("run `myco init` first");
}

#[test]
fn a_data_dir_locked_by_another_process_is_refused_with_its_pid() {
    let (_temp, data) = initialised();
    let mut lock = File::create(data.join("myco.lock")).expect("create lock file");
    lock.try_lock().expect("lock from the test process");
    writeln!(lock, "{}", std::process::id()).expect("write pid");

    let expected = format!(
        "data dir {} is locked by another myco process (pid {}); stop it or pass --data-dir",
        data.display(),
        std::process::id()
    );
    in_dir(&data, &["chain", "verify"]).assert_failed_with(&expected);

    drop(lock);
    in_dir(&data, &["chain", "verify"]).assert_ok();
}

#[test]
fn chain_verify_passes_on_a_fresh_data_dir() {
    let (_temp, data) = initialised();
    let verify = in_dir(&data, &["chain", "verify", "--json"]);
    let json = verify.assert_ok().json();
    assert_eq!(json["sound"], Value::Bool(true));
    assert_eq!(json["chains"], 0);
}

#[test]
fn chain_verify_on_a_missing_data_dir_says_to_run_init() {
    let temp = tempfile::tempdir().expect("temp dir");
    in_dir(&temp.path().join("nope"), &["chain", "verify"])
        .assert_failed_with("run `myco init` first");
}

/// The store of the initialised data dir `data`, opened with its agent's key.
fn open_store(data: &Path) -> SqliteStore {
    let key = DataPaths::new(data)
        .keystore()
        .unlock(PASSPHRASE.as_bytes())
        .expect("unlock");
    SqliteStore::open(&data.join("store"), StoreKey::derive(&key)).expect("open store")
}

/// Writes a five-record chain into the store of the initialised data dir `data`, then
/// deletes the stored record at seq 3, as lost data would. Returns the chain.
fn damaged_store(data: &Path) -> ChainId {
    let mut author = ChainAuthor::new(SigningKey::from_bytes(&[5; 32]), DnaHash([2; 32]));
    let mut records = vec![author.genesis(Timestamp(1), Vec::new())];
    for i in 0..4u8 {
        let entry = Entry(vec![i; 8]);
        records.push(author.create(Timestamp(2), "content", "story", Visibility::Public, entry));
    }
    let valid = myco_node::store::ValidRecord::check_all(records.clone(), &mut Default::default())
        .expect("a sound chain");
    open_store(data).append_batch(&valid).expect("append");

    let db = rusqlite::Connection::open(data.join("store/chains.db")).expect("open the file");
    let removed = db
        .execute("DELETE FROM records WHERE seq = 3 AND length(action) > 0 AND chain = (SELECT id FROM chains WHERE pod = ?1)", [DnaHash([2; 32]).as_bytes()])
        .expect("remove record");
    assert_eq!(removed, 1);
    ChainId::of(&records[0])
}

#[test]
fn chain_verify_reports_damage_and_repair_cuts_the_chain_back_to_its_last_good_record() {
    let (_temp, data) = initialised();
    let chain = damaged_store(&data);

    let verify = in_dir(&data, &["chain", "verify"]);
    verify.assert_failed_with("run `myco chain verify --repair`");
    assert!(verify.stdout.contains("seq 3"), "{}", verify.stdout);

    let repair = in_dir(&data, &["chain", "verify", "--repair", "--json"]);
    let json = repair.assert_ok().json();
    assert_eq!(json["sound"], Value::Bool(true), "{json}");
    assert_eq!(json["repaired"][0]["kept_through"], 2, "{json}");
    assert_eq!(json["repaired"][0]["dropped"], 1, "{json}");

    in_dir(&data, &["chain", "verify"]).assert_ok();
    assert_eq!(
        open_store(&data).head(&chain).expect("head").map(|h| h.seq),
        Some(2)
    );
}

fn river_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dna/tests/fixtures/river.toml")
}

#[test]
fn dna_check_accepts_a_good_manifest_and_prints_its_pod_id() {
    let path = river_manifest();
    let text = fs::read_to_string(&path).expect("read fixture");
    let expected = DnaManifest::from_toml(&text)
        .expect("fixture parses")
        .dna_hash();
    let check = run(myco().args(["dna", "check", "--json"]).arg(&path));
    let json = check.assert_ok().json();
    assert_eq!(
        json["dna_hash"].as_str(),
        Some(expected.to_string().as_str())
    );
    assert_eq!(json["name"], "River Stories");
}

#[test]
fn dna_check_names_the_bad_field_of_a_bad_manifest() {
    let temp = tempfile::tempdir().expect("temp dir");
    let text = fs::read_to_string(river_manifest()).expect("read fixture");
    let bad = temp.path().join("bad.toml");
    fs::write(&bad, text.replace("\"value\"]", "\"astrology\"]")).expect("write");
    let check = run(myco().args(["dna", "check"]).arg(&bad));
    check.assert_failed_with("is not a valid DNA manifest");
    assert!(
        check.stderr.contains("unknown zome `astrology`"),
        "{}",
        check.stderr
    );
}

#[test]
fn dna_check_of_a_missing_file_says_it_cannot_read_it() {
    let temp = tempfile::tempdir().expect("temp dir");
    run(myco()
        .args(["dna", "check"])
        .arg(temp.path().join("none.toml")))
    .assert_failed_with("cannot read the DNA manifest");
}

#[test]
fn every_command_has_help_with_an_example() {
    // Every command and subcommand `myco --help` leads to, found by walking the help pages,
    // so a command added later is checked too.
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen = 0;
    while let Some(command) = pending.pop() {
        let help = run(myco().args(&command).arg("--help"));
        help.assert_ok();
        assert!(
            help.stdout.contains("Example"),
            "`myco {command:?} --help`: {}",
            help.stdout
        );
        seen += 1;
        let listed = help
            .stdout
            .split("Commands:\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or("");
        for line in listed.lines() {
            if let Some(name) = line.split_whitespace().next().filter(|n| *n != "help") {
                let mut sub = command.clone();
                sub.push(name.to_string());
                pending.push(sub);
            }
        }
    }
    assert!(seen > 30, "the walk found only {seen} commands");
}

#[test]
fn bad_usage_exits_with_code_2() {
    assert_eq!(run(myco().arg("frobnicate")).code, Some(2));
    assert_eq!(run(myco().args(["dna", "check"])).code, Some(2));
    assert_eq!(run(&mut myco()).code, Some(2));
}

#[test]
fn an_error_under_json_is_one_json_object_on_stdout_with_the_exit_code() {
    let temp = tempfile::tempdir().expect("temp dir");
    let failed = in_dir(temp.path(), &["--json", "key", "show"]);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    let json = failed.json();
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.contains("run `myco init` first")),
        "{json}"
    );
    assert!(json["causes"].is_array(), "{json}");
    assert!(!failed.stderr.contains("error:"), "{}", failed.stderr);
}

#[test]
fn no_running_daemon_names_its_cause_once() {
    let (_temp, data) = initialised();
    let failed = in_dir(&data, &["status"]);
    failed.assert_failed_with("no running daemon");
    assert_eq!(
        failed.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        failed.stderr
    );
}

#[test]
fn logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let (_temp, data) = initialised();
    let verify = run(myco()
        .env("MYCO_PASSPHRASE", PASSPHRASE)
        .env("RUST_LOG", "debug")
        .arg("--data-dir")
        .arg(&data)
        .args(["chain", "verify"]));
    verify.assert_ok();
    assert!(verify.stderr.contains("DEBUG"), "{}", verify.stderr);
    assert!(!verify.stderr.contains('\u{1b}'), "{:?}", verify.stderr);
}

#[test]
fn bootstrap_help_lists_only_the_flags_a_bootstrap_peer_uses() {
    let help = run(myco().args(["bootstrap", "--help"]));
    help.assert_ok();
    for flag in ["--listen", "--bootstrap", "--external", "--config"] {
        assert!(help.stdout.contains(flag), "{flag}: {}", help.stdout);
    }
    for flag in ["--api-port", "--region"] {
        assert!(!help.stdout.contains(flag), "{flag}: {}", help.stdout);
    }
    let run_help = run(myco().args(["run", "--help"]));
    assert!(run_help.stdout.contains("--api-port") && run_help.stdout.contains("--region"));
}

#[test]
fn every_file_a_help_example_names_under_dna_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pages = [
        vec!["--help"],
        vec!["dna", "--help"],
        vec!["dna", "check", "--help"],
        vec!["pod", "--help"],
        vec!["pod", "create", "--help"],
        vec!["pod", "join", "--help"],
    ];
    let mut named = 0;
    for args in pages {
        let help = run(myco().args(&args));
        help.assert_ok();
        for word in help.stdout.split_whitespace() {
            if word.starts_with("dna/") && word.ends_with(".toml") {
                named += 1;
                assert!(
                    root.join(word).is_file(),
                    "`myco {}` names {word}, which does not exist",
                    args.join(" ")
                );
            }
        }
    }
    assert!(named > 0, "the help examples name example manifests");
}

#[test]
fn a_proof_file_that_is_not_an_invitation_is_named_before_the_daemon_is_asked() {
    let (temp, data) = initialised();
    let garbage = temp.path().join("proof.txt");
    fs::write(&garbage, "not an invitation at all").expect("write");
    let dna = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dna/examples/storytelling.toml");
    let failed = in_dir(
        &data,
        &[
            "pod",
            "join",
            "--dna",
            dna.to_str().expect("utf-8"),
            "--proof-file",
            garbage.to_str().expect("utf-8"),
        ],
    );
    failed.assert_failed_with("does not hold an invitation");
    assert!(failed.stderr.contains("proof.txt"), "{}", failed.stderr);
    assert!(
        !failed.stderr.contains("no running daemon"),
        "{}",
        failed.stderr
    );
}

#[test]
fn bootstrap_with_json_prints_its_addresses_as_json_lines() {
    use std::io::BufRead;
    let temp = tempfile::tempdir().expect("temp dir");
    let mut child = myco()
        .arg("--data-dir")
        .arg(temp.path())
        .args(["--json", "bootstrap", "--listen", "/ip4/127.0.0.1/tcp/0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a bootstrap peer");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    let json: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let address = json["listening"].as_str().expect("listening");
    assert!(
        address.starts_with("/ip4/127.0.0.1/tcp/") && address.contains("/p2p/"),
        "{address}"
    );
}

#[test]
fn the_storytellers_write_commands_have_help_with_an_example_and_say_what_they_need() {
    let pages: &[(&[&str], &str)] = &[
        (&["publish"], "--principle"),
        (&["publish"], "never"),
        (&["edit"], "keeps the current version"),
        (&["react"], "visibility of the content"),
        (&["comment"], "visibility of the content"),
        (&["value"], "minor units"),
        (&["value", "record"], "--currency"),
        (&["value", "distribute"], "largest remainder"),
        (&["value", "statement"], "--member"),
        (&["pod", "leave"], "writes nothing more"),
        (&["pod", "members"], "founder"),
        (&["propose"], "change_policy"),
        (&["propose"], "--min-creator-share-bp"),
    ];
    for (command, needle) in pages {
        let help = run(myco().args(*command).arg("--help"));
        help.assert_ok();
        assert!(
            help.stdout.contains("Example") && help.stdout.contains(needle),
            "`myco {command:?} --help` lacks an example or {needle:?}: {}",
            help.stdout
        );
    }
}

#[test]
fn a_consent_value_that_is_not_true_or_false_is_refused_before_the_daemon_is_asked() {
    let (_temp, data) = initialised();
    let failed = in_dir(
        &data,
        &[
            "publish",
            "--pod",
            "dna_x",
            "--title",
            "t",
            "--consent",
            "community_sharing=maybe",
        ],
    );
    failed.assert_failed_with("`maybe` is not true or false");
    assert!(
        !failed.stderr.contains("no running daemon"),
        "{}",
        failed.stderr
    );
}
