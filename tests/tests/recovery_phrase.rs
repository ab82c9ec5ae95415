//! The recovery phrase, where a person meets it: `myco init` prints 24 words once, `myco key
//! phrase` shows the same words after the passphrase, `myco init --phrase-file` recreates the
//! same agent in a fresh data dir, a mistyped phrase writes nothing, and neither the words nor
//! the seed they spell are anywhere in the data dir's raw files.

use std::path::Path;
use std::process::{Command, Output};

use myco_tests::myco_binary;
use serde_json::Value;

fn myco(dir: &Path, passphrase_file: &Path, args: &[&str]) -> Output {
    Command::new(myco_binary())
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .arg("--passphrase-file")
        .arg(passphrase_file)
        .args(args)
        .env_remove("MYCO_PASSPHRASE")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run myco")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every regular file under `dir`, read raw.
fn raw_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() {
                out.push((path.clone(), std::fs::read(&path).expect("read file")));
            }
        }
    }
    out
}

#[test]
fn the_phrase_recreates_the_agent_and_never_touches_the_disk() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let pass = scratch.path().join("pass");
    std::fs::write(&pass, "first passphrase\n").expect("write");
    let first = scratch.path().join("first");

    let init = myco(&first, &pass, &["init"]);
    assert!(init.status.success(), "{init:?}");
    let report = json(&init);
    let words = report["recovery_phrase"]
        .as_str()
        .expect("init --json carries recovery_phrase")
        .to_string();
    assert_eq!(words.split(' ').count(), 24, "{words}");
    let agent = report["agent_key"].as_str().expect("agent_key").to_string();

    // Shown again, only after the passphrase.
    let shown = myco(&first, &pass, &["key", "phrase"]);
    assert!(shown.status.success(), "{shown:?}");
    assert_eq!(
        json(&shown)["recovery_phrase"].as_str(),
        Some(words.as_str())
    );
    let wrong = scratch.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").expect("write");
    let refused = myco(&first, &wrong, &["key", "phrase"]);
    assert!(!refused.status.success());
    assert!(json(&refused).get("recovery_phrase").is_none());

    // Neither the words nor the seed they spell are in any file of the data dir.
    let seed = myco_node::phrase::signing_key_from_phrase(&words)
        .expect("the printed phrase parses")
        .to_bytes();
    for (path, bytes) in raw_files(&first) {
        assert!(
            !contains(&bytes, words.as_bytes()),
            "{} holds the phrase",
            path.display()
        );
        let first_words: Vec<&str> = words.split(' ').take(3).collect();
        assert!(
            !contains(&bytes, first_words.join(" ").as_bytes()),
            "{} holds the phrase's first words",
            path.display()
        );
        assert!(
            !contains(&bytes, &seed),
            "{} holds the seed",
            path.display()
        );
    }

    // A fresh data dir from the phrase, under another passphrase: the same agent.
    let phrase_file = scratch.path().join("words.txt");
    // As a person might type it: upper case, line breaks.
    let typed: Vec<String> = words
        .to_uppercase()
        .split(' ')
        .collect::<Vec<_>>()
        .chunks(6)
        .map(|row| row.join(" "))
        .collect();
    std::fs::write(&phrase_file, typed.join("\n")).expect("write");
    let pass2 = scratch.path().join("pass2");
    std::fs::write(&pass2, "second passphrase\n").expect("write");
    let second = scratch.path().join("second");
    let phrase_arg = phrase_file.to_str().expect("utf-8 path");
    let again = myco(&second, &pass2, &["init", "--phrase-file", phrase_arg]);
    assert!(again.status.success(), "{again:?}");
    let again = json(&again);
    assert_eq!(again["agent_key"].as_str(), Some(agent.as_str()));
    assert_eq!(again["from_phrase"].as_bool(), Some(true));
    assert!(
        again.get("recovery_phrase").is_none(),
        "a key recreated from its phrase does not print it again"
    );
    let shown = myco(&second, &pass2, &["key", "phrase"]);
    assert_eq!(
        json(&shown)["recovery_phrase"].as_str(),
        Some(words.as_str())
    );

    // A mistyped word is named, and nothing is written.
    let mut mistyped: Vec<&str> = words.split(' ').collect();
    mistyped[6] = "mycelium";
    std::fs::write(&phrase_file, mistyped.join(" ")).expect("write");
    let third = scratch.path().join("third");
    let refused = myco(&third, &pass2, &["init", "--phrase-file", phrase_arg]);
    assert!(!refused.status.success());
    let error = json(&refused)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("word 7") && error.contains("mycelium"),
        "{error}"
    );
    assert!(
        !third.join("agent.key").exists(),
        "a refused phrase wrote a key"
    );

    // A data dir with a key is never overwritten by a phrase.
    std::fs::write(&phrase_file, &words).expect("write");
    let over = myco(&first, &pass, &["init", "--phrase-file", phrase_arg]);
    assert!(!over.status.success());
    assert!(json(&over)["error"]
        .as_str()
        .unwrap_or_default()
        .contains("refusing to overwrite"));
}
