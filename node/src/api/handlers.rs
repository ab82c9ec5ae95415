//! The API's routes: each parses its input, asks the driver, and answers JSON (or HTML).

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use myco_dna::{ActionHash, DnaHash, KeyHash, Visibility};
use myco_zomes::membership::Profile;

use super::types::{
    ApproveRequest, DecideRequest, DeleteRequest, EditRequest, Edited, Forgotten, InvitationView,
    InviteRequest, JoinRequest, LookupView, PodSummary, ProfileRequestBody, ProposeRequest,
    PublishRequest, RecordView, StatusView, VoteRequest, Written, DEFAULT_INVITATION_DAYS,
    MAX_INVITATION_DAYS,
};
use super::{ApiError, ApiJson, AppState};
use crate::daemon::writes::{self, Write};
use crate::daemon::Command;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(status))
        .route("/pods", get(list_pods).post(create_pod))
        .route("/pods/join", post(join_pod))
        .route("/pods/{pod}/state", get(pod_state))
        .route("/pods/{pod}/page", get(pod_page))
        .route("/pods/{pod}/content", post(publish))
        .route("/pods/{pod}/content/{hash}", post(edit))
        .route("/pods/{pod}/profile", post(set_profile))
        .route("/pods/{pod}/proposals", post(propose))
        .route("/pods/{pod}/votes", post(vote))
        .route("/pods/{pod}/decisions", post(decide))
        .route("/pods/{pod}/approvals", post(approve))
        .route("/pods/{pod}/delete", post(delete))
        .route("/pods/{pod}/invitations", post(invite))
        .route("/pods/{pod}/forget", post(forget))
        .merge(super::community::routes())
        .route("/records/{hash}", get(record))
        .route("/lookup/{key}", get(lookup))
        .route("/metrics", get(metrics))
}

pub(super) fn parse<T: FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("`{text}` is not a valid {what}")))
}

pub(super) fn visibility(text: &str) -> Result<Visibility, ApiError> {
    writes::parse_visibility(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "visibility `{text}` is not one of public, pod, private"
        ))
    })
}

async fn status(State(state): State<AppState>) -> Result<Json<StatusView>, ApiError> {
    Ok(Json(state.ask(Command::Status).await?))
}

async fn list_pods(State(state): State<AppState>) -> Result<Json<Vec<PodSummary>>, ApiError> {
    Ok(Json(state.ask(Command::ListPods).await?))
}

async fn host(
    state: &AppState,
    request: JoinRequest,
    create: bool,
) -> Result<Json<PodSummary>, ApiError> {
    let proof = hex::decode(request.membrane_proof_hex.trim())
        .map_err(|e| ApiError::bad_request(format!("membrane_proof_hex is not hex ({e}): pass the invitation exactly as `myco pod invite` printed it")))?;
    let reply = state
        .ask(|reply| Command::JoinPod {
            manifest: request.manifest,
            membrane_proof: proof,
            create,
            archivist: request.archivist,
            reply,
        })
        .await?;
    reply.map(Json).map_err(ApiError::from)
}

async fn create_pod(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<JoinRequest>,
) -> Result<Json<PodSummary>, ApiError> {
    host(&state, request, true).await
}

async fn join_pod(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<JoinRequest>,
) -> Result<Json<PodSummary>, ApiError> {
    host(&state, request, false).await
}

/// `POST /pods/{pod}/forget`: stops hosting a pod this agent never joined (a refused join).
async fn forget(
    State(state): State<AppState>,
    Path(pod): Path<String>,
) -> Result<Json<Forgotten>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    state
        .ask(|reply| Command::ForgetPod { pod, reply })
        .await?
        .map_err(ApiError::from)?;
    Ok(Json(Forgotten {
        forgotten: pod.to_string(),
    }))
}

pub(super) async fn write(
    state: &AppState,
    pod: DnaHash,
    write: Write,
) -> Result<Json<Written>, ApiError> {
    let hash = state
        .ask(|reply| Command::Author { pod, write, reply })
        .await?
        .map_err(ApiError::from)?;
    Ok(Json(Written {
        pod: pod.to_string(),
        hash: hash.to_string(),
    }))
}

async fn publish(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<PublishRequest>,
) -> Result<Json<Written>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let visibility = visibility(&request.visibility)?;
    write(
        &state,
        pod,
        Write::Content {
            request: Box::new(request),
            visibility,
        },
    )
    .await
}

/// `POST /pods/{pod}/content/{hash}`: replaces the author's content `hash` with a new
/// version (an Update); every field left out keeps the current version's value. Narrowing its
/// visibility or consent purges the old version wherever it may no longer be held.
async fn edit(
    State(state): State<AppState>,
    Path((pod, target)): Path<(String, String)>,
    ApiJson(changes): ApiJson<EditRequest>,
) -> Result<Json<Edited>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let target: ActionHash = parse(&target, "record hash (act_…)")?;
    if let Some(text) = &changes.visibility {
        visibility(text)?;
    }
    let Json(written) = write(
        &state,
        pod,
        Write::Revise {
            target,
            changes: Box::new(changes),
        },
    )
    .await?;
    Ok(Json(Edited {
        pod: written.pod,
        replaces: target.to_string(),
        hash: written.hash,
    }))
}

async fn set_profile(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<ProfileRequestBody>,
) -> Result<Json<Written>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let visibility = match &request.visibility {
        Some(v) => visibility(v)?,
        None if request.profile_public => Visibility::Public,
        None => Visibility::Pod,
    };
    let profile = Profile {
        username: request.username,
        display_name: request.display_name,
        bio: request.bio,
        avatar: None,
        profile_public: request.profile_public,
        contact: None,
    };
    write(
        &state,
        pod,
        Write::Profile {
            profile,
            visibility,
        },
    )
    .await
}

async fn propose(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<ProposeRequest>,
) -> Result<Json<Written>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let member = request
        .member
        .as_deref()
        .map(|m| parse::<KeyHash>(m, "key hash (kh_…)"))
        .transpose()?;
    let role = request
        .role
        .as_deref()
        .map(|r| {
            writes::parse_role(r).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "role `{r}` is not one of steward, manager, treasurer, archivist"
                ))
            })
        })
        .transpose()?;
    let policy = myco_zomes::governance::PolicyChange {
        min_creator_share_bp: request.min_creator_share_bp.map(myco_dna::BasisPoints),
        threshold_bp: request.threshold_bp.map(myco_dna::BasisPoints),
        add_required_principles: request.add_principles,
        restrict_regions: (!request.restrict_regions.is_empty())
            .then_some(request.restrict_regions),
    };
    let replica = writes::ReplicaArgs {
        node: request.node,
        decision: request
            .decision
            .as_deref()
            .map(|d| parse::<myco_dna::ActionHash>(d, "decision (act_…)"))
            .transpose()?,
        retention_days: request.retention_days,
    };
    let kind = writes::proposal_kind(&request.kind, member, role, request.detail, policy, replica)
        .map_err(ApiError::bad_request)?;
    write(
        &state,
        pod,
        Write::Propose {
            kind,
            text: request.text,
            checkpoint: None,
        },
    )
    .await
}

async fn vote(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<VoteRequest>,
) -> Result<Json<Written>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let proposal: ActionHash = parse(&request.proposal, "proposal hash (act_…)")?;
    let choice = writes::parse_choice(&request.choice).ok_or_else(|| {
        ApiError::bad_request(format!(
            "choice `{}` is not one of yes, no, abstain",
            request.choice
        ))
    })?;
    write(&state, pod, Write::Vote { proposal, choice }).await
}

async fn decide(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<DecideRequest>,
) -> Result<Json<Written>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let proposal: ActionHash = parse(&request.proposal, "proposal hash (act_…)")?;
    write(&state, pod, Write::Decide { proposal }).await
}

async fn approve(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<ApproveRequest>,
) -> Result<Json<Written>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let content: ActionHash = parse(&request.content, "content hash (act_…)")?;
    let grant = request
        .grant
        .as_deref()
        .map(|g| parse::<ActionHash>(g, "decision hash (act_…)"))
        .transpose()?;
    write(
        &state,
        pod,
        Write::Approve {
            content,
            protocol: request.protocol,
            grant,
        },
    )
    .await
}

async fn delete(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<DeleteRequest>,
) -> Result<Json<Written>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let target: ActionHash = parse(&request.target, "record hash (act_…)")?;
    write(&state, pod, Write::Delete { target }).await
}

async fn invite(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<InviteRequest>,
) -> Result<Json<InvitationView>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let invitee: KeyHash = parse(&request.invitee, "key hash (kh_…)")?;
    let days = request.days.unwrap_or(DEFAULT_INVITATION_DAYS);
    if days == 0 || days > MAX_INVITATION_DAYS {
        return Err(ApiError::bad_request(format!(
            "days is {days}; an invitation holds 1 to {MAX_INVITATION_DAYS} days"
        )));
    }
    let grant = request
        .grant
        .as_deref()
        .map(|g| parse::<ActionHash>(g, "decision hash (act_…)"))
        .transpose()?;
    let reply = state
        .ask(|reply| Command::Invite {
            pod,
            invitee,
            days,
            grant,
            reply,
        })
        .await?;
    reply.map(Json).map_err(ApiError::from)
}

async fn pod_state(
    State(state): State<AppState>,
    Path(pod): Path<String>,
) -> Result<Response, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let folded = super::figures::figures(&state, pod).await?;
    Ok(Json(&*folded.view).into_response())
}

async fn pod_page(
    State(state): State<AppState>,
    Path(pod): Path<String>,
) -> Result<Html<String>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let folded = super::figures::figures(&state, pod).await?;
    Ok(Html(super::page::render(&folded)))
}

async fn record(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<RecordView>, ApiError> {
    let hash: ActionHash = parse(&hash, "record hash (act_…)")?;
    Ok(Json(
        state.ask(|reply| Command::Record { hash, reply }).await?,
    ))
}

async fn lookup(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<LookupView>, ApiError> {
    let key: KeyHash = parse(&key, "key hash (kh_…)")?;
    let view = state.ask(|reply| Command::Lookup { key, reply }).await?;
    if view.found {
        crate::daemon::metrics::Metrics::inc(&state.metrics.lookups_ok_total);
    } else {
        crate::daemon::metrics::Metrics::inc(&state.metrics.lookups_failed_total);
    }
    Ok(Json(view))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
