//! The transparency figures every node derives and shows (GOVERNANCE.md, "Derived, not
//! stored"), and a storyteller's own dashboard. Integers only: rates are basis points.

use std::collections::BTreeMap;

use myco_dna::{ActionHash, BasisPoints, DnaManifest, KeyHash, Timestamp, Visibility};
use serde::Serialize;

use super::content::{is_visible_to_pod, ContentState};
use super::input::{Fact, Input};
use super::proposals::{ProposalState, ProposalStatus};
use super::roster::Member;
use super::PodState;
use crate::content::Consent;

/// The window of "active members": 30 days, in microseconds.
pub const ACTIVE_WINDOW_MICROS: u64 = 30 * 24 * 60 * 60 * 1_000_000;

/// The pod's transparency figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Current members: not left, not removed.
    pub members: usize,
    /// Current members who wrote any record in the 30 days up to now: (now − 30 days, now].
    pub active_members_30d: usize,
    /// Proposals still open.
    pub proposals_open: usize,
    /// Proposals passed.
    pub proposals_passed: usize,
    /// Proposals that closed without a decision.
    pub proposals_failed: usize,
    /// The mean, over passed or failed proposals with a known electorate, of distinct voters
    /// × 10000 / electorate size (integer division); 0 when there are none.
    pub mean_vote_participation_bp: BasisPoints,
    /// Of live content with a revenue share, the share whose creator gets at least the DNA's
    /// minimum. Validation makes it 10000; it is computed so anyone can check. 10000 when
    /// no content has a revenue share.
    pub creator_share_compliance_bp: BasisPoints,
    /// The mean creator share of live content whose share is known; 0 when there is none.
    pub average_creator_share_bp: BasisPoints,
    /// Live content by its current visibility.
    pub content_by_visibility: VisibilityCounts,
    /// Of live content whose consent is known, the share that gives each consent.
    pub consent_rates_bp: ConsentRates,
    /// Delete actions carried out (of any entry).
    pub deletions: usize,
    /// Content updates that narrowed consent or visibility.
    pub revocations: usize,
    /// Deletion receipts: nodes' signed claims that they erased a deleted or narrowed version.
    pub erasure_receipts: usize,
    /// Receipts still owed: for each deletion or narrowing of content, the current members
    /// (other than its author) who had joined by then and sent no receipt for it.
    pub receipts_owed: usize,
    /// Distinct warrants that hold in this pod.
    pub warrants: usize,
    /// Distinct key hashes blocked by a warrant or a passed emergency decision.
    pub blocked_authors: usize,
    /// Passed ApproveReplica proposals.
    pub replica_approvals: usize,
    /// Passed ApproveBackupSchedule proposals.
    pub backup_approvals: usize,
    /// Passed emergency proposals.
    pub emergency_actions: usize,
}

/// How many pieces of live (not deleted) content have each visibility.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VisibilityCounts {
    /// Visible to anyone.
    pub public: usize,
    /// Visible to the pod's members.
    pub pod: usize,
    /// Visible to the author only.
    pub private: usize,
}

/// For each consent flag, the share of content (with known consent) that gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsentRates {
    /// [`Consent::public_sharing`].
    pub public_sharing: BasisPoints,
    /// [`Consent::community_sharing`].
    pub community_sharing: BasisPoints,
    /// [`Consent::ai_analysis`].
    pub ai_analysis: BasisPoints,
    /// [`Consent::commercial_use`].
    pub commercial_use: BasisPoints,
    /// [`Consent::attribution_required`].
    pub attribution_required: BasisPoints,
    /// [`Consent::modification_allowed`].
    pub modification_allowed: BasisPoints,
}

/// What one storyteller sees of their own content and earnings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StorytellerDashboard {
    /// Whose dashboard.
    #[serde(serialize_with = "super::ids::text")]
    pub storyteller: KeyHash,
    /// Content they created, deleted or not.
    pub content: usize,
    /// Of it, what the pod may be shown ([`is_visible_to_pod`]).
    pub visible: usize,
    /// Of it, what waits for a steward's approval (and is not deleted).
    pub pending_approval: usize,
    /// Of it, what had consent or visibility narrowed.
    pub revoked: usize,
    /// Of it, what was deleted.
    pub deleted: usize,
    /// What distributions paid them, per currency, in minor units.
    pub received: BTreeMap<String, u64>,
}

/// What the figures are computed from.
pub(super) struct Sources<'a> {
    pub input: &'a Input,
    pub roster: &'a BTreeMap<KeyHash, Member>,
    pub proposals: &'a BTreeMap<ActionHash, ProposalState>,
    pub content: &'a BTreeMap<ActionHash, ContentState>,
    /// Updates that narrowed consent or visibility.
    pub revocations: &'a std::collections::BTreeSet<ActionHash>,
    /// Distinct warrants that hold.
    pub warrants: usize,
    /// Distinct blocked key hashes.
    pub blocked_authors: usize,
}

/// Computes the figures at `now`.
pub(super) fn compute(dna: &DnaManifest, from: &Sources<'_>, now: Timestamp) -> Figures {
    let input = from.input;
    let status_count = |status| {
        from.proposals
            .values()
            .filter(|p| p.status == status)
            .count()
    };
    let passed_kind = |kind: &str| {
        from.proposals
            .values()
            .filter(|p| p.status == ProposalStatus::Passed && p.kind == kind)
            .count()
    };
    let participation = from
        .proposals
        .values()
        .filter(|p| p.status != ProposalStatus::Open && p.electorate_size > 0)
        .map(|p| ratio(p.voters(), p.electorate_size));
    let live: Vec<&ContentState> = from.content.values().filter(|c| !c.deleted).collect();
    let shares = live.iter().filter_map(|c| c.creator_share_bp);
    let floor = dna.properties.min_creator_share_bp;
    let with_share: Vec<&&ContentState> = live.iter().filter(|c| c.shares_revenue).collect();
    let compliant = with_share
        .iter()
        .filter(|c| c.creator_share_bp >= Some(floor))
        .count();
    Figures {
        members: from.roster.values().filter(|m| m.is_current()).count(),
        active_members_30d: active_members(from.roster, input, now),
        proposals_open: status_count(ProposalStatus::Open),
        proposals_passed: status_count(ProposalStatus::Passed),
        proposals_failed: status_count(ProposalStatus::Failed),
        mean_vote_participation_bp: mean(participation),
        creator_share_compliance_bp: if with_share.is_empty() {
            BasisPoints::WHOLE
        } else {
            ratio(compliant, with_share.len())
        },
        average_creator_share_bp: mean(shares),
        content_by_visibility: VisibilityCounts {
            public: live
                .iter()
                .filter(|c| c.visibility == Visibility::Public)
                .count(),
            pod: live
                .iter()
                .filter(|c| c.visibility == Visibility::Pod)
                .count(),
            private: live
                .iter()
                .filter(|c| c.visibility == Visibility::Private)
                .count(),
        },
        consent_rates_bp: consent_rates(live.iter().filter_map(|c| c.consent.as_ref())),
        deletions: input
            .items()
            .iter()
            .filter(|i| matches!(i.fact, Fact::Delete { .. }))
            .count(),
        revocations: from.revocations.len(),
        erasure_receipts: input
            .items()
            .iter()
            .filter(|i| matches!(i.fact, Fact::Receipt(Some(_))))
            .count(),
        receipts_owed: receipts_owed(from),
        warrants: from.warrants,
        blocked_authors: from.blocked_authors,
        replica_approvals: passed_kind("approve_replica"),
        backup_approvals: passed_kind("approve_backup_schedule"),
        emergency_actions: from
            .proposals
            .values()
            .filter(|p| p.status == ProposalStatus::Passed && p.emergency)
            .count(),
    }
}

/// For each revocation of content (a Delete of a version, or a narrowing Update), the
/// current members other than its author who had joined by then and whose receipt for it is
/// not among the records.
fn receipts_owed(from: &Sources<'_>) -> usize {
    let input = from.input;
    let mut receipted: BTreeMap<ActionHash, std::collections::BTreeSet<KeyHash>> = BTreeMap::new();
    for item in input.items() {
        if let Fact::Receipt(Some(receipt)) = &item.fact {
            receipted
                .entry(receipt.revocation)
                .or_default()
                .insert(item.author);
        }
    }
    let is_content = |hash: &ActionHash| {
        input
            .get(hash)
            .is_some_and(|i| matches!(i.fact, Fact::Content { .. }))
    };
    let revocations = input.items().iter().filter(|item| match &item.fact {
        Fact::Delete { target } => is_content(target),
        _ => from.revocations.contains(&item.hash),
    });
    let mut owed = 0;
    for revocation in revocations {
        let confirmed = receipted.get(&revocation.hash);
        owed += from
            .roster
            .iter()
            .filter(|(member, m)| {
                **member != revocation.author
                    && m.is_current()
                    && m.joined_at.is_some_and(|joined| joined <= revocation.at)
                    && !confirmed.is_some_and(|c| c.contains(*member))
            })
            .count();
    }
    owed
}

/// Current members with a record in (now − 30 days, now].
fn active_members(roster: &BTreeMap<KeyHash, Member>, input: &Input, now: Timestamp) -> usize {
    let after = now.0.checked_sub(ACTIVE_WINDOW_MICROS);
    let mut active: Vec<&KeyHash> = input
        .items()
        .iter()
        .filter(|i| i.at <= now && after.is_none_or(|after| i.at.0 > after))
        .map(|i| &i.author)
        .filter(|author| roster.get(author).is_some_and(|m| m.is_current()))
        .collect();
    active.sort();
    active.dedup();
    active.len()
}

fn consent_rates<'a>(consents: impl Iterator<Item = &'a Consent>) -> ConsentRates {
    let consents: Vec<&Consent> = consents.collect();
    let rate = |flag: fn(&Consent) -> bool| {
        ratio(consents.iter().filter(|c| flag(c)).count(), consents.len())
    };
    ConsentRates {
        public_sharing: rate(|c| c.public_sharing),
        community_sharing: rate(|c| c.community_sharing),
        ai_analysis: rate(|c| c.ai_analysis),
        commercial_use: rate(|c| c.commercial_use),
        attribution_required: rate(|c| c.attribution_required),
        modification_allowed: rate(|c| c.modification_allowed),
    }
}

/// `part` × 10000 / `whole`, rounded down and capped at 10000; 0 when `whole` is 0.
fn ratio(part: usize, whole: usize) -> BasisPoints {
    if whole == 0 {
        return BasisPoints(0);
    }
    let bp = (part as u128 * 10_000 / whole as u128).min(10_000);
    // Capped at 10000 just above, so it fits a u16.
    BasisPoints(bp as u16)
}

/// The mean of some basis points, rounded down; 0 when there are none.
fn mean(values: impl Iterator<Item = BasisPoints>) -> BasisPoints {
    let (sum, count) = values.fold((0u128, 0u128), |(sum, n), bp| {
        (sum + u128::from(bp.0), n + 1)
    });
    if count == 0 {
        return BasisPoints(0);
    }
    // A mean of values that are each at most u16::MAX fits a u16.
    BasisPoints((sum / count) as u16)
}

impl PodState {
    /// The dashboard of `storyteller`: their content, what of it the pod may see, what waits
    /// for approval, what they revoked or deleted, and what they were paid.
    pub fn storyteller(&self, storyteller: &KeyHash) -> StorytellerDashboard {
        let theirs: Vec<&ContentState> = self
            .content
            .values()
            .filter(|c| c.author == *storyteller)
            .collect();
        let count = |f: fn(&ContentState) -> bool| theirs.iter().filter(|c| f(c)).count();
        StorytellerDashboard {
            storyteller: *storyteller,
            content: theirs.len(),
            visible: count(is_visible_to_pod),
            pending_approval: count(|c| !c.deleted && c.awaits_approval()),
            revoked: count(|c| c.revoked),
            deleted: count(|c| c.deleted),
            received: self
                .value
                .received
                .get(storyteller)
                .cloned()
                .unwrap_or_default(),
        }
    }
}
