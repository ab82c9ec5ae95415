//! # Pod state: the pure fold of a pod's validated records
//!
//! [`fold`] turns the records of one pod (already validated) and the warrants issued in it
//! into a [`PodState`]: the [roster](Member), the [proposals](ProposalState) and their
//! outcome, the [content](ContentState) with consent, revocations, deletions and approvals,
//! the [value](ValueState) recorded and paid out, the pseudonymous [audit log](AuditEntry)
//! and the transparency [`Figures`]. The engine, the local API and the transparency page all
//! read the pod through it.
//!
//! The fold is deterministic and does no IO:
//! - time is the `now` argument; there is no clock and no randomness;
//! - numbers are integers, rates are basis points (10000 = 100%);
//! - every map is a `BTreeMap` or `BTreeSet`;
//! - records are sorted by (timestamp, action hash) and duplicates merged before anything
//!   else, so the result never depends on the order they arrive in;
//! - entries of `Private` records are ignored even when held: only their author holds them,
//!   and reading them would give the author a different pod state from everyone else.
//!
//! Records whose entry is absent (private or purged) contribute what their action shows.
//! Records whose entry fails to decode are treated the same way; nothing here panics.
//!
//! ```
//! use myco_dna::{DnaManifest, Timestamp};
//! use myco_zomes::state::fold;
//!
//! let dna = DnaManifest::from_toml(include_str!("../../../dna/examples/storytelling.toml")).unwrap();
//! let state = fold(&dna, &[], &[], Timestamp(0));
//! // Before any record arrives, the founders are the pod: members and stewards.
//! assert_eq!(state.figures.members, dna.properties.founders.len());
//! assert!(state.audit_log.is_empty());
//! ```

mod audit;
mod backups;
mod content;
mod figures;
mod ids;
mod input;
mod proposals;
mod replicas;
mod roster;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use myco_dna::{ActionHash, DnaManifest, KeyHash, Record, Timestamp, Warrant};
use serde::Serialize;

pub use audit::AuditEntry;
pub use backups::{BackupState, RestoreReceiptState, RestoreState, ScheduleState};
pub use content::{is_visible_to_pod, ContentState};
pub use figures::{
    ConsentRates, Figures, StorytellerDashboard, VisibilityCounts, ACTIVE_WINDOW_MICROS,
};
pub use proposals::{ProposalState, ProposalStatus};
pub use replicas::ReplicaState;
pub use roster::Member;
pub use value::ValueState;

use input::Input;

/// Everything the pod's records show, at one point in time.
///
/// Identifiers serialize in their text form (`kh_…`, `act_…`), so the state can be emitted
/// as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodState {
    /// Members by key hash: the founders and every author of a Genesis, including those who
    /// left or were removed.
    #[serde(serialize_with = "ids::text_keys")]
    pub roster: BTreeMap<KeyHash, Member>,
    /// Proposals by the hash of their action.
    #[serde(serialize_with = "ids::text_keys")]
    pub proposals: BTreeMap<ActionHash, ProposalState>,
    /// Content by the hash of its Create.
    #[serde(serialize_with = "ids::text_keys")]
    pub content: BTreeMap<ActionHash, ContentState>,
    /// Value recorded and paid out.
    pub value: ValueState,
    /// Approved replicas (archivists and regions), by the hash of the approving decision.
    #[serde(serialize_with = "ids::text_keys")]
    pub replicas: BTreeMap<ActionHash, ReplicaState>,
    /// Passed backup schedules that name an archivist, by the hash of their decision.
    #[serde(serialize_with = "ids::text_keys")]
    pub backup_schedules: BTreeMap<ActionHash, ScheduleState>,
    /// The backups archivists listed, newest first.
    pub backups: Vec<BackupState>,
    /// Passed emergency decisions authorising a restore, oldest first, with the archivist's
    /// receipt once it restored.
    pub restores: Vec<RestoreState>,
    /// Governance-relevant events by key hash, sorted by (time, record).
    pub audit_log: Vec<AuditEntry>,
    /// The transparency figures.
    pub figures: Figures,
}

/// Folds the validated `records` of `dna`'s pod, in any order and possibly repeated, and the
/// `warrants` issued in it, into the pod's state at `now`.
///
/// `now` decides only which proposals are still open and who was active in the last 30 days.
/// Warrants for another pod, or whose proof does not hold, are left out.
pub fn fold(
    dna: &DnaManifest,
    records: &[Record],
    warrants: &[Warrant],
    now: Timestamp,
) -> PodState {
    let input = Input::new(records);
    let warrants = input::pod_warrants(dna, warrants);
    let proposals = proposals::fold_proposals(dna, &input, now);
    let blocked = roster::blocked_authors(&warrants, &proposals.effects);
    let content = content::fold_content(dna, &input);
    let audit_log = audit::audit_log(&input, &proposals.states, &content.revocations, &warrants);
    let roster = roster::fold_roster(dna, &input, &proposals.effects, &blocked);
    let figures = figures::compute(
        dna,
        &figures::Sources {
            input: &input,
            roster: &roster,
            proposals: &proposals.states,
            content: &content.states,
            revocations: &content.revocations,
            warrants: warrants.len(),
            blocked_authors: blocked.len(),
        },
        now,
    );
    PodState {
        roster,
        proposals: proposals.states,
        content: content.states,
        value: value::fold_value(&input),
        replicas: replicas::fold_replicas(&input, &proposals.effects),
        backup_schedules: backups::fold_schedules(&proposals.effects),
        backups: backups::fold_backups(&input),
        restores: backups::fold_restores(&input, &proposals.effects),
        audit_log,
        figures,
    }
}
