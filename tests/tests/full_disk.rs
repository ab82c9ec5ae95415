//! A full disk refuses writes with 507 and a message that says where and how much to free;
//! the daemon lives on, serves reads, loses no acknowledged write, and writes again once
//! there is room.
//!
//! The daemon's data dir is a small tmpfs, filled up with a file. Mounting needs root (CI
//! runs as root); elsewhere the test says why it skips.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use myco_node::api::client::ClientError;
use myco_node::api::types::{ConsentBody, PublishRequest, StatusView, Written};
use myco_tests::bench::stop;
use myco_tests::loopback::{holds, start_net};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mounted(PathBuf);

impl Mounted {
    fn tmpfs(path: &Path, size: &str) -> Result<Self, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let output = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
        }
        Ok(Mounted(path.to_path_buf()))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system of `path` with a file of zeros, then gives `room` bytes back.
fn fill_but(path: &Path, room: u64) {
    let mut file = std::fs::File::create(path).expect("filler file");
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(_) => break,
        }
    }
    let _ = file.sync_all();
    file.set_len(written.saturating_sub(room))
        .expect("give room back");
}

fn story(n: usize) -> PublishRequest {
    PublishRequest::story(
        format!("Story {n}"),
        "Words written while the disk fills up.".repeat(8),
        "pod",
        &[],
        ConsentBody::community(),
    )
}

#[test]
fn a_full_disk_answers_507_keeps_serving_loses_nothing_and_writes_again_once_freed() {
    if !nix_is_root() {
        eprintln!("full_disk: skipped: mounting a tmpfs needs root (CI runs as root)");
        return;
    }
    let mut net = start_net(0);
    let dir = net.dir(0);
    let mount = match Mounted::tmpfs(&dir, "24m") {
        Ok(mount) => mount,
        Err(why) => {
            eprintln!("full_disk: skipped: cannot mount a tmpfs ({why})");
            return;
        }
    };
    net.daemons.push(net.start_daemon(0));
    let pod = net.create_pod("full-disk");
    let api = &net.daemons[0].api;

    let filler = dir.join("filler");
    fill_but(&filler, 256 * 1024);
    let mut acknowledged = Vec::new();
    let mut refusal = None;
    for n in 0..10_000 {
        match api.post::<_, Written>(&format!("/pods/{pod}/content"), &story(n)) {
            Ok(written) => acknowledged.push(written.hash),
            Err(error) => {
                refusal = Some(error);
                break;
            }
        }
    }
    let refusal = refusal.expect("the disk fills up");
    match &refusal {
        ClientError::Refused { status, message } => {
            assert_eq!(*status, 507, "{message}");
            assert!(message.contains("is full"), "{message}");
            assert!(message.contains("free at least"), "{message}");
            assert!(
                message.contains(&dir.join("store").display().to_string()),
                "the message names the store's folder: {message}"
            );
        }
        other => panic!("a full disk got {other:?}, not a 507"),
    }
    assert!(
        !acknowledged.is_empty(),
        "some writes fit before the disk filled"
    );
    eprintln!(
        "full_disk: {} writes acknowledged before the disk filled: {refusal}",
        acknowledged.len()
    );

    // Still alive, still serving.
    let status: StatusView = api.get("/status").expect("the daemon still answers");
    assert!(!status.agent_key.is_empty());
    for hash in &acknowledged {
        assert!(holds(api, hash), "acknowledged {hash} is served");
    }
    // A second refusal, not a crash.
    assert!(matches!(
        api.post::<_, Written>(&format!("/pods/{pod}/content"), &story(99_999)),
        Err(ClientError::Refused { status: 507, .. })
    ));

    std::fs::remove_file(&filler).expect("free the space");
    let again: Written = api
        .post(&format!("/pods/{pod}/content"), &story(100_000))
        .expect("writes succeed again once there is room");
    acknowledged.push(again.hash);

    stop(&mut net.daemons[0]).expect("the daemon stops cleanly");
    net.daemons[0] = net.start_daemon(0);
    let api = &net.daemons[0].api;
    for hash in &acknowledged {
        assert!(holds(api, hash), "acknowledged {hash} survived the restart");
    }
    stop(&mut net.daemons[0]).expect("the daemon stops cleanly");
    drop(mount);
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
