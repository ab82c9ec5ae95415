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

use myco_dna::{
    agent_key_of, chain, ChainAuthor, DnaHash, DnaManifest, Entry, Record, SigningKey, Timestamp,
    Visibility, Warrant,
};
use myco_node::engine::{
    BindingTerms, Engine, EngineConfig, GossipMessage, Height, Input, PeerId, SessionBinding,
    SyncRequest, SyncResponse,
};
use myco_node::net::profile::{ProfileRequest, ProfileResponse};
use myco_node::registry::{Pointer, PointerTerms};
use myco_node::store::MemoryStore;
use myco_zomes::content::{Consent, Content};
use myco_zomes::membership::Profile;
use serde_bytes::ByteBuf;

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
        seeds: record_seeds,
    },
    Target {
        name: "warrant",
        check: warrant,
        seeds: warrant_seeds,
    },
    Target {
        name: "gossip",
        check: gossip,
        seeds: gossip_seeds,
    },
    Target {
        name: "sync_request",
        check: sync_request,
        seeds: sync_request_seeds,
    },
    Target {
        name: "sync_response",
        check: sync_response,
        seeds: sync_response_seeds,
    },
    Target {
        name: "pointer",
        check: pointer,
        seeds: pointer_seeds,
    },
    Target {
        name: "profile",
        check: profile,
        seeds: profile_seeds,
    },
    Target {
        name: "manifest",
        check: manifest,
        seeds: manifest_seeds,
    },
    Target {
        name: "engine",
        check: engine,
        seeds: engine_seeds,
    },
    Target {
        name: "api_body",
        check: api_body,
        seeds: api_body_seeds,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// A fixed virtual time for every check (µs): decoders and the engine take time as input.
const NOW: u64 = 1_780_000_000_000_000;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Asserts that a refusal says what was wrong.
fn refused(what: &str, error: impl std::fmt::Display) {
    assert!(
        !error.to_string().trim().is_empty(),
        "{what}: a refusal without a message"
    );
}

/// Asserts that an accepted value encodes back to exactly the bytes it came from.
fn canonical(what: &str, input: &[u8], encoded: Vec<u8>) {
    assert_eq!(
        encoded, input,
        "{what}: accepted bytes that do not encode back to themselves"
    );
}

/// The manifest the seeds and the engine target use: a territory pod founded by keys 1 and 2.
fn pod_dna() -> DnaManifest {
    let founders = [
        agent_key_of(&key(1)).key_hash(),
        agent_key_of(&key(2)).key_hash(),
    ];
    let text =
        myco_node::devnet::dna_with_founders(myco_node::devnet::TEMPLATES[0].1, &founders, "fuzz");
    myco_zomes::load_dna(&text).expect("the shipped template with two founders is valid")
}

/// A story that `dna`'s zomes accept.
fn story(dna: &DnaManifest, title: &str) -> Entry {
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
fn chain_of_two(dna: &DnaManifest) -> Vec<Record> {
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

fn binding(pod: DnaHash) -> SessionBinding {
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

/// Record wire bytes (`Record::from_bytes`), then system validation.
pub fn record(bytes: &[u8]) {
    match Record::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("record", bytes, decoded.to_bytes());
            if let Err(error) = chain::check_record(&decoded) {
                refused("record check", error);
            }
        }
        Err(error) => refused("record", error),
    }
}

fn record_seeds() -> Vec<Vec<u8>> {
    chain_of_two(&pod_dna())
        .iter()
        .map(Record::to_bytes)
        .collect()
}

/// Warrant bytes (`Warrant::from_bytes`), then the check anyone can make.
pub fn warrant(bytes: &[u8]) {
    match Warrant::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("warrant", bytes, decoded.to_bytes());
            if let Err(error) = decoded.verify() {
                refused("warrant verify", error);
            }
        }
        Err(error) => refused("warrant", error),
    }
}

fn warrant_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let chain = chain_of_two(&dna);
    let mut other = ChainAuthor::resume(key(2), &chain[0].signed);
    let fork = other.create(
        Timestamp(NOW),
        "content",
        "content",
        Visibility::Public,
        story(&dna, "the other branch"),
    );
    vec![Warrant::fork(chain[1].signed.clone(), fork.signed).to_bytes()]
}

/// Gossip message bytes (`GossipMessage::from_bytes`), and any record inside.
pub fn gossip(bytes: &[u8]) {
    match GossipMessage::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("gossip message", bytes, decoded.to_bytes());
            if let GossipMessage::Record(inner) = &decoded {
                record(inner);
            }
        }
        Err(error) => refused("gossip message", error),
    }
}

fn gossip_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let chain = chain_of_two(&dna);
    vec![
        GossipMessage::Record(ByteBuf::from(chain[1].to_bytes())).to_bytes(),
        GossipMessage::Have {
            pod,
            hash: chain[2].hash(),
            author: chain[2].action().author.key_hash(),
            seq: 2,
        }
        .to_bytes(),
        GossipMessage::Withdraw(Box::new(chain[1].signed.clone())).to_bytes(),
    ]
}

/// Sync request bytes (`SyncRequest::from_bytes`), and the binding's signature check.
pub fn sync_request(bytes: &[u8]) {
    match SyncRequest::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("sync request", bytes, decoded.to_bytes());
            let binding = match &decoded {
                SyncRequest::Heights { binding, .. }
                | SyncRequest::Range { binding, .. }
                | SyncRequest::Get { binding, .. } => Some(binding),
                _ => None,
            };
            if let Some(Err(error)) = binding.map(SessionBinding::verify) {
                refused("session binding", error);
            }
        }
        Err(error) => refused("sync request", error),
    }
}

fn sync_request_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let chain = chain_of_two(&dna);
    let binding = binding(pod);
    vec![
        SyncRequest::Heights {
            pod,
            binding: binding.clone(),
            after: None,
        }
        .to_bytes(),
        SyncRequest::Range {
            pod,
            binding: binding.clone(),
            author: chain[0].action().author.key_hash(),
            from_seq: 1,
            limit: 256,
        }
        .to_bytes(),
        SyncRequest::Get {
            pod,
            binding,
            hashes: vec![chain[1].hash(), chain[2].hash()],
        }
        .to_bytes(),
        SyncRequest::Push {
            pod,
            records: vec![ByteBuf::from(chain[0].to_bytes())],
        }
        .to_bytes(),
    ]
}

/// Sync response bytes (`SyncResponse::from_bytes`), and every record inside.
pub fn sync_response(bytes: &[u8]) {
    match SyncResponse::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("sync response", bytes, decoded.to_bytes());
            if let SyncResponse::Records { records, .. } = &decoded {
                records.iter().for_each(|r| self::record(r));
            }
        }
        Err(error) => refused("sync response", error),
    }
}

fn sync_response_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let chain = chain_of_two(&dna);
    vec![
        SyncResponse::Heights {
            pod,
            heights: vec![Height {
                author: chain[2].action().author,
                seq: 2,
                hash: chain[2].hash(),
            }],
            more: false,
        }
        .to_bytes(),
        SyncResponse::Records {
            pod,
            records: chain.iter().map(|r| ByteBuf::from(r.to_bytes())).collect(),
        }
        .to_bytes(),
        SyncResponse::NotAMember.to_bytes(),
        SyncResponse::Refused {
            reason: "binding expired".into(),
        }
        .to_bytes(),
    ]
}

/// Registry pointer bytes, judged as the Kademlia store judges a PUT for key 1's hash.
pub fn pointer(bytes: &[u8]) {
    match Pointer::from_bytes(bytes) {
        Ok(decoded) => canonical("registry pointer", bytes, decoded.to_bytes()),
        Err(error) => refused("registry pointer", error),
    }
    let key_hash = agent_key_of(&key(1)).key_hash();
    if let Err(error) = Pointer::validate(&key_hash, bytes, Timestamp(NOW), None) {
        refused("registry pointer validation", error);
    }
}

fn pointer_seeds() -> Vec<Vec<u8>> {
    let pod = pod_dna().dna_hash();
    vec![Pointer::sign(
        &key(1),
        PointerTerms {
            agent: agent_key_of(&key(1)),
            pods: vec![pod],
            seq: 3,
            expires: Timestamp(NOW + 3_600_000_000),
        },
    )
    .to_bytes()]
}

/// Profile protocol bytes: the first byte says request (even) or response (odd).
pub fn profile(bytes: &[u8]) {
    let Some((&kind, body)) = bytes.split_first() else {
        return;
    };
    if kind % 2 == 0 {
        match ProfileRequest::from_bytes(body) {
            Ok(decoded) => canonical("profile request", body, decoded.to_bytes()),
            Err(error) => refused("profile request", error),
        }
    } else {
        match ProfileResponse::from_bytes(body) {
            Ok(decoded) => canonical("profile response", body, decoded.to_bytes()),
            Err(error) => refused("profile response", error),
        }
    }
}

fn profile_seeds() -> Vec<Vec<u8>> {
    let tagged = |kind: u8, body: Vec<u8>| [vec![kind], body].concat();
    let request = ProfileRequest {
        pod: pod_dna().dna_hash(),
        agent: agent_key_of(&key(1)),
    };
    let response = ProfileResponse::Public(Profile {
        username: "ana".into(),
        display_name: "Ana".into(),
        bio: "weaver".into(),
        avatar: None,
        profile_public: true,
        contact: None,
    });
    vec![
        tagged(0, request.to_bytes()),
        tagged(1, response.to_bytes()),
        tagged(1, ProfileResponse::NotPublic.to_bytes()),
    ]
}

/// DNA manifest text, loaded as `myco pod create` and `myco dna check` load it.
pub fn manifest(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match myco_zomes::load_dna(text) {
        // An accepted manifest is hashed into its pod id, as every node does.
        Ok(dna) => drop(dna.dna_hash()),
        Err(error) => refused("manifest", error),
    }
}

fn manifest_seeds() -> Vec<Vec<u8>> {
    myco_node::devnet::TEMPLATES
        .iter()
        .map(|(_, text)| text.as_bytes().to_vec())
        .collect()
}

/// Frames of engine input: a kind byte (even: gossip, odd: a sync request) and a two-byte
/// big-endian length, then that many bytes; a short last frame takes what is left.
fn frames(mut bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while let [kind, high, low, rest @ ..] = bytes {
        let len = (usize::from(*high) << 8 | usize::from(*low)).min(rest.len());
        out.push((*kind, &rest[..len]));
        bytes = &rest[len..];
    }
    out
}

/// Gossip and sync requests from one peer into a real engine hosting a pod (as key 1, a
/// founder), over the in-memory store. Besides never panicking, the engine must store only
/// records that pass system validation, in unbroken chains.
pub fn engine(bytes: &[u8]) {
    engine_stores(bytes);
}

/// Runs [`engine`]'s input and returns the pod's records the engine then holds.
pub fn engine_stores(bytes: &[u8]) -> Vec<Record> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let mut engine = Engine::new(
        EngineConfig::default(),
        key(1),
        PeerId(vec![1]),
        Some("DK".into()),
        MemoryStore::new(),
    );
    let peer = PeerId(vec![2]);
    engine.handle(
        NOW,
        Input::JoinPod {
            dna: Box::new(dna),
            membrane_proof: Vec::new(),
        },
    );
    engine.handle(
        NOW,
        Input::PeerJoined {
            peer: peer.clone(),
            pod,
        },
    );
    for (n, (kind, frame)) in frames(bytes).into_iter().enumerate() {
        let input = if kind % 2 == 0 {
            Input::Gossip {
                from: peer.clone(),
                message_id: vec![n as u8],
                bytes: frame.to_vec(),
            }
        } else {
            Input::Request {
                from: peer.clone(),
                request_id: n as u64,
                bytes: frame.to_vec(),
            }
        };
        engine.handle(NOW + n as u64, input);
    }
    let mut stored = engine
        .pod_records(&pod)
        .expect("the in-memory store does not fail");
    stored.sort_by_key(|r| (r.action().author, r.action().seq));
    for chain in stored.chunk_by(|a, b| a.action().author == b.action().author) {
        if let Err((at, error)) = chain::validate_chain(chain) {
            panic!("the engine stored an invalid chain (record {at}): {error}");
        }
    }
    stored
}

/// Frames `messages` the way [`engine`] reads them.
pub fn engine_input(messages: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (kind, bytes) in messages {
        let len = u16::try_from(bytes.len()).expect("seed frames are small");
        out.push(*kind);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

fn engine_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let chain = chain_of_two(&dna);
    let push = SyncRequest::Push {
        pod,
        records: vec![ByteBuf::from(chain[0].to_bytes())],
    };
    let gossip = |r: &Record| {
        (
            0,
            GossipMessage::Record(ByteBuf::from(r.to_bytes())).to_bytes(),
        )
    };
    let mut seeds = vec![engine_input(&[
        (1, push.to_bytes()),
        gossip(&chain[1]),
        (1, sync_request_seeds()[0].clone()),
    ])];
    seeds.extend(
        gossip_seeds()
            .into_iter()
            .chain(sync_request_seeds())
            .enumerate()
            .map(|(n, bytes)| engine_input(&[((n >= 3) as u8, bytes)])),
    );
    seeds
}

/// The local API's routes that take a body. `{pod}` is filled with the seeds' pod id, so the
/// body is what decides the answer.
const API_BODY_ROUTES: [&str; 9] = [
    "/pods",
    "/pods/join",
    "/pods/{pod}/content",
    "/pods/{pod}/profile",
    "/pods/{pod}/proposals",
    "/pods/{pod}/votes",
    "/pods/{pod}/decisions",
    "/pods/{pod}/approvals",
    "/pods/{pod}/delete",
];

/// The token the in-process API of [`api_body`] expects.
const API_TOKEN: &str = "fuzz-token";

/// The daemon's own API router, in-process, with no driver behind it: a body that parses and
/// passes every check reaches the driver's queue and gets 503, so every other answer is the
/// API's own verdict on the body.
struct InProcessApi {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    pod: String,
}

impl InProcessApi {
    fn new() -> Self {
        // The receiver is dropped at once: nothing answers commands.
        let (commands, _) = tokio::sync::mpsc::channel(1);
        InProcessApi {
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a current-thread runtime needs no OS resources beyond the thread"),
            router: myco_node::api::router(API_TOKEN.into(), commands, Default::default()),
            pod: pod_dna().dna_hash().to_string(),
        }
    }

    /// POSTs `body` to `route` with the token; returns the status and the answer's bytes.
    fn post(&self, route: &str, body: &[u8]) -> (u16, Vec<u8>) {
        use tower::ServiceExt;
        let request = axum::http::Request::post(route.replace("{pod}", &self.pod))
            .header("Authorization", format!("Bearer {API_TOKEN}"))
            .header("Content-Type", "application/json")
            .body(axum::body::Body::from(body.to_vec()))
            .expect("the route and headers are valid");
        self.runtime.block_on(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("axum routers never fail");
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("an in-memory body reads");
            (status, bytes.to_vec())
        })
    }
}

thread_local! {
    static API: InProcessApi = InProcessApi::new();
}

/// An API request body: the first byte picks the route ([`API_BODY_ROUTES`]), the rest is
/// the body. Whatever the body, the answer is a client error (or 503, from the absent
/// driver), never a server error, and it is JSON `{"error": "…"}` that says what is wrong.
pub fn api_body(bytes: &[u8]) {
    let Some((route, status, answer)) = api_answer(bytes) else {
        return;
    };
    assert!(
        matches!(status, 400 | 413 | 422 | 503),
        "{route}: status {status} for a body: {}",
        String::from_utf8_lossy(&answer)
    );
    let error: myco_node::api::types::ErrorBody = serde_json::from_slice(&answer)
        .unwrap_or_else(|e| panic!("{route}: the {status} answer is not an error body: {e}"));
    refused(route, error.error);
}

/// The route, status and answer [`api_body`] gets for `bytes` (`None` for no bytes).
pub fn api_answer(bytes: &[u8]) -> Option<(&'static str, u16, Vec<u8>)> {
    let (&pick, body) = bytes.split_first()?;
    let route = API_BODY_ROUTES[usize::from(pick) % API_BODY_ROUTES.len()];
    let (status, answer) = API.with(|api| api.post(route, body));
    Some((route, status, answer))
}

fn api_body_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let chain = chain_of_two(&dna);
    let hash = chain[1].hash();
    let bodies = [
        serde_json::json!({"manifest": myco_node::devnet::TEMPLATES[0].1}),
        serde_json::json!({"manifest": myco_node::devnet::TEMPLATES[1].1, "membrane_proof_hex": "00ff"}),
        serde_json::to_value(myco_node::api::types::PublishRequest::story(
            "a title", "a body", "public",
        ))
        .expect("a request serialises"),
        serde_json::json!({"username": "ana", "display_name": "Ana", "bio": "", "profile_public": true}),
        serde_json::json!({"kind": "grant_role", "text": "make Ana steward", "member": agent_key_of(&key(2)).key_hash().to_string(), "role": "steward"}),
        serde_json::json!({"proposal": hash.to_string(), "choice": "yes"}),
        serde_json::json!({"proposal": hash.to_string()}),
        serde_json::json!({"content": hash.to_string(), "protocol": "elders"}),
        serde_json::json!({"target": hash.to_string()}),
    ];
    bodies
        .iter()
        .enumerate()
        .map(|(route, body)| [vec![route as u8], body.to_string().into_bytes()].concat())
        .collect()
}
