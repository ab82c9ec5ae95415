//! `GET /pods/{pod}/audit` (`myco pod audit`): this node's replica of a pod, compared with
//! what others say the pod holds, so any member can check "zero data loss" for themselves.
//!
//! - **Counts** of the records held, by type ([`record_type`]).
//! - **Peers:** the chain heights each peer last claimed in a sync round. A chain a peer
//!   claims further than this node holds is a *missing* range; one this node holds further is
//!   *extra* here (the peer lacks it); the same seq with another hash is a *fork*.
//! - **The latest backup listing:** each listed chain head must be held here with the same
//!   hash, and the records up to the listed heads, counted by type, must equal the listing's
//!   counts. Records past the listed heads are newer than the backup.
//! - **Migration manifests**, checked as `myco import verify` checks them.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use myco_dna::{AgentKey, DnaHash, Record};
use myco_zomes::governance::{record_type, BackupListing, BACKUP_LISTING};
use serde::{Deserialize, Serialize};

use super::import::{check_manifests, ManifestCheck};
use super::reads::{dna_of, parse, store_error};
use super::{ApiError, AppState};
use crate::daemon::Command;

/// Ranges named per comparison, at most.
const NAMED_RANGES: usize = 100;

/// Seqs `from..=to` of one author's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqRange {
    /// The chain's author (`kh_…`).
    pub author: String,
    /// The first seq.
    pub from: u64,
    /// The last seq.
    pub to: u64,
}

/// This replica against one peer's claimed heights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerComparison {
    /// The peer (`12D3…`).
    pub peer: String,
    /// When it last answered, µs since the Unix epoch.
    pub heard_at: u64,
    /// Chains it claims further than this node holds.
    pub missing: Vec<SeqRange>,
    /// Chains this node holds further than it claims.
    pub extra: Vec<SeqRange>,
    /// Chains where its head has another hash than this node's record at that seq.
    pub forks: Vec<SeqRange>,
}

/// This replica against the latest backup listing.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupComparison {
    /// The listing record (`act_…`).
    pub listing: String,
    /// The archivist that took the backup (`kh_…`).
    pub archivist: String,
    /// When it was taken, µs since the Unix epoch.
    pub taken_at: u64,
    /// Records the listing counts.
    pub listed: u64,
    /// Records held here up to the listed heads.
    pub held: u64,
    /// The listing's counts by type.
    pub listed_counts: BTreeMap<String, u64>,
    /// The counts held here up to the listed heads.
    pub held_counts: BTreeMap<String, u64>,
    /// Listed records not held here.
    pub missing: Vec<SeqRange>,
    /// Listed heads held here under another hash.
    pub forks: Vec<SeqRange>,
    /// Records held here past the listed heads (written after the backup).
    pub newer: u64,
    /// True if every listed record is held here and the counts match.
    pub sound: bool,
}

/// What `GET /pods/{pod}/audit` answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditReport {
    /// The pod (`dna_…`).
    pub pod: String,
    /// Records held here.
    pub records: u64,
    /// Chains held here.
    pub chains: usize,
    /// Records held here by type.
    pub counts: BTreeMap<String, u64>,
    /// Against each peer heard from.
    pub peers: Vec<PeerComparison>,
    /// Against the latest backup listing, if the pod has one.
    pub backup: Option<BackupComparison>,
    /// Every migration manifest, checked.
    pub migrations: Vec<ManifestCheck>,
    /// True if nothing is missing or forked against any peer or the backup, and every
    /// manifest is sound.
    pub sound: bool,
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/pods/{pod}/audit", get(audit))
}

async fn audit(
    State(state): State<AppState>,
    Path(pod): Path<String>,
) -> Result<Json<AuditReport>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    dna_of(&state, pod).await?;
    let heard = state
        .ask(|reply| Command::HeardHeights { pod, reply })
        .await?;
    let report = state
        .reads
        .with_fold(move |reader| {
            let records = reader.pod_records(&pod).map_err(store_error)?;
            let chains = Replica::of(records);
            let listing = reader
                .pod_typed(&pod, myco_zomes::ZOME_GOVERNANCE, BACKUP_LISTING)
                .map_err(store_error)?
                .into_iter()
                .filter_map(|r| {
                    let listing: BackupListing = myco_zomes::codec::read(&r, "backup listing")?;
                    Some((r, listing))
                })
                .max_by_key(|(r, listing)| (listing.taken_at, r.hash()));
            let migrations = check_manifests(reader, &pod)?;
            Ok(chains.report(pod, &heard, listing, migrations))
        })
        .await?;
    Ok(Json(report))
}

/// The records held here, by chain, by seq.
struct Replica {
    chains: BTreeMap<AgentKey, BTreeMap<u64, Record>>,
}

impl Replica {
    fn of(records: Vec<Record>) -> Self {
        let mut chains: BTreeMap<AgentKey, BTreeMap<u64, Record>> = BTreeMap::new();
        for record in records {
            let action = record.action();
            chains
                .entry(action.author)
                .or_default()
                .insert(action.seq, record);
        }
        Replica { chains }
    }

    fn head(&self, author: &AgentKey) -> Option<u64> {
        self.chains
            .get(author)
            .and_then(|c| c.last_key_value())
            .map(|(seq, _)| *seq)
    }

    fn hash_at(&self, author: &AgentKey, seq: u64) -> Option<myco_dna::ActionHash> {
        self.chains.get(author)?.get(&seq).map(Record::hash)
    }

    /// The seqs `0..=to` of `author`'s chain not held here, as ranges.
    fn gaps(&self, author: &AgentKey, to: u64, out: &mut Vec<SeqRange>) {
        let empty = BTreeMap::new();
        let chain = self.chains.get(author).unwrap_or(&empty);
        let mut expected = 0u64;
        for seq in chain.range(..=to).map(|(seq, _)| *seq) {
            if seq > expected {
                push(out, author, expected, seq - 1);
            }
            expected = seq + 1;
        }
        if expected <= to {
            push(out, author, expected, to);
        }
    }

    fn report(
        &self,
        pod: DnaHash,
        heard: &[crate::engine::HeardFrom],
        listing: Option<(Record, BackupListing)>,
        migrations: Vec<ManifestCheck>,
    ) -> AuditReport {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for record in self.chains.values().flat_map(|c| c.values()) {
            *counts.entry(record_type(record)).or_default() += 1;
        }
        let peers: Vec<PeerComparison> =
            heard.iter().map(|heard| self.against_peer(heard)).collect();
        let backup = listing.map(|(record, listing)| self.against_backup(&record, &listing));
        let sound = peers
            .iter()
            .all(|p| p.missing.is_empty() && p.forks.is_empty())
            && backup.as_ref().is_none_or(|b| b.sound)
            && migrations.iter().all(|m| m.sound);
        AuditReport {
            pod: pod.to_string(),
            records: counts.values().sum(),
            chains: self.chains.len(),
            counts,
            peers,
            backup,
            migrations,
            sound,
        }
    }

    /// This replica against what one peer claimed. An archivist names its own chain only:
    /// the chains it leaves out are not counted extra here.
    fn against_peer(&self, heard: &crate::engine::HeardFrom) -> PeerComparison {
        let heights = &heard.heights;
        let mut comparison = PeerComparison {
            peer: heard.peer.clone(),
            heard_at: heard.at,
            missing: Vec::new(),
            extra: Vec::new(),
            forks: Vec::new(),
        };
        let mut claimed = std::collections::BTreeSet::new();
        for height in heights {
            claimed.insert(height.author);
            self.gaps(&height.author, height.seq, &mut comparison.missing);
            match self.hash_at(&height.author, height.seq) {
                Some(hash) if hash != height.hash => {
                    push(
                        &mut comparison.forks,
                        &height.author,
                        height.seq,
                        height.seq,
                    );
                }
                _ => {}
            }
            if let Some(head) = self.head(&height.author).filter(|h| *h > height.seq) {
                push(&mut comparison.extra, &height.author, height.seq + 1, head);
            }
        }
        for (author, chain) in self.chains.iter().filter(|_| !heard.own_only) {
            if let (false, Some((head, _))) = (claimed.contains(author), chain.last_key_value()) {
                push(&mut comparison.extra, author, 0, *head);
            }
        }
        comparison
    }

    fn against_backup(&self, record: &Record, listing: &BackupListing) -> BackupComparison {
        let mut missing = Vec::new();
        let mut forks = Vec::new();
        let mut held_counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut newer = 0u64;
        for head in &listing.heads {
            self.gaps(&head.author, head.seq, &mut missing);
            if self
                .hash_at(&head.author, head.seq)
                .is_some_and(|hash| hash != head.head)
            {
                push(&mut forks, &head.author, head.seq, head.seq);
            }
            if let Some(chain) = self.chains.get(&head.author) {
                for record in chain.range(..=head.seq).map(|(_, r)| r) {
                    *held_counts.entry(record_type(record)).or_default() += 1;
                }
                newer += chain.range(head.seq + 1..).count() as u64;
            }
        }
        // A listing names its heads in author order (its zome checks it).
        for (author, chain) in &self.chains {
            if listing
                .heads
                .binary_search_by(|h| h.author.cmp(author))
                .is_err()
            {
                newer += chain.len() as u64;
            }
        }
        let held = held_counts.values().sum();
        BackupComparison {
            listing: record.hash().to_string(),
            archivist: record.action().author.key_hash().to_string(),
            taken_at: listing.taken_at.0,
            listed: listing.records(),
            held,
            sound: missing.is_empty() && forks.is_empty() && held_counts == listing.counts,
            listed_counts: listing.counts.clone(),
            held_counts,
            missing,
            forks,
            newer,
        }
    }
}

fn push(out: &mut Vec<SeqRange>, author: &AgentKey, from: u64, to: u64) {
    if out.len() < NAMED_RANGES {
        out.push(SeqRange {
            author: author.key_hash().to_string(),
            from,
            to,
        });
    }
}
