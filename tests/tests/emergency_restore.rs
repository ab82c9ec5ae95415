//! Emergency restore with real daemons. A pod of three members backs up to its archivist;
//! two members lose their data dirs while the third is offline. Without an emergency
//! decision the archivist serves them nothing of the pod, and their recovery waits; once the
//! stewards pass a decision authorising the restore of a listed backup, the archivist
//! restores it through validation, signs a receipt, serves the pod to its members, and both
//! wiped nodes get their chains back from it with no fork. A backup damaged on the
//! archivist's disk is refused, and a story deleted after the backup does not come back. The
//! transparency page lists the restores.

use myco_node::api::client::ApiClient;
use myco_node::api::types::{
    DeleteRequest, JoinRequest, PodSummary, ProposeRequest, StatusView, Written,
};
use myco_node::daemon::pod_backups::POD_BACKUPS_DIR;
use myco_node::devnet::{dna_with_founders, TEMPLATES};
use myco_tests::loopback::{
    entry_held, found_pod, holds, pass_alone, pass_by, publish, start_net, wait_until,
};
use myco_tests::storyteller::{myco, wipe_and_reinit};
use serde_json::Value;

/// The territory template (open admission) with an emergency rule: two thirds of the
/// stewards, within a day.
fn manifest(founder: myco_dna::KeyHash) -> String {
    let mut manifest = dna_with_founders(TEMPLATES[0].1, &[founder], "emergency-restore");
    manifest
        .push_str("\n[properties.voting.emergency]\nthreshold_bp = 6667\nwindow_secs = 86400\n");
    manifest
}

fn join(api: &ApiClient, manifest: &str, archivist: bool) -> PodSummary {
    api.post(
        "/pods/join",
        &JoinRequest {
            manifest: manifest.to_string(),
            membrane_proof_hex: String::new(),
            archivist,
        },
    )
    .expect("the pod is joined")
}

fn state(api: &ApiClient, pod: &str) -> Value {
    let state: Value = api.get(&format!("/pods/{pod}/state")).expect("pod state");
    state["state"].clone()
}

#[test]
fn wiped_members_get_the_pod_back_from_an_archivist_only_under_an_emergency_decision() {
    let mut net = start_net(4);
    let [founder, b, c, archivist] = [0, 1, 2, 3];
    let manifest = manifest(net.daemons[founder].key_hash);
    let pod = found_pod(&net.daemons[founder].api, &manifest);
    for member in [b, c] {
        assert!(join(&net.daemons[member].api, &manifest, false).joined);
    }
    let stories: Vec<String> = [founder, b, c]
        .iter()
        .map(|n| {
            publish(
                &net.daemons[*n].api,
                &pod,
                &format!("Story of member {n}"),
                &format!("restore-marker-{n} told at the harbour"),
                "pod",
            )
        })
        .collect();
    // A story the founder deletes once it is in a backup: no restore may bring it back.
    let doomed = publish(
        &net.daemons[founder].api,
        &pod,
        "A story to be deleted",
        "restore-marker-doomed, deleted after the backup",
        "pod",
    );
    for n in [founder, b, c] {
        wait_until("every member to hold every story", || {
            stories
                .iter()
                .chain([&doomed])
                .all(|s| holds(&net.daemons[n].api, s))
        });
    }
    for n in [b, c] {
        let key = net.daemons[n].key_hash.to_string();
        wait_until("the member's registry pointer to be published", || {
            myco(&net.dir(founder), &["lookup", &key]).ok()["found"] == true
        });
    }

    // The archivist, approved by the members, backs the pod up every ten seconds.
    assert!(!join(&net.daemons[archivist].api, &manifest, true).joined);
    let status: StatusView = net.daemons[archivist].api.get("/status").expect("status");
    let voters: Vec<&ApiClient> = [founder, b, c]
        .iter()
        .map(|n| &net.daemons[*n].api)
        .collect();
    let approval = pass_by(
        &net.daemons[founder].api,
        &voters,
        &pod,
        &ProposeRequest {
            kind: "approve_replica".into(),
            member: Some(net.daemons[archivist].key_hash.to_string()),
            node: Some(status.peer_id),
            detail: Some("DK".into()),
            text: "our backup server".into(),
            ..ProposeRequest::default()
        },
    );
    pass_by(
        &net.daemons[founder].api,
        &voters,
        &pod,
        &ProposeRequest {
            kind: "approve_backup_schedule".into(),
            detail: Some("*/10 * * * * *".into()),
            decision: Some(approval),
            retention_days: Some(1),
            text: "back up often, keep a day".into(),
            ..ProposeRequest::default()
        },
    );
    let mut listing = String::new();
    wait_until("a backup holding every story to be listed", || {
        let backups = state(&net.daemons[founder].api, &pod)["backups"].clone();
        let whole = backups
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["counts"]["content/content"].as_u64() > Some(stories.len() as u64));
        if let Some(whole) = whole {
            listing = whole["listing"].as_str().unwrap_or_default().to_string();
        }
        !listing.is_empty()
    });

    // A later backup, whose file is then damaged on the archivist's disk.
    let taken = |hash: &str, backups: &Value| {
        backups
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["listing"] == hash)
            .and_then(|b| b["taken_at"].as_u64())
    };
    let mut damaged = String::new();
    wait_until("a later backup to be listed", || {
        let backups = state(&net.daemons[founder].api, &pod)["backups"].clone();
        let first = taken(&listing, &backups).unwrap_or(u64::MAX);
        if let Some(later) = backups
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["taken_at"].as_u64() > Some(first))
        {
            damaged = later["listing"].as_str().unwrap_or_default().to_string();
        }
        !damaged.is_empty()
    });
    let backups = state(&net.daemons[founder].api, &pod)["backups"].clone();
    let damaged_at = taken(&damaged, &backups).expect("listed");
    let folder = net.dir(archivist).join(POD_BACKUPS_DIR).join(&pod);
    let file = std::fs::read_dir(&folder)
        .expect("the archivist's backups")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{damaged_at}-")))
        })
        .expect("the later backup's file");
    let mut bytes = std::fs::read(&file).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&file, bytes).expect("damage");

    // The founder deletes the doomed story; every node purges its entry.
    let _: Written = net.daemons[founder]
        .api
        .post(
            &format!("/pods/{pod}/delete"),
            &DeleteRequest {
                target: doomed.clone(),
            },
        )
        .expect("deleted");
    for n in [founder, b, c, archivist] {
        wait_until("the doomed story's entry to be purged", || {
            !entry_held(&net.daemons[n].api, &doomed)
        });
    }

    // The founder goes offline; two of three members lose everything but their phrase.
    net.daemons[founder].process.stop();
    wipe_and_reinit(&mut net, b);
    wipe_and_reinit(&mut net, c);

    // No emergency decision: the archivist serves them its own chain only, which says
    // nothing of theirs, so their recovery waits and writes nothing.
    let waiting = myco(&net.dir(b), &["recover", "--wait", "15"]);
    let refused = waiting.refused();
    assert!(
        refused.contains("no member answered") && refused.contains(&pod),
        "{refused}"
    );
    assert!(
        !holds(&net.daemons[b].api, &stories[b]),
        "a wiped member was served its chain without an emergency decision"
    );

    // The founder, the pod's only steward, authorises the restore under the emergency rule,
    // while the wiped members are offline (else they would recover from the founder).
    for n in [b, c] {
        net.daemons[n].process.stop();
    }
    net.daemons[founder] = net.start_daemon(founder);
    // A restore of the damaged backup: the archivist finds it is not what it listed.
    let refused_restore = pass_alone(
        &net.daemons[founder].api,
        &pod,
        &ProposeRequest {
            kind: "emergency_restore".into(),
            detail: Some(damaged.clone()),
            text: "the newest backup".into(),
            ..ProposeRequest::default()
        },
    );
    wait_until("the archivist to refuse the damaged backup", || {
        net.daemons[archivist]
            .process
            .log_tail()
            .contains("size or blake2b differ")
    });
    let decision = pass_alone(
        &net.daemons[founder].api,
        &pod,
        &ProposeRequest {
            kind: "emergency_restore".into(),
            detail: Some(listing.clone()),
            text: "two of us lost our data".into(),
            ..ProposeRequest::default()
        },
    );
    wait_until(
        "the archivist to restore the backup and sign its receipt",
        || {
            state(&net.daemons[archivist].api, &pod)["restores"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["decision"] == decision.as_str() && r["receipt"].is_object())
        },
    );
    net.daemons[founder].process.stop();

    // Now the archivist alone gives the wiped members their chains back.
    for n in [b, c] {
        net.daemons[n] = net.start_daemon(n);
    }
    for n in [b, c] {
        let report = myco(&net.dir(n), &["recover", "--wait", "90"]).ok();
        assert_eq!(report["pods"][0]["dna_hash"], pod.as_str(), "{report}");
        wait_until("a restored member to hold every story", || {
            stories.iter().all(|s| holds(&net.daemons[n].api, s))
        });
    }

    // The founder is back: its page lists the restore and the archivist's receipt, and
    // what the restored members write next lands with no fork.
    net.daemons[founder] = net.start_daemon(founder);
    let next = publish(
        &net.daemons[b].api,
        &pod,
        "After the restore",
        "restore-marker-after, written once the pod was back",
        "pod",
    );
    wait_until(
        "the founder to take the restored member's next story",
        || holds(&net.daemons[founder].api, &next),
    );
    assert!(
        holds(&net.daemons[b].api, &doomed) && !entry_held(&net.daemons[b].api, &doomed),
        "the restore brought back a deleted story's entry"
    );
    let restores = state(&net.daemons[founder].api, &pod)["restores"].clone();
    let unfinished = restores
        .as_array()
        .and_then(|r| r.iter().find(|r| r["decision"] == refused_restore.as_str()))
        .expect("the damaged backup's restore is listed");
    assert!(unfinished["receipt"].is_null(), "{unfinished}");
    let restore = restores
        .as_array()
        .and_then(|r| r.iter().find(|r| r["decision"] == decision.as_str()))
        .unwrap_or_else(|| panic!("the restore is listed: {restores}"));
    assert_eq!(restore["listing"], listing.as_str());
    assert_eq!(
        restore["receipt"]["archivist"],
        net.daemons[archivist].key_hash.to_string()
    );
    assert!(
        restore["receipt"]["records"].as_u64() > Some(0),
        "{restore}"
    );
    let page = net.daemons[founder]
        .api
        .get_text(&format!("/pods/{pod}/page"))
        .expect("the transparency page");
    assert!(
        page.contains("Emergency restores") && page.contains(&listing),
        "the page lists the restore"
    );
    let figures = state(&net.daemons[founder].api, &pod)["figures"].clone();
    assert_eq!(figures["warrants"], 0, "nobody forked: {figures}");
}
