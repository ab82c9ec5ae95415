//! Governed backups with real daemons: an approved archivist takes no pod backup until a
//! passed approve_backup_schedule decision names it; then it takes encrypted backups on the
//! schedule into `pod-backups/`, lists each one in the pod (size, hash, counts by type), the
//! transparency page shows them, and `myco pod audit` on a member matches its replica
//! against the listing, and names the record once one is dropped from the member's store.

use std::path::{Path, PathBuf};

use myco_node::api::client::ApiClient;
use myco_node::api::types::{JoinRequest, PodSummary, ProposeRequest, StatusView};
use myco_node::daemon::pod_backups::POD_BACKUPS_DIR;
use myco_node::devnet::{dna_with_founders, TEMPLATES};
use myco_tests::loopback::{found_pod, holds, pass_alone, publish, start_net, wait_until};
use myco_tests::storyteller::myco;
use myco_tests::tamper::drop_record;
use serde_json::Value;

/// The backups the pod's folded state lists on `api`'s node, newest first.
fn listed_backups(api: &ApiClient, pod: &str) -> Vec<Value> {
    let state: Value = api.get(&format!("/pods/{pod}/state")).expect("pod state");
    state["state"]["backups"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The backup files in an archivist's data dir for `pod`.
fn backup_files(dir: &Path, pod: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join(POD_BACKUPS_DIR).join(pod)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "mycopod"))
        .collect();
    files.sort();
    files
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn an_archivist_backs_up_the_pod_only_under_a_passed_schedule_and_members_can_check_it() {
    let net = start_net(2);
    let founder = &net.daemons[0].api;
    let archivist = &net.daemons[1].api;
    let archivist_key = net.daemons[1].key_hash;
    let manifest = dna_with_founders(TEMPLATES[0].1, &[net.daemons[0].key_hash], "backups");
    let pod = found_pod(founder, &manifest);
    let stories: Vec<String> = (0..3)
        .map(|i| {
            publish(
                founder,
                &pod,
                &format!("Harbour backup story {i}"),
                &format!("backup-marker-{i} told at the harbour, kept by the community"),
                "pod",
            )
        })
        .collect();
    let hosted: PodSummary = archivist
        .post(
            "/pods/join",
            &JoinRequest {
                manifest,
                membrane_proof_hex: String::new(),
                archivist: true,
            },
        )
        .expect("the archivist hosts the pod");
    assert!(!hosted.joined);
    let status: StatusView = archivist.get("/status").expect("status");
    let approval = pass_alone(
        founder,
        &pod,
        &ProposeRequest {
            kind: "approve_replica".into(),
            member: Some(archivist_key.to_string()),
            node: Some(status.peer_id.clone()),
            detail: Some("DK".into()),
            text: "the community's backup server".into(),
            ..ProposeRequest::default()
        },
    );
    wait_until("the archivist to be served the pod", || {
        stories.iter().all(|s| holds(archivist, s))
    });

    // An approved archivist with no schedule takes no backup: a schedule in words alone (a
    // record of intent, naming no archivist) changes nothing either.
    let intent = pass_alone(
        founder,
        &pod,
        &ProposeRequest {
            kind: "approve_backup_schedule".into(),
            detail: Some("every night, somewhere safe".into()),
            text: "we should back up".into(),
            ..ProposeRequest::default()
        },
    );
    wait_until("the archivist to hold the intent", || {
        holds(archivist, &intent)
    });
    std::thread::sleep(std::time::Duration::from_secs(8));
    assert!(
        backup_files(&net.dir(1), &pod).is_empty(),
        "a backup was taken with no schedule naming the archivist"
    );
    assert!(listed_backups(founder, &pod).is_empty());
    assert!(listed_backups(archivist, &pod).is_empty());

    // The schedule passes: every 15 seconds, kept a day.
    let proposed = myco(
        &net.dir(0),
        &[
            "propose",
            "--pod",
            &pod,
            "--kind",
            "approve_backup_schedule",
            "--detail",
            "*/15 * * * * *",
            "--decision",
            &approval,
            "--retention-days",
            "1",
            "--text",
            "nightly backups to our server, kept a day",
        ],
    )
    .ok();
    let proposal = proposed["hash"].as_str().expect("a proposal").to_string();
    myco(
        &net.dir(0),
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
    let decided = myco(
        &net.dir(0),
        &["decide", "--pod", &pod, "--proposal", &proposal],
    )
    .ok();
    let schedule = decided["hash"].as_str().expect("a decision").to_string();

    wait_until("a backup listing to reach the founder", || {
        !listed_backups(founder, &pod).is_empty()
    });
    let listing = listed_backups(founder, &pod)[0].clone();
    assert_eq!(listing["schedule"], schedule.as_str(), "{listing}");
    assert_eq!(listing["archivist"], archivist_key.to_string());
    let taken_at = listing["taken_at"].as_u64().expect("taken_at");
    assert_eq!(
        listing["expires_at"].as_u64(),
        Some(taken_at + 86_400 * 1_000_000),
        "kept one day"
    );
    let stories_listed = listing["counts"]
        .as_object()
        .expect("counts")
        .iter()
        .filter(|(kind, _)| kind.starts_with("content/"))
        .map(|(_, n)| n.as_u64().unwrap_or(0))
        .sum::<u64>();
    assert!(stories_listed >= 3, "{listing}");

    // The file is on the archivist's disk, as listed, and sealed.
    let files = backup_files(&net.dir(1), &pod);
    let file = files
        .iter()
        .find(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{taken_at}-")))
        })
        .unwrap_or_else(|| panic!("no file for the listed backup among {files:?}"));
    let bytes = std::fs::read(file).expect("the backup file");
    assert_eq!(Some(bytes.len() as u64), listing["bytes"].as_u64());
    assert_eq!(
        hex(&myco_node::backup::pod::digest(&bytes)),
        listing["blake2b"].as_str().expect("a hash")
    );
    for i in 0..3 {
        let marker = format!("backup-marker-{i}");
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "the backup holds a story in clear"
        );
    }

    // The page lists it, and a member's audit matches its replica against it.
    let page = founder
        .get_text(&format!("/pods/{pod}/page"))
        .expect("the transparency page");
    assert!(
        page.contains("Backups") && page.contains(listing["blake2b"].as_str().unwrap_or("-")),
        "the transparency page lists the backup"
    );
    let mut audit = Value::Null;
    wait_until("the founder's audit to be sound", || {
        let run = myco(&net.dir(0), &["pod", "audit", "--pod", &pod]);
        audit = run.json.clone();
        run.code == Some(0) && audit["sound"] == true
    });
    let backup = &audit["backup"];
    assert_eq!(backup["sound"], true, "{audit}");
    assert_eq!(backup["archivist"], archivist_key.to_string(), "{audit}");
    assert_eq!(backup["held_counts"], backup["listed_counts"], "{audit}");
    assert_eq!(backup["held"], backup["listed"], "{audit}");
    assert!(backup["missing"].as_array().is_some_and(Vec::is_empty));
    let listed = listed_backups(founder, &pod);
    let same = listed
        .iter()
        .find(|b| b["listing"] == backup["listing"])
        .expect("the audited listing is listed");
    assert_eq!(same["counts"], backup["listed_counts"]);
    assert!(
        audit["records"].as_u64() >= backup["held"].as_u64(),
        "{audit}"
    );

    // A record the backup lists, dropped from the founder's store: the audit fails and names
    // the range missing against the listing.
    let dropped = drop_record(&net.dir(0), &net.agent(0), 2);
    let failed = myco(&net.dir(0), &["pod", "audit", "--pod", &pod]);
    assert_eq!(failed.code, Some(1), "{}", failed.json);
    let report = &failed.json["report"];
    assert_eq!(report["sound"], false, "{}", failed.json);
    let founder_kh = net.daemons[0].key_hash.to_string();
    let named = report["backup"]["missing"]
        .as_array()
        .expect("missing ranges")
        .iter()
        .any(|r| r["author"] == founder_kh.as_str() && r["from"] == 2 && r["to"] == 2);
    assert!(named, "the audit names seq 2 ({dropped}): {}", failed.json);
    assert_ne!(
        report["backup"]["held_counts"], report["backup"]["listed_counts"],
        "{}",
        failed.json
    );
}
