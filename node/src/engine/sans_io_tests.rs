//! The engine stays sans-IO: a check that runs with every test, so nobody has to remember.
//!
//! It reads every source file of this module and fails on any name of a clock, a socket, a
//! file, a thread, an async runtime or an RNG.

const FORBIDDEN: &[&str] = &[
    "std::time",
    "Instant",
    "SystemTime",
    "std::net",
    "TcpStream",
    "UdpSocket",
    "std::fs",
    "File::",
    "std::thread",
    "tokio",
    "async fn",
    ".await",
    "rand::",
    "OsRng",
    "thread_rng",
    "getrandom",
    "std::env",
    "std::process",
    "libp2p",
    "sled::",
];

/// True if `code` contains `word` not followed by more of an identifier (so `.await` is
/// found, but `.awaits_approval` is not).
fn names(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let next = code[at + word.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn the_scan_matches_whole_names_only() {
    assert!(names("x.await;", ".await"));
    assert!(!names("x.awaits_approval()", ".await"));
    assert!(names("let t = Instant::now();", "Instant"));
}

#[test]
fn the_engine_names_no_clock_socket_file_thread_or_rng() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("engine sources are readable") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("sans_io_tests.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("source is readable");
        for (number, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in FORBIDDEN {
                assert!(
                    !names(code, word),
                    "{}:{}: the engine must stay sans-IO, but names `{word}`: {line}",
                    path.display(),
                    number + 1
                );
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 8,
        "expected the engine's source files, found {checked}"
    );
}
