//! Signing a browser in to the local API, safely.
//!
//! A browser cannot send `Authorization: Bearer`, so `myco pod page POD` prints a link to
//! `GET /login?token=…&next=/pods/POD/page` (as Jupyter does). `/login` checks the token and
//! opens a **session** of its own: a random id, never the API token, that expires after
//! [`SESSION_TTL`]. The id goes in an `HttpOnly`, `SameSite=Strict` cookie, and the browser is
//! sent on to `next`, so the token leaves the address bar at once.
//!
//! - A session reads (`GET`, `HEAD`). A write with it also needs the session's CSRF token:
//!   in the [`CSRF_HEADER`] header (`GET /session` gives it to a script), or, from one of
//!   the web app's HTML forms, in the hidden [`CSRF_FIELD`] the app's pages fill in.
//! - Every request whose `Host` or `Origin` is not the API's own address is refused
//!   (`own_origin`), `/login` included. Browsers send cookies to every port of a host,
//!   so a page from another local port could otherwise use the session; and a DNS-rebinding
//!   page names its own host.
//! - `next` must be one of this API's own paths (`app_path`); anything else gets `400`.
//! - Sessions die with the daemon: a restart needs a new link.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use super::{same_secret, ApiError, AppState};
use crate::daemon::metrics::Metrics;

/// The cookie that carries the session id in a browser.
pub const COOKIE: &str = "myco_session";
/// The sign-in path; it needs no token of its own.
pub const LOGIN_PATH: &str = "/login";
/// The path that tells a signed-in page its CSRF token.
pub const SESSION_PATH: &str = "/session";
/// The header a browser write carries its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-myco-csrf";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// Most sessions open at once; a new one past it ends the oldest.
pub const MAX_SESSIONS: usize = 64;

/// `/login`'s query: the token, and where to go once signed in.
#[derive(Debug, Deserialize, Serialize)]
pub struct Login {
    /// The API token.
    pub token: String,
    /// A path on this API, such as `/pods/dna_…/page`.
    #[serde(default)]
    pub next: Option<String>,
}

/// The link that signs a browser in and lands on `next`, for the API at `base`
/// (`http://127.0.0.1:PORT`).
pub fn login_link(base: &str, token: &str, next: &str) -> String {
    let query = serde_urlencoded::to_string(Login {
        token: token.to_string(),
        next: Some(next.to_string()),
    })
    .unwrap_or_default();
    format!("{base}{LOGIN_PATH}?{query}")
}

/// One signed-in browser.
struct Session {
    csrf: String,
    expires: Instant,
}

/// The open sessions, in memory: they end when the daemon stops.
#[derive(Default)]
pub struct Sessions(Mutex<BTreeMap<String, Session>>);

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Sessions {
    /// Opens a session at `now`; returns its id.
    fn open(&self, now: Instant) -> String {
        let id = random_hex();
        let Ok(mut sessions) = self.0.lock() else {
            return id;
        };
        sessions.retain(|_, s| s.expires > now);
        while sessions.len() >= MAX_SESSIONS {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(oldest) => sessions.remove(&oldest),
                None => break,
            };
        }
        sessions.insert(
            id.clone(),
            Session {
                csrf: random_hex(),
                expires: now + SESSION_TTL,
            },
        );
        id
    }

    /// The CSRF token of the live session `id`, if there is one.
    fn csrf_of(&self, id: &str, now: Instant) -> Option<String> {
        let sessions = self.0.lock().ok()?;
        sessions
            .iter()
            .find(|(known, s)| same_secret(known.as_bytes(), id.as_bytes()) && s.expires > now)
            .map(|(_, s)| s.csrf.clone())
    }
}

/// The session id a request's cookie names, if any.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// What a request's session cookie lets it do.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Grant {
    /// No live session, or a write without its CSRF token.
    Denied,
    /// A read with a live session, or a write carrying the session's CSRF token in the
    /// [`CSRF_HEADER`] header.
    Allowed,
    /// A write from an HTML form: allowed only if its body's [`CSRF_FIELD`] is this token.
    IfFormCarries(String),
}

/// What a request may do on its session cookie: read with a live session, write with that
/// session's CSRF token (in the header, or in the body of one of the app's forms).
pub(super) fn session_grant(
    sessions: &Sessions,
    method: &Method,
    headers: &HeaderMap,
    now: Instant,
) -> Grant {
    let Some(csrf) = session_id(headers).and_then(|id| sessions.csrf_of(&id, now)) else {
        return Grant::Denied;
    };
    if method == Method::GET || method == Method::HEAD {
        return Grant::Allowed;
    }
    match headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        Some(given) if same_secret(given.as_bytes(), csrf.as_bytes()) => Grant::Allowed,
        Some(_) => Grant::Denied,
        None if is_form(headers) => Grant::IfFormCarries(csrf),
        None => Grant::Denied,
    }
}

/// The hidden field every form of the web app carries its session's CSRF token in.
pub const CSRF_FIELD: &str = "csrf";

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// True if the form `body` carries `csrf` in its [`CSRF_FIELD`].
pub(super) fn form_carries(body: &[u8], csrf: &str) -> bool {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).is_ok_and(|fields| {
        fields.iter().any(|(name, value)| {
            name == CSRF_FIELD && same_secret(value.as_bytes(), csrf.as_bytes())
        })
    })
}

/// The CSRF token of the session a request's cookie names, for the forms of the pages it
/// gets (`None` for a client that signs its requests with the bearer token).
pub(super) fn csrf_of_request(sessions: &Sessions, headers: &HeaderMap) -> Option<String> {
    session_id(headers).and_then(|id| sessions.csrf_of(&id, Instant::now()))
}

/// Whether `Host` and `Origin`, where present, name the API's own address `own`
/// (`127.0.0.1:PORT` or `localhost:PORT`; a `Host` may leave the port out). `None` when
/// they do; otherwise why not.
pub(super) fn own_origin(headers: &HeaderMap, own: SocketAddr) -> Option<String> {
    let port = own.port();
    let hosts = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if let Some(host) = headers.get(header::HOST) {
        let host = host.to_str().unwrap_or("");
        // A loopback name without a port is a client's shorthand, not another site: a
        // rebinding page names its own host, and a browser always names the port.
        let bare = ["127.0.0.1", "localhost"];
        let own_host = hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
            || bare.iter().any(|h| h.eq_ignore_ascii_case(host));
        if !own_host {
            return Some(format!(
                "Host `{host}` is not this API's own address ({}): the API answers only requests made to it by that name",
                hosts[0]
            ));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !hosts
            .iter()
            .any(|h| origin.eq_ignore_ascii_case(&format!("http://{h}")))
        {
            return Some(format!(
                "Origin `{origin}` is not this API's own (http://{}): pages from other sites or local ports get nothing",
                hosts[0]
            ));
        }
    }
    None
}

/// Whether `next` is one of this API's own pages: a plain path under `/app`, `/pods` or
/// `/content`,
/// with nothing a browser could read as another site (`//`, `\`, white space or control
/// characters, which browsers drop before following a redirect).
fn app_path(next: &str) -> bool {
    let plain = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    let under = |root: &str| {
        next == root
            || next.starts_with(&format!("{root}/"))
            || next.starts_with(&format!("{root}?"))
    };
    plain && (under("/pods") || under("/app") || next.starts_with("/content/"))
}

pub(super) async fn login(State(state): State<AppState>, Query(login): Query<Login>) -> Response {
    if !same_secret(login.token.as_bytes(), state.token.as_bytes()) {
        Metrics::inc(&state.metrics.api_unauthorized_total);
        return ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: "wrong API token: the link is stale if the daemon restarted; run `myco pod page POD` for a new one".into(),
        }
        .into_response();
    }
    let next = login.next.unwrap_or_else(|| "/pods".into());
    if !app_path(&next) {
        return ApiError::bad_request(format!(
            "`next` must be one of this API's own pages, such as /pods/dna_…/page, not {next:?}"
        ))
        .into_response();
    }
    let id = state.sessions.open(Instant::now());
    let cookie = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_TTL.as_secs()
    );
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, next), (header::SET_COOKIE, cookie)],
    )
        .into_response()
}

/// `GET /session`: the CSRF token of the session the cookie names.
#[derive(Debug, Serialize, Deserialize)]
pub struct SessionView {
    /// Send it in the [`CSRF_HEADER`] header with every write.
    pub csrf: String,
}

pub(super) async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SessionView>, ApiError> {
    session_id(&headers)
        .and_then(|id| state.sessions.csrf_of(&id, Instant::now()))
        .map(|csrf| Json(SessionView { csrf }))
        .ok_or_else(|| ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: "no live session: sign in with the link `myco pod page POD` prints".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apps_own_pages_are_followed() {
        assert!(app_path("/pods/dna_x/page"));
        assert!(app_path("/pods"));
        assert!(app_path("/content/act_x"));
        assert!(app_path("/app"));
        assert!(app_path("/app/stories/act_x"));
        assert!(!app_path("/application"));
        assert!(!app_path("//evil.example/page"));
        assert!(!app_path("https://evil.example/"));
        assert!(!app_path("/\\evil.example"));
        assert!(!app_path("/\t/evil.example"));
        assert!(!app_path("/pods/\n/x"));
        assert!(!app_path("/metrics"));
        assert!(!app_path(""));
    }

    fn cookie(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("theme=dark; {COOKIE}={id}")
                .parse()
                .expect("header"),
        );
        headers
    }

    #[test]
    fn a_session_reads_writes_only_with_its_csrf_token_and_expires() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let id = sessions.open(now);
        let csrf = sessions.csrf_of(&id, now).expect("live");
        assert_ne!(csrf, id);
        let grant = |headers: &HeaderMap, method: &Method, at: Instant| {
            session_grant(&sessions, method, headers, at)
        };
        let mut headers = cookie(&id);
        assert_eq!(grant(&headers, &Method::GET, now), Grant::Allowed);
        assert_eq!(grant(&headers, &Method::POST, now), Grant::Denied);
        let mut form = headers.clone();
        form.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert_eq!(
            grant(&form, &Method::POST, now),
            Grant::IfFormCarries(csrf.clone())
        );
        assert!(form_carries(
            format!("title=a&csrf={csrf}").as_bytes(),
            &csrf
        ));
        assert!(!form_carries(b"title=a&csrf=wrong", &csrf));
        assert!(!form_carries(b"title=a", &csrf));
        headers.insert(CSRF_HEADER, "wrong".parse().unwrap());
        assert_eq!(grant(&headers, &Method::POST, now), Grant::Denied);
        headers.insert(CSRF_HEADER, csrf.parse().unwrap());
        assert_eq!(grant(&headers, &Method::POST, now), Grant::Allowed);
        assert_eq!(grant(&cookie("abc"), &Method::GET, now), Grant::Denied);
        assert_eq!(
            grant(&headers, &Method::GET, now + SESSION_TTL),
            Grant::Denied,
            "a session expires"
        );
    }

    #[test]
    fn at_most_so_many_sessions_are_open_and_the_oldest_goes_first() {
        let sessions = Sessions::default();
        let start = Instant::now();
        let first = sessions.open(start);
        for i in 1..=MAX_SESSIONS as u64 {
            sessions.open(start + Duration::from_secs(i));
        }
        assert!(sessions.csrf_of(&first, start).is_none());
    }

    #[test]
    fn only_the_apis_own_host_and_origin_pass() {
        let own: SocketAddr = "127.0.0.1:4100".parse().unwrap();
        let with = |name: header::HeaderName, value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, value.parse().unwrap());
            headers
        };
        assert!(own_origin(&HeaderMap::new(), own).is_none());
        assert!(own_origin(&with(header::HOST, "127.0.0.1:4100"), own).is_none());
        assert!(own_origin(&with(header::HOST, "localhost:4100"), own).is_none());
        assert!(own_origin(&with(header::HOST, "127.0.0.1"), own).is_none());
        assert!(own_origin(&with(header::HOST, "evil.example:4100"), own).is_some());
        assert!(own_origin(&with(header::HOST, "127.0.0.1:4101"), own).is_some());
        assert!(own_origin(&with(header::ORIGIN, "http://127.0.0.1:4100"), own).is_none());
        assert!(own_origin(&with(header::ORIGIN, "http://127.0.0.1:8080"), own).is_some());
        assert!(own_origin(&with(header::ORIGIN, "null"), own).is_some());
    }

    #[test]
    fn the_login_link_encodes_its_query() {
        let link = login_link("http://127.0.0.1:1", "t0k", "/pods/dna_x/page");
        assert_eq!(
            link,
            "http://127.0.0.1:1/login?token=t0k&next=%2Fpods%2Fdna_x%2Fpage"
        );
    }
}
