//! # myco-tests: end-to-end tests with real processes and real stores
//!
//! The tests under `tests/tests/` start real binaries, kill them, and reopen what they left
//! on disk. This library holds the little that those binaries and tests share, so both sides
//! agree on it by construction:
//!
//! - [`signing_key_from_seed`] and [`CRASH_POD`]: which chain a writer authors, so a test
//!   can name the same [`ChainId`] without talking to the writer;
//! - [`filler_entry`]: deterministic entry bytes of a chosen size;
//! - [`DurableLine`]: the `durable <seq> <action-hash>` line a writer prints once a record is
//!   acknowledged as durable, and its parser;
//! - [`decoders`]: one check per decoder of a stranger's bytes, run by the fuzz targets in
//!   `tests/fuzz/` and by `tests/decoders.rs` in CI;
//! - `browser` (unix): a headless Chromium driven through `chromedriver`, for the web
//!   app's end-to-end test;
//! - `storyteller` (unix): the `myco` CLI driven with `--json` against real daemons, for the
//!   tests of a member's day.
//!
//! The binary `chain-writer` (in `src/bin/`) appends to a [`SqliteStore`](myco_node::store::SqliteStore)
//! forever; `tests/crash.rs` kills it with SIGKILL mid-write and checks that nothing it
//! acknowledged was lost.
//!
//! ```
//! use myco_tests::{crash_chain, signing_key_from_seed, DurableLine};
//! use myco_dna::ActionHash;
//!
//! // The same seed always names the same chain.
//! assert_eq!(crash_chain("w1"), crash_chain("w1"));
//! assert_ne!(crash_chain("w1"), crash_chain("w2"));
//! let _key = signing_key_from_seed("w1");
//!
//! // A durable line prints and parses back.
//! let line = DurableLine { seq: 7, hash: ActionHash([3; 32]) };
//! assert_eq!(DurableLine::parse(&line.to_string()), Some(line));
//! assert_eq!(DurableLine::parse("garbage"), None);
//! ```

pub mod airtable;
#[cfg(unix)]
pub mod bench;
/// A real headless Chromium driven through `chromedriver` (WebDriver), for the web app's
/// browser test: finding and starting the driver, the session, signing in.
#[cfg(unix)]
pub mod browser;
#[cfg(target_os = "linux")]
pub mod capture;
pub mod decoders;
#[cfg(unix)]
pub mod forger;
#[cfg(unix)]
pub mod loopback;
#[cfg(target_os = "linux")]
pub mod nat;
#[cfg(target_os = "linux")]
pub mod netns;
#[cfg(unix)]
pub mod probe;
pub mod scan;
pub mod side_by_side;
#[cfg(unix)]
pub mod storyteller;
pub mod tamper;

use std::fmt;
use std::path::PathBuf;

use myco_dna::{agent_key_of, blake2b_256, ActionHash, DnaHash, Entry, SigningKey};
use myco_node::store::ChainId;

/// The `myco` binary built next to the running test: `target/<profile>/myco`, found from
/// the test executable's path (`target/<profile>/deps/<test>`). `cargo test --workspace`
/// builds it, because `myco-node` has integration tests.
///
/// # Panics
/// With a message saying how to build it, when it is not there: a test cannot run without it.
pub fn myco_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable lives in target/<profile>/deps");
    let binary = profile_dir.join("myco");
    assert!(
        binary.is_file(),
        "the myco binary is not at {}; build it first with `cargo build -p myco-node` (or run `cargo test --workspace`)",
        binary.display()
    );
    binary
}

/// The pod every crash-test chain belongs to. Any fixed value works: the store does not
/// interpret pods, and a fixed one lets the test name the chain from the seed alone.
pub const CRASH_POD: DnaHash = DnaHash([0x6d; 32]);

/// The ed25519 signing key derived from `seed`: the blake2b-256 hash of its bytes. For tests
/// only; a seed that anyone can read is no secret.
pub fn signing_key_from_seed(seed: &str) -> SigningKey {
    SigningKey::from_bytes(&blake2b_256(seed.as_bytes()))
}

/// The chain a writer started with `seed` authors: [`CRASH_POD`] and the seed's key.
pub fn crash_chain(seed: &str) -> ChainId {
    ChainId {
        pod: CRASH_POD,
        author: agent_key_of(&signing_key_from_seed(seed)),
    }
}

/// `len` bytes of entry content for the record at `seq`, deterministic and different for
/// every seq (a blake2b-256 stream keyed by `seq`), so no two entries share a hash.
pub fn filler_entry(seq: u64, len: usize) -> Entry {
    let mut bytes = Vec::with_capacity(len);
    let mut block = 0u64;
    while bytes.len() < len {
        let mut input = [0u8; 16];
        input[..8].copy_from_slice(&seq.to_le_bytes());
        input[8..].copy_from_slice(&block.to_le_bytes());
        let digest = blake2b_256(&input);
        let take = digest.len().min(len - bytes.len());
        bytes.extend_from_slice(&digest[..take]);
        block += 1;
    }
    Entry(bytes)
}

/// A writer's acknowledgement: the record at `seq` with hash `hash` is durable. Printed as
/// `durable <seq> <action-hash>` once `append_batch` has returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurableLine {
    /// The seq of the acknowledged record.
    pub seq: u64,
    /// Its action hash.
    pub hash: ActionHash,
}

impl DurableLine {
    /// The word each acknowledgement line starts with.
    pub const PREFIX: &'static str = "durable";

    /// Parses one line; `None` if it is not a well-formed acknowledgement (for example a
    /// line cut short by the kill).
    pub fn parse(line: &str) -> Option<DurableLine> {
        let mut words = line.split_whitespace();
        if words.next()? != Self::PREFIX {
            return None;
        }
        let seq = words.next()?.parse().ok()?;
        let hash = words.next()?.parse().ok()?;
        if words.next().is_some() {
            return None;
        }
        Some(DurableLine { seq, hash })
    }
}

impl fmt::Display for DurableLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", Self::PREFIX, self.seq, self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_entries_have_the_asked_length_and_differ_by_seq() {
        assert_eq!(filler_entry(1, 300).0.len(), 300);
        assert_eq!(filler_entry(1, 0).0.len(), 0);
        assert_eq!(filler_entry(1, 33), filler_entry(1, 33));
        assert_ne!(filler_entry(1, 33), filler_entry(2, 33));
    }

    #[test]
    fn a_line_cut_short_is_not_an_acknowledgement() {
        let line = DurableLine {
            seq: 12,
            hash: ActionHash([0xab; 32]),
        }
        .to_string();
        for len in 0..line.len() {
            assert_eq!(DurableLine::parse(&line[..len]), None, "{}", &line[..len]);
        }
        assert!(DurableLine::parse(&line).is_some());
    }
}
