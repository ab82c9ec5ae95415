//! Value: what each member earned from the value recorded on their stories and what was paid
//! out to them, per currency, with a plot of what was distributed; and the storyteller's own
//! dashboard, their figures, earnings and stories.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{html, Markup};
use myco_dna::{DnaHash, KeyHash};
use serde::Deserialize;

use super::plots::bars;
use super::stories::feed_section;
use super::{layout, parse, PageError};
use crate::api::figures::figures;
use crate::api::page::dashboard_table;
use crate::api::reads::{dna_of, store_error, usernames};
use crate::api::types::StatementView;
use crate::api::{ApiError, ApiQuery, AppState};
use crate::daemon::Command;

/// Most members a value plot shows (those paid most).
const PLOTTED_MEMBERS: usize = 20;

async fn statement(
    state: &AppState,
    pod: DnaHash,
    member: Option<KeyHash>,
) -> Result<StatementView, PageError> {
    let answer = state
        .ask(|reply| Command::ValueStatement { pod, member, reply })
        .await?;
    Ok(answer.map_err(ApiError::from)?)
}

async fn names_of(state: &AppState, pod: DnaHash) -> Result<BTreeMap<KeyHash, String>, PageError> {
    Ok(state
        .reads
        .with(move |reader| usernames(reader, &pod).map_err(store_error))
        .await?)
}

fn name(names: &BTreeMap<KeyHash, String>, member: &str) -> String {
    let known = member
        .parse::<KeyHash>()
        .ok()
        .and_then(|k| names.get(&k).cloned());
    super::who(known.as_deref(), member)
}

/// The statement's table and, per currency, a plot of what was paid out to whom.
fn statement_body(view: &StatementView, names: &BTreeMap<KeyHash, String>) -> Markup {
    let mut currencies: BTreeMap<&str, Vec<(String, u64)>> = BTreeMap::new();
    for line in &view.members {
        for (currency, balance) in &line.currencies {
            currencies
                .entry(currency)
                .or_default()
                .push((name(names, &line.member), balance.paid));
        }
    }
    for paid in currencies.values_mut() {
        paid.sort_by_key(|(_, amount)| std::cmp::Reverse(*amount));
        paid.truncate(PLOTTED_MEMBERS);
    }
    html! {
        p {
            (view.events) " value event(s) recorded, " (view.distributions) " distributed"
            @if !view.undistributed.is_empty() { ", " (view.undistributed.len()) " waiting to be paid out" } "."
        }
        @for (currency, paid) in &currencies {
            (bars(&format!("Value distributed, by member ({currency})"), paid))
        }
        table {
            thead { tr { th scope="col" { "Member" } th scope="col" { "Currency" } th scope="col" { "Earned" } th scope="col" { "Paid" } th scope="col" { "Owed" } } }
            tbody {
                @if view.members.is_empty() { tr { td colspan="5" { "nothing recorded yet" } } }
                @for line in &view.members {
                    @for (currency, balance) in &line.currencies {
                        tr {
                            td { (name(names, &line.member)) } td { (currency) }
                            td { (balance.earned) } td { (balance.paid) } td { (balance.earned.saturating_sub(balance.paid)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /app/pods/{pod}/value`: the pod's value statement.
pub(super) async fn value(
    State(state): State<AppState>,
    Path(pod): Path<String>,
) -> Result<Html<String>, PageError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let dna = dna_of(&state, pod).await?;
    let view = statement(&state, pod, None).await?;
    let names = names_of(&state, pod).await?;
    let body = html! {
        p { "Each member's node computes this from the pod's signed value events and distributions: a story's revenue share decides each payout, and no payout may give its creator less than the pod's floor." }
        (statement_body(&view, &names))
    };
    Ok(Html(
        layout::pod_page(&format!("Value in {}", dna.name), &pod.to_string(), body).into_string(),
    ))
}

/// The query of the dashboard: the cursor of its stories.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DashboardParams {
    before: Option<String>,
}

/// `GET /app/pods/{pod}/dashboard`: this node's storyteller in the pod.
pub(super) async fn dashboard(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiQuery(params): ApiQuery<DashboardParams>,
) -> Result<Html<String>, PageError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let dna = dna_of(&state, pod).await?;
    let me = state.reads.me();
    let counted = figures(&state, pod).await?;
    let mine = statement(&state, pod, Some(me)).await?;
    let stories = feed_section(&state, pod, params.before.as_deref(), true).await?;
    let view = &counted.view;
    let body = html! {
        (dashboard_table(&view.dashboard, &view.names))
        p class="meta" {
            "Counted on " (crate::dates::micros_as_date(view.folded_micros)) "."
            @if counted.stale { " Newer records are being counted: reload in a moment." }
        }
        h2 { "What you earned" }
        (statement_body(&mine, &view.names))
        h2 { "Your stories" }
        (stories)
    };
    Ok(Html(
        layout::pod_page(
            &format!("My dashboard in {}", dna.name),
            &pod.to_string(),
            body,
        )
        .into_string(),
    ))
}
