//! The electorate of a proposal: fixed by the roster checkpoint it references.

use myco_dna::{ActionHash, DnaManifest, KeyHash, ValidationContext, Verdict};

use super::types::{Checkpoint, CHECKPOINT};
use crate::codec::{decode_required, fetch, is_entry};
use crate::ZOME_GOVERNANCE;

/// Members and stewards at a checkpoint, both sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roster {
    /// Every member.
    pub members: Vec<KeyHash>,
    /// The stewards among them.
    pub stewards: Vec<KeyHash>,
}

impl Roster {
    /// The founders: the roster before any checkpoint.
    pub fn founders(dna: &DnaManifest) -> Self {
        let mut members = dna.properties.founders.clone();
        members.sort();
        Roster {
            stewards: members.clone(),
            members,
        }
    }

    /// True if `key` is a member.
    pub fn is_member(&self, key: &KeyHash) -> bool {
        self.members.binary_search(key).is_ok()
    }

    /// True if `key` is a steward.
    pub fn is_steward(&self, key: &KeyHash) -> bool {
        self.stewards.binary_search(key).is_ok()
    }
}

/// The roster at `checkpoint`, or the founders when `None`.
pub fn roster_at(
    checkpoint: Option<&ActionHash>,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<Roster, Verdict> {
    let Some(hash) = checkpoint else {
        return Ok(Roster::founders(dna));
    };
    let record = fetch(ctx, hash)?;
    if !is_entry(&record, ZOME_GOVERNANCE, CHECKPOINT) {
        return Err(Verdict::invalid(format!(
            "{hash} is not a roster checkpoint"
        )));
    }
    let checkpoint: Checkpoint = decode_required(&record, "checkpoint")?;
    Ok(Roster {
        members: checkpoint.members,
        stewards: checkpoint.stewards,
    })
}
