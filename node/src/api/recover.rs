//! `POST /recover` and `GET /recover`: rebuilding this agent's chains from its pods' peers,
//! for a data dir recreated from the recovery phrase (`myco recover`).
//!
//! `POST` makes the node wait for each pod's peers before it writes (as a restored data dir
//! does, kept in `restored.toml`), looks the agent's registry pointer up, fetches the DNA of
//! each pod it names that this node does not host from the pod's members, and hosts those
//! pods: sync then brings the agent's chain back, checked record by record, and no Genesis
//! is written where the peers hold one. `GET` says, pod by pod, whether the peers have
//! confirmed the chain, how much of it is here, and which Private records it holds without
//! their entry: those come back only from a backup.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use myco_dna::{ActionBody, AgentKey, DnaHash, KeyHash, Visibility};

use super::reads::store_error;
use super::types::{RecoverPod, RecoverStarted, RecoveryPodView, RecoveryView};
use super::{ApiError, AppState};
use crate::daemon::Command;
use crate::restored::RestoredMark;

/// Private records listed by hash in `GET /recover`, per pod.
const LISTED_UNFILLED: usize = 100;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/recover", get(progress).post(recover))
}

async fn recover(State(state): State<AppState>) -> Result<Json<RecoverStarted>, ApiError> {
    let agent: AgentKey = state.reads.agent();
    let key: KeyHash = agent.key_hash();
    let data_dir = state.reads.data_dir();
    let mark = RestoredMark::new("recovering with `myco recover`", crate::dates::now_micros());
    state
        .ask(|reply| Command::ExpectExistingChains {
            data_dir,
            mark,
            reply,
        })
        .await??;
    let hosted: Vec<DnaHash> = state
        .ask(Command::ListPods)
        .await?
        .iter()
        .filter_map(|p| p.dna_hash.parse().ok())
        .collect();
    let lookup = state.ask(|reply| Command::Lookup { key, reply }).await?;
    let named: Vec<DnaHash> = lookup
        .pods
        .iter()
        .filter_map(|p| p.dna_hash.parse().ok())
        .collect();
    let mut pods: Vec<RecoverPod> = hosted
        .iter()
        .map(|pod| RecoverPod {
            dna_hash: pod.to_string(),
            status: "hosted".into(),
            detail: None,
        })
        .collect();
    let wanted: Vec<DnaHash> = named
        .iter()
        .filter(|p| !hosted.contains(p))
        .copied()
        .collect();
    let fetched = state
        .ask(|reply| Command::FetchDnas {
            pods: wanted,
            reply,
        })
        .await?;
    for one in fetched {
        let outcome = match one.manifest {
            Ok(manifest) => state
                .ask(|reply| Command::JoinPod {
                    manifest,
                    membrane_proof: Vec::new(),
                    create: false,
                    archivist: false,
                    reply,
                })
                .await?
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(why) => Err(why),
        };
        pods.push(match outcome {
            Ok(()) => RecoverPod {
                dna_hash: one.pod.to_string(),
                status: "joined".into(),
                detail: None,
            },
            Err(why) => RecoverPod {
                dna_hash: one.pod.to_string(),
                status: "not_found".into(),
                detail: Some(why),
            },
        });
    }
    Ok(Json(RecoverStarted {
        key_hash: key.to_string(),
        pointer_found: lookup.found,
        pods,
    }))
}

async fn progress(State(state): State<AppState>) -> Result<Json<RecoveryView>, ApiError> {
    let agent: AgentKey = state.reads.agent();
    let anchoring = state.ask(Command::Anchoring).await?;
    let pods = state
        .reads
        .with(move |reader| {
            let mut pods = Vec::with_capacity(anchoring.len());
            for pod in anchoring {
                // The chain is read only once it is all here: while it is being fetched, a
                // poll costs a head lookup, not a read of every record.
                let chain = if pod.waiting.is_none() {
                    reader.chain_of(&pod.pod, &agent).map_err(store_error)?
                } else {
                    Vec::new()
                };
                let deleted_targets: std::collections::BTreeSet<_> = chain
                    .iter()
                    .filter_map(|r| match &r.action().body {
                        ActionBody::Delete { target } => Some(*target),
                        _ => None,
                    })
                    .collect();
                let mut unfilled = Vec::new();
                for record in &chain {
                    let private = record
                        .action()
                        .body
                        .entry_ref()
                        .is_some_and(|e| e.visibility == Visibility::Private);
                    if !private
                        || record.entry.is_some()
                        || deleted_targets.contains(&record.hash())
                    {
                        continue;
                    }
                    if !reader.was_purged(&record.hash()).map_err(store_error)? {
                        unfilled.push(record.hash().to_string());
                    }
                }
                let waiting = pod.waiting;
                pods.push(RecoveryPodView {
                    dna_hash: pod.pod.to_string(),
                    name: pod.name,
                    anchored: waiting.is_none(),
                    waited_secs: waiting.as_ref().map(|w| w.waited_micros / 1_000_000),
                    answered: waiting.as_ref().map_or(0, |w| w.answered),
                    claimed_seq: waiting.and_then(|w| w.claimed_seq),
                    records: pod.next_seq,
                    private_unfilled_count: unfilled.len(),
                    private_unfilled: unfilled.into_iter().take(LISTED_UNFILLED).collect(),
                });
            }
            Ok(pods)
        })
        .await?;
    Ok(Json(RecoveryView { pods }))
}
