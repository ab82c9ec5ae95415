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
    Router::new()
        .route("/pods/{pod}/import", post(import))
        .route("/pods/{pod}/import/manifest", post(manifest))
        .route("/pods/{pod}/import/verify", axum::routing::get(verify))
}

/// The entry hash of `record` if it writes a story (a Create or Update of content).
fn content_entry_hash(record: &myco_dna::Record) -> Option<EntryHash> {
    match &record.action().body {
        ActionBody::Create(entry) | ActionBody::Update { entry, .. }
            if entry.zome == myco_zomes::ZOME_CONTENT
                && entry.entry_type == myco_zomes::content::CONTENT =>
        {
            Some(entry.entry_hash)
        }
        _ => None,
    }
}

/// The seq of the record `hash` in `chain`, if it is there.
fn seq_in(chain: &[myco_dna::Record], hash: &myco_dna::ActionHash) -> Option<u64> {
    chain
        .iter()
        .find(|r| r.hash() == *hash)
        .map(|r| r.action().seq)
}

/// The content hashes of this agent's stories in `pod`.
async fn written_in(state: &AppState, pod: DnaHash) -> Result<HashSet<EntryHash>, ApiError> {
    let agent = state.reads.agent();
    state
        .reads
        .with(move |reader| {
            let chain = reader.chain_of(&pod, &agent).map_err(store_error)?;
            Ok(chain.iter().filter_map(content_entry_hash).collect())
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

/// `POST /pods/{pod}/import/manifest`'s body: what an import counted, and the first and last
/// record it wrote.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestRequest {
    /// What was imported (a file name).
    pub source: String,
    /// Counts per source table.
    pub tables: Vec<myco_zomes::content::TableCount>,
    /// The first record written (`act_…`).
    pub first: String,
    /// The last.
    pub last: String,
}

/// The manifest written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestWritten {
    /// The manifest record (`act_…`).
    pub hash: String,
    /// Content records from the first to the last.
    pub written: u64,
    /// Their Merkle root, hex.
    pub merkle_root: String,
}

/// One manifest, checked against this node's replica.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestCheck {
    /// The manifest record (`act_…`).
    pub manifest: String,
    /// Who imported (`kh_…`).
    pub importer: String,
    /// What was imported.
    pub source: String,
    /// Content records the manifest counts.
    pub written: u64,
    /// Content records this node holds from the first to the last.
    pub held: u64,
    /// Whether their Merkle root is the manifest's.
    pub root_matches: bool,
    /// Records of the range this node does not hold: `seq N`, with the hash where the next
    /// record names it.
    pub missing: Vec<String>,
    /// True if everything matches.
    pub sound: bool,
}

/// `GET /pods/{pod}/import/verify`: every manifest in the pod, checked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportVerified {
    /// The manifests, newest first.
    pub manifests: Vec<ManifestCheck>,
}

/// Most missing records named per manifest.
const NAMED_MISSING: usize = 100;

/// The content entry hashes of `chain` from seq `from` to `to`, in order, and the seqs in
/// that range it lacks (named by hash where the next record's link gives it).
fn range_leaves(chain: &[myco_dna::Record], from: u64, to: u64) -> (Vec<[u8; 32]>, Vec<String>) {
    let by_seq: std::collections::BTreeMap<u64, &myco_dna::Record> = chain
        .iter()
        .filter(|r| (from..=to).contains(&r.action().seq))
        .map(|r| (r.action().seq, r))
        .collect();
    let mut leaves = Vec::new();
    let mut missing = Vec::new();
    for seq in from..=to {
        match by_seq.get(&seq) {
            Some(record) => leaves.extend(content_entry_hash(record).map(|hash| hash.0)),
            None if missing.len() < NAMED_MISSING => {
                let named = by_seq
                    .get(&(seq + 1))
                    .and_then(|next| next.action().prev)
                    .map(|hash| format!("seq {seq} ({hash})"))
                    .unwrap_or_else(|| format!("seq {seq}"));
                missing.push(named);
            }
            None => {}
        }
    }
    (leaves, missing)
}

async fn manifest(
    State(state): State<AppState>,
    Path(pod): Path<String>,
    ApiJson(request): ApiJson<ManifestRequest>,
) -> Result<Json<ManifestWritten>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let first: myco_dna::ActionHash = parse(&request.first, "record hash (act_…)")?;
    let last: myco_dna::ActionHash = parse(&request.last, "record hash (act_…)")?;
    let agent = state.reads.agent();
    let (written, root) = state
        .reads
        .with(move |reader| {
            let chain = reader.chain_of(&pod, &agent).map_err(store_error)?;
            let seq_of = |hash: &myco_dna::ActionHash| {
                seq_in(&chain, hash).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "record {hash} is not in this agent's chain in pod {pod}"
                    ))
                })
            };
            let (from, to) = (seq_of(&first)?, seq_of(&last)?);
            if from > to {
                return Err(ApiError::bad_request(
                    "the first record comes after the last",
                ));
            }
            let (leaves, _) = range_leaves(&chain, from, to);
            Ok((
                leaves.len() as u64,
                crate::import::merkle::merkle_root(&leaves),
            ))
        })
        .await?;
    let migration = myco_zomes::content::Migration {
        source: request.source,
        tables: request.tables,
        first,
        last,
        written,
        merkle_root: root,
    };
    let hash = state
        .ask(|reply| Command::Author {
            pod,
            write: Write::Migration(Box::new(migration)),
            reply,
        })
        .await?
        .map_err(ApiError::from)?;
    Ok(Json(ManifestWritten {
        hash: hash.to_string(),
        written,
        merkle_root: hex::encode(root),
    }))
}

async fn verify(
    State(state): State<AppState>,
    Path(pod): Path<String>,
) -> Result<Json<ImportVerified>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    dna_of(&state, pod).await?;
    let manifests = state
        .reads
        .with_fold(move |reader| check_manifests(reader, &pod))
        .await?;
    Ok(Json(ImportVerified { manifests }))
}

/// Checks every migration manifest of `pod` against what `reader` holds, newest first.
pub(crate) fn check_manifests(
    reader: &crate::store::SqliteReader,
    pod: &DnaHash,
) -> Result<Vec<ManifestCheck>, ApiError> {
    let pod = *pod;
    let records = reader
        .pod_typed(
            &pod,
            myco_zomes::ZOME_CONTENT,
            myco_zomes::content::MIGRATION,
        )
        .map_err(store_error)?;
    let mut checks = Vec::new();
    for record in records {
        let Some(migration) = myco_zomes::codec::read::<myco_zomes::content::Migration>(
            &record,
            "migration manifest",
        ) else {
            continue;
        };
        let importer = record.action().author;
        let chain = reader.chain_of(&pod, &importer).map_err(store_error)?;
        let seq_of = |hash: &myco_dna::ActionHash| {
            chain
                .iter()
                .find(|r| r.hash() == *hash)
                .map(|r| r.action().seq)
        };
        let (held, root_matches, missing) =
            match (seq_of(&migration.first), seq_of(&migration.last)) {
                (Some(from), Some(to)) if from <= to => {
                    let (leaves, missing) = range_leaves(&chain, from, to);
                    let root = crate::import::merkle::merkle_root(&leaves);
                    (leaves.len() as u64, root == migration.merkle_root, missing)
                }
                (first, last) => {
                    let mut missing = Vec::new();
                    if first.is_none() {
                        missing.push(format!("the first record {}", migration.first));
                    }
                    if last.is_none() {
                        missing.push(format!("the last record {}", migration.last));
                    }
                    (0, false, missing)
                }
            };
        checks.push(ManifestCheck {
            manifest: record.hash().to_string(),
            importer: importer.key_hash().to_string(),
            source: migration.source.clone(),
            written: migration.written,
            held,
            root_matches,
            sound: root_matches && missing.is_empty() && held == migration.written,
            missing,
        });
    }
    Ok(checks)
}
