//! A pod's figures, as the transparency page, the storyteller dashboard and
//! `GET /pods/{pod}/state` show them: folded by `myco_zomes::state::fold` from every record of
//! the pod, on a reader of the store's own, and kept.
//!
//! A fold costs the size of the pod, so it is not redone per page load: the kept figures are
//! served while the store has not changed since (its newest record id and warrant are the
//! mark). When it has, the figures are folded again, one pod at a time; a page waits
//! [`FRESH_WAIT`] for the new figures, and past it shows the kept ones, dated, while the
//! fold finishes behind it. Only the bounded part is kept: the figures, roster, value, the
//! dashboard, and the newest [`STATE_LIST_CAP`] proposals and audit entries.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use myco_dna::{ActionHash, DnaHash, KeyHash, Timestamp};
use serde::Serialize;
use tokio::sync::Notify;

use super::reads::{dna_of, store_error, usernames};
use super::{ApiError, AppState};

/// How long a page waits for figures folded afresh before it shows the ones kept.
pub const FRESH_WAIT: Duration = Duration::from_secs(1);

/// Most proposals, and most audit log entries, kept and listed (the newest).
pub const STATE_LIST_CAP: usize = 200;

/// `GET /pods/{pod}/state`: a pod's folded state, bounded.
#[derive(Serialize)]
pub struct StateView {
    /// The pod's id.
    pub pod: String,
    /// The pod's name.
    pub name: String,
    /// Its figures, roster, value, newest proposals and audit entries.
    pub state: myco_zomes::state::PodState,
    /// This node's agent's own figures.
    pub dashboard: myco_zomes::state::StorytellerDashboard,
    /// The usernames this node holds of the pod's members, for the page.
    #[serde(skip)]
    pub names: BTreeMap<KeyHash, String>,
    /// What the answer leaves out of `state` to stay bounded.
    pub omitted: Omitted,
    /// When it was folded, in µs since the Unix epoch.
    pub folded_micros: u64,
}

/// How much of each list the kept state left out.
#[derive(Serialize, Default)]
pub struct Omitted {
    /// Stories, all of them: `GET /pods/{pod}/feed` pages them.
    pub content: usize,
    /// Older proposals.
    pub proposals: usize,
    /// Older audit log entries.
    pub audit_log: usize,
}

/// Figures as kept, and whether the store has moved on since.
pub struct Figures {
    /// The state.
    pub view: Arc<StateView>,
    /// True if newer records are being folded and these are the figures from before.
    pub stale: bool,
}

/// The store's mark, and the minute: figures that count "open" proposals and "active"
/// members change with time too.
type Mark = (i64, i64, u64);

/// How often figures are folded again though no record came.
const MINUTE_MICROS: u64 = 60_000_000;

/// The figures kept for each pod, and the folds under way.
#[derive(Default)]
pub struct FigureCache {
    kept: Mutex<BTreeMap<DnaHash, (Mark, Arc<StateView>)>>,
    folding: Mutex<BTreeSet<DnaHash>>,
    done: Notify,
}

/// Keeps only the bounded part of a fold: no stories (the feed pages them), and the newest
/// [`STATE_LIST_CAP`] proposals and audit entries.
fn bounded(mut view: StateView) -> StateView {
    let state = &mut view.state;
    let content = std::mem::take(&mut state.content).len();
    let proposals = state.proposals.len().saturating_sub(STATE_LIST_CAP);
    if proposals > 0 {
        let mut opened: Vec<(Timestamp, ActionHash)> = state
            .proposals
            .iter()
            .map(|(hash, p)| (p.opened_at, *hash))
            .collect();
        opened.sort();
        for (_, hash) in opened.into_iter().take(proposals) {
            state.proposals.remove(&hash);
        }
    }
    let audit_log = state.audit_log.len().saturating_sub(STATE_LIST_CAP);
    state.audit_log.drain(..audit_log);
    view.omitted = Omitted {
        content,
        proposals,
        audit_log,
    };
    view
}

/// Folds `pod` afresh at its store mark `mark`, and keeps the result.
async fn refold(state: AppState, pod: DnaHash, mark: Mark) -> Result<(), ApiError> {
    let dna = dna_of(&state, pod).await?;
    let now = crate::daemon::now_micros();
    let me = state.reads.me();
    let view = state
        .reads
        .with_fold(move |reader| {
            let records = reader.pod_records(&pod).map_err(store_error)?;
            let warrants = reader.warrants(&pod).map_err(store_error)?;
            let folded = myco_zomes::state::fold(&dna, &records, &warrants, Timestamp(now));
            drop(records);
            Ok(bounded(StateView {
                names: usernames(reader, &pod).map_err(store_error)?,
                pod: pod.to_string(),
                name: dna.name.clone(),
                dashboard: folded.storyteller(&me),
                state: folded,
                omitted: Omitted::default(),
                folded_micros: now,
            }))
        })
        .await?;
    if let Ok(mut kept) = state.figures.kept.lock() {
        kept.insert(pod, (mark, Arc::new(view)));
    }
    Ok(())
}

/// The figures of `pod`: the kept ones if the store has not changed since, else folded
/// afresh (waiting at most [`FRESH_WAIT`] when older ones are kept).
pub(crate) async fn figures(state: &AppState, pod: DnaHash) -> Result<Figures, ApiError> {
    let (records, warrants) = state
        .reads
        .with(|reader| reader.mark().map_err(store_error))
        .await?;
    let mark = (
        records,
        warrants,
        crate::daemon::now_micros() / MINUTE_MICROS,
    );
    let cache = &state.figures;
    let kept = || cache.kept.lock().ok().and_then(|k| k.get(&pod).cloned());
    let older = match kept() {
        Some((at, view)) if at == mark => return Ok(Figures { view, stale: false }),
        other => other.map(|(_, view)| view),
    };
    let done = cache.done.notified();
    tokio::pin!(done);
    done.as_mut().enable();
    let start = cache.folding.lock().is_ok_and(|mut f| f.insert(pod));
    if start {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(error) = refold(state.clone(), pod, mark).await {
                tracing::warn!(%pod, error = %error.message, "could not fold the pod's figures");
            }
            if let Ok(mut folding) = state.figures.folding.lock() {
                folding.remove(&pod);
            }
            state.figures.done.notify_waiters();
        });
    }
    loop {
        match &older {
            Some(view) => {
                if tokio::time::timeout(FRESH_WAIT, done.as_mut())
                    .await
                    .is_err()
                {
                    return Ok(Figures {
                        view: view.clone(),
                        stale: true,
                    });
                }
            }
            None => done.as_mut().await,
        }
        if let Some((_, view)) = kept() {
            if older.as_ref().is_none_or(|o| !Arc::ptr_eq(o, &view)) {
                return Ok(Figures { view, stale: false });
            }
        }
        if !cache.folding.lock().is_ok_and(|f| f.contains(&pod)) {
            return Err(ApiError::unavailable());
        }
        done.set(cache.done.notified());
        done.as_mut().enable();
    }
}
