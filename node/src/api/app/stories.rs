//! The feed of a pod and one story, with what its author can do to it: edit it, change or
//! revoke its consent, delete it; and what everyone sees of its erasure: the receipts.

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{html, Markup};
use myco_dna::{ActionHash, DnaHash};
use serde::Deserialize;

use super::form::{button, Csrf};
use super::{date, layout, parse, who, PageError};
use crate::api::reads::{dna_of, feed_page, load_story, store_error, DEFAULT_FEED_PAGE};
use crate::api::types::ConsentBody;
use crate::api::views::{ConsentView, StoryView};
use crate::api::{ApiQuery, AppState};
use crate::store::FeedQuery;

/// The query of a feed page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct FeedPageParams {
    before: Option<String>,
}

/// `GET /app/pods/{pod}`: the stories this node may show, newest first, a page at a time.
pub(super) async fn pod_feed(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiQuery(params): ApiQuery<FeedPageParams>,
) -> Result<Html<String>, PageError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let dna = dna_of(&state, pod).await?;
    let body = feed_section(&state, pod, params.before.as_deref(), false).await?;
    Ok(Html(
        layout::pod_page(&dna.name, &pod.to_string(), body).into_string(),
    ))
}

/// A page of the feed (only this node's own stories when `mine`), with the link to the next.
pub(super) async fn feed_section(
    state: &AppState,
    pod: DnaHash,
    before: Option<&str>,
    mine: bool,
) -> Result<Markup, PageError> {
    let before = before
        .map(|b| parse::<ActionHash>(b, "record hash (act_…)"))
        .transpose()?;
    let query = FeedQuery {
        before,
        limit: DEFAULT_FEED_PAGE,
        author: mine.then(|| state.reads.me()),
        ..FeedQuery::default()
    };
    let feed = state
        .reads
        .with(move |reader| feed_page(reader, pod, &query).map_err(store_error))
        .await?;
    let here = if mine { "/dashboard" } else { "" };
    Ok(html! {
        @if feed.items.is_empty() {
            p { "No stories you may see here yet. " a href={ "/app/pods/" (pod) "/publish" } { "Publish one" } "." }
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
            a class="next" href={ "/app/pods/" (pod) (here) "?before=" (next) } { "Older stories" }
        }
    })
}

/// The query of a story page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct StoryPageParams {
    comments_after: Option<String>,
}

/// `GET /app/stories/{hash}`: one story (any version's hash leads to it).
pub(super) async fn story(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    ApiQuery(params): ApiQuery<StoryPageParams>,
    csrf: Csrf,
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
    let mine = view.author == state.reads.me().to_string();
    let body = html! {
        (story_body(&view))
        @if mine && !view.deleted { (author_actions(&view, &csrf)) }
    };
    Ok(Html(
        layout::pod_page(&title, &view.pod, body).into_string(),
    ))
}

/// The names of the consent flags a person reads, in [`ConsentBody::FLAGS`] order.
pub(super) const CONSENT_NAMES: [&str; 6] = [
    "public sharing",
    "community sharing",
    "AI analysis",
    "commercial use",
    "attribution required",
    "modification allowed",
];

/// The flags `consent` grants, by name.
pub(super) fn granted(consent: &ConsentView) -> Vec<&'static str> {
    let flags = [
        consent.public_sharing,
        consent.community_sharing,
        consent.ai_analysis,
        consent.commercial_use,
        consent.attribution_required,
        consent.modification_allowed,
    ];
    CONSENT_NAMES
        .iter()
        .zip(flags)
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect()
}

fn author_actions(s: &StoryView, csrf: &Csrf) -> Markup {
    let latest = &s.latest;
    html! {
        section aria-labelledby="yours" {
            h2 id="yours" { "Your story" }
            p {
                a id="edit" href={ "/app/stories/" (latest) "/edit" } { "Edit it, or change its consent" }
                ". Narrowing its visibility or consent revokes the wider copies: every member's node purges them and files a receipt."
            }
            (button(csrf, "revoke", &format!("/app/stories/{latest}/revoke"), "Revoke: keep it to myself", html! {}))
            (button(csrf, "delete", &format!("/app/stories/{latest}/delete"), "Delete it everywhere", html! {}))
            p class="meta" { "Revoking makes it private and withdraws every consent; deleting purges all its versions, comments and reactions. Receipts from the members' nodes appear below." }
        }
    }
}

fn story_body(s: &StoryView) -> Markup {
    html! {
        p class="meta" {
            (s.kind) " by " (who(s.author_name.as_deref(), &s.author)) " · " (s.visibility)
            @if s.deleted { " · deleted" }
        }
        @if s.held { div class="body" { (s.body) } }
        h2 { "Consent" }
        @if let Some(consent) = &s.consent {
            @let names = granted(consent);
            p { @if names.is_empty() { "Nothing beyond what the visibility needs." } @else { (names.join(", ")) } }
        } @else {
            p { "Not held on this node." }
        }
        @if !s.principles.is_empty() {
            p class="meta" { "Affirms: " (s.principles.join(", ")) }
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
            p id="receipts" { (s.receipts.confirmed.len()) " receipt(s) confirmed, " (s.receipts.owed.len()) " still owed." }
            ul {
                @for r in &s.receipts.confirmed { li { "Confirmed by " (r.member) " on " (date(r.purged_micros)) } }
                @for m in &s.receipts.owed { li { "Still owed by " (m) } }
            }
            p class="meta" { (s.receipts.note) }
        }
        p class="meta" { "Shown " (s.views_here) " time(s) on this node; the count never leaves it." }
    }
}

/// The consent a form's ticked boxes grant.
pub(super) fn consent_of(ticked: impl Fn(&str) -> bool) -> ConsentBody {
    let mut consent = ConsentBody::default();
    for flag in ConsentBody::FLAGS {
        if let Some(on) = consent.flag_mut(flag) {
            *on = ticked(flag);
        }
    }
    consent
}
