//! The web app: pages for the people in a pod who would rather use a browser than a terminal,
//! served by the daemon on the local API (no build step, no script). A browser signs in with
//! the link `myco pod page` prints and reads on its session ([`super::session`]).
//!
//! | path | page |
//! |---|---|
//! | `/app` | my pods |
//! | `/app/pods/{pod}?before=act_…` | the pod's feed, a page at a time |
//! | `/app/stories/{hash}?comments_after=act_…` | one story: text, consent, share, approval, versions, responses, receipts |
//!
//! Pages are built from the same indexed reads as the API's JSON ([`super::reads`]), so each
//! costs its page. Every value a member wrote is escaped by the templates ([`maud`]); members
//! are shown by the username the viewer's node holds, and times as dates.

mod layout;

pub(super) use layout::page;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use myco_dna::{ActionHash, DnaHash};
use serde::Deserialize;

use super::reads::{dna_of, feed_page, load_story, store_error, DEFAULT_FEED_PAGE};
use super::types::PodSummary;
use super::views::StoryView;
use super::{ApiError, ApiQuery, AppState};
use crate::daemon::Command;
use crate::store::FeedQuery;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(my_pods))
        .route("/app/pods/{pod}", get(pod_feed))
        .route("/app/stories/{hash}", get(story))
}

/// An error, as a page a person reads.
struct PageError(ApiError);

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
            html! { p { (self.0.message) } p { a href="/app" { "Back to my pods" } } },
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
                thead { tr { th scope="col" { "Pod" } th scope="col" { "Peers" } th scope="col" { "You" } } }
                tbody {
                    @for pod in &pods {
                        tr {
                            td { a href={ "/app/pods/" (pod.dna_hash) } { (pod.name) } }
                            td { (pod.peers) }
                            td {
                                @if pod.joined { "member" } @else { "not a member" }
                                @if let Some(warning) = &pod.warning { br; strong { (warning) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(layout::page("My pods", body).into_string()))
}

/// The query of a feed page.
#[derive(Debug, Default, Deserialize)]
struct FeedPageParams {
    before: Option<String>,
}

async fn pod_feed(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiQuery(params): ApiQuery<FeedPageParams>,
) -> Result<Html<String>, PageError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let before = params
        .before
        .as_deref()
        .map(|b| parse::<ActionHash>(b, "record hash (act_…)"))
        .transpose()?;
    let dna = dna_of(&state, pod).await?;
    let query = FeedQuery {
        before,
        limit: DEFAULT_FEED_PAGE,
        ..FeedQuery::default()
    };
    let feed = state
        .reads
        .with(move |reader| feed_page(reader, pod, &query).map_err(store_error))
        .await?;
    let body = html! {
        p class="meta" { a href={ "/pods/" (pod) "/page" } { "Transparency page" } }
        @if feed.items.is_empty() {
            p { "No stories you may see here yet." }
        }
        @for item in &feed.items {
            article class="story" {
                h2 { a href={ "/app/stories/" (item.hash) } { (item.title) } }
                p class="meta" {
                    (item.kind) " by " (who(item.author_name.as_deref(), &item.author))
                    " on " (date(item.published_micros)) " · " (item.visibility)
                    " · " (item.versions) " version(s), " (item.comments) " comment(s), "
                    (item.reactions) " reaction(s)"
                }
                @if !item.excerpt.is_empty() { p { (item.excerpt) } }
            }
        }
        @if let Some(next) = &feed.next_before {
            a class="next" href={ "/app/pods/" (pod) "?before=" (next) } { "Older stories" }
        }
    };
    Ok(Html(layout::page(&dna.name, body).into_string()))
}

/// The query of a story page.
#[derive(Debug, Default, Deserialize)]
struct StoryPageParams {
    comments_after: Option<String>,
}

async fn story(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    ApiQuery(params): ApiQuery<StoryPageParams>,
) -> Result<Html<String>, PageError> {
    let hash: ActionHash = parse(&hash, "record hash (act_…)")?;
    let after = params
        .comments_after
        .as_deref()
        .map(|a| parse::<ActionHash>(a, "record hash (act_…)"))
        .transpose()?;
    let view = load_story(&state, hash, after).await?;
    let title = if view.held {
        view.title.clone()
    } else if view.deleted {
        "A deleted story".to_string()
    } else {
        "A story this node may not show".to_string()
    };
    Ok(Html(layout::page(&title, story_body(&view)).into_string()))
}

fn story_body(s: &StoryView) -> Markup {
    let consents: Vec<&str> = s
        .consent
        .iter()
        .flat_map(|c| {
            [
                ("public sharing", c.public_sharing),
                ("community sharing", c.community_sharing),
                ("AI analysis", c.ai_analysis),
                ("commercial use", c.commercial_use),
                ("attribution required", c.attribution_required),
                ("modification allowed", c.modification_allowed),
            ]
        })
        .filter(|(_, on)| *on)
        .map(|(name, _)| name)
        .collect();
    html! {
        p class="meta" {
            (s.kind) " by " (who(s.author_name.as_deref(), &s.author)) " · " (s.visibility)
            " · " a href={ "/app/pods/" (s.pod) } { "back to the pod" }
        }
        @if s.held { div class="body" { (s.body) } }
        h2 { "Consent" }
        @if s.consent.is_some() {
            p { @if consents.is_empty() { "Nothing beyond what the visibility needs." } @else { (consents.join(", ")) } }
        } @else {
            p { "Not held on this node." }
        }
        h2 { "Revenue share" }
        ul { @for share in &s.revenue_share {
            li { (share.recipient) ": " (share.bp / 100) "." (format!("{:02}", share.bp % 100)) "%" }
        } }
        h2 { "Approval" }
        p { (s.approval.status) }
        h2 { "Versions" }
        table {
            thead { tr { th scope="col" { "Written" } th scope="col" { "Visibility" } th scope="col" { "Text here" } th scope="col" { "Title" } } }
            tbody { @for v in &s.versions {
                tr { td { (date(v.micros)) } td { (v.visibility) } td { (v.entry) } td { (v.title.as_deref().unwrap_or("")) } }
            } }
        }
        h2 { "Reactions" }
        p {
            (s.reactions.total) " in all"
            @for (kind, count) in &s.reactions.counts { " · " (kind) " " (count) }
        }
        h2 { "Comments (" (s.comments_total) ")" }
        @for c in &s.comments {
            article class="story" {
                p class="meta" { (who(c.author_name.as_deref(), &c.author)) " on " (date(c.micros)) }
                div class="body" { (c.body) }
            }
        }
        @if let Some(next) = &s.next_comments_after {
            a class="next" href={ "/app/stories/" (s.hash) "?comments_after=" (next) } { "More comments" }
        }
        @if !s.receipts.revocations.is_empty() {
            h2 { "Erasure" }
            p { (s.receipts.confirmed.len()) " receipt(s) confirmed, " (s.receipts.owed.len()) " still owed." }
            ul {
                @for r in &s.receipts.confirmed { li { "Confirmed by " (r.member) " on " (date(r.purged_micros)) } }
                @for m in &s.receipts.owed { li { "Still owed by " (m) } }
            }
            p class="meta" { (s.receipts.note) }
        }
        p class="meta" { "Shown " (s.views_here) " time(s) on this node; the count never leaves it." }
    }
}
