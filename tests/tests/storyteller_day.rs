//! A storyteller's whole day through the CLI of two real daemons in one storytelling pod,
//! as the storyteller's issue accepts it: publish, then read the feed and `show` on the other
//! member's node; edit, then narrow consent; the other node erases the earlier versions from
//! its disk (its raw files are scanned) and its receipt reaches the author's `show`; comment
//! and react; record and distribute value, and read the statement; leave.

use std::path::Path;

use myco_tests::loopback::{holds, wait_until};
use myco_tests::storyteller::{affirming, hash_of, myco, storytelling_pod};

/// The middle 32 bytes of the sealed form that `reader_dir`'s node would give the entry of
/// each record in `hashes`, as the author's node (data dir `author_dir`, running) holds it:
/// what a disk that still held the entry would contain.
fn sealed_on(author_dir: &Path, reader_dir: &Path, hashes: &[&str]) -> Vec<Vec<u8>> {
    let unlock = |dir: &Path| {
        myco_node::datadir::DataPaths::new(dir)
            .keystore()
            .unlock(myco_node::devnet::DEVNET_PASSPHRASE.as_bytes())
            .expect("unlock")
    };
    let author = myco_node::store::SqliteReader::open(
        &author_dir.join("store"),
        myco_node::store::StoreKey::derive(&unlock(author_dir)),
    )
    .expect("a reader of the author's store, beside its daemon");
    let key = myco_node::store::StoreKey::derive(&unlock(reader_dir));
    hashes
        .iter()
        .map(|text| {
            let hash: myco_dna::ActionHash = text.parse().expect("an action hash");
            let entry = author
                .get(&hash)
                .expect("read")
                .and_then(|r| r.entry)
                .expect("the author keeps its own versions");
            let sealed = key.seal(&hash, &entry);
            let middle = sealed.len() / 2;
            sealed[middle - 16..middle + 16].to_vec()
        })
        .collect()
}

/// The acceptance path of a storyteller's day, through the CLI of two real daemons: publish
/// and read on the other member's node, edit and narrow consent (the other node erases the
/// old versions from its disk and its receipt reaches the author's `show`), comment and
/// react, record and distribute value and read the statement, and leave.
#[test]
fn a_storytellers_day_through_the_cli() {
    let (net, pod) = storytelling_pod(2, "day");
    let (a, b) = (net.dir(0), net.dir(1));
    let (ka, kb) = (
        net.daemons[0].key_hash.to_string(),
        net.daemons[1].key_hash.to_string(),
    );

    // 1. Publish, with every principle and consent stated; the other member reads it.
    let mut args = vec![
        "publish",
        "--pod",
        &pod,
        "--title",
        "The river's first song",
        "--body",
        "FIRST-TELLING of the river",
        "--visibility",
        "pod",
        "--consent",
        "community_sharing",
        "--consent",
        "ai_analysis",
        "--share",
        "me=7500",
    ];
    let co_author = format!("{kb}=2500");
    args.extend(["--share", &co_author]);
    args.extend(affirming());
    let story = hash_of(&myco(&a, &args).ok());
    wait_until("the member to hold the story", || {
        holds(&net.daemons[1].api, &story)
    });
    let feed = myco(&b, &["feed", "--pod", &pod]).ok();
    assert_eq!(feed["items"][0]["hash"], story.as_str(), "{feed}");
    assert_eq!(feed["items"][0]["author"], ka.as_str(), "{feed}");
    let shown = myco(&b, &["show", &story]).ok();
    assert_eq!(shown["body"], "FIRST-TELLING of the river", "{shown}");
    assert_eq!(shown["consent"]["ai_analysis"], true, "{shown}");
    assert_eq!(
        shown["revenue_share"].as_array().map(Vec::len),
        Some(2),
        "{shown}"
    );

    // 2. Edit, then narrow the consent: AI analysis is taken back.
    let edited = hash_of(
        &myco(
            &a,
            &[
                "edit",
                &story,
                "--pod",
                &pod,
                "--body",
                "SECOND-TELLING of the river",
            ],
        )
        .ok(),
    );
    wait_until("the member to hold the edit", || {
        holds(&net.daemons[1].api, &edited)
    });
    let shown = myco(&b, &["show", &story]).ok();
    assert_eq!(shown["body"], "SECOND-TELLING of the river", "{shown}");
    let narrowed = hash_of(
        &myco(
            &a,
            &[
                "edit",
                &edited,
                "--pod",
                &pod,
                "--consent",
                "ai_analysis=false",
            ],
        )
        .ok(),
    );

    // 3. The member's node erases both earlier versions, on its disk, and says so.
    wait_until("the author to hold the member's receipts", || {
        let shown = myco(&a, &["show", &story]).ok();
        let confirmed = shown["receipts"]["confirmed"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        [&story, &edited].iter().all(|version| {
            confirmed
                .iter()
                .any(|r| r["member"] == kb.as_str() && r["record"] == version.as_str())
        })
    });
    let shown = myco(&a, &["show", &story]).ok();
    assert_eq!(shown["receipts"]["owed"], serde_json::json!([]), "{shown}");
    assert!(shown["receipts"]["note"]
        .as_str()
        .unwrap_or("")
        .contains("not a proof"));
    assert_eq!(shown["latest"], narrowed.as_str());
    assert_eq!(shown["consent"]["ai_analysis"], false, "{shown}");
    let sealed = sealed_on(&a, &b, &[&story, &edited]);
    let needles: Vec<&[u8]> = sealed
        .iter()
        .map(Vec::as_slice)
        .chain([&b"FIRST-TELLING"[..], b"SECOND-TELLING"])
        .collect();
    let left = myco_tests::scan::occurrences(&b, &needles);
    assert!(
        left.is_empty(),
        "the member's disk still holds a revoked version: {left:?}"
    );
    let on_member = myco(&b, &["show", &story]).ok();
    let entries: Vec<&str> = on_member["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["entry"].as_str())
        .collect();
    assert_eq!(entries, ["purged", "purged", "held"], "{on_member}");

    // 4. The member comments and reacts; the author sees both on the story.
    myco(
        &b,
        &[
            "comment",
            &story,
            "--pod",
            &pod,
            "--body",
            "My grandmother sang it too",
        ],
    )
    .ok();
    myco(&b, &["react", &story, "--pod", &pod, "--kind", "heart"]).ok();
    wait_until("the author to hold the comment and the reaction", || {
        let shown = myco(&a, &["show", &story]).ok();
        shown["comments_total"] == 1 && shown["reactions"]["total"] == 1
    });
    let shown = myco(&a, &["show", &story]).ok();
    assert_eq!(
        shown["comments"][0]["body"], "My grandmother sang it too",
        "{shown}"
    );
    assert_eq!(shown["comments"][0]["author"], kb.as_str());
    assert_eq!(shown["reactions"]["counts"]["heart"], 1, "{shown}");

    // 5. Value: recorded, distributed at 75/25, and the statement balances.
    let event = hash_of(
        &myco(
            &a,
            &[
                "value",
                "record",
                "--pod",
                &pod,
                "--content",
                &story,
                "--amount",
                "2000",
                "--currency",
                "EUR",
            ],
        )
        .ok(),
    );
    let paid = myco(
        &a,
        &["value", "distribute", "--pod", &pod, "--event", &event],
    )
    .ok();
    let distribution = hash_of(&paid);
    wait_until("the member to accept the distribution", || {
        holds(&net.daemons[1].api, &distribution)
    });
    let statement = myco(&b, &["value", "statement", "--pod", &pod]).ok();
    for (key, amount) in [(&ka, 1500), (&kb, 500)] {
        let line = statement["members"]
            .as_array()
            .and_then(|m| m.iter().find(|l| l["member"] == key.as_str()))
            .unwrap_or_else(|| panic!("no line for {key}: {statement}"));
        assert_eq!(line["currencies"]["EUR"]["earned"], amount, "{statement}");
        assert_eq!(line["currencies"]["EUR"]["paid"], amount, "{statement}");
    }

    // 6. The member leaves: nothing more is written in its name.
    myco(&b, &["pod", "leave", "--pod", &pod]).ok();
    let error = myco(
        &b,
        &["comment", &story, "--pod", &pod, "--body", "one more"],
    )
    .refused();
    assert!(error.contains("left"), "{error}");
}
