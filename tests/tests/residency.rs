//! A node that declares no region, in a pod that keeps its data in some regions only, is told
//! why it receives none of the pod's entries, and what to set: in the join's answer, in
//! `status`, and in the pod list.

use myco_node::api::types::{PodSummary, StatusView};
use myco_node::devnet::process::{init_agent, loopback_tcp, start_daemon};
use myco_node::devnet::{dna_with_founders, DEVNET_PASSPHRASE, TEMPLATES};
use myco_tests::loopback::{found_pod, start_net};
use myco_tests::myco_binary;

#[test]
fn a_node_without_a_region_in_a_pod_with_regions_is_told_what_to_set() {
    let mut net = start_net(0);
    let dir = net.dir(0);
    let key = init_agent(&myco_binary(), &dir, DEVNET_PASSPHRASE).expect("init");
    let daemon = start_daemon(
        &myco_binary(),
        "no-region",
        &dir,
        DEVNET_PASSPHRASE,
        &net.address,
        key,
        None,
        &loopback_tcp(),
    )
    .expect("starts");
    net.daemons.push(daemon);
    let (_, template) = TEMPLATES
        .iter()
        .find(|(name, _)| *name == "territory-dk")
        .expect("the territory template");
    let manifest = dna_with_founders(template, &[key], "residency");
    let pod = found_pod(&net.daemons[0].api, &manifest);

    let pods: Vec<PodSummary> = net.daemons[0].api.get("/pods").expect("pods");
    let warning = pods
        .iter()
        .find(|p| p.dna_hash == pod)
        .and_then(|p| p.warning.clone())
        .expect("the pod list says why");
    assert!(
        warning.contains("declares no region") && warning.contains("--region DK"),
        "{warning}"
    );
    let status: StatusView = net.daemons[0].api.get("/status").expect("status");
    assert!(
        status.warnings.iter().any(|w| w.contains("--region DK")),
        "{:?}",
        status.warnings
    );
    let log = net.daemons[0].process.log_tail();
    assert!(log.contains("declares no region"), "{log}");
}
