//! Governed replicas with real daemons: an archivist (a node that is no member) is refused
//! the pod's data until a passed approve_replica decision names its agent and its node, is
//! served the whole pod after it, and once the decision is revoked it is served no more
//! entries, purges what it held (checked on its raw files, sealed forms included) and signs
//! a replica receipt that the members' transparency state shows.

use myco_node::api::client::ApiClient;
use myco_node::api::types::{JoinRequest, PodSummary, ProposeRequest, StatusView};
use myco_node::devnet::{dna_with_founders, TEMPLATES};
use myco_tests::bench::stop;
use myco_tests::loopback::{
    entry_held, found_pod, holds, metric, pass_alone as pass, publish, start_net, wait_until,
};
use myco_tests::scan;
use serde_json::Value;

/// The replicas the pod's folded state lists on `api`'s node.
fn replicas(api: &ApiClient, pod: &str) -> serde_json::Map<String, Value> {
    let state: Value = api.get(&format!("/pods/{pod}/state")).expect("pod state");
    state["state"]["replicas"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn an_archivist_is_served_only_under_its_decision_and_purges_when_it_is_revoked() {
    let mut net = start_net(2);
    let founder_key = net.daemons[0].key_hash;
    let archivist_key = net.daemons[1].key_hash;
    let manifest = dna_with_founders(TEMPLATES[0].1, &[founder_key], "replicas");
    let pod = found_pod(&net.daemons[0].api, &manifest);
    let stories: Vec<String> = (0..3)
        .map(|i| {
            publish(
                &net.daemons[0].api,
                &pod,
                &format!("Harbour archive story {i}"),
                &format!("replica-marker-{i} told at the harbour, kept by the community"),
                "pod",
            )
        })
        .collect();

    // The archivist hosts the pod without joining: the answer says what decision it needs.
    let hosted: PodSummary = net.daemons[1]
        .api
        .post(
            "/pods/join",
            &JoinRequest {
                manifest: manifest.clone(),
                membrane_proof_hex: String::new(),
                archivist: true,
            },
        )
        .expect("the archivist hosts the pod");
    assert!(!hosted.joined);
    let warning = hosted.warning.unwrap_or_default();
    assert!(
        warning.contains("approve_replica") && warning.contains(&archivist_key.to_string()),
        "{warning}"
    );
    let status: StatusView = net.daemons[1].api.get("/status").expect("status");
    let archivist_node = status.peer_id.clone();

    // Before any decision the founder refuses it, and it holds none of the pod's records.
    wait_until("the founder to refuse the archivist's requests", || {
        metric(&net.daemons[0].api, "sync_requests_refused_total") >= 2
    });
    assert!(
        stories.iter().all(|s| !holds(&net.daemons[1].api, s)),
        "an archivist without a decision holds the pod's records"
    );
    let log = net.daemons[0].process.log_tail();
    assert!(log.contains("approve_replica decision"), "{log}");

    let approval = pass(
        &net.daemons[0].api,
        &pod,
        &ProposeRequest {
            kind: "approve_replica".into(),
            member: Some(archivist_key.to_string()),
            node: Some(archivist_node.clone()),
            detail: Some("DK".into()),
            text: "the community's backup server in Copenhagen".into(),
            ..ProposeRequest::default()
        },
    );
    wait_until("the archivist to be served the whole pod", || {
        stories.iter().all(|s| entry_held(&net.daemons[1].api, s))
    });
    wait_until("the archivist's Genesis to reach the founder", || {
        replicas(&net.daemons[0].api, &pod)
            .get(&approval)
            .is_some_and(|r| r["archivist"] == archivist_key.to_string())
            && net.daemons[0]
                .api
                .get::<Value>(&format!("/pods/{pod}/state"))
                .is_ok_and(|s| {
                    s["state"]["audit_log"]
                        .as_array()
                        .is_some_and(|log| log.iter().any(|e| e["event"] == "archivist_join"))
                })
    });
    let listed = &replicas(&net.daemons[0].api, &pod)[&approval];
    assert_eq!(listed["region"], "DK");
    assert_eq!(listed["node"], archivist_node.as_str());
    assert!(listed["revoked_by"].is_null());
    let state: Value = net.daemons[0]
        .api
        .get(&format!("/pods/{pod}/state"))
        .expect("state");
    assert_eq!(
        state["state"]["figures"]["members"], 1,
        "an archivist is no member"
    );
    let page = net.daemons[0]
        .api
        .get_text(&format!("/pods/{pod}/page"))
        .expect("the transparency page");
    assert!(
        page.contains("Replicas") && page.contains(&archivist_node) && page.contains(">DK<"),
        "the transparency page lists the replica"
    );

    // What the archivist's disk holds of the stories, sealed: read while it is stopped.
    stop(&mut net.daemons[1]).expect("the archivist stops cleanly");
    let held: Vec<&String> = stories.iter().collect();
    let sealed = scan::sealed_entries(&net.dir(1), &held);
    assert_eq!(
        sealed.len(),
        stories.len(),
        "the archivist sealed every story"
    );
    net.daemons[1] = net.start_daemon(1);

    // Revoked: the archivist purges the pod, and its receipt reaches the founder.
    let revocation = pass(
        &net.daemons[0].api,
        &pod,
        &ProposeRequest {
            kind: "revoke_replica".into(),
            decision: Some(approval.clone()),
            text: "the server is being retired".into(),
            ..ProposeRequest::default()
        },
    );
    wait_until("the archivist to purge every story", || {
        stories.iter().all(|s| !entry_held(&net.daemons[1].api, s))
    });
    wait_until(
        "the archivist's replica receipt to reach the founder",
        || {
            replicas(&net.daemons[0].api, &pod)
                .get(&approval)
                .is_some_and(|r| r["revoked_by"] == revocation.as_str() && r["purged"].is_u64())
        },
    );
    let purged = replicas(&net.daemons[0].api, &pod)[&approval]["purged"]
        .as_u64()
        .expect("a count");
    assert!(purged >= stories.len() as u64, "{purged}");

    // A story published after the revocation never reaches the archivist's disk.
    let later = publish(
        &net.daemons[0].api,
        &pod,
        "After the revocation",
        "replica-marker-late written once the server was retired",
        "pod",
    );
    wait_until("the archivist to learn of the later record", || {
        holds(&net.daemons[1].api, &later)
    });
    assert!(
        !entry_held(&net.daemons[1].api, &later),
        "a revoked archivist was served an entry"
    );

    stop(&mut net.daemons[1]).expect("the archivist stops cleanly");
    let markers: Vec<&str> = vec![
        "replica-marker-0",
        "replica-marker-1",
        "replica-marker-2",
        "replica-marker-late",
    ];
    let needles: Vec<(String, Vec<u8>)> = markers
        .iter()
        .map(|m| (m.to_string(), m.as_bytes().to_vec()))
        .chain(sealed)
        .collect();
    let found = scan::byte_occurrences(&net.dir(1), &needles);
    assert!(
        found.is_empty(),
        "the revoked archivist's disk still holds the pod's stories: {found:?}"
    );
}
