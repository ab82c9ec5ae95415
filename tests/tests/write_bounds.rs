//! Local writes are judged exactly like network input, size bounds included: a write just
//! over a record bound is refused through the API with 413 and the bound's name, nothing is
//! stored, and the chain stays sound — later writes succeed, the pod's state and page still
//! answer, the daemon restarts, and `myco chain verify` finds nothing wrong.

use myco_dna::limits::{MAX_ENTRY_BYTES, MAX_MEMBRANE_PROOF_BYTES};
use myco_node::api::types::{
    ConsentBody, JoinRequest, ProfileRequestBody, ProposeRequest, PublishRequest, MAX_BODY_BYTES,
};
use myco_node::devnet::DEVNET_PASSPHRASE;
use myco_tests::loopback::{publish, start_net};
use myco_tests::myco_binary;

/// Posts `body` as JSON to `path` on daemon `dir`'s API; returns the status and the text.
fn post_raw(dir: &std::path::Path, path: &str, body: &[u8]) -> (u16, String) {
    let address = std::fs::read_to_string(dir.join("api.addr")).expect("api.addr");
    let token = std::fs::read_to_string(dir.join("api.token")).expect("api.token");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(format!("http://{}{path}", address.trim()))
        .header("Authorization", format!("Bearer {}", token.trim()))
        .header("Content-Type", "application/json")
        .send(body)
        .expect("answered");
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), text)
}

fn post(dir: &std::path::Path, path: &str, body: serde_json::Value) -> (u16, String) {
    post_raw(dir, path, body.to_string().as_bytes())
}

/// Asserts a write was refused as too large, naming the bound.
#[track_caller]
fn assert_too_large((code, text): (u16, String), bound: usize) {
    assert_eq!(code, 413, "{text}");
    assert!(
        text.contains(&format!("{bound}-byte bound")),
        "the refusal names the bound: {text}"
    );
}

#[test]
fn each_write_just_over_its_bound_is_refused_and_the_chain_stays_sound() {
    let mut net = start_net(1);
    let pod = net.create_pod("bounds");
    let dir = net.dir(0);
    let api = myco_node::api::client::ApiClient::for_data_dir(&dir).expect("the daemon runs");
    let api = &api;
    let over = MAX_ENTRY_BYTES + 1;

    // Content: a story body alone just over the entry bound.
    let story = PublishRequest::story(
        "Too long",
        "x".repeat(over),
        "pod",
        &[],
        ConsentBody::community(),
    );
    assert_too_large(
        post(
            &dir,
            &format!("/pods/{pod}/content"),
            serde_json::json!(story),
        ),
        MAX_ENTRY_BYTES,
    );
    // Just under the bound, with room for the entry's other fields, it is written.
    let fits = PublishRequest::story(
        "Fits",
        "y".repeat(MAX_ENTRY_BYTES - 1_024),
        "pod",
        &[],
        ConsentBody::community(),
    );
    let (code, text) = post(
        &dir,
        &format!("/pods/{pod}/content"),
        serde_json::json!(fits),
    );
    assert_eq!(code, 200, "{text}");

    // A profile whose bio is over the entry bound.
    let profile = ProfileRequestBody {
        username: "long".into(),
        display_name: String::new(),
        bio: "b".repeat(over),
        profile_public: false,
        visibility: None,
    };
    assert_too_large(
        post(
            &dir,
            &format!("/pods/{pod}/profile"),
            serde_json::json!(profile),
        ),
        MAX_ENTRY_BYTES,
    );

    // A proposal whose case is over the entry bound.
    let proposal = ProposeRequest {
        kind: "approve_backup_schedule".into(),
        member: None,
        role: None,
        detail: Some("nightly".into()),
        text: "t".repeat(over),
        ..ProposeRequest::default()
    };
    assert_too_large(
        post(
            &dir,
            &format!("/pods/{pod}/proposals"),
            serde_json::json!(proposal),
        ),
        MAX_ENTRY_BYTES,
    );

    // A join whose membrane proof is over its bound (a second pod, so the Genesis is new).
    let manifest = myco_node::devnet::dna_with_founders(
        myco_node::devnet::TEMPLATES[0].1,
        &[net.daemons[0].key_hash],
        "bounds-join",
    );
    let join = JoinRequest {
        manifest,
        membrane_proof_hex: "07".repeat(MAX_MEMBRANE_PROOF_BYTES + 1),
        archivist: false,
    };
    assert_too_large(
        post(&dir, "/pods", serde_json::json!(join)),
        MAX_MEMBRANE_PROOF_BYTES,
    );

    // A body over the API's own bound is refused before it is read as JSON.
    let (code, text) = post_raw(
        &dir,
        &format!("/pods/{pod}/content"),
        &vec![b' '; MAX_BODY_BYTES + 1],
    );
    assert_eq!(code, 413, "{text}");

    // Nothing refused was stored, and the chain is sound: later writes are accepted and the
    // pod's state and page still answer.
    let hash = publish(api, &pod, "After", "a story after the refusals", "pod");
    assert!(myco_tests::loopback::holds(api, &hash));
    api.get::<serde_json::Value>(&format!("/pods/{pod}/state"))
        .expect("the pod's state answers");
    api.get_text(&format!("/pods/{pod}/page"))
        .expect("the pod's page answers");

    // The chain verifies offline, and the daemon starts again on it.
    let mut daemon = net.daemons.pop().expect("one daemon");
    assert!(daemon.process.stop(), "the daemon stops cleanly");
    let verify = std::process::Command::new(myco_binary())
        .arg("--data-dir")
        .arg(&dir)
        .args(["chain", "verify", "--json"])
        .env("MYCO_PASSPHRASE", DEVNET_PASSPHRASE)
        .output()
        .expect("chain verify runs");
    assert!(
        verify.status.success(),
        "chain verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let restarted = net.start_daemon(0);
    assert!(myco_tests::loopback::holds(&restarted.api, &hash));
}
