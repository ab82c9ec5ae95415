//! `myco import` against real daemons: an Airtable-style JSON export with malformed rows, a
//! row the pod's zomes refuse and a row repeated in the file. Every row is accounted for and
//! the report balances; a second run writes nothing new; the written stories reach the other
//! member.

use myco_tests::loopback::{holds, wait_until, STORYTELLING_PRINCIPLES};
use myco_tests::storyteller::{myco, storytelling_pod};
use myco_tests::tamper::drop_record;
use serde_json::{json, Value};

fn map() -> String {
    let principles: Vec<String> = STORYTELLING_PRINCIPLES
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect();
    format!(
        r#"
[source]
table = "records"
id = "id"

[fields]
title = "Title"
body = "Story"
kind = "Type"
visibility = "Visibility"
protocols = "Protocols"

[defaults]
visibility = "pod"
consent = {{ community_sharing = true }}
principles = [{}]
"#,
        principles.join(", ")
    )
}

fn source() -> Value {
    let mut records: Vec<Value> = (0..8)
        .map(|n| {
            json!({"id": format!("rec{n}"), "fields": {
                "Title": format!("Story {n} from the old base"),
                "Story": format!("Told at the harbour, {n}"),
                "Type": "story"
            }})
        })
        .collect();
    // The same story as rec0, again: a duplicate.
    records.push(json!({"id": "rec0-again", "fields": {
        "Title": "Story 0 from the old base", "Story": "Told at the harbour, 0", "Type": "story"
    }}));
    // Malformed: no title, a visibility that is none, not a record at all.
    records.push(json!({"id": "recNoTitle", "fields": {"Story": "untitled"}}));
    records.push(json!({"id": "recSecret", "fields": {"Title": "Odd", "Visibility": "secret"}}));
    records.push(json!(42));
    // Well formed, but the pod knows no such protocol: its zome refuses it.
    records.push(json!({"id": "recProtocol", "fields": {"Title": "Tagged", "Protocols": "no-such-protocol"}}));
    json!({ "records": records })
}

#[test]
fn an_import_accounts_for_every_row_and_a_second_run_writes_nothing() {
    let (net, pod) = storytelling_pod(2, "import");
    let a = net.dir(0);
    let file = net.root.path().join("airtable.json");
    std::fs::write(&file, serde_json::to_vec(&source()).expect("json")).expect("write");
    let map_file = net.root.path().join("map.toml");
    std::fs::write(&map_file, map()).expect("write");
    let args = |dry: bool| {
        let mut args = vec![
            "import".to_string(),
            "--pod".into(),
            pod.clone(),
            "--from".into(),
            file.display().to_string(),
            "--map".into(),
            map_file.display().to_string(),
        ];
        if dry {
            args.push("--dry-run".into());
        }
        args
    };
    let run = |dry: bool| {
        let args = args(dry);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        myco(&a, &refs).ok()
    };

    let checked = run(true);
    assert_eq!(checked["file"], file.display().to_string());
    assert_eq!(checked["source"], 13, "{checked}");
    assert_eq!(checked["would_write"], 9, "{checked}");
    assert_eq!(checked["written"], 0, "{checked}");

    let first = run(false);
    assert_eq!(first["written"], 8, "{first}");
    let manifest = first["manifest"]["hash"]
        .as_str()
        .expect("a manifest")
        .to_string();
    assert_eq!(first["manifest"]["written"], 8, "{first}");
    assert_eq!(first["duplicates"], 1, "{first}");
    assert_eq!(first["refused"], 4, "{first}");
    assert_eq!(first["balanced"], true, "{first}");
    assert_eq!(first["tables"]["records"]["source"], 13, "{first}");
    let refused = first["refused_rows"].as_array().expect("listed");
    let reason_of = |id: &str| {
        refused
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["reason"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("{id} is not among the refused: {first}"))
    };
    assert!(reason_of("recNoTitle").contains("no title"));
    assert!(reason_of("recSecret").contains("secret"));
    assert!(reason_of("row 12").contains("not a record"));
    assert!(
        reason_of("recProtocol").contains("no-such-protocol"),
        "{first}"
    );

    let second = run(false);
    assert_eq!(second["written"], 0, "{second}");
    assert_eq!(second["duplicates"], 9, "{second}");
    assert_eq!(second["refused"], 4, "{second}");
    assert_eq!(second["balanced"], true);

    // What was written reaches the other member.
    let feed = myco(&a, &["feed", "--pod", &pod, "--limit", "50"]).ok();
    let hashes: Vec<String> = feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["hash"].as_str().map(str::to_string))
        .collect();
    assert_eq!(hashes.len(), 8, "{feed}");
    for hash in hashes.iter().chain([&manifest]) {
        wait_until("the member to hold an imported record", || {
            holds(&net.daemons[1].api, hash)
        });
    }

    // Any member checks the manifest against its own replica.
    let b = net.dir(1);
    let verified = myco(&b, &["import", "verify", "--pod", &pod]).ok();
    let checked = &verified["manifests"][0];
    assert_eq!(checked["manifest"], manifest.as_str(), "{verified}");
    assert_eq!(checked["sound"], true, "{verified}");
    assert_eq!(checked["held"], 8);

    // A record dropped from that member's store (by another process, while the daemon
    // runs: at its next start the store's own check would refuse the gap): the manifest
    // check fails and names it.
    let dropped = drop_record(&b, &net.agent(0), 4);
    let refused = myco(&b, &["import", "verify", "--pod", &pod]).refused();
    assert!(refused.contains("seq 4"), "{refused}");
    assert!(
        refused.contains(&dropped),
        "the dropped record is named: {refused}"
    );
}
