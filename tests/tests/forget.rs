//! A refused join can be undone: `pod forget` stops hosting a pod this agent never joined,
//! for good (a restart does not bring it back); a member's pod is not forgotten.

use myco_node::api::client::ClientError;
use myco_node::api::types::{Forgotten, JoinRequest, PodSummary};
use myco_node::devnet::{dna_with_founders, TEMPLATES};
use myco_tests::bench::stop;
use myco_tests::loopback::{found_pod, start_net};

#[test]
fn a_refused_join_is_forgotten_for_good_and_a_members_pod_is_not() {
    let mut net = start_net(2);
    let (_, template) = TEMPLATES
        .iter()
        .find(|(name, _)| *name == "storytelling")
        .expect("the storytelling template (joins by invitation)");
    let manifest = dna_with_founders(template, &[net.daemons[0].key_hash], "forget");
    let pod = found_pod(&net.daemons[0].api, &manifest);

    // No invitation: the pod refuses the Genesis, but the node now hosts the pod.
    let joined: Result<PodSummary, _> = net.daemons[1].api.post(
        "/pods/join",
        &JoinRequest {
            manifest: manifest.clone(),
            membrane_proof_hex: String::new(),
            archivist: false,
        },
    );
    assert!(joined.is_err(), "{joined:?}");
    let pods: Vec<PodSummary> = net.daemons[1].api.get("/pods").expect("pods");
    assert!(
        pods.iter().any(|p| p.dna_hash == pod && !p.joined),
        "{pods:?}"
    );

    let forgotten: Forgotten = net.daemons[1]
        .api
        .post(&format!("/pods/{pod}/forget"), &serde_json::json!({}))
        .expect("a refused pod is forgotten");
    assert_eq!(forgotten.forgotten, pod);
    let pods: Vec<PodSummary> = net.daemons[1].api.get("/pods").expect("pods");
    assert!(pods.is_empty(), "{pods:?}");
    let listed = std::fs::read_to_string(net.dir(1).join("pods.toml")).unwrap_or_default();
    assert!(!listed.contains(&pod), "{listed}");
    stop(&mut net.daemons[1]).expect("stops");
    net.daemons[1] = net.start_daemon(1);
    let pods: Vec<PodSummary> = net.daemons[1].api.get("/pods").expect("pods");
    assert!(
        pods.is_empty(),
        "a restart does not bring it back: {pods:?}"
    );

    match net.daemons[0]
        .api
        .post::<_, Forgotten>(&format!("/pods/{pod}/forget"), &serde_json::json!({}))
    {
        Err(ClientError::Refused { status, message }) => {
            assert_eq!(status, 422, "{message}");
            assert!(message.contains("is a member"), "{message}");
        }
        other => panic!("a member's pod was forgotten: {other:?}"),
    }
}
