//! Every decoder that reads bytes a stranger chose, as one function each, shared by the
//! coverage-guided fuzz targets (`tests/fuzz/`, run with libFuzzer) and by the decoder test
//! that runs in CI (`tests/tests/decoders.rs`, seeded mutations of valid inputs).
//!
//! Each check feeds its bytes to the real decoder and holds it to what a decoder owes:
//!
//! - it never panics, whatever the bytes;
//! - a refusal names what was wrong (its message is not empty);
//! - what it accepts is canonical: encoding the value again gives back exactly the input, so
//!   two nodes can never disagree about the bytes behind a hash.
//!
//! A broken promise panics, which is what a fuzzer reports.
//!
//! ```
//! use myco_tests::decoders::{target, TARGETS};
//!
//! // Every target accepts its own seeds and refuses garbage with a clear error.
//! for t in TARGETS {
//!     for seed in (t.seeds)() {
//!         (t.check)(&seed);
//!     }
//!     (t.check)(b"\xff\x00garbage");
//! }
//! assert!(target("record").is_some());
//! ```

mod api;
mod backup;
mod engine;
mod export;
mod wire;

pub use api::{api_answer, api_body};
pub use backup::backup;
pub use engine::{engine, engine_input, engine_stores};
pub use export::export;
pub use wire::{gossip, manifest, pointer, profile, record, sync_request, sync_response, warrant};

use myco_dna::{
    agent_key_of, ChainAuthor, DnaHash, DnaManifest, Entry, Record, SigningKey, Timestamp,
    Visibility,
};
use myco_node::engine::{BindingTerms, SessionBinding};
use myco_zomes::content::{Consent, Content};

/// One decoder under test.
pub struct Target {
    /// Its name: the fuzz target's and the corpus folder's.
    pub name: &'static str,
    /// Feeds bytes to the decoder; panics if the decoder broke a promise.
    pub check: fn(&[u8]),
    /// Valid inputs, for a fuzzer's corpus and the mutation test.
    pub seeds: fn() -> Vec<Vec<u8>>,
}

/// Every target, in the order the fuzz script runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "record",
        check: record,
        seeds: wire::record_seeds,
    },
    Target {
        name: "warrant",
        check: warrant,
        seeds: wire::warrant_seeds,
    },
    Target {
        name: "gossip",
        check: gossip,
        seeds: wire::gossip_seeds,
    },
    Target {
        name: "sync_request",
        check: sync_request,
        seeds: wire::sync_request_seeds,
    },
    Target {
        name: "sync_response",
        check: sync_response,
        seeds: wire::sync_response_seeds,
    },
    Target {
        name: "pointer",
        check: pointer,
        seeds: wire::pointer_seeds,
    },
    Target {
        name: "profile",
        check: profile,
        seeds: wire::profile_seeds,
    },
    Target {
        name: "manifest",
        check: manifest,
        seeds: wire::manifest_seeds,
    },
    Target {
        name: "engine",
        check: engine,
        seeds: engine::engine_seeds,
    },
    Target {
        name: "api_body",
        check: api_body,
        seeds: api::api_body_seeds,
    },
    Target {
        name: "export",
        check: export,
        seeds: export::export_seeds,
    },
    Target {
        name: "backup",
        check: backup,
        seeds: backup::backup_seeds,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// A fixed virtual time for every check (µs): decoders and the engine take time as input.
pub(crate) const NOW: u64 = 1_780_000_000_000_000;

pub(crate) fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Asserts that a refusal says what was wrong.
pub(crate) fn refused(what: &str, error: impl std::fmt::Display) {
    assert!(
        !error.to_string().trim().is_empty(),
        "{what}: a refusal without a message"
    );
}

/// Asserts that an accepted value encodes back to exactly the bytes it came from.
pub(crate) fn canonical(what: &str, input: &[u8], encoded: Vec<u8>) {
    assert_eq!(
        encoded, input,
        "{what}: accepted bytes that do not encode back to themselves"
    );
}

/// The manifest the seeds and the engine target use: a territory pod founded by keys 1 and 2.
pub(crate) fn pod_dna() -> DnaManifest {
    let founders = [
        agent_key_of(&key(1)).key_hash(),
        agent_key_of(&key(2)).key_hash(),
    ];
    let text =
        myco_node::devnet::dna_with_founders(myco_node::devnet::TEMPLATES[0].1, &founders, "fuzz");
    myco_zomes::load_dna(&text).expect("the shipped template with two founders is valid")
}

/// A story that `dna`'s zomes accept.
pub(crate) fn story(dna: &DnaManifest, title: &str) -> Entry {
    myco_zomes::codec::encode(&Content {
        title: title.into(),
        body: format!("{title}: the body"),
        blob: None,
        kind: "story".into(),
        consent: Consent {
            public_sharing: true,
            community_sharing: true,
            ..Consent::default()
        },
        revenue_share: None,
        principles: dna.properties.required_principles.clone(),
        protocols: Vec::new(),
        attribution: None,
    })
}

/// A short chain by key 2 in the seeds' pod: Genesis, a public and a pod-only story.
pub(crate) fn chain_of_two(dna: &DnaManifest) -> Vec<Record> {
    let mut author = ChainAuthor::new(key(2), dna.dna_hash());
    let time = Timestamp(NOW - 1_000_000);
    vec![
        author.genesis(time, Vec::new()),
        author.create(
            time,
            "content",
            "content",
            Visibility::Public,
            story(dna, "a public story"),
        ),
        author.create(
            time,
            "content",
            "content",
            Visibility::Pod,
            story(dna, "a story for members"),
        ),
    ]
}

pub(crate) fn binding(pod: DnaHash) -> SessionBinding {
    SessionBinding::sign(
        &key(2),
        BindingTerms {
            agent: agent_key_of(&key(2)),
            peer: vec![2],
            pod,
            region: Some("DK".into()),
            expires: Timestamp(NOW + 3_600_000_000),
        },
    )
}
