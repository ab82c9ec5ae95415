//! # The local API: HTTP/JSON on 127.0.0.1, and the transparency page
//!
//! Every call needs `Authorization: Bearer <token>` (a browser signed in through `/login`
//! uses a session cookie instead, and a CSRF token to write, see [`session`]), and a `Host`
//! and `Origin`, where sent, that name the API's own address, where the token is read from the `0600`
//! file [`TOKEN_FILE`] in the data dir, made afresh each time the daemon starts (as Bitcoin
//! Core's cookie file). The address the API listens on is written to [`ADDR_FILE`], so the
//! CLI ([`client`]) needs nothing but the data dir. Bodies are bounded ([`types::MAX_BODY_BYTES`])
//! and malformed ones get a 400 with `{"error": "..."}`. Connections are bounded too
//! ([`ApiLimits`]): headers and bodies must arrive in time, idle kept-alive connections close,
//! and only so many are served at once, well below the process's file limit.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /status` | the node, its peers and pods |
//! | `GET /pods`, `POST /pods`, `POST /pods/join` | list, create (as a founder), join |
//! | `POST /pods/{pod}/content`, `/profile`, `/proposals`, `/votes`, `/decisions`, `/approvals`, `/delete` | writes |
//! | `POST /pods/{pod}/content/{hash}` | edit: a new version; fields left out keep their value |
//! | `POST /pods/{pod}/comments`, `/reactions` | respond to content, with its visibility |
//! | `POST /pods/{pod}/value/events`, `/value/distributions` | record value; pay it out (the daemon computes the payouts) |
//! | `GET /pods/{pod}/value/statement[?member=kh_…]` | earned and paid, per member and currency |
//! | `POST /pods/{pod}/leave` | leave the pod: this node writes nothing more in it |
//! | `GET /pods/{pod}/members` | members, usernames, roles and the decision that granted each |
//! | `POST /pods/{pod}/invitations` | sign a steward's invitation (no record is written) |
//! | `GET /pods/{pod}/state` | the pod's figures, roster, value, newest proposals and audit entries, and this agent's dashboard, as JSON (stories: the feed), folded once per change and kept ([`figures`]) |
//! | `GET /pods/{pod}/page` | the transparency page, as HTML |
//! | `GET /pods/{pod}/feed`, `GET /content/{hash}` | reads, from the store's indexes ([`reads`]) |
//! | `GET /app…`, form posts to `/app…` | the web app: stories, publish and edit, revoke and delete, proposals and votes, value, my dashboard (`api/app/`) |
//! | `GET /records/{hash}` | whether a record is stored here |
//! | `GET /lookup/{key_hash}` | registry lookup and public profile |
//! | `GET /metrics` | Prometheus metrics |
//! | `GET /login?token=…&next=…` | signs a browser in with a session of its own ([`session`]): `myco pod page` prints the link |
//! | `GET /session` | the signed-in browser's CSRF token, for its writes |

mod app;
pub mod audit;
pub mod backup;
pub mod client;
mod community;
mod export;
pub mod figures;
mod handlers;
pub mod import;
mod listener;
mod page;
pub mod reads;
mod recover;
pub mod session;
pub mod types;
pub mod views;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand_core::{OsRng, RngCore};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};

use crate::daemon::metrics::Metrics;
use crate::daemon::Command;
pub use listener::{
    connection_cap, open_file_limit, ApiLimits, API_BODY_TIMEOUT, API_HEADER_TIMEOUT,
    API_MAX_CONNECTIONS, MIN_API_CONNECTIONS, RESERVED_FDS,
};
use types::{ErrorBody, MAX_BODY_BYTES};

/// The API token file's name inside the data dir.
pub const TOKEN_FILE: &str = "api.token";
/// The file holding the API's address (`127.0.0.1:PORT`).
pub const ADDR_FILE: &str = "api.addr";

/// Why the API could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A file or the socket failed.
    #[error("cannot {action}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    commands: mpsc::Sender<Command>,
    token: Arc<String>,
    metrics: Arc<Metrics>,
    reads: Arc<reads::ReadPool>,
    sessions: Arc<session::Sessions>,
    /// The pods' figures, folded and kept ([`figures`]).
    figures: Arc<figures::FigureCache>,
    /// The address the API listens on: requests must name it ([`session::own_origin`]).
    address: SocketAddr,
    /// What imports wrote, per pod ([`import`]).
    imports: Arc<import::Imports>,
}

/// An API error: a status and a message for a person.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub(crate) fn unavailable() -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the daemon is busy or stopping; try again".into(),
        }
    }
}

impl From<crate::daemon::CommandError> for ApiError {
    fn from(error: crate::daemon::CommandError) -> Self {
        use crate::daemon::FailureKind;
        let status = match error.kind() {
            FailureKind::Refused => StatusCode::UNPROCESSABLE_ENTITY,
            FailureKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            FailureKind::Storage => StatusCode::INSUFFICIENT_STORAGE,
            FailureKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError {
            status,
            message: error.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

/// A JSON body whose rejections are clear `{"error": ...}` answers (400, or 413 when too big).
pub(crate) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError {
                status: if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::BAD_REQUEST
                },
                message: format!("bad request body: {}", rejection.body_text()),
            }),
        }
    }
}

/// A query string whose rejections are clear `{"error": ...}` answers (400).
pub(crate) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "bad query string: {}",
                rejection.body_text()
            ))),
        }
    }
}

impl AppState {
    /// Sends a command to the driver and waits for its answer.
    pub(crate) async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .try_send(command(reply))
            .map_err(|_| ApiError::unavailable())?;
        answer.await.map_err(|_| ApiError::unavailable())
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if same_secret(given.as_bytes(), state.token.as_bytes()) {
        return next.run(request).await;
    }
    let grant = session::session_grant(
        &state.sessions,
        request.method(),
        request.headers(),
        std::time::Instant::now(),
    );
    let request = match grant {
        session::Grant::Allowed => Some(request),
        session::Grant::Denied => None,
        session::Grant::IfFormCarries(csrf) => {
            // An HTML form cannot send a header: its CSRF token is a field of its body,
            // read here (bounded) and handed on unchanged.
            let (parts, body) = request.into_parts();
            match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
                Ok(bytes) if session::form_carries(&bytes, &csrf) => {
                    Some(Request::from_parts(parts, axum::body::Body::from(bytes)))
                }
                _ => None,
            }
        }
    };
    match request {
        Some(request) => next.run(request).await,
        None => {
            Metrics::inc(&state.metrics.api_unauthorized_total);
            ApiError {
                status: StatusCode::UNAUTHORIZED,
                message: format!("missing or wrong API token: send `Authorization: Bearer <token>` with the token from {TOKEN_FILE} in the data dir (a signed-in browser: reload the page, or sign in again with the link `myco pod page POD` prints)"),
            }
            .into_response()
        }
    }
}

/// Refuses, before anything else, a request whose `Host` or `Origin` is not the API's own
/// address: other local ports' pages and DNS-rebinding pages get nothing.
async fn require_own_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(why) = session::own_origin(request.headers(), state.address) {
        Metrics::inc(&state.metrics.api_unauthorized_total);
        return ApiError {
            status: StatusCode::FORBIDDEN,
            message: why,
        }
        .into_response();
    }
    let mut response = next.run(request).await;
    guard_headers(response.headers_mut());
    response
}

/// The headers every answer carries, so a page of the web app runs no script (none of its
/// own, none a member wrote), posts forms only to this API, cannot be framed by another
/// page, and never tells another site where its reader was. The referrer policy is
/// `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null` with
/// the app's own form posts, and [`session::own_origin`] rightly refuses those.
const GUARD_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
];

fn guard_headers(headers: &mut axum::http::HeaderMap) {
    for (name, value) in GUARD_HEADERS {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The API's routes, every one behind the `token` check but `/login`, with bounded bodies,
/// asking `commands` for answers. [`serve`] serves it; tests and the fuzz targets drive it
/// in-process.
pub fn router(
    token: String,
    commands: mpsc::Sender<Command>,
    metrics: Arc<Metrics>,
    reads: Arc<reads::ReadPool>,
    address: SocketAddr,
) -> axum::Router {
    let state = AppState {
        commands,
        token: Arc::new(token),
        metrics,
        reads,
        sessions: Arc::default(),
        figures: Arc::default(),
        address,
        imports: Arc::default(),
    };
    handlers::routes()
        .merge(reads::routes())
        .merge(export::routes())
        .merge(backup::routes())
        .merge(recover::routes())
        .merge(import::routes())
        .merge(audit::routes())
        .merge(app::routes())
        .route(session::SESSION_PATH, axum::routing::get(session::session))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        // Signing in checks the token itself: it is the one path without the middleware.
        .route(session::LOGIN_PATH, axum::routing::get(session::login))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_own_origin,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Starts the API on 127.0.0.1:`port` (0: any free port), writing the token and address files
/// into `data_dir`; returns the address it listens on. It serves until the process ends, each
/// connection within `limits`.
pub async fn serve(
    data_dir: &Path,
    port: u16,
    limits: ApiLimits,
    commands: mpsc::Sender<Command>,
    metrics: Arc<Metrics>,
    reads: Arc<reads::ReadPool>,
) -> Result<SocketAddr, ServeError> {
    let token = new_token();
    crate::daemon::write_private(&data_dir.join(TOKEN_FILE), &token).map_err(|source| {
        ServeError::Io {
            action: "write the API token file",
            source,
        }
    })?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|source| ServeError::Io {
            action: "listen on 127.0.0.1 for the API (is the port taken? pass --api-port)",
            source,
        })?;
    let address = listener.local_addr().map_err(|source| ServeError::Io {
        action: "read the API address",
        source,
    })?;
    crate::daemon::write_private(&data_dir.join(ADDR_FILE), &address.to_string()).map_err(
        |source| ServeError::Io {
            action: "write the API address file",
            source,
        },
    )?;
    let app = router(token, commands, metrics.clone(), reads, address);
    tokio::spawn(listener::serve_bounded(listener, app, limits, metrics));
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
        assert_eq!(new_token().len(), 64);
    }
}
