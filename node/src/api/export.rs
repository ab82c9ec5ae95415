//! `GET /export`: everything about this node's agent in one file ([`crate::export`]): its
//! chain in every pod it hosts (Private entries included, opened with the store key), and
//! each pod's DNA as listed in `pods.toml`, and the deletion receipts members signed for its
//! purged records. `?pod=dna_…` exports one pod.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use myco_dna::{ActionHash, AgentKey, DnaHash, Record};
use serde::Deserialize;

use super::reads::{not_found, parse, store_error};
use super::{ApiError, ApiQuery, AppState};
use crate::daemon::pods::PodsList;
use crate::daemon::Command;
use crate::export::Export;
use crate::store::{Relation, SqliteReader, StoreError};

/// Receipts read per index page.
const RECEIPT_PAGE: usize = 1_000;

/// The deletion receipts members signed for the purged records of `chain`.
fn receipts_for(reader: &SqliteReader, chain: &[Record]) -> Result<Vec<Record>, StoreError> {
    let mut out = Vec::new();
    for record in chain.iter().filter(|r| r.entry.is_none()) {
        let mut after: Option<ActionHash> = None;
        loop {
            let page = reader.referring(
                &record.hash(),
                Relation::Receipt,
                after.as_ref(),
                RECEIPT_PAGE,
            )?;
            let Some(last) = page.last() else { break };
            after = Some(last.hash());
            out.extend(page);
        }
    }
    Ok(out)
}

/// The distributions in `pod` that paid `agent`: the value it received there.
fn distributions_paying(
    reader: &SqliteReader,
    pod: &DnaHash,
    agent: &AgentKey,
) -> Result<Vec<Record>, StoreError> {
    use myco_zomes::value::{Distribution, DISTRIBUTION};
    let me = agent.key_hash();
    Ok(reader
        .pod_typed(pod, myco_zomes::ZOME_VALUE, DISTRIBUTION)?
        .into_iter()
        .filter(|record| {
            myco_zomes::codec::read::<Distribution>(record, "distribution")
                .is_some_and(|d| d.payouts.iter().any(|p| p.recipient == me))
        })
        .collect())
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/export", get(export))
}

/// The query of `GET /export`.
#[derive(Debug, Default, Deserialize)]
pub struct ExportParams {
    /// Only this pod.
    pod: Option<String>,
}

async fn export(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let only: Option<DnaHash> = params
        .pod
        .as_deref()
        .map(|p| parse(p, "pod id (dna_…)"))
        .transpose()?;
    let agent: AgentKey = state.reads.agent();
    let now = crate::dates::now_micros();
    let pointer = state
        .ask(Command::OwnPointer)
        .await?
        .and_then(|bytes| crate::registry::Pointer::from_bytes(&bytes).ok());
    let data_dir = state.reads.data_dir();
    let bytes = state
        .reads
        .with_fold(move |reader| {
            let pods = PodsList::load(&data_dir).map_err(|e| ApiError {
                status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("reading the pods list failed: {e}"),
            })?;
            let mut export = Export::new(&agent, now);
            for (dna, text) in pods.manifest_texts() {
                let pod = dna.dna_hash();
                if only.is_some_and(|only| only != pod) {
                    continue;
                }
                let chain = reader.chain_of(&pod, &agent).map_err(store_error)?;
                let mut received = receipts_for(reader, &chain).map_err(store_error)?;
                received.extend(distributions_paying(reader, &pod, &agent).map_err(store_error)?);
                export.add_pod(&pod, text.to_string(), &chain, &received);
            }
            if let Some(only) = only {
                if export.pods.is_empty() {
                    return Err(not_found(format!(
                        "this node does not host pod {only}; `myco pod list` shows the pods it hosts"
                    )));
                }
            }
            export.registry_pointer = pointer.as_ref().map(crate::export::PointerExport::of);
            Ok(export.to_json())
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}
