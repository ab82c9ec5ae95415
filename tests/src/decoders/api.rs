//! The local API's request bodies, through the daemon's own router in-process.

use myco_dna::agent_key_of;

use super::{chain_of_two, key, pod_dna, refused};

/// The local API's routes that take a body. `{pod}` is filled with the seeds' pod id, so the
/// body is what decides the answer.
const API_BODY_ROUTES: [&str; 14] = [
    "/pods",
    "/pods/join",
    "/pods/{pod}/content",
    "/pods/{pod}/profile",
    "/pods/{pod}/proposals",
    "/pods/{pod}/votes",
    "/pods/{pod}/decisions",
    "/pods/{pod}/approvals",
    "/pods/{pod}/delete",
    "/pods/{pod}/comments",
    "/pods/{pod}/reactions",
    "/pods/{pod}/value/events",
    "/pods/{pod}/value/distributions",
    "/pods/{pod}/leave",
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
    /// The empty store the read routes would read; removed with the harness.
    _store: tempfile::TempDir,
}

impl InProcessApi {
    fn new() -> Self {
        // The receiver is dropped at once: nothing answers commands.
        let (commands, _) = tokio::sync::mpsc::channel(1);
        let store = tempfile::tempdir().expect("a temporary folder");
        let store_key = myco_node::store::StoreKey::derive(&key(9));
        drop(
            myco_node::store::SqliteStore::open(store.path(), store_key.clone())
                .expect("an empty store opens"),
        );
        let reads =
            std::sync::Arc::new(myco_node::api::reads::ReadPool::new(store.path(), &key(9)));
        InProcessApi {
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a current-thread runtime needs no OS resources beyond the thread"),
            router: myco_node::api::router(
                API_TOKEN.into(),
                commands,
                Default::default(),
                reads,
                ([127, 0, 0, 1], 1).into(),
            ),
            pod: pod_dna().dna_hash().to_string(),
            _store: store,
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

pub(super) fn api_body_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let chain = chain_of_two(&dna);
    let hash = chain[1].hash();
    let bodies = [
        serde_json::json!({"manifest": myco_node::devnet::TEMPLATES[0].1}),
        serde_json::json!({"manifest": myco_node::devnet::TEMPLATES[1].1, "membrane_proof_hex": "00ff"}),
        serde_json::to_value(myco_node::api::types::PublishRequest::story(
            "a title",
            "a body",
            "public",
            &[],
            myco_node::api::types::ConsentBody::public(),
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
