//! A storyteller's writes through the CLI, against real daemons: publishing affirms every
//! principle and consent (nothing is filled in), only the author edits, comments and
//! reactions follow the content's visibility, policy changes only tighten, members show
//! their roles, and a member who left writes nothing more.
//!
//! The pods are founded on `dna/examples/storytelling.toml` (its four required principles,
//! a 70% creator-share floor, the `contribution` benefit model), with every daemon a founder.

use myco_tests::loopback::{holds, wait_until, STORYTELLING_PRINCIPLES};
use myco_tests::storyteller::{affirming, hash_of, myco, publish, storytelling_pod};
use serde_json::Value;

#[test]
fn publish_without_a_required_principle_or_the_consent_its_visibility_needs_is_refused_naming_it() {
    let (net, pod) = storytelling_pod(1, "affirm");
    let dir = net.dir(0);
    let base = ["publish", "--pod", &pod, "--title", "River song"];

    // No principle at all: the first one the pod requires is named, with the flag to pass.
    let mut args = base.to_vec();
    args.extend(["--consent", "community_sharing"]);
    let error = myco(&dir, &args).refused();
    assert!(
        error.contains("`collective-benefit`") && error.contains("--principle collective-benefit"),
        "{error}"
    );

    // Three of four: the missing one is named.
    let mut args = base.to_vec();
    args.extend(["--consent", "community_sharing"]);
    for p in &STORYTELLING_PRINCIPLES[..3] {
        args.extend(["--principle", p]);
    }
    let error = myco(&dir, &args).refused();
    assert!(error.contains("`ethics`"), "{error}");

    // Every principle, but no consent: Pod visibility needs community_sharing.
    let mut args = base.to_vec();
    args.extend(affirming());
    let error = myco(&dir, &args).refused();
    assert!(error.contains("--consent community_sharing"), "{error}");
    // Public needs public_sharing, even with community sharing given.
    let mut args = base.to_vec();
    args.extend(affirming());
    args.extend(["--consent", "community_sharing", "--visibility", "public"]);
    let error = myco(&dir, &args).refused();
    assert!(error.contains("--consent public_sharing"), "{error}");
    // A consent name that is not a flag is named before the daemon is asked.
    let mut args = base.to_vec();
    args.extend(["--consent", "sharing"]);
    let error = myco(&dir, &args).refused();
    assert!(error.contains("`sharing` is not a consent flag"), "{error}");

    // The API refuses a body without consent or principles: nothing is assumed.
    let bare = serde_json::json!({"title": "t", "visibility": "pod"});
    let answer: Result<Value, _> = net.daemons[0]
        .api
        .post(&format!("/pods/{pod}/content"), &bare);
    let error = format!(
        "{:?}",
        answer.expect_err("a publish without consent is refused")
    );
    assert!(error.contains("consent"), "{error}");

    // Stated in full, it is written.
    let mut args = base.to_vec();
    args.extend(affirming());
    args.extend(["--consent", "community_sharing", "--attribution", "Ana"]);
    let json = myco(&dir, &args).ok();
    assert!(hash_of(&json).starts_with("act_"), "{json}");
}
#[test]
fn only_the_author_edits_and_responses_follow_the_contents_visibility() {
    let (net, pod) = storytelling_pod(2, "edit");
    let (a, b) = (net.dir(0), net.dir(1));
    let story = publish(&net, 0, &pod, "River", "pod", &[]);

    // The author edits: a new version, whose hash the answer names.
    let edited = myco(
        &a,
        &[
            "edit",
            &story,
            "--pod",
            &pod,
            "--body",
            "the river, told again",
        ],
    )
    .ok();
    let version = hash_of(&edited);
    assert_ne!(version, story, "{edited}");
    assert_eq!(
        edited["replaces"].as_str(),
        Some(story.as_str()),
        "{edited}"
    );
    // A second edit, naming the first version, replaces the latest one.
    let again = myco(&a, &["edit", &story, "--pod", &pod, "--title", "River (2)"]).ok();
    assert_ne!(hash_of(&again), version);
    // The kept principles still hold: had the edit dropped them, it would be refused.
    let error = myco(
        &a,
        &["edit", &story, "--pod", &pod, "--principle", "ethics"],
    )
    .refused();
    assert!(error.contains("`collective-benefit`"), "{error}");

    // Another member cannot edit it, and the error names the author.
    wait_until("the member to hold the story", || {
        holds(&net.daemons[1].api, &story)
    });
    let error = myco(&b, &["edit", &story, "--pod", &pod, "--body", "mine now"]).refused();
    assert!(
        error.contains(&format!("only the author of {story}"))
            && error.contains(&net.daemons[0].key_hash.to_string()),
        "{error}"
    );

    // A comment and a reaction on Pod content are Pod: the other member gets their entries.
    let comment = hash_of(
        &myco(
            &a,
            &[
                "comment",
                &story,
                "--pod",
                &pod,
                "--body",
                "My grandmother told it",
            ],
        )
        .ok(),
    );
    let reaction = hash_of(&myco(&a, &["react", &story, "--pod", &pod, "--kind", "heart"]).ok());
    for hash in [&comment, &reaction] {
        wait_until("the member to hold the response's entry", || {
            net.daemons[1]
                .api
                .get::<myco_node::api::types::RecordView>(&format!("/records/{hash}"))
                .is_ok_and(|r| r.entry)
        });
    }
    // Narrowed to Private, a comment's entry stays with its author.
    let private = hash_of(
        &myco(
            &a,
            &[
                "comment",
                &story,
                "--pod",
                &pod,
                "--body",
                "just for me",
                "--visibility",
                "private",
            ],
        )
        .ok(),
    );
    // A wider one than the content is refused.
    let error = myco(
        &a,
        &[
            "react",
            &story,
            "--pod",
            &pod,
            "--kind",
            "wow",
            "--visibility",
            "public",
        ],
    )
    .refused();
    assert!(error.contains("cannot be wider"), "{error}");
    // On Private content, a comment is Private without being told.
    let hidden = publish(&net, 0, &pod, "Hidden", "private", &[]);
    let on_hidden =
        hash_of(&myco(&a, &["comment", &hidden, "--pod", &pod, "--body", "a note"]).ok());
    // By now the member holds the Pod responses written after the private ones' turn came;
    // the private ones' entries never reach it.
    // A response that names a later version answers the story itself.
    let later = hash_of(&myco(&a, &["react", &version, "--pod", &pod, "--kind", "thanks"]).ok());
    wait_until("the member to hold the later reaction", || {
        holds(&net.daemons[1].api, &later)
    });
    for hash in [&private, &on_hidden] {
        let view: myco_node::api::types::RecordView = net.daemons[1]
            .api
            .get(&format!("/records/{hash}"))
            .expect("record view");
        assert!(
            !view.entry,
            "a private response reached another member: {hash}"
        );
    }

    // The other member reads the story: the edits kept what they did not change, and the
    // Pod responses are there, the private comment not.
    let latest = hash_of(&again);
    wait_until("the member to hold the latest version", || {
        holds(&net.daemons[1].api, &latest)
    });
    let shown = myco(&b, &["show", &story]).ok();
    assert_eq!(shown["latest"], latest.as_str(), "{shown}");
    assert_eq!(shown["title"], "River (2)", "{shown}");
    assert_eq!(shown["body"], "the river, told again", "{shown}");
    assert_eq!(shown["visibility"], "pod", "{shown}");
    assert_eq!(shown["consent"]["community_sharing"], true, "{shown}");
    assert_eq!(
        shown["principles"],
        serde_json::json!(STORYTELLING_PRINCIPLES),
        "{shown}"
    );
    assert_eq!(
        shown["versions"].as_array().map(Vec::len),
        Some(3),
        "{shown}"
    );
    let comments: Vec<&str> = shown["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["body"].as_str())
        .collect();
    assert_eq!(comments, vec!["My grandmother told it"], "{shown}");
    assert_eq!(shown["reactions"]["total"], 2, "{shown}");

    // Once the story is narrowed to Private, a new comment follows the narrower version.
    myco(
        &a,
        &[
            "edit",
            &story,
            "--pod",
            &pod,
            "--visibility",
            "private",
            "--consent",
            "community_sharing=false",
        ],
    )
    .ok();
    let after = hash_of(
        &myco(
            &a,
            &[
                "comment",
                &story,
                "--pod",
                &pod,
                "--body",
                "after the narrowing",
            ],
        )
        .ok(),
    );
    let marker = hash_of(&myco(&a, &["profile", "set", "--pod", &pod, "--username", "ana"]).ok());
    wait_until("the member to hold a later Pod record", || {
        holds(&net.daemons[1].api, &marker)
    });
    let view: myco_node::api::types::RecordView = net.daemons[1]
        .api
        .get(&format!("/records/{after}"))
        .expect("record view");
    assert!(
        !view.entry,
        "a comment on a narrowed story reached another member"
    );
}
#[test]
fn policy_only_tightens_members_show_their_roles_and_a_member_who_left_writes_nothing() {
    let (net, pod) = storytelling_pod(2, "policy");
    let (a, b) = (net.dir(0), net.dir(1));

    // Loosening the 70% floor is refused with the zome's reason; raising it is proposed.
    let error = myco(
        &a,
        &[
            "propose",
            "--pod",
            &pod,
            "--kind",
            "change_policy",
            "--min-creator-share-bp",
            "5000",
        ],
    )
    .refused();
    assert!(error.contains("7000"), "{error}");
    let error = myco(&a, &["propose", "--pod", &pod, "--kind", "change_policy"]).refused();
    assert!(error.contains("--min-creator-share-bp"), "{error}");
    let proposal = myco(
        &a,
        &[
            "propose",
            "--pod",
            &pod,
            "--kind",
            "change_policy",
            "--min-creator-share-bp",
            "8000",
            "--add-principle",
            "reciprocity",
            "--text",
            "creators keep 80%",
        ],
    )
    .ok();
    assert!(hash_of(&proposal).starts_with("act_"), "{proposal}");

    // Members: both founders, stewards by founding; usernames where a profile is held.
    myco(&a, &["profile", "set", "--pod", &pod, "--username", "ana"]).ok();
    let members = myco(&a, &["pod", "members", "--pod", &pod]).ok();
    let list = members["members"].as_array().expect("members");
    assert_eq!(list.len(), 2, "{members}");
    for member in list {
        assert_eq!(
            member["roles"],
            serde_json::json!([{"role": "steward", "granted_by": "founder"}]),
            "{members}"
        );
    }
    let ana = list
        .iter()
        .find(|m| m["key_hash"] == net.daemons[0].key_hash.to_string())
        .expect("the first founder");
    assert_eq!(ana["username"], "ana", "{members}");
    // Status shows this agent's own roles per pod.
    let status = myco(&a, &["status"]).ok();
    let mine = status["pods"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["dna_hash"] == pod.as_str()))
        .expect("the pod in status");
    assert_eq!(mine["roles"][0]["role"], "steward", "{status}");

    // The second member leaves: the answer says it writes nothing more, and a write is refused.
    let left = myco(&b, &["pod", "leave", "--pod", &pod]).ok();
    assert!(
        left["note"]
            .as_str()
            .is_some_and(|n| n.contains("writes nothing more")),
        "{left}"
    );
    let mut args = vec![
        "publish",
        "--pod",
        &pod,
        "--title",
        "After",
        "--consent",
        "community_sharing",
    ];
    args.extend(affirming());
    let error = myco(&b, &args).refused();
    assert!(
        error.contains("left pod") && error.contains("writes nothing more"),
        "{error}"
    );
    let error = myco(&b, &["pod", "leave", "--pod", &pod]).refused();
    assert!(error.contains("left pod"), "{error}");
    // Once the first founder holds the Leave, the member is no longer listed.
    let leave = hash_of(&left);
    wait_until("the founder to hold the Leave", || {
        holds(&net.daemons[0].api, &leave)
    });
    let members = myco(&a, &["pod", "members", "--pod", &pod]).ok();
    assert_eq!(
        members["members"].as_array().map(Vec::len),
        Some(1),
        "{members}"
    );
}
