//! Signing a browser in to the local API, so a person can open the transparency page.
//!
//! A browser cannot send `Authorization: Bearer`, so `myco pod page POD` prints a link to
//! `GET /login?token=…&next=/pods/POD/page` (as Jupyter does). `/login` checks the token,
//! sets it as an `HttpOnly`, `SameSite=Strict` cookie and redirects to `next`, so the token
//! leaves the address bar at once. The cookie is accepted for reads only (`GET` and `HEAD`):
//! every write still needs the bearer header, so no web page can make the browser write.
//! The cookie dies with the token when the daemon restarts.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{same_secret, ApiError, AppState};
use crate::daemon::metrics::Metrics;

/// The cookie that carries the token in a browser.
pub const COOKIE: &str = "myco_session";
/// The sign-in path; it needs no token of its own.
pub const LOGIN_PATH: &str = "/login";

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

/// Whether `next` is a path on this API, and not a way to send the browser elsewhere.
fn local_path(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.contains('\\')
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
    if !local_path(&next) {
        return ApiError::bad_request(format!(
            "`next` must be a path on this API, such as /pods/dna_…/page, not {next:?}"
        ))
        .into_response();
    }
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        state.token
    );
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, next), (header::SET_COOKIE, cookie)],
    )
        .into_response()
}

/// Whether a request may read with the session cookie: a `GET` or `HEAD` whose
/// `myco_session` cookie holds the token.
pub(super) fn cookie_allows(method: &Method, headers: &HeaderMap, token: &str) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == COOKIE && same_secret(value.as_bytes(), token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_api_are_followed() {
        assert!(local_path("/pods/dna_x/page"));
        assert!(!local_path("//evil.example/page"));
        assert!(!local_path("https://evil.example/"));
        assert!(!local_path("/\\evil.example"));
        assert!(!local_path(""));
    }

    #[test]
    fn the_cookie_allows_reads_only_and_only_with_the_token() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; myco_session=abc".parse().expect("header"),
        );
        assert!(cookie_allows(&Method::GET, &headers, "abc"));
        assert!(cookie_allows(&Method::HEAD, &headers, "abc"));
        assert!(!cookie_allows(&Method::POST, &headers, "abc"));
        assert!(!cookie_allows(&Method::GET, &headers, "abd"));
        assert!(!cookie_allows(&Method::GET, &HeaderMap::new(), "abc"));
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
