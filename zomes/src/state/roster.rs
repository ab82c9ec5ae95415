//! The roster: who is a member, since when, with which roles, and who left, was removed or
//! is blocked.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{DnaManifest, KeyHash, Timestamp};
use serde::Serialize;

use super::input::{Fact, Input, PodWarrant};
use super::proposals::Effect;
use crate::governance::{EmergencyMeasure, ProposalKind, Role};

/// One member of the pod: a founder, or the author of a Genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// True if the DNA names them as a founder.
    pub founder: bool,
    /// When their Genesis was written; `None` for a founder whose Genesis is not among the
    /// records.
    pub joined_at: Option<Timestamp>,
    /// Roles held: founders start as stewards; passed GrantRole and RevokeRole decisions
    /// apply in the order of their decision records.
    pub roles: BTreeSet<Role>,
    /// The timestamp of their newest record among those folded (even one later than `now`);
    /// `None` if none is.
    pub last_active: Option<Timestamp>,
    /// They wrote a `membership/leave`.
    pub left: bool,
    /// A passed Remove decision names them.
    pub removed: bool,
    /// A warrant accuses them, or a passed emergency decision blocked them.
    pub blocked: bool,
}

impl Member {
    fn new(founder: bool) -> Self {
        Member {
            founder,
            joined_at: None,
            roles: if founder {
                BTreeSet::from([Role::Steward])
            } else {
                BTreeSet::new()
            },
            last_active: None,
            left: false,
            removed: false,
            blocked: false,
        }
    }

    /// True if they are still a member: neither left nor removed (blocked members still are).
    pub fn is_current(&self) -> bool {
        !self.left && !self.removed
    }
}

/// Every key hash that is blocked: warrant offenders and targets of passed emergency
/// BlockMember decisions, members or not.
pub(super) fn blocked_authors(warrants: &[PodWarrant], effects: &[Effect]) -> BTreeSet<KeyHash> {
    let by_warrant = warrants.iter().map(|w| w.offender);
    let by_decision = effects.iter().filter_map(|effect| match &effect.kind {
        ProposalKind::Emergency(EmergencyMeasure::BlockMember(member)) => Some(*member),
        _ => None,
    });
    by_warrant.chain(by_decision).collect()
}

/// Folds the roster from the founders, Genesis and Leave records, and passed decisions.
///
/// Decisions about someone who is not on the roster (their Genesis is not among the records)
/// change nothing here.
pub(super) fn fold_roster(
    dna: &DnaManifest,
    input: &Input,
    effects: &[Effect],
    blocked: &BTreeSet<KeyHash>,
) -> BTreeMap<KeyHash, Member> {
    let mut roster: BTreeMap<KeyHash, Member> = dna
        .properties
        .founders
        .iter()
        .map(|founder| (*founder, Member::new(true)))
        .collect();
    for item in input.items() {
        if matches!(item.fact, Fact::Genesis) {
            let member = roster
                .entry(item.author)
                .or_insert_with(|| Member::new(false));
            // Items come oldest first: a forked chain's first Genesis is the join.
            member.joined_at.get_or_insert(item.at);
        }
    }
    for item in input.items() {
        let Some(member) = roster.get_mut(&item.author) else {
            continue;
        };
        member.last_active = member.last_active.max(Some(item.at));
        if matches!(item.fact, Fact::Leave) {
            member.left = true;
        }
    }
    for effect in effects {
        match &effect.kind {
            ProposalKind::Remove { member } => {
                if let Some(member) = roster.get_mut(member) {
                    member.removed = true;
                }
            }
            ProposalKind::GrantRole { member, role } => {
                if let Some(member) = roster.get_mut(member) {
                    member.roles.insert(*role);
                }
            }
            ProposalKind::RevokeRole { member, role } => {
                if let Some(member) = roster.get_mut(member) {
                    member.roles.remove(role);
                }
            }
            _ => {}
        }
    }
    for key in blocked {
        if let Some(member) = roster.get_mut(key) {
            member.blocked = true;
        }
    }
    roster
}
