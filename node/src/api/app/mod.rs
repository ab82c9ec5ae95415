//! The web app: pages for the people in a pod who would rather use a browser than a terminal,
//! served by the daemon on the local API, with no build step and no script. A browser signs
//! in with the link `myco pod page` prints ([`super::session`]); its forms carry the
//! session's CSRF token in a hidden field ([`form`]).
//!
//! | path | page |
//! |---|---|
//! | `/app` | my pods |
//! | `/app/pods/{pod}?before=act_…` | the pod's stories, a page at a time |
//! | `/app/pods/{pod}/publish` | publish: text, visibility, consent, principles, protocols |
//! | `/app/stories/{hash}` | one story: text, consent, share, approval, versions, responses, receipts |
//! | `/app/stories/{hash}/edit` | a new version; narrowing it revokes the wider copies |
//! | `POST /app/stories/{hash}/revoke`, `/delete` | revoke (private, no consent), delete everywhere |
//! | `/app/pods/{pod}/proposals`, `/app/proposals/{hash}` | proposals, participation, votes; vote and decide |
//! | `/app/pods/{pod}/value` | the value statement, and what was distributed |
//! | `/app/pods/{pod}/dashboard` | my figures, earnings and stories |
//! | `/pods/{pod}/page` | the transparency page ([`super::page`]) |
//!
//! Pages are built from the same indexed reads as the API's JSON ([`super::reads`]) and the
//! kept figures ([`super::figures`]), a page at a time. Every value a member wrote is escaped
//! by the templates ([`maud`]); members are shown by the username the viewer's node holds,
//! and times as dates.

mod form;
mod layout;
pub(super) mod plots;
mod proposals;
mod publish;
mod stories;
mod value;

pub(super) use layout::pod_page;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;

use super::types::PodSummary;
use super::{ApiError, AppState};
use crate::daemon::Command;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(my_pods))
        .route("/app/pods/{pod}", get(stories::pod_feed))
        .route(
            "/app/pods/{pod}/publish",
            get(publish::publish_form).post(publish::publish),
        )
        .route("/app/pods/{pod}/proposals", get(proposals::proposals))
        .route("/app/pods/{pod}/value", get(value::value))
        .route("/app/pods/{pod}/dashboard", get(value::dashboard))
        .route("/app/stories/{hash}", get(stories::story))
        .route(
            "/app/stories/{hash}/edit",
            get(publish::edit_form).post(publish::edit),
        )
        .route("/app/stories/{hash}/revoke", post(publish::revoke))
        .route("/app/stories/{hash}/delete", post(publish::delete))
        .route("/app/proposals/{hash}", get(proposals::proposal))
        .route("/app/proposals/{hash}/vote", post(proposals::vote))
        .route("/app/proposals/{hash}/decide", post(proposals::decide))
}

/// An error, as a page a person reads.
#[derive(Debug)]
pub(crate) struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        let body = layout::page(
            "Something went wrong",
            html! { p role="alert" { (self.0.message) } p { a href="/app" { "Back to my pods" } } },
        );
        (status, Html(body.into_string())).into_response()
    }
}

fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, PageError> {
    text.trim().parse().map_err(|_| {
        PageError(ApiError::bad_request(format!(
            "`{text}` is not a valid {what}"
        )))
    })
}

/// A member as a person reads them: their username where known, else the start of their
/// key hash.
fn who(name: Option<&str>, key_hash: &str) -> String {
    match name {
        Some(name) => name.to_string(),
        None => format!("{}…", key_hash.chars().take(11).collect::<String>()),
    }
}

fn date(micros: u64) -> String {
    crate::dates::micros_as_date(micros)
}

async fn my_pods(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let pods: Vec<PodSummary> = state.ask(Command::ListPods).await?;
    let body = html! {
        @if pods.is_empty() {
            p { "This node hosts no pod yet. Create or join one with " code { "myco pod create" } " or " code { "myco pod join" } "." }
        } @else {
            table {
                thead { tr { th scope="col" { "Pod" } th scope="col" { "Peers" } th scope="col" { "You" } th scope="col" { "Pages" } } }
                tbody {
                    @for pod in &pods {
                        tr {
                            td { a href={ "/app/pods/" (pod.dna_hash) } { (pod.name) } }
                            td { (pod.peers) }
                            td {
                                @if pod.joined { "member" } @else { "not a member" }
                                @if let Some(warning) = &pod.warning { br; strong { (warning) } }
                            }
                            td {
                                a href={ "/app/pods/" (pod.dna_hash) "/dashboard" } { "my dashboard" } " · "
                                a href={ "/app/pods/" (pod.dna_hash) "/proposals" } { "proposals" } " · "
                                a href={ "/pods/" (pod.dna_hash) "/page" } { "transparency" }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        (body)
        h2 { "Your data" }
        p {
            a href="/export" download="myco-export.json" { "Download everything about you" }
            " (one file with your stories in every pod, Private ones too, and each pod's rules;
            readable without Myco, checked with " code { "myco export verify" } ")"
        }
        p {
            a href="/backup" download="myco.backup" { "Download an encrypted backup" }
            " of this node (every story it holds, your key and your pods). Only your 24-word
            recovery phrase opens it; " code { "myco backup restore" } " brings it back on any
            machine, and your chains never fork."
        }
    };
    Ok(Html(layout::page("My pods", body).into_string()))
}
