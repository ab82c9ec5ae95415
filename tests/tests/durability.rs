//! Durable means durable: a write is acknowledged only after its bytes, and the directory
//! entry of any new file, are `fsync`ed. Shown on a real daemon's system calls.
//!
//! The daemon runs under `strace -f`. For each story posted through the API, the trace must
//! show, between the request being read and the `HTTP/1.1 200` answer being written:
//! - at least one write to the store's write-ahead log (`chains.db-wal`), and
//! - after the last of them, an `fsync` or `fdatasync` of that log that has returned before
//!   the answer is written.
//!
//! And before the first answer, the store's folder is `fsync`ed after the log file was
//! created, so the file itself survives a power cut. Needs `strace` and the right to trace
//! (CI installs strace and runs as root); elsewhere the test says why it skips.

use std::path::Path;
use std::process::Command;

use myco_node::devnet::process::{init_agent, loopback_tcp, start_daemon};
use myco_node::devnet::DEVNET_PASSPHRASE;
use myco_tests::loopback::{publish, start_net};
use myco_tests::myco_binary;

/// One traced system call.
#[derive(Debug)]
struct Call {
    started: f64,
    ended: f64,
    name: String,
    /// The decorated path of its first argument (`strace -y`), if it names a file.
    path: String,
    text: String,
}

/// Parses `strace -f -ttt -T -y` output, joining calls split by other threads.
fn parse(trace: &str) -> Vec<Call> {
    let mut pending: std::collections::HashMap<(String, String), (f64, String)> =
        Default::default();
    let mut calls = Vec::new();
    for line in trace.lines() {
        // `PID  TIME CALL…`: strace pads the pid with spaces.
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Some((time, rest)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let Ok(time) = time.parse::<f64>() else {
            continue;
        };
        if let Some(resumed) = rest.strip_prefix("<... ") {
            let name = resumed.split(' ').next().unwrap_or("").to_string();
            // A resumed line is printed when the call returns: its time is the end.
            if let Some((started, head)) = pending.remove(&(pid.to_string(), name.clone())) {
                calls.push(call(started, time, &name, &format!("{head}{rest}")));
            }
            continue;
        }
        let name = rest.split('(').next().unwrap_or("").to_string();
        if rest.ends_with("<unfinished ...>") {
            pending.insert((pid.to_string(), name), (time, rest.to_string()));
            continue;
        }
        let duration = duration_of(rest).unwrap_or(0.0);
        calls.push(call(time, time + duration, &name, rest));
    }
    calls.sort_by(|a, b| a.started.total_cmp(&b.started));
    calls
}

fn call(started: f64, ended: f64, name: &str, text: &str) -> Call {
    let path = text
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(path, _)| path.to_string())
        .unwrap_or_default();
    Call {
        started,
        ended,
        name: name.to_string(),
        path,
        text: text.to_string(),
    }
}

/// The `<0.000123>` duration `strace -T` appends.
fn duration_of(text: &str) -> Option<f64> {
    let (_, tail) = text.rsplit_once('<')?;
    tail.strip_suffix('>')?.parse().ok()
}

fn is_sync(call: &Call) -> bool {
    call.name == "fsync" || call.name == "fdatasync"
}

fn is_write(call: &Call) -> bool {
    matches!(
        call.name.as_str(),
        "pwrite64" | "write" | "pwritev" | "writev"
    )
}

fn strace_works() -> Result<(), String> {
    let output = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output()
        .map_err(|e| format!("strace is not installed ({e})"))?;
    if !output.status.success() {
        return Err(format!(
            "strace cannot trace here: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(())
}

/// A script that runs the real `myco` under strace, writing the trace to `trace`.
fn traced_myco(root: &Path, trace: &Path) -> std::path::PathBuf {
    let script = root.join("traced-myco");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec strace -f -ttt -T -y -s 160 -o '{}' \
             -e trace=openat,read,recvfrom,write,writev,sendto,sendmsg,pwrite64,pwritev,fsync,fdatasync,sync_file_range,ftruncate \
             '{}' \"$@\"\n",
            trace.display(),
            myco_binary().display()
        ),
    )
    .expect("write the wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

#[test]
fn every_acknowledged_write_was_fsynced_first_and_so_was_the_new_log_files_folder() {
    if let Err(why) = strace_works() {
        eprintln!("durability: skipped: {why}");
        return;
    }
    let mut net = start_net(0);
    let dir = net.dir(0);
    let trace = net.root.path().join("trace.txt");
    let key = init_agent(&myco_binary(), &dir, DEVNET_PASSPHRASE).expect("init");
    let daemon = start_daemon(
        &traced_myco(net.root.path(), &trace),
        "traced",
        &dir,
        DEVNET_PASSPHRASE,
        &net.address,
        key,
        Some("DK"),
        &loopback_tcp(),
    )
    .expect("the traced daemon starts");
    net.daemons.push(daemon);
    let pod = net.create_pod("durability");
    const STORIES: usize = 3;
    for n in 0..STORIES {
        publish(
            &net.daemons[0].api,
            &pod,
            &format!("Story {n}"),
            "Kept.",
            "pod",
        );
    }
    // Stop the daemon itself (strace only passes the signal on), then its tracer.
    let pid = std::fs::read_to_string(dir.join("myco.lock")).expect("the lock names the pid");
    let pid: i32 = pid.trim().parse().expect("a pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal the daemon");
    assert!(
        net.daemons[0].process.stop(),
        "the traced daemon stops cleanly"
    );

    let calls = parse(&std::fs::read_to_string(&trace).expect("the trace"));
    let store = dir.join("store");
    let wal = store.join("chains.db-wal").display().to_string();
    let store = store.display().to_string();

    // The log file's creation, and the folder's sync after it, before the first answer.
    let created = calls
        .iter()
        .find(|c| {
            c.name == "openat" && c.text.contains("chains.db-wal") && c.text.contains("O_CREAT")
        })
        .expect("the log file is created");
    let first_answer = calls
        .iter()
        .find(|c| is_write(c) && c.text.contains("\"HTTP/1.1 2"))
        .expect("an answer");
    assert!(
        calls.iter().any(|c| is_sync(c)
            && c.path == store
            && c.started > created.ended
            && c.ended < first_answer.started),
        "the store's folder is not synced between creating the log and the first answer"
    );

    let requests: Vec<&Call> = calls
        .iter()
        .filter(|c| c.text.contains("\"POST /pods/") && c.text.contains("/content HTTP/1.1"))
        .collect();
    assert_eq!(
        requests.len(),
        STORIES,
        "each story's request is in the trace"
    );
    for (n, request) in requests.iter().enumerate() {
        let answer = calls
            .iter()
            .find(|c| c.started > request.ended && is_write(c) && c.text.contains("\"HTTP/1.1 200"))
            .expect("each request is answered");
        let between = |c: &&Call| c.started > request.ended && c.ended < answer.started;
        let last_log_write = calls
            .iter()
            .filter(between)
            .rfind(|c| is_write(c) && c.path == wal)
            .unwrap_or_else(|| panic!("story {n}: nothing written to the log before its answer"));
        assert!(
            calls
                .iter()
                .filter(between)
                .any(|c| is_sync(c) && c.path == wal && c.started >= last_log_write.ended),
            "story {n}: the log was not synced after its last write and before the answer"
        );
    }
}
