//! The electorate a new proposal of this node's agent cites: the roster this node can prove
//! from the records it holds. Proposals fix their electorate by naming a roster checkpoint
//! (`docs/governance.md`); without one only the founders could ever vote, so members admitted
//! later need a checkpoint that lists them.

use myco_dna::{ActionHash, DnaHash, Record};
use myco_zomes::codec::{decode, is_entry};
use myco_zomes::governance::{
    is_roster_change, roster_after, Checkpoint, Roster, CHECKPOINT, MAX_CHECKPOINT_CHANGES,
};
use myco_zomes::ZOME_GOVERNANCE;

use super::context::StoreContext;
use super::Engine;
use crate::store::Store;

/// Why the electorate cannot be given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElectorateError {
    /// This node does not host the pod.
    #[error("this node does not host pod {0}; join it first")]
    NotHosted(DnaHash),
    /// This node's store failed while reading the pod.
    #[error("this node's store failed while reading the pod's roster: {0}")]
    Store(String),
    /// More roster changes than one checkpoint may list.
    #[error("the pod has {count} roster changes, more than one checkpoint may list ({max})")]
    TooManyChanges {
        /// The changes held.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// The records held do not prove a roster.
    #[error("cannot prove the pod's roster from the records this node holds: {0}")]
    Unproven(String),
}

/// What a new proposal should cite as its electorate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Electorate {
    /// The founders: nobody else has joined, left or changed role.
    Founders,
    /// A checkpoint this node holds that lists the current roster.
    Checkpoint(ActionHash),
    /// No held checkpoint lists the current roster: write this one first, then cite it.
    NewCheckpoint(Checkpoint),
}

impl<S: Store> Engine<S> {
    /// The records of `pod` that may change its roster or list it: each chain's Genesis,
    /// Leaves, decisions and checkpoints, read through the typed index, so opening a proposal
    /// costs the members and their governance records, not the whole pod.
    fn roster_candidates(&self, pod: &DnaHash) -> Result<Vec<Record>, crate::store::StoreError> {
        let mut out = Vec::new();
        for chain in self.store.heads()?.into_keys().filter(|c| &c.pod == pod) {
            out.extend(self.store.get_by_seq(&chain, 0)?);
            for (zome, entry_type) in [
                (myco_zomes::ZOME_MEMBERSHIP, myco_zomes::membership::LEAVE),
                (
                    myco_zomes::ZOME_GOVERNANCE,
                    myco_zomes::governance::DECISION,
                ),
                (ZOME_GOVERNANCE, CHECKPOINT),
            ] {
                out.extend(self.store.typed_records(&chain, zome, entry_type)?);
            }
        }
        Ok(out)
    }

    /// The electorate for a proposal this agent opens in `pod` now: the roster proven from
    /// every Genesis, Leave and roster-changing decision this node holds, starting from the
    /// founders.
    pub fn electorate(&self, pod: &DnaHash) -> Result<Electorate, ElectorateError> {
        let view = self.pods.get(pod).ok_or(ElectorateError::NotHosted(*pod))?;
        let records = self
            .roster_candidates(pod)
            .map_err(|e| ElectorateError::Store(e.to_string()))?;
        let context = StoreContext::settled(&self.store, *pod, self.agent);
        let mut changes: Vec<ActionHash> = records
            .iter()
            .filter(|r| is_roster_change(r, pod, &context))
            .map(Record::hash)
            .collect();
        if changes.len() > MAX_CHECKPOINT_CHANGES {
            return Err(ElectorateError::TooManyChanges {
                count: changes.len(),
                max: MAX_CHECKPOINT_CHANGES,
            });
        }
        changes.sort();
        let roster = roster_after(None, &changes, pod, &view.dna, &context).map_err(|verdict| {
            ElectorateError::Unproven(match verdict {
                myco_dna::Verdict::Invalid(breach) => breach.detail,
                other => format!("{other:?}"),
            })
        })?;
        if let Some(fault) = context.fault() {
            return Err(ElectorateError::Store(fault));
        }
        if roster == Roster::founders(&view.dna) {
            return Ok(Electorate::Founders);
        }
        let held = records.iter().find(|r| {
            is_entry(r, ZOME_GOVERNANCE, CHECKPOINT)
                && matches!(decode::<Checkpoint>(r, "checkpoint"), Ok(Some(c))
                    if c.members == roster.members && c.stewards == roster.stewards)
        });
        Ok(match held {
            Some(record) => Electorate::Checkpoint(record.hash()),
            None => Electorate::NewCheckpoint(Checkpoint {
                prev: None,
                members: roster.members,
                stewards: roster.stewards,
                changes,
            }),
        })
    }
}
