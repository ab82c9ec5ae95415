//! Deletion and narrowing reach the disk, and nothing but `Public` is in clear there.
//!
//! Two real daemons found one pod. The author publishes Pod and Private stories, each with a
//! unique marker in its text; the member replicates the Pod ones. The author then deletes one
//! Pod and one Private story and narrows a third from Pod to Private. Once the member shows the
//! purges, every file under every data dir (the bootstrap peer's too) is read raw, byte by
//! byte: none may hold a removed marker, and none may hold a live Pod or Private marker in
//! clear. The scan runs while the daemons run, and again after they stop cleanly.

use std::path::Path;

use myco_node::api::types::{ConsentBody, DeleteRequest, PublishRequest, RecordView, Written};
use myco_tests::bench::stop;
use myco_tests::loopback::{holds, peers_in, publish, start_net, wait_until};
use myco_tests::scan;

/// Every place under `root` where one of `markers` occurs in clear, as "file: marker".
fn occurrences(root: &Path, markers: &[&str]) -> Vec<String> {
    let markers: Vec<(String, Vec<u8>)> = markers
        .iter()
        .map(|m| (m.to_string(), m.as_bytes().to_vec()))
        .collect();
    scan::byte_occurrences(root, &markers)
}

/// No removed story under `root`, neither in clear nor sealed, and no live one in clear.
fn assert_nothing_left(
    root: &Path,
    removed: &[&str],
    sealed: &[(String, Vec<u8>)],
    live: &[&str],
    when: &str,
) {
    let found = occurrences(root, removed);
    assert!(
        found.is_empty(),
        "removed stories are on disk {when}: {found:?}"
    );
    let found = scan::byte_occurrences(root, sealed);
    assert!(
        found.is_empty(),
        "the sealed form of removed stories is on disk {when}: {found:?}"
    );
    let found = occurrences(root, live);
    assert!(
        found.is_empty(),
        "live Pod and Private stories are on disk in clear {when}: {found:?}"
    );
}

fn entry_held(api: &myco_node::api::client::ApiClient, hash: &str) -> bool {
    api.get::<RecordView>(&format!("/records/{hash}"))
        .is_ok_and(|r| r.stored && r.entry)
}

#[test]
fn deleted_and_narrowed_stories_leave_no_bytes_on_any_disk_and_live_ones_are_sealed() {
    let mut net = start_net(2);
    let pod = net.create_pod("erasure");
    wait_until("the two daemons to meet", || {
        peers_in(&net.daemons[0].api, &pod) == 1
    });
    let unique = format!("{:x}", std::process::id());
    let marker = |name: &str| format!("MARKER-{name}-{unique}");
    let (pod_deleted, private_deleted, narrowed, narrowed_new, pod_live, private_live) = (
        marker("pod-deleted"),
        marker("private-deleted"),
        marker("narrowed"),
        marker("narrowed-new"),
        marker("pod-live"),
        marker("private-live"),
    );
    let author = &net.daemons[0].api;
    let member = &net.daemons[1].api;
    let body = |marker: &str| format!("A story that holds {marker} in its words.");
    let a = publish(author, &pod, "To be deleted", &body(&pod_deleted), "pod");
    let b = publish(
        author,
        &pod,
        "Private, to be deleted",
        &body(&private_deleted),
        "private",
    );
    let c = publish(author, &pod, "To be narrowed", &body(&narrowed), "pod");
    let d = publish(author, &pod, "Stays", &body(&pod_live), "pod");
    let e = publish(
        author,
        &pod,
        "Stays private",
        &body(&private_live),
        "private",
    );
    wait_until("the member to replicate the Pod stories", || {
        [&a, &c, &d].iter().all(|h| entry_held(member, h))
    });
    assert!(holds(author, &b) && holds(author, &e));

    // What the removed entries look like sealed, on each node that holds them: read from the
    // stores while the daemons are stopped, then the daemons start again on the same dirs.
    for daemon in &mut net.daemons {
        stop(daemon).expect("the daemon stops cleanly");
    }
    // The author keeps the version it narrowed (its own, sealed, and replaced); every other
    // node purges it.
    let mut sealed = scan::sealed_entries(&net.dir(0), &[&a, &b]);
    sealed.extend(scan::sealed_entries(&net.dir(1), &[&a, &c]));
    assert_eq!(
        sealed.len(),
        4,
        "each node seals two of the entries to be removed"
    );
    net.daemons = (0..2).map(|n| net.start_daemon(n)).collect();
    let author = &net.daemons[0].api;
    let member = &net.daemons[1].api;
    wait_until("the two daemons to meet again", || {
        peers_in(author, &pod) == 1
    });

    for target in [&a, &b] {
        let _: Written = author
            .post(
                &format!("/pods/{pod}/delete"),
                &DeleteRequest {
                    target: target.to_string(),
                },
            )
            .expect("the author deletes a story");
    }
    let _: Written = author
        .post(
            &format!("/pods/{pod}/content/{c}"),
            &PublishRequest::story(
                "Now private",
                body(&narrowed_new),
                "private",
                &[],
                ConsentBody::default(),
            ),
        )
        .expect("the author narrows a story to Private");
    wait_until(
        "the member to purge the deleted and the narrowed story",
        || !entry_held(member, &a) && !entry_held(member, &c),
    );
    assert!(!entry_held(author, &a) && !entry_held(author, &b));
    assert!(
        entry_held(member, &d),
        "a live Pod story stays on the member"
    );

    let removed = [
        pod_deleted.as_str(),
        private_deleted.as_str(),
        narrowed.as_str(),
    ];
    let live = [
        pod_live.as_str(),
        private_live.as_str(),
        narrowed_new.as_str(),
    ];
    let root = net.root.path().to_path_buf();
    assert_nothing_left(&root, &removed, &sealed, &live, "while the daemons run");
    for daemon in &mut net.daemons {
        stop(daemon).expect("the daemon stops cleanly");
    }
    assert_nothing_left(&root, &removed, &sealed, &live, "after a clean stop");
    // The scan does read the store's raw pages: what is stored in clear by design (the
    // author's key, in the member's table of chains) is found.
    let store_file = net.dir(1).join("store/chains.db");
    let raw = std::fs::read(&store_file).expect("the member's store file");
    let author_key = net.agent(0);
    assert!(
        raw.windows(32).any(|w| w == author_key.as_bytes()),
        "the scan finds clear bytes in {}, so it would find a marker",
        store_file.display()
    );
}
