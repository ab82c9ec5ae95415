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

/// Most folds a request waits for before it gives up (each failed, or each was of an
/// older mark than the store's).
const MAX_FOLDS_WAITED: usize = 4;

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

/// The store's mark, and the time in [`RECOUNT_MICROS`]: figures that count "open" proposals
/// and "active" members change with time too.
type Mark = (i64, i64, u64);

/// How often figures are folded again though no record came (in the background: the
/// page shows the kept ones meanwhile).
const RECOUNT_MICROS: u64 = 10 * 60_000_000;

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
        crate::daemon::now_micros() / RECOUNT_MICROS,
    );
    let cache = &state.figures;
    let kept = || cache.kept.lock().ok().and_then(|k| k.get(&pod).cloned());
    dna_of(state, pod).await?;
    let deadline = tokio::time::Instant::now() + FRESH_WAIT;
    // A fold under way may be of an older mark: wait for it, then for one of this mark.
    for _ in 0..MAX_FOLDS_WAITED {
        let done = cache.done.notified();
        tokio::pin!(done);
        done.as_mut().enable();
        let older = match kept() {
            Some((at, view)) if at == mark => return Ok(Figures { view, stale: false }),
            Some((at, view)) => Some((at, view)),
            None => None,
        };
        start_fold(state, pod, mark);
        match older {
            // Only time has passed: show the kept figures at once, and recount behind them.
            Some((at, view)) if (at.0, at.1) == (mark.0, mark.1) => {
                return Ok(Figures { view, stale: false })
            }
            Some((_, view)) => {
                if tokio::time::timeout_at(deadline, done).await.is_err() {
                    return Ok(Figures { view, stale: true });
                }
            }
            None => done.await,
        }
    }
    Err(ApiError::unavailable())
}

/// Starts folding `pod` at `mark` in the background, unless a fold of it is under way.
fn start_fold(state: &AppState, pod: DnaHash, mark: Mark) {
    if !state
        .figures
        .folding
        .lock()
        .is_ok_and(|mut f| f.insert(pod))
    {
        return;
    }
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
