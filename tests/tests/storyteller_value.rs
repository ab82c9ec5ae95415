//! Value through the CLI, against real daemons: value events by the creator or a treasurer,
//! distributions whose payouts the daemon computes with the zome's own split (exact on a 75%
//! creator share, and under the `contribution` and `equal` benefit models), accepted by the
//! other members' nodes, and a statement whose earned and paid balance.

use myco_tests::loopback::{holds, start_net, wait_until};
use myco_tests::storyteller::{affirming, hash_of, myco, publish, storytelling_pod};
use serde_json::Value;

#[test]
fn value_on_a_75_percent_creator_share_is_paid_exactly_and_the_statement_balances() {
    let (net, pod) = storytelling_pod(2, "value");
    let (a, b) = (net.dir(0), net.dir(1));
    let (ka, kb) = (
        net.daemons[0].key_hash.to_string(),
        net.daemons[1].key_hash.to_string(),
    );
    let co_author = format!("{kb}=2500");
    let story = publish(
        &net,
        0,
        &pod,
        "Shared song",
        "pod",
        &["--share", "me=7500", "--share", &co_author],
    );

    // A share below the pod's 70% floor is refused by the zome, with the floor named.
    let low = format!("{kb}=4000");
    let mut args = vec![
        "publish",
        "--pod",
        &pod,
        "--title",
        "Unfair",
        "--consent",
        "community_sharing",
        "--share",
        "me=6000",
        "--share",
        &low,
    ];
    args.extend(affirming());
    let error = myco(&a, &args).refused();
    assert!(error.contains("7000"), "{error}");

    // Only the creator (or a treasurer) records value.
    wait_until("the member to hold the story", || {
        holds(&net.daemons[1].api, &story)
    });
    let error = myco(
        &b,
        &[
            "value",
            "record",
            "--pod",
            &pod,
            "--content",
            &story,
            "--amount",
            "1001",
            "--currency",
            "EUR",
        ],
    )
    .refused();
    assert!(error.contains("only the content's creator"), "{error}");

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
                "1001",
                "--currency",
                "EUR",
            ],
        )
        .ok(),
    );
    // The statement before the payout: earned, not paid.
    let before = myco(&a, &["value", "statement", "--pod", &pod]).ok();
    assert_eq!(
        before["undistributed"],
        serde_json::json!([event]),
        "{before}"
    );

    // 1001 at 75/25: 750.75 and 250.25; the unit left over goes to the larger remainder.
    let paid = myco(
        &a,
        &["value", "distribute", "--pod", &pod, "--event", &event],
    )
    .ok();
    let mut expected = vec![
        serde_json::json!({"recipient": ka, "amount": 751}),
        serde_json::json!({"recipient": kb, "amount": 250}),
    ];
    expected.sort_by_key(|p| p["recipient"].as_str().map(String::from));
    assert_eq!(paid["payouts"], Value::Array(expected), "{paid}");
    assert_eq!(paid["currency"], "EUR");
    // The member's node validates the distribution by the same split: it stores it.
    let distribution = hash_of(&paid);
    wait_until("the member to accept the distribution", || {
        holds(&net.daemons[1].api, &distribution)
    });
    // A value event is paid once.
    let error = myco(
        &a,
        &["value", "distribute", "--pod", &pod, "--event", &event],
    )
    .refused();
    assert!(error.contains("paid out already"), "{error}");

    // The statement balances, on both nodes; --member shows one line.
    for dir in [&a, &b] {
        let statement = myco(dir, &["value", "statement", "--pod", &pod]).ok();
        assert_eq!(statement["events"], 1, "{statement}");
        assert_eq!(statement["distributions"], 1, "{statement}");
        for (key, amount) in [(&ka, 751), (&kb, 250)] {
            let line = statement["members"]
                .as_array()
                .and_then(|m| m.iter().find(|l| l["member"] == key.as_str()))
                .unwrap_or_else(|| panic!("no line for {key}: {statement}"));
            assert_eq!(line["currencies"]["EUR"]["earned"], amount, "{statement}");
            assert_eq!(line["currencies"]["EUR"]["paid"], amount, "{statement}");
        }
    }
    let one = myco(&b, &["value", "statement", "--pod", &pod, "--member", &kb]).ok();
    assert_eq!(one["members"].as_array().map(Vec::len), Some(1), "{one}");

    // A community share goes by the DNA's benefit model (contribution: one weight per
    // story each member wrote); the member's node agrees with the split.
    let communal = publish(
        &net,
        0,
        &pod,
        "Communal song",
        "pod",
        &["--share", "me=7500", "--share", "community=2500"],
    );
    wait_until("the member to hold the communal story", || {
        holds(&net.daemons[1].api, &communal)
    });
    let event = hash_of(
        &myco(
            &a,
            &[
                "value",
                "record",
                "--pod",
                &pod,
                "--content",
                &communal,
                "--amount",
                "1000",
                "--currency",
                "NOK",
            ],
        )
        .ok(),
    );
    let paid = myco(
        &a,
        &["value", "distribute", "--pod", &pod, "--event", &event],
    )
    .ok();
    // Only the creator has written stories: the whole amount is theirs.
    assert_eq!(
        paid["payouts"],
        serde_json::json!([{"recipient": ka, "amount": 1000}]),
        "{paid}"
    );
    let distribution = hash_of(&paid);
    wait_until("the member to accept the communal distribution", || {
        holds(&net.daemons[1].api, &distribution)
    });

    // The value the co-author received is in their export, signed by whoever distributed it.
    let file = net.root.path().join("b-export.json");
    let report = myco(
        &b,
        &[
            "export",
            "--out",
            file.to_str().expect("utf-8"),
            "--pod",
            &pod,
        ],
    )
    .ok();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
    let received = json["pods"][0]["received"].as_array().expect("received");
    assert!(
        received
            .iter()
            .any(|r| r["entry_type"] == "value/distribution"),
        "{report}"
    );
}
#[test]
fn a_treasurer_records_and_distributes_value_showing_the_decision_that_granted_the_role() {
    let (net, pod) = storytelling_pod(2, "treasurer");
    let (a, b) = (net.dir(0), net.dir(1));
    let kb = net.daemons[1].key_hash.to_string();
    let story = publish(&net, 0, &pod, "Harbour", "pod", &[]);

    // The founders make the second one treasurer.
    let proposal = hash_of(
        &myco(
            &a,
            &[
                "propose",
                "--pod",
                &pod,
                "--kind",
                "grant_role",
                "--member",
                &kb,
                "--role",
                "treasurer",
            ],
        )
        .ok(),
    );
    myco(
        &a,
        &[
            "vote",
            "--pod",
            &pod,
            "--proposal",
            &proposal,
            "--choice",
            "yes",
        ],
    )
    .ok();
    let decision = hash_of(&myco(&a, &["decide", "--pod", &pod, "--proposal", &proposal]).ok());
    for hash in [&story, &decision] {
        wait_until("the treasurer to hold the story and the decision", || {
            holds(&net.daemons[1].api, hash)
        });
    }

    // Members and status name the decision that granted the role.
    let members = myco(&a, &["pod", "members", "--pod", &pod]).ok();
    let treasurer = members["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["key_hash"] == kb.as_str()))
        .unwrap_or_else(|| panic!("no line for {kb}: {members}"));
    assert!(
        treasurer["roles"].as_array().is_some_and(
            |r| r.contains(&serde_json::json!({"role": "treasurer", "granted_by": decision}))
        ),
        "{members}"
    );
    let status = myco(&b, &["status"]).ok();
    let roles = status["pods"][0]["roles"].to_string();
    assert!(
        roles.contains("treasurer") && roles.contains(&decision),
        "{status}"
    );

    // The treasurer records value on someone else's story, showing the grant, and pays it out.
    let event = hash_of(
        &myco(
            &b,
            &[
                "value",
                "record",
                "--pod",
                &pod,
                "--content",
                &story,
                "--amount",
                "300",
                "--currency",
                "DKK",
                "--grant",
                &decision,
            ],
        )
        .ok(),
    );
    let paid = myco(
        &b,
        &[
            "value",
            "distribute",
            "--pod",
            &pod,
            "--event",
            &event,
            "--grant",
            &decision,
        ],
    )
    .ok();
    let creator = net.daemons[0].key_hash.to_string();
    assert_eq!(
        paid["payouts"],
        serde_json::json!([{"recipient": creator, "amount": 300}]),
        "{paid}"
    );
    let distribution = hash_of(&paid);
    wait_until("the creator to accept the treasurer's distribution", || {
        holds(&net.daemons[0].api, &distribution)
    });
}
#[test]
fn under_the_equal_benefit_model_the_community_part_is_shared_by_every_member() {
    // A territory pod (`equal` benefit model) with both daemons as founders.
    let net = start_net(2);
    let pod = net.create_pod("equal");
    let a = net.dir(0);
    let (ka, kb) = (
        net.daemons[0].key_hash.to_string(),
        net.daemons[1].key_hash.to_string(),
    );
    let story = publish(
        &net,
        0,
        &pod,
        "Fjord",
        "pod",
        &["--share", "me=7500", "--share", "community=2500"],
    );
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
                "1001",
                "--currency",
                "EUR",
            ],
        )
        .ok(),
    );
    // 1001 at 75/25: 751 to the creator, 250 to the community; 250 shared by the two
    // founders is 125 each.
    let paid = myco(
        &a,
        &["value", "distribute", "--pod", &pod, "--event", &event],
    )
    .ok();
    let mut expected = vec![
        serde_json::json!({"recipient": ka, "amount": 876}),
        serde_json::json!({"recipient": kb, "amount": 125}),
    ];
    expected.sort_by_key(|p| p["recipient"].as_str().map(String::from));
    assert_eq!(paid["payouts"], Value::Array(expected), "{paid}");
    let distribution = hash_of(&paid);
    wait_until("the other founder to accept the distribution", || {
        holds(&net.daemons[1].api, &distribution)
    });
    let statement = myco(&net.dir(1), &["value", "statement", "--pod", &pod]).ok();
    for line in statement["members"].as_array().expect("members") {
        assert_eq!(
            line["currencies"]["EUR"]["earned"], line["currencies"]["EUR"]["paid"],
            "{statement}"
        );
    }
}
