//! Cross-pod lookups under attack, with real daemons: twenty strangers (in-process libp2p
//! swarms, each a fresh identity) announce themselves as providers of a pod and answer the
//! profile protocol with forgeries — made-up public profiles signed by the wrong key, records
//! of their own, a bare "not public", a made-up newer non-public version, and the old
//! protocol's bare profile struct. A lookup from another pod must show the member's own signed
//! profile, or nothing for a member whose profile is not public, and never a forgery.
#![cfg(unix)]

use myco_dna::DnaHash;
use myco_node::api::client::ApiClient;
use myco_node::api::types::{LookupView, ProfileRequestBody, Written};
use myco_tests::forger::{start_fakes, FORGED_USERNAME, LIES};
use myco_tests::loopback::{holds, lookup, metric, peers_in, start_net, wait_until, PATIENCE};
use myco_tests::myco_binary;

/// The strangers: as many as Kademlia keeps providers per key.
const FAKES: usize = 20;
/// Lookups of each member from each asking daemon.
const ROUNDS: usize = 3;

fn set_profile(api: &ApiClient, pod: &str, username: &str, public: bool) -> Written {
    api.post(
        &format!("/pods/{pod}/profile"),
        &ProfileRequestBody {
            username: username.into(),
            display_name: username.to_uppercase(),
            bio: format!("{username}'s own words"),
            profile_public: public,
            visibility: None,
        },
    )
    .expect("profile written")
}

/// Looks `key` up until the lookup has heard from the pod (the registry and the providers
/// need a moment after the daemons start), then returns the answer.
fn settled_lookup(api: &ApiClient, key: &myco_dna::KeyHash) -> LookupView {
    let started = std::time::Instant::now();
    loop {
        let view = lookup(api, key);
        if (view.found && view.profile_status != "unreachable") || started.elapsed() > PATIENCE {
            return view;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn twenty_forging_providers_never_get_a_forgery_through_a_cross_pod_lookup() {
    let net = start_net(4);
    let pod_a = net.create_pod_of(0..2, "forged-a");
    let pod_b = net.create_pod_of(2..4, "forged-b");
    for (n, pod) in [(0, &pod_a), (1, &pod_a), (2, &pod_b), (3, &pod_b)] {
        wait_until("each daemon to meet its pod", || {
            peers_in(&net.daemons[n].api, pod) == 1
        });
    }
    // Daemon 0's profile is public; daemon 1's is for pod members only.
    let public = set_profile(&net.daemons[0].api, &pod_a, "ana", true);
    let pod_only = set_profile(&net.daemons[1].api, &pod_a, "bo", false);
    wait_until("pod A's members to hold each other's profiles", || {
        holds(&net.daemons[1].api, &public.hash) && holds(&net.daemons[0].api, &pod_only.hash)
    });

    let mut addresses = vec![net.address.clone()];
    addresses.extend((0..4).map(|n| net.daemon_address(n)));
    let pod: DnaHash = pod_a.parse().expect("a pod id");
    let fakes = start_fakes(FAKES, &addresses, pod);
    assert_eq!(fakes.peers.len(), FAKES);

    let (ana, bo) = (net.daemons[0].key_hash, net.daemons[1].key_hash);
    // Both members of pod B ask, so a lookup that has not met the fakes yet is tried too.
    for round in 0..ROUNDS {
        for asker in [2, 3] {
            let api = &net.daemons[asker].api;
            let view = settled_lookup(api, &ana);
            assert_eq!(
                view.profile_status, "public",
                "round {round}, daemon {asker}: {view:?}"
            );
            let profile = view.profile.as_ref().expect("a public profile");
            assert_eq!(profile.username, "ana", "{view:?}");
            assert_ne!(profile.username, FORGED_USERNAME);
            assert_eq!(profile.record, public.hash, "the member's own record");
            assert_eq!(profile.pod, pod_a);
            assert_eq!(view.pods.len(), 1, "{view:?}");
            assert_eq!(view.pods[0].dna_hash, pod_a);
            assert_eq!(view.pods[0].status, "confirmed", "{view:?}");

            let view = settled_lookup(api, &bo);
            assert_eq!(
                view.profile_status, "not_found_or_not_public",
                "round {round}, daemon {asker}: {view:?}"
            );
            assert!(view.profile.is_none(), "{view:?}");
        }
    }
    // The command line says the same, from a daemon of pod B that asks afresh.
    for (key, status) in [(ana, "public"), (bo, "not_found_or_not_public")] {
        let output = std::process::Command::new(myco_binary())
            .arg("--data-dir")
            .arg(net.dir(3))
            .args(["lookup", &key.to_string(), "--json"])
            .output()
            .expect("myco lookup runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let view: LookupView = serde_json::from_slice(&output.stdout).expect("one JSON object");
        assert_eq!(view.profile_status, status, "{view:?}");
        assert_eq!(
            view.profile.map(|p| p.username),
            (status == "public").then(|| "ana".to_string())
        );
    }
    // The attack really happened: the fakes were asked, and their forgeries were refused.
    assert!(
        fakes.asked.get() >= FAKES,
        "the fakes answered only {} profile requests",
        fakes.asked.get()
    );
    let forgeries: u64 = [2, 3]
        .iter()
        .map(|&n| metric(&net.daemons[n].api, "profile_forgeries_total"))
        .sum();
    // Every lie but the bare "not public" is a forgery; most fakes are met by both askers
    // (Kademlia keeps 20 providers per key, so a few of the 22 may go unlisted).
    let forging = FAKES - FAKES / LIES.len();
    assert!(
        forgeries >= (forging / 2) as u64,
        "only {forgeries} forgeries were refused; {forging} fakes forge"
    );
}
