//! Reading a pod through the CLI of another member's daemon: `myco feed` pages the stories
//! this agent may see, newest first, and `myco show` prints one with its versions and consent;
//! bad reads get clear errors; the pod's state answer stays bounded.

use std::path::Path;
use std::process::Command;

use myco_node::api::types::{ConsentBody, PublishRequest, Written};
use myco_node::api::views::{FeedView, StoryView};
use myco_tests::loopback::{holds, start_net, wait_until};
use myco_tests::myco_binary;

/// Runs `myco --data-dir DIR ARGS…`; returns (success, stdout, stderr).
fn myco(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(myco_binary())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("myco runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json<T: serde::de::DeserializeOwned>(dir: &Path, args: &[&str]) -> T {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let (ok, stdout, stderr) = myco(dir, &with_json);
    assert!(ok, "myco {args:?} failed: {stdout}{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn story(title: &str, body: &str) -> PublishRequest {
    let consent = ConsentBody {
        community_sharing: true,
        ai_analysis: true,
        ..ConsentBody::default()
    };
    PublishRequest::story(title, body, "pod", &[], consent)
}

#[test]
fn another_member_reads_the_feed_in_pages_and_shows_a_story_with_its_versions() {
    let net = start_net(2);
    let pod = net.create_pod("reads");
    let author = &net.daemons[0].api;
    let mut hashes = Vec::new();
    for i in 0..3 {
        let written: Written = author
            .post(
                &format!("/pods/{pod}/content"),
                &story(
                    &format!("Story {i}"),
                    &format!("Told by the river, part {i}."),
                ),
            )
            .expect("published");
        hashes.push(written.hash);
    }
    let edited: Written = author
        .post(
            &format!("/pods/{pod}/content/{}", hashes[0]),
            &story("Story 0, retold", "Told again, better."),
        )
        .expect("edited");
    let reader = net.dir(1);
    wait_until("the other member to hold every story and the edit", || {
        hashes.iter().all(|h| holds(&net.daemons[1].api, h))
            && holds(&net.daemons[1].api, &edited.hash)
    });

    let feed: FeedView = json(&reader, &["feed", "--pod", &pod]);
    let titles: Vec<&str> = feed.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Story 2", "Story 1", "Story 0, retold"],
        "newest first, each at its newest version"
    );
    assert_eq!(feed.items[2].versions, 2);
    assert_eq!(feed.items[2].latest, edited.hash);
    assert!(feed.next_before.is_none(), "one page holds them all");

    let first: FeedView = json(&reader, &["feed", "--pod", &pod, "--limit", "2"]);
    let next = first.next_before.expect("a full page names the next");
    let second: FeedView = json(
        &reader,
        &["feed", "--pod", &pod, "--limit", "2", "--before", &next],
    );
    assert_eq!(first.items.len(), 2);
    assert_eq!(second.items.len(), 1);
    assert_eq!(
        second.items[0].hash, hashes[0],
        "the page after holds the rest"
    );

    let shown: StoryView = json(&reader, &["show", &edited.hash]);
    assert_eq!(shown.hash, hashes[0], "any version leads to the story");
    assert_eq!(shown.title, "Story 0, retold");
    assert_eq!(shown.body, "Told again, better.");
    assert_eq!(shown.visibility, "pod");
    let consent = shown.consent.expect("the reader holds the text");
    assert!(consent.community_sharing && consent.ai_analysis && !consent.public_sharing);
    assert_eq!(shown.versions.len(), 2);
    assert_eq!(shown.approval.status, "not needed");
    assert_eq!(shown.revenue_share.len(), 1);
    assert_eq!(
        shown.revenue_share[0].bp, 10_000,
        "no share list: all to the creator"
    );

    let (ok, text, _) = myco(&reader, &["show", &hashes[1]]);
    assert!(ok);
    assert!(
        text.contains("Story 1") && text.contains("Told by the river, part 1."),
        "{text}"
    );
    let (ok, text, _) = myco(&reader, &["consent", "show", &hashes[1]]);
    assert!(ok);
    assert!(text.contains("community_sharing, ai_analysis"), "{text}");

    // Bad reads are named, with what to do.
    let (ok, _, stderr) = myco(&reader, &["feed", "--pod", &pod, "--limit", "1000"]);
    assert!(!ok);
    assert!(stderr.contains("1 to 100 items"), "{stderr}");
    let unknown = format!("act_{}", "ab".repeat(32));
    let (ok, stdout, _) = myco(&reader, &["show", &unknown, "--json"]);
    assert!(!ok);
    let error: serde_json::Value = serde_json::from_str(stdout.trim()).expect("a JSON error");
    assert_eq!(error["http_status"], 404, "{error}");
    assert!(
        error["error"]
            .as_str()
            .unwrap_or("")
            .contains("holds no record"),
        "{error}"
    );

    let bad: Result<FeedView, _> = net.daemons[1]
        .api
        .get(&format!("/pods/{pod}/feed?limit=many"));
    match bad {
        Err(myco_node::api::client::ClientError::Refused { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.contains("bad query string"), "{message}");
        }
        other => panic!("a malformed query was not refused: {other:?}"),
    }

    // Every read route has its command.
    let (ok, text, _) = myco(&reader, &["pod", "state", "--pod", &pod]);
    assert!(
        ok && text.contains("stories:     0 public, 3 pod, 0 private"),
        "{text}"
    );
    let (ok, text, _) = myco(&reader, &["record", &hashes[1]]);
    assert!(ok && text.contains("stored here, with its entry"), "{text}");
    let metrics: serde_json::Value = json(&reader, &["metrics"]);
    assert!(
        metrics.as_object().is_some_and(|m| !m.is_empty()),
        "{metrics}"
    );

    // The state answer leaves the stories to the feed.
    let state: serde_json::Value = net.daemons[1]
        .api
        .get(&format!("/pods/{pod}/state"))
        .expect("state");
    assert_eq!(state["omitted"]["content"], 3, "{}", state["omitted"]);
    assert!(state["state"]["content"]
        .as_object()
        .is_some_and(|c| c.is_empty()));
    assert!(state["state"]["figures"]["members"].as_u64() == Some(2));
}
