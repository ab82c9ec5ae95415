//! `POST /pods/{pod}/import`: a batch of stories from another system ([`crate::import`]),
//! each written through the same path as `POST /pods/{pod}/content`, and each answered as
//! written, refused (with the reason) or a duplicate: a story whose content hash this agent
//! already wrote in the pod, in an earlier import or earlier in this one. Batches of one pod
//! run one at a time, so two imports cannot both miss a duplicate.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use myco_dna::{ActionBody, DnaHash, EntryHash};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::handlers::visibility;
use super::reads::{dna_of, parse, store_error};
use super::types::PublishRequest;
use super::{ApiError, ApiJson, AppState};
use crate::daemon::{Command, Write};
use crate::import::RowOutcome;

/// Most rows in one batch.
pub const MAX_IMPORT_ROWS: usize = 500;

/// One row of a batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportRow {
    /// What names the row in the source.
    pub id: String,
    /// The story it becomes.
    pub story: PublishRequest,
}

/// `POST /pods/{pod}/import`'s body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportRequest {
    /// The rows, at most [`MAX_IMPORT_ROWS`].
    pub rows: Vec<ImportRow>,
    /// Check each row without writing it.
    #[serde(default)]
    pub dry_run: bool,
}

/// Its answer: one outcome per row, in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportAnswer {
    /// The outcomes.
    pub outcomes: Vec<RowOutcome>,
}

/// The content hashes this agent wrote in one pod, once loaded; one import of the pod holds
/// it at a time.
type Written = Arc<Mutex<Option<HashSet<EntryHash>>>>;

/// The content hashes this agent wrote in each pod, loaded from the store at a pod's first
/// import and kept up to date by the imports that follow.
#[derive(Default)]
pub struct Imports {
    pods: std::sync::Mutex<HashMap<DnaHash, Written>>,
}

impl Imports {
    fn of(&self, pod: DnaHash) -> Written {
        let mut pods = self.pods.lock().unwrap_or_else(|e| e.into_inner());
        pods.entry(pod).or_default().clone()
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/pods/{pod}/import", post(import))
}

/// The content hashes of this agent's stories in `pod`.
async fn written_in(state: &AppState, pod: DnaHash) -> Result<HashSet<EntryHash>, ApiError> {
    let status = state.ask(Command::Status).await?;
    let agent: myco_dna::AgentKey = status
        .agent_key
        .parse()
        .map_err(|_| ApiError::unavailable())?;
    state
        .reads
        .with(move |reader| {
            let chain = reader.chain_of(&pod, &agent).map_err(store_error)?;
            Ok(chain
                .iter()
                .filter_map(|record| match &record.action().body {
                    ActionBody::Create(entry) | ActionBody::Update { entry, .. }
                        if entry.zome == myco_zomes::ZOME_CONTENT
                            && entry.entry_type == myco_zomes::content::CONTENT =>
                    {
                        Some(entry.entry_hash)
                    }
                    _ => None,
                })
                .collect())
        })
        .await
}

async fn import(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<ImportRequest>,
) -> Result<Json<ImportAnswer>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    if request.rows.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::bad_request(format!(
            "{} rows in one batch; send at most {MAX_IMPORT_ROWS}",
            request.rows.len()
        )));
    }
    let dna = dna_of(&state, pod).await?;
    let known = state.imports.of(pod);
    let mut known = known.lock().await;
    if known.is_none() {
        *known = Some(written_in(&state, pod).await?);
    }
    let known = known.get_or_insert_with(HashSet::new);
    // Rows a dry run would write, so a duplicate later in the same batch is seen as one.
    let mut would_write: HashSet<EntryHash> = HashSet::new();
    let mut outcomes = Vec::with_capacity(request.rows.len());
    for row in request.rows {
        let refused = |reason: String| RowOutcome::Refused { reason };
        let visibility = match visibility(&row.story.visibility) {
            Ok(visibility) => visibility,
            Err(error) => {
                outcomes.push(refused(error.message));
                continue;
            }
        };
        let write = Write::Content {
            request: Box::new(row.story),
            visibility,
        };
        let entry_hash = match write
            .clone()
            .build(crate::dates::now_micros(), &dna, Vec::new)
        {
            Ok((_, Some(entry))) => entry.hash(),
            Ok((_, None)) => {
                outcomes.push(refused("the story has no entry".into()));
                continue;
            }
            Err(error) => {
                outcomes.push(refused(error.to_string()));
                continue;
            }
        };
        if known.contains(&entry_hash) || would_write.contains(&entry_hash) {
            outcomes.push(RowOutcome::Duplicate {
                entry_hash: entry_hash.to_string(),
            });
            continue;
        }
        if request.dry_run {
            would_write.insert(entry_hash);
            outcomes.push(RowOutcome::WouldWrite {
                entry_hash: entry_hash.to_string(),
            });
            continue;
        }
        let written = state
            .ask(|reply| Command::Author { pod, write, reply })
            .await?;
        outcomes.push(match written {
            Ok(hash) => {
                known.insert(entry_hash);
                RowOutcome::Written {
                    hash: hash.to_string(),
                }
            }
            Err(error) => refused(error.to_string()),
        });
    }
    Ok(Json(ImportAnswer { outcomes }))
}
