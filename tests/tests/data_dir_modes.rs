//! A data dir that other local users could read is made private at start, and `myco status`
//! says so.

use std::os::unix::fs::PermissionsExt;

use myco_node::api::types::StatusView;
use myco_node::devnet::process::init_agent;
use myco_node::devnet::DEVNET_PASSPHRASE;
use myco_tests::bench::stop;
use myco_tests::loopback::start_net;
use myco_tests::myco_binary;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::symlink_metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_loose_data_dir_is_tightened_at_start_and_status_warns_about_it() {
    let mut net = start_net(0);
    let dir = net.dir(0);
    init_agent(&myco_binary(), &dir, DEVNET_PASSPHRASE).expect("init");
    // As `mkdir` and a loose umask would leave them.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let notes = dir.join("myco.toml");
    std::fs::write(&notes, "").expect("write");
    std::fs::set_permissions(&notes, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    net.daemons.push(net.start_daemon(0));
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&notes), 0o600);
    let status: StatusView = net.daemons[0].api.get("/status").expect("status");
    assert_eq!(status.warnings.len(), 1, "{:?}", status.warnings);
    assert!(
        status.warnings[0].contains("made private"),
        "{:?}",
        status.warnings
    );
    stop(&mut net.daemons[0]).expect("stops");

    // A second start finds nothing to fix, and says nothing.
    net.daemons[0] = net.start_daemon(0);
    let status: StatusView = net.daemons[0].api.get("/status").expect("status");
    assert!(status.warnings.is_empty(), "{:?}", status.warnings);
}
