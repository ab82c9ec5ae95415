//! The routes of a member's day beyond publishing: comments and reactions, value events,
//! distributions and the value statement, leaving, and the members list. Each parses its
//! input and asks the engine thread, which resolves what the write needs from its store.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use myco_dna::{ActionHash, DnaHash, KeyHash, Visibility};
use myco_zomes::value::MinorUnits;
use serde::Deserialize;

use super::handlers::{parse, visibility, write};
use super::types::{
    CommentRequest, DistributeRequest, Distributed, LeaveRequest, Left, MembersView, ReactRequest,
    StatementView, ValueEventRequest, Written,
};
use super::{ApiError, ApiJson, AppState};
use crate::daemon::{Command, Write};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/pods/{pod}/comments", post(comment))
        .route("/pods/{pod}/reactions", post(react))
        .route("/pods/{pod}/value/events", post(value_event))
        .route("/pods/{pod}/value/distributions", post(distribute))
        .route("/pods/{pod}/value/statement", get(statement))
        .route("/pods/{pod}/leave", post(leave))
        .route("/pods/{pod}/members", get(members))
}

fn pod_of(pod: &str) -> Result<DnaHash, ApiError> {
    parse(pod, "pod id (dna_…)")
}

fn narrowed(text: Option<&str>) -> Result<Option<Visibility>, ApiError> {
    text.map(visibility).transpose()
}

fn grant_of(grant: Option<&str>) -> Result<Option<ActionHash>, ApiError> {
    grant
        .map(|g| parse::<ActionHash>(g, "decision hash (act_…)"))
        .transpose()
}

/// `POST /pods/{pod}/comments`: a comment with the content's visibility unless narrowed.
async fn comment(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> Result<Json<Written>, ApiError> {
    let comment = Write::Comment {
        content: parse(&request.content, "content hash (act_…)")?,
        text: request.body,
        visibility: narrowed(request.visibility.as_deref())?,
    };
    write(&state, pod_of(&pod)?, comment).await
}

/// `POST /pods/{pod}/reactions`: a reaction with the content's visibility unless narrowed.
async fn react(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<ReactRequest>,
) -> Result<Json<Written>, ApiError> {
    let reaction = Write::React {
        content: parse(&request.content, "content hash (act_…)")?,
        reaction: request.reaction,
        visibility: narrowed(request.visibility.as_deref())?,
    };
    write(&state, pod_of(&pod)?, reaction).await
}

/// `POST /pods/{pod}/value/events`: revenue a content earned, by its creator or a treasurer.
async fn value_event(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<ValueEventRequest>,
) -> Result<Json<Written>, ApiError> {
    let event = Write::ValueEvent {
        content: parse(&request.content, "content hash (act_…)")?,
        amount: MinorUnits(request.amount),
        currency: request.currency.trim().to_string(),
        grant: grant_of(request.grant.as_deref())?,
    };
    write(&state, pod_of(&pod)?, event).await
}

/// `POST /pods/{pod}/value/distributions`: the payouts the revenue share and the benefit
/// model require, computed by the daemon.
async fn distribute(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<DistributeRequest>,
) -> Result<Json<Distributed>, ApiError> {
    let pod = pod_of(&pod)?;
    let event: ActionHash = parse(&request.event, "value event hash (act_…)")?;
    let grant = grant_of(request.grant.as_deref())?;
    let answer = state
        .ask(|reply| Command::Distribute {
            pod,
            event,
            grant,
            reply,
        })
        .await?;
    answer.map(Json).map_err(ApiError::from)
}

/// The query of `GET /pods/{pod}/value/statement`.
#[derive(Debug, Deserialize)]
struct StatementQuery {
    member: Option<String>,
}

/// `GET /pods/{pod}/value/statement[?member=kh_…]`.
async fn statement(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    Query(query): Query<StatementQuery>,
) -> Result<Json<StatementView>, ApiError> {
    let pod = pod_of(&pod)?;
    let member = query
        .member
        .as_deref()
        .map(|m| parse::<KeyHash>(m, "key hash (kh_…)"))
        .transpose()?;
    let answer = state
        .ask(|reply| Command::ValueStatement { pod, member, reply })
        .await?;
    answer.map(Json).map_err(ApiError::from)
}

/// `POST /pods/{pod}/leave`: a Leave record; this node writes nothing more in the pod.
async fn leave(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<LeaveRequest>,
) -> Result<Json<Left>, ApiError> {
    let pod = pod_of(&pod)?;
    let Json(written) = write(
        &state,
        pod,
        Write::Leave {
            reason: request.reason,
        },
    )
    .await?;
    Ok(Json(Left {
        note: format!(
            "this agent left pod {pod}: the node writes nothing more in it, and any write there is refused"
        ),
        pod: written.pod,
        hash: written.hash,
    }))
}

/// `GET /pods/{pod}/members`.
async fn members(
    State(state): State<AppState>,
    Path(pod): Path<String>,
) -> Result<Json<MembersView>, ApiError> {
    let pod = pod_of(&pod)?;
    let answer = state.ask(|reply| Command::Members { pod, reply }).await?;
    answer.map(Json).map_err(ApiError::from)
}
