//! Every decoder that reads a stranger's bytes, fed random bytes and seeded mutations of valid
//! inputs (bit flips, overwritten bytes, cuts, insertions, splices of two seeds). Each check in
//! [`myco_tests::decoders`] panics if a decoder panics, refuses without a message, or accepts
//! bytes that are not canonical; proptest shrinks any failure to a small input.
//!
//! This is the short, deterministic run that CI makes on every change. The long
//! coverage-guided runs (libFuzzer, millions of inputs per target) use the same checks:
//! `tests/fuzz/run` and `docs/performance.md` (R2).

use myco_tests::decoders::{Target, TARGETS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per target and kind of input: enough to reach every decode branch the seeds lead to,
/// few enough that the whole file runs in seconds.
const CASES: u32 = 1_500;

/// One change to a seed.
#[derive(Clone, Debug)]
enum Edit {
    FlipBit(usize, u8),
    Set(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    SpliceTail(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Edit::FlipBit(at, bit)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Set(at, byte)),
        any::<usize>().prop_map(Edit::Cut),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<usize>(), any::<usize>()).prop_map(|(at, from)| Edit::SpliceTail(at, from)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit], seeds: &[Vec<u8>]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match edit {
            Edit::FlipBit(at, bit) => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b ^= 1 << bit;
                }
            }
            Edit::Set(at, byte) => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b = *byte;
                }
            }
            Edit::Cut(at) => bytes.truncate(at % len),
            Edit::Insert(at, new) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            Edit::SpliceTail(at, from) => {
                let other = &seeds[from % seeds.len()];
                let at = at % (bytes.len() + 1);
                let tail = other.get(at.min(other.len())..).unwrap_or_default();
                bytes.truncate(at);
                bytes.extend_from_slice(tail);
            }
        }
    }
    bytes
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

fn mutated_seeds_never_break_a_promise(target: &Target) {
    let seeds = (target.seeds)();
    assert!(!seeds.is_empty(), "{}: no seeds", target.name);
    for seed in &seeds {
        (target.check)(seed);
    }
    let strategy = (0..seeds.len(), prop::collection::vec(edit(), 1..6));
    runner()
        .run(&strategy, |(which, edits)| {
            (target.check)(&apply(seeds[which].clone(), &edits, &seeds));
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{}: {failure}", target.name));
}

fn random_bytes_never_break_a_promise(target: &Target) {
    runner()
        .run(&prop::collection::vec(any::<u8>(), 0..4096), |bytes| {
            (target.check)(&bytes);
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{}: {failure}", target.name));
}

#[test]
fn every_decoder_survives_mutations_of_valid_input() {
    for target in TARGETS {
        mutated_seeds_never_break_a_promise(target);
    }
}

#[test]
fn every_decoder_survives_random_bytes() {
    for target in TARGETS {
        random_bytes_never_break_a_promise(target);
    }
}

#[test]
fn the_seeds_are_accepted_so_mutations_start_from_valid_input() {
    use myco_dna::Record;
    use myco_node::engine::{GossipMessage, SyncRequest, SyncResponse};
    let seeds = |name: &str| (myco_tests::decoders::target(name).expect(name).seeds)();
    for bytes in seeds("record") {
        let record = Record::from_bytes(&bytes).expect("a seed record decodes");
        myco_dna::chain::check_record(&record).expect("a seed record is valid");
    }
    for bytes in seeds("gossip") {
        GossipMessage::from_bytes(&bytes).expect("a seed gossip message decodes");
    }
    for bytes in seeds("sync_request") {
        SyncRequest::from_bytes(&bytes).expect("a seed sync request decodes");
    }
    for bytes in seeds("sync_response") {
        SyncResponse::from_bytes(&bytes).expect("a seed sync response decodes");
    }
    // The first engine seed pushes key 2's Genesis and gossips its public story: the
    // engine stores both beside its own Genesis, so mutations start on the ingest path.
    let engine_seed = &seeds("engine")[0];
    assert_eq!(myco_tests::decoders::engine_stores(engine_seed).len(), 3);
    // Each API seed passes every check the API makes and reaches the (absent) driver.
    for bytes in seeds("api_body") {
        let (route, status, answer) = myco_tests::decoders::api_answer(&bytes).expect("a seed");
        assert_eq!(status, 503, "{route}: {}", String::from_utf8_lossy(&answer));
    }
    for bytes in seeds("manifest") {
        let text = std::str::from_utf8(&bytes).expect("text");
        myco_zomes::load_dna(text).expect("a seed manifest loads");
    }
}
