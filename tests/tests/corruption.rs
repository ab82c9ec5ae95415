//! A damaged store, ten ways: every tool that opens it reports the damage and never panics,
//! none serves damaged data, and `--repair` leaves a store that verifies.
//!
//! One daemon founds a pod; 1,500 stories are appended to its chain offline, and the daemon
//! stops. Each case copies that data dir, damages `store/chains.db` (or its log) in one way,
//! and then runs, on the copy:
//! 1. `myco run`: it must either refuse to start with advice to run `myco chain verify`, or
//!    start and answer reads with sound data or a clear error;
//! 2. `myco chain verify`: exit 0 (sound) or 1 (damaged, with advice), never a panic;
//! 3. `myco chain verify --repair`: never a panic, and afterwards `chain verify` passes and
//!    `myco run` starts.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use myco_node::api::types::RecordView;
use myco_node::devnet::process::{loopback_tcp, start_daemon};
use myco_node::devnet::DEVNET_PASSPHRASE;
use myco_tests::bench::{seed, stop, SoloPod};

const PAGE: u64 = 4096;

/// One way of damaging a store.
struct Damage {
    name: &'static str,
    apply: fn(&Path),
    /// Whether every record is still on intact pages, so a repair must keep them all.
    keeps_all: bool,
}

fn db(dir: &Path) -> PathBuf {
    dir.join("store/chains.db")
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).expect("store file").len()
}

fn write_at(path: &Path, offset: u64, bytes: &[u8]) {
    let mut file = OpenOptions::new().write(true).open(path).expect("open");
    file.seek(SeekFrom::Start(offset)).expect("seek");
    file.write_all(bytes).expect("write");
}

fn flip_at(path: &Path, offset: u64) {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open");
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(offset)).expect("seek");
    file.read_exact(&mut byte).expect("read");
    file.seek(SeekFrom::Start(offset)).expect("seek");
    file.write_all(&[byte[0] ^ 0xff]).expect("write");
}

fn truncate(path: &Path, to: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open")
        .set_len(to)
        .expect("truncate");
}

/// Pseudo-random bytes, the same every run.
fn garbage(n: usize, salt: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt) ^ 0x5a)
        .collect()
}

const DAMAGES: [Damage; 10] = [
    Damage {
        name: "the file's magic header flipped",
        apply: |dir| flip_at(&db(dir), 3),
        keeps_all: true,
    },
    Damage {
        name: "the first page zeroed",
        apply: |dir| write_at(&db(dir), 0, &[0; PAGE as usize]),
        keeps_all: true,
    },
    Damage {
        name: "truncated to half",
        apply: |dir| {
            let path = db(dir);
            truncate(&path, len(&path) / 2 / PAGE * PAGE);
        },
        keeps_all: false,
    },
    Damage {
        name: "truncated to nothing",
        apply: |dir| truncate(&db(dir), 0),
        keeps_all: false,
    },
    Damage {
        name: "truncated mid-page",
        apply: |dir| {
            let path = db(dir);
            truncate(&path, len(&path) - 1000);
        },
        keeps_all: false,
    },
    Damage {
        name: "a page in the middle zeroed",
        apply: |dir| {
            let path = db(dir);
            write_at(&path, len(&path) / 2 / PAGE * PAGE, &[0; PAGE as usize]);
        },
        keeps_all: false,
    },
    Damage {
        name: "garbage over three pages in the middle",
        apply: |dir| {
            let path = db(dir);
            let at = len(&path) / 3 / PAGE * PAGE;
            write_at(&path, at, &garbage(3 * PAGE as usize, 7));
        },
        keeps_all: false,
    },
    Damage {
        name: "one byte flipped in every page of the last quarter",
        apply: |dir| {
            let path = db(dir);
            let size = len(&path);
            let mut at = size * 3 / 4 / PAGE * PAGE + 1500;
            while at < size {
                flip_at(&path, at);
                at += PAGE;
            }
        },
        keeps_all: false,
    },
    Damage {
        name: "a garbage write-ahead log beside the file",
        apply: |dir| {
            std::fs::write(dir.join("store/chains.db-wal"), garbage(64 * 1024, 3))
                .expect("write a log");
        },
        keeps_all: true,
    },
    Damage {
        name: "the file removed",
        apply: |dir| std::fs::remove_file(db(dir)).expect("remove"),
        keeps_all: false,
    },
];

/// Runs `myco ARGS` on data dir `dir`; returns (exit code, stdout, stderr).
fn myco(binary: &Path, dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(binary)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("MYCO_PASSPHRASE", DEVNET_PASSPHRASE)
        .env_remove("RUST_LOG")
        .output()
        .expect("run myco");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for item in std::fs::read_dir(from).expect("list") {
        let item = item.expect("list");
        let target = to.join(item.file_name());
        if item.file_type().expect("type").is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).expect("copy");
        }
    }
}

/// Starts the daemon on `dir`: `Ok(sound reads)` if it ran, or `Err(its log)` if it refused.
fn try_run(solo: &SoloPod, dir: &Path, hashes: &[String]) -> Result<(), String> {
    let mut daemon = match start_daemon(
        &solo.binary,
        "damaged",
        dir,
        DEVNET_PASSPHRASE,
        &solo.bootstrap_address,
        solo.key,
        Some("DK"),
        &loopback_tcp(),
    ) {
        Ok(daemon) => daemon,
        Err(error) => return Err(error.to_string()),
    };
    // Every answer about a record is either sound or a clear refusal; the daemon stays up.
    for hash in hashes {
        match daemon.api.get::<RecordView>(&format!("/records/{hash}")) {
            Ok(view) => assert_eq!(&view.hash, hash),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
    assert!(
        daemon.process.is_running(),
        "the daemon died while serving reads"
    );
    stop(&mut daemon).expect("the daemon stops cleanly");
    Ok(())
}

#[test]
fn no_tool_panics_on_a_damaged_store_and_repair_leaves_one_that_verifies() {
    let solo = SoloPod::found("corruption").expect("a daemon founds a pod");
    let seeded = seed(&solo.dir, &solo.dna, 1_500, |_| {}).expect("seeding");
    let hashes: Vec<String> = seeded
        .signatures
        .iter()
        .step_by(97)
        .map(|(_, hash, _)| hash.to_string())
        .collect();
    for (n, damage) in DAMAGES.iter().enumerate() {
        let case = |what: &str| format!("case {n} ({}): {what}", damage.name);
        let dir = solo.root().join(format!("case-{n}"));
        copy_dir(&solo.dir, &dir);
        (damage.apply)(&dir);

        if let Err(log) = try_run(&solo, &dir, &hashes) {
            assert!(!log.contains("panicked"), "{}", case(&log));
            assert!(log.contains("chain verify"), "{}", case(&log));
        }

        let (code, stdout, stderr) = myco(&solo.binary, &dir, &["chain", "verify"]);
        assert!(!stderr.contains("panicked"), "{}", case(&stderr));
        match code {
            Some(0) => {}
            Some(1) => assert!(stderr.contains("--repair"), "{}", case(&stderr)),
            other => panic!("{}", case(&format!("exit {other:?}: {stdout} {stderr}"))),
        }

        let (code, repaired, stderr) = myco(&solo.binary, &dir, &["chain", "verify", "--repair"]);
        assert!(!stderr.contains("panicked"), "{}", case(&stderr));
        assert_eq!(code, Some(0), "{}", case(&format!("{repaired} {stderr}")));
        let (code, stdout, stderr) = myco(&solo.binary, &dir, &["chain", "verify", "--json"]);
        assert_eq!(
            code,
            Some(0),
            "{}",
            case(&format!("after repair: {stdout} {stderr}"))
        );
        let verified: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        if damage.keeps_all {
            assert_eq!(
                verified["records"].as_u64(),
                Some(seeded.chain_len),
                "{}",
                case("every record was on intact pages, and the repair must keep them all")
            );
        }
        try_run(&solo, &dir, &hashes)
            .unwrap_or_else(|log| panic!("{}", case(&format!("no start after repair: {log}"))));
        eprintln!("{}", case(&format!("ok; repair said: {}", repaired.trim())));
    }
}
