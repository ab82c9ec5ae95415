//! Encrypted backups on real daemons. A storyteller backs up while the daemon runs, writes 10
//! more records, loses the data dir, and restores the old backup: the restored node fetches
//! the 10 newer records from the pod's peers before its next write, that write lands at the
//! right seq, and nobody is warranted. `myco backup verify` catches every flipped byte, a cut
//! file, and another agent's phrase, and a refused restore writes nothing.

use std::path::Path;

use myco_tests::loopback::{holds, wait_until, Net};
use myco_tests::storyteller::{
    affirming, arg, lose_data_dir, myco, phrase_file, publish, storytelling_pod, wipe_and_reinit,
};
use serde_json::Value;

/// Daemon `n`'s chain in `pod`, by hash, as `dir`'s daemon exports it.
fn exported_chain(net: &Net, dir: &Path, pod: &str, name: &str) -> Vec<String> {
    let file = net.root.path().join(name);
    myco(dir, &["export", "--out", arg(&file), "--pod", pod]).ok();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
    json["pods"][0]["chain"]
        .as_array()
        .expect("chain")
        .iter()
        .map(|r| r["hash"].as_str().expect("hash").to_string())
        .collect()
}

fn warrants(dir: &Path, pod: &str) -> Value {
    let state = myco(dir, &["pod", "state", "--pod", pod]).ok();
    state["state"]["figures"]["warrants"].clone()
}

#[test]
fn a_restored_backup_fetches_what_is_newer_before_it_writes_and_forks_nothing() {
    let (mut net, pod) = storytelling_pod(2, "backup-restore");
    let (a, b) = (net.dir(0), net.dir(1));
    publish(&net, 0, &pod, "Harbour song", "pod", &[]);
    publish(&net, 0, &pod, "Grandmother's recipe", "private", &[]);
    let phrase = phrase_file(&net, 0);

    let backup = net.root.path().join("a.backup");
    let made = myco(&a, &["backup", "create", "--out", arg(&backup)]).ok();
    assert_eq!(made["agent_key"], net.agent(0).to_string(), "{made}");
    let raw = std::fs::read(&backup).expect("written");
    assert!(
        !raw.windows(20).any(|w| w == b"Grandmother's recipe"),
        "the backup is encrypted"
    );

    let mut last = String::new();
    for n in 0..10 {
        last = publish(&net, 0, &pod, &format!("After the backup {n}"), "pod", &[]);
    }
    wait_until("the member to hold the newest story", || {
        holds(&net.daemons[1].api, &last)
    });
    let agent_chain_before = exported_chain(&net, &a, &pod, "author-before.json");
    assert_eq!(agent_chain_before.len(), 13, "Genesis, 2 stories, 10 more");

    // The disk is lost; the old backup comes back with the phrase alone.
    lose_data_dir(&mut net, 0);
    let restored = myco(
        &a,
        &[
            "backup",
            "restore",
            arg(&backup),
            "--phrase-file",
            arg(&phrase),
        ],
    )
    .ok();
    // The author's chain as it was (Genesis, 2 stories) and the member's Genesis.
    assert_eq!(restored["chains"], 2, "{restored}");
    assert_eq!(restored["records"], 4, "{restored}");
    assert!(a.join("restored.toml").exists());

    net.daemons[0] = net.start_daemon(0);
    // The first write after the restore either waits for the peers (503, saying so) or,
    // once they answered, lands after the 10 newer records.
    let mut written = None;
    wait_until("a write after the restore", || {
        let mut args = vec![
            "publish",
            "--pod",
            &pod,
            "--title",
            "Back again",
            "--body",
            "after the restore",
            "--visibility",
            "pod",
            "--consent",
            "community_sharing",
        ];
        args.extend(affirming());
        let run = myco(&a, &args);
        if run.code == Some(0) {
            written = Some(run.ok());
            return true;
        }
        let error = run.refused();
        assert!(error.contains("asking the pod's peers"), "{error}");
        false
    });
    let written = written.expect("written");
    let hash = written["hash"].as_str().expect("hash").to_string();
    let after = exported_chain(&net, &a, &pod, "author-after.json");
    assert_eq!(after.len(), 14, "{after:?}");
    assert_eq!(
        after[..13],
        agent_chain_before[..],
        "the 10 newer records came back"
    );
    assert_eq!(after[13], hash, "the write is at seq 13");
    wait_until("the member to take the write", || {
        holds(&net.daemons[1].api, &hash)
    });
    assert_eq!(warrants(&a, &pod), 0);
    assert_eq!(warrants(&b, &pod), 0);
    let mark = std::fs::read_to_string(a.join("restored.toml")).expect("kept");
    assert!(mark.contains(&pod), "the pod is noted as anchored: {mark}");
}

#[test]
fn a_damaged_cut_or_foreign_backup_is_named_and_a_refused_restore_writes_nothing() {
    let (net, pod) = storytelling_pod(2, "backup-verify");
    let a = net.dir(0);
    publish(&net, 0, &pod, "Kept safe", "private", &[]);
    let (phrase, other_phrase) = (phrase_file(&net, 0), phrase_file(&net, 1));
    let backup = net.root.path().join("a.backup");
    myco(&a, &["backup", "create", "--out", arg(&backup)]).ok();
    // The consistent copy the daemon sent from is gone from its data dir once it is sent.
    wait_until("the daemon to remove its backup copy", || {
        std::fs::read_dir(&a)
            .expect("list")
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().starts_with(".backup-"))
    });
    let again = myco(&a, &["backup", "create", "--out", arg(&backup)]).refused();
    assert!(again.contains("refusing to overwrite"), "{again}");

    let verified = myco(
        &a,
        &[
            "backup",
            "verify",
            arg(&backup),
            "--phrase-file",
            arg(&phrase),
        ],
    )
    .ok();
    assert_eq!(
        verified["records"].as_u64().map(|r| r >= 2),
        Some(true),
        "{verified}"
    );
    assert_eq!(verified["pods"], 1);

    let bytes = std::fs::read(&backup).expect("read");
    let damaged = net.root.path().join("damaged.backup");
    let verify = |file: &Path, phrase: &Path| {
        myco(
            &a,
            &["backup", "verify", arg(file), "--phrase-file", arg(phrase)],
        )
        .refused()
    };
    // A flip in the header, in the first chunk, in the middle and in the last chunk.
    for at in [5, 40, 200, bytes.len() / 2, bytes.len() - 3] {
        let mut changed = bytes.clone();
        changed[at] ^= 0x01;
        std::fs::write(&damaged, &changed).expect("write");
        let error = verify(&damaged, &phrase);
        assert!(
            error.contains("damaged")
                || error.contains("not a Myco backup")
                || error.contains("header")
                || error.contains("is of agent"),
            "a flip at {at}: {error}"
        );
    }
    std::fs::write(&damaged, &bytes[..bytes.len() - 100]).expect("write");
    let error = verify(&damaged, &phrase);
    assert!(
        error.contains("cut short") || error.contains("truncated"),
        "{error}"
    );

    let error = verify(&backup, &other_phrase);
    assert!(error.contains("is of agent"), "{error}");

    // A restore with the wrong phrase, or of a damaged file, leaves nothing behind.
    let target = net.root.path().join("restored");
    let refused = myco(
        &target,
        &[
            "backup",
            "restore",
            arg(&backup),
            "--phrase-file",
            arg(&other_phrase),
        ],
    )
    .refused();
    assert!(refused.contains("is of agent"), "{refused}");
    let refused = myco(
        &target,
        &[
            "backup",
            "restore",
            arg(&damaged),
            "--phrase-file",
            arg(&phrase),
        ],
    )
    .refused();
    assert!(
        refused.contains("truncated") || refused.contains("cut short"),
        "{refused}"
    );
    assert!(!target.exists(), "nothing was written");
    let leftovers: Vec<_> = std::fs::read_dir(net.root.path())
        .expect("list")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".myco-restore"))
        .collect();
    assert!(leftovers.is_empty(), "no staging folder is left");
    // A data dir that is in use is never restored over.
    let refused = myco(
        &a,
        &[
            "backup",
            "restore",
            arg(&backup),
            "--phrase-file",
            arg(&phrase),
        ],
    )
    .refused();
    assert!(refused.contains("not empty"), "{refused}");
}

#[test]
fn recover_rebuilds_the_chains_from_the_pods_peers_with_the_phrase_alone() {
    let (mut net, pod) = storytelling_pod(2, "recover");
    let (a, b) = (net.dir(0), net.dir(1));
    publish(&net, 0, &pod, "Harbour song", "pod", &[]);
    let private = publish(&net, 0, &pod, "Grandmother's recipe", "private", &[]);
    let last = publish(&net, 0, &pod, "The old boat", "pod", &[]);
    wait_until("the member to hold the author's stories", || {
        holds(&net.daemons[1].api, &last) && holds(&net.daemons[1].api, &private)
    });
    let key_hash = net.agent(0).key_hash().to_string();
    wait_until("the author's registry pointer to be published", || {
        let found = myco(&b, &["lookup", &key_hash]).ok();
        found["found"] == true
    });
    let before = exported_chain(&net, &a, &pod, "author-before.json");

    // Everything is lost but the phrase.
    let init = wipe_and_reinit(&mut net, 0);
    assert_eq!(init["key_hash"], key_hash.as_str());

    let report = myco(&a, &["recover"]).ok();
    assert_eq!(report["pods"][0]["dna_hash"], pod.as_str(), "{report}");
    assert_eq!(report["records"], before.len(), "{report}");
    let unfilled: Vec<&str> = report["pods"][0]["private_unfilled"]
        .as_array()
        .expect("listed")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(unfilled, vec![private.as_str()], "{report}");

    let after = exported_chain(&net, &a, &pod, "author-after.json");
    assert_eq!(after, before, "the recovered chain matches, hash for hash");
    for hash in &after {
        assert!(holds(&net.daemons[1].api, hash), "the member holds {hash}");
    }
    // And the agent writes on from there, with no fork.
    let next = publish(&net, 0, &pod, "Back on the water", "pod", &[]);
    wait_until("the member to take the new story", || {
        holds(&net.daemons[1].api, &next)
    });
    assert_eq!(warrants(&b, &pod), 0);
}

#[test]
fn while_no_member_is_online_a_restored_node_says_it_waits_and_writes_nothing() {
    let (mut net, pod) = storytelling_pod(2, "backup-offline");
    let a = net.dir(0);
    publish(&net, 0, &pod, "Before the backup", "pod", &[]);
    let phrase = phrase_file(&net, 0);
    let backup = net.root.path().join("a.backup");
    myco(&a, &["backup", "create", "--out", arg(&backup)]).ok();
    let before = exported_chain(&net, &a, &pod, "before.json");

    // The only other member is offline when the old backup comes back.
    net.daemons[1].process.stop();
    lose_data_dir(&mut net, 0);
    myco(
        &a,
        &[
            "backup",
            "restore",
            arg(&backup),
            "--phrase-file",
            arg(&phrase),
        ],
    )
    .ok();
    net.daemons[0] = net.start_daemon(0);
    let status = myco(&a, &["status"]).ok();
    let warnings = status["warnings"].to_string();
    assert!(warnings.contains("waits for its peers"), "{status}");
    let mut args = vec![
        "publish",
        "--pod",
        &pod,
        "--title",
        "Too early",
        "--visibility",
        "pod",
        "--consent",
        "community_sharing",
    ];
    args.extend(affirming());
    let refused = myco(&a, &args);
    assert_eq!(refused.json["http_status"], 503, "{}", refused.json);
    assert!(refused.refused().contains("asking the pod's peers"));
    assert_eq!(
        exported_chain(&net, &a, &pod, "held.json"),
        before,
        "nothing written"
    );

    // The member comes back: the node is anchored and writes again.
    net.daemons[1] = net.start_daemon(1);
    let mut written = String::new();
    wait_until("a write once the member is back", || {
        let run = myco(&a, &args);
        if run.code == Some(0) {
            written = run.ok()["hash"].as_str().unwrap_or_default().to_string();
            return true;
        }
        false
    });
    wait_until("the member to take it", || {
        holds(&net.daemons[1].api, &written)
    });
    assert_eq!(warrants(&net.dir(1), &pod), 0);
}
