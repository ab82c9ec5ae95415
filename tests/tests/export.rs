//! `myco export` against a real daemon: one file holds the agent's chain in its pod with its
//! Private entries and the pod's DNA; `myco export verify` checks it offline with its counts,
//! and every flipped byte of a record in the file is caught and named. The file is written
//! 0600 and never over an existing one.

use std::os::unix::fs::PermissionsExt;

use myco_tests::loopback::{holds, metric, wait_until};
use myco_tests::storyteller::{myco, publish, storytelling_pod};

#[test]
fn an_export_holds_the_private_stories_and_a_flipped_byte_is_named() {
    let (net, pod) = storytelling_pod(1, "export");
    let dir = net.dir(0);
    let shared = publish(&net, 0, &pod, "Harbour song", "pod", &[]);
    let private = publish(&net, 0, &pod, "Grandmother's recipe", "private", &[]);

    let file = net.root.path().join("me.json");
    let out = file.to_str().expect("utf-8 path");
    let report = myco(&dir, &["export", "--out", out]).ok();
    // Genesis, two stories.
    assert_eq!(report["records"], 3, "{report}");
    assert_eq!(report["pods"], 1, "{report}");
    let mode = std::fs::metadata(&file)
        .expect("written")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    let text = std::fs::read_to_string(&file).expect("read");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["pods"][0]["pod"], pod.as_str());
    let chain = json["pods"][0]["chain"].as_array().expect("chain");
    let titled = |hash: &str| {
        chain
            .iter()
            .find(|r| r["hash"] == hash)
            .map(|r| r["entry"].to_string())
            .unwrap_or_default()
    };
    assert!(titled(&shared).contains("Harbour song"));
    assert!(
        titled(&private).contains("Grandmother's recipe"),
        "the Private story's entry is in the export"
    );
    assert!(json["pods"][0]["dna_toml"]
        .as_str()
        .unwrap_or_default()
        .contains("zomes = "));

    let verified = myco(&dir, &["export", "verify", out]).ok();
    assert_eq!(verified["records"], 3);
    assert_eq!(verified["entries"], 2, "the Genesis has no entry");

    // Never over an existing file.
    let again = myco(&dir, &["export", "--out", out]).refused();
    assert!(again.contains("refusing to overwrite"), "{again}");

    // Every byte of the Private story's record, flipped, is caught and named.
    let record = chain
        .iter()
        .find(|r| r["hash"] == private.as_str())
        .and_then(|r| r["record"].as_str())
        .expect("the record's bytes")
        .to_string();
    let start = text.find(&record).expect("in the file");
    let flipped = net.root.path().join("flipped.json");
    let flipped_arg = flipped.to_str().expect("utf-8 path");
    for offset in (0..record.len()).step_by(7) {
        let mut bytes = text.clone().into_bytes();
        let at = start + offset;
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        std::fs::write(&flipped, &bytes).expect("write");
        let error = myco(&dir, &["export", "verify", flipped_arg]).refused();
        assert!(error.contains(&private), "offset {offset}: {error}");
    }
    // The plain view changed without its record.
    std::fs::write(
        &flipped,
        text.replace("Grandmother's recipe", "Someone's recipe"),
    )
    .expect("write");
    let error = myco(&dir, &["export", "verify", flipped_arg]).refused();
    assert!(error.contains("plain view"), "{error}");
}

#[test]
fn an_export_carries_the_receipts_members_signed_for_a_deletion() {
    let (net, pod) = storytelling_pod(2, "export-receipts");
    let (a, b) = (net.dir(0), net.dir(1));
    let story = publish(&net, 0, &pod, "Told once", "pod", &[]);
    wait_until("the member to hold the story", || {
        holds(&net.daemons[1].api, &story)
    });
    myco(&a, &["delete", "--pod", &pod, "--target", &story]).ok();
    wait_until("the author to hold the member's receipt", || {
        let shown = myco(&a, &["show", &story]).ok();
        shown["receipts"]["confirmed"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    });

    wait_until("the author's registry pointer to be published", || {
        metric(&net.daemons[0].api, "registry_published_total") >= 1
    });
    let file = net.root.path().join("a.json");
    let out = file.to_str().expect("utf-8 path");
    let report = myco(&a, &["export", "--out", out]).ok();
    assert_eq!(report["received"], 1, "{report}");
    assert_eq!(report["registry_pointer"], true, "{report}");
    // Genesis, the story, its Delete; the story's entry is gone from the export too.
    assert_eq!(report["records"], 3, "{report}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
    let chain = json["pods"][0]["chain"].as_array().expect("chain");
    let deleted = chain.iter().find(|r| r["hash"] == story.as_str());
    assert_eq!(deleted.map(|r| &r["entry"]), Some(&serde_json::Value::Null));
    // Gone from the file's bytes, not only from its JSON.
    let raw = std::fs::read(&file).expect("read");
    assert!(
        !raw.windows(9).any(|w| w == b"Told once"),
        "the deleted title is in the file"
    );
    assert_eq!(json["registry_pointer"]["pods"][0], pod.as_str());
    let receipt = &json["pods"][0]["received"][0];
    assert_eq!(receipt["entry_type"], "content/receipt", "{receipt}");

    let verified = myco(&b, &["export", "verify", out]).ok();
    assert_eq!(verified["received"], 1);
    // The member's signature on the receipt is checked: a flipped digit is named.
    let text = std::fs::read_to_string(&file).expect("read");
    let record = receipt["record"].as_str().expect("bytes").to_string();
    let at = text.find(&record).expect("in the file") + record.len() - 3;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    let flipped = net.root.path().join("flipped.json");
    std::fs::write(&flipped, &bytes).expect("write");
    let error = myco(&b, &["export", "verify", flipped.to_str().unwrap()]).refused();
    assert!(error.contains("received record 0"), "{error}");
}
