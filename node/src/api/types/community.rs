//! The JSON bodies of a member's day beyond publishing: edits, comments and reactions, value
//! events, distributions and statements, leaving, and the members list with their roles.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Changes to consent flags: a flag left out keeps its current value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsentChanges {
    /// May be shown to anyone.
    pub public_sharing: Option<bool>,
    /// May be shown to the pod's members.
    pub community_sharing: Option<bool>,
    /// May be used for AI analysis.
    pub ai_analysis: Option<bool>,
    /// May be used commercially.
    pub commercial_use: Option<bool>,
    /// Reuse must credit the author.
    pub attribution_required: Option<bool>,
    /// May be modified by others.
    pub modification_allowed: Option<bool>,
}

impl ConsentChanges {
    /// The change to the flag named `name`, to set; `None` for a name that is not a flag.
    pub fn flag_mut(&mut self, name: &str) -> Option<&mut Option<bool>> {
        Some(match name {
            "public_sharing" => &mut self.public_sharing,
            "community_sharing" => &mut self.community_sharing,
            "ai_analysis" => &mut self.ai_analysis,
            "commercial_use" => &mut self.commercial_use,
            "attribution_required" => &mut self.attribution_required,
            "modification_allowed" => &mut self.modification_allowed,
            _ => return None,
        })
    }
}

/// `POST /pods/{pod}/content/{hash}`: a new version of the author's content. Every field
/// left out keeps the current version's value; the daemon reads that version from its store.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EditRequest {
    /// New title.
    pub title: Option<String>,
    /// New text body.
    pub body: Option<String>,
    /// New kind of work.
    pub kind: Option<String>,
    /// New visibility: `public`, `pod` or `private`. Narrower is a revocation.
    pub visibility: Option<String>,
    /// Consent flags to change.
    pub consent: Option<ConsentChanges>,
    /// The principles affirmed, replacing the current list.
    pub principles: Option<Vec<String>>,
    /// The protocol tags, replacing the current list.
    pub protocols: Option<Vec<String>>,
    /// How to credit the author.
    pub attribution: Option<String>,
}

/// `POST /pods/{pod}/content/{hash}`: the new version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Edited {
    /// The pod.
    pub pod: String,
    /// The content the edit named (`act_…`); the new version replaces its latest version.
    pub replaces: String,
    /// The new version's action hash (`act_…`).
    pub hash: String,
}

/// `POST /pods/{pod}/reactions`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReactRequest {
    /// The content reacted to (`act_…`).
    pub content: String,
    /// The reaction, for example an emoji or a word.
    pub reaction: String,
    /// `pod` or `private`, to narrow it; by default the content's own visibility.
    #[serde(default)]
    pub visibility: Option<String>,
}

/// `POST /pods/{pod}/comments`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommentRequest {
    /// The content commented on (`act_…`).
    pub content: String,
    /// The comment's text.
    pub body: String,
    /// `pod` or `private`, to narrow it; by default the content's own visibility.
    #[serde(default)]
    pub visibility: Option<String>,
}

/// `POST /pods/{pod}/value/events`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ValueEventRequest {
    /// The content that earned it (`act_…`).
    pub content: String,
    /// How much, in the currency's minor units (cents, øre, …).
    pub amount: u64,
    /// ISO 4217 code, for example `EUR`.
    pub currency: String,
    /// The GrantRole decision that makes this agent a treasurer (`act_…`); omit as the
    /// content's creator.
    #[serde(default)]
    pub grant: Option<String>,
}

/// `POST /pods/{pod}/value/distributions`: the daemon computes the payouts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DistributeRequest {
    /// The value event (`act_…`).
    pub event: String,
    /// The GrantRole decision that makes this agent a treasurer (`act_…`); omit as the
    /// content's creator.
    #[serde(default)]
    pub grant: Option<String>,
}

/// One payout of a distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutView {
    /// Who (`kh_…`).
    pub recipient: String,
    /// How much, in minor units.
    pub amount: u64,
}

/// `POST /pods/{pod}/value/distributions`: what was written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Distributed {
    /// The pod.
    pub pod: String,
    /// The distribution's action hash (`act_…`).
    pub hash: String,
    /// The value event paid out.
    pub event: String,
    /// Its currency.
    pub currency: String,
    /// The payouts: the content's revenue share and the DNA's benefit model applied to the
    /// amount, by largest remainder with ties to the lower key hash.
    pub payouts: Vec<PayoutView>,
}

/// What one member earned and was paid in one currency, in minor units.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Their computed share of every value event.
    pub earned: u64,
    /// The sum of the payouts to them in distributions.
    pub paid: u64,
}

/// One member's line of a value statement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberStatement {
    /// The member (`kh_…`).
    pub member: String,
    /// Per ISO 4217 currency code.
    pub currencies: BTreeMap<String, Balance>,
}

/// `GET /pods/{pod}/value/statement[?member=kh_…]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatementView {
    /// The pod.
    pub pod: String,
    /// Value events this node holds.
    pub events: usize,
    /// Distributions that took effect (the first per event).
    pub distributions: usize,
    /// Value events not distributed yet (`act_…`).
    pub undistributed: Vec<String>,
    /// Per member, sorted by key hash.
    pub members: Vec<MemberStatement>,
}

/// `POST /pods/{pod}/leave`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LeaveRequest {
    /// Why, if the member wants to say.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /pods/{pod}/leave`: the Leave record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Left {
    /// The pod.
    pub pod: String,
    /// The Leave record (`act_…`).
    pub hash: String,
    /// What leaving means for this node.
    pub note: String,
}

/// A role a member holds, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleView {
    /// `steward`, `manager`, `treasurer` or `archivist`.
    pub role: String,
    /// The GrantRole decision that granted it (`act_…`), or `founder`.
    pub granted_by: String,
}

/// One member of a pod.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberView {
    /// Their key hash.
    pub key_hash: String,
    /// Their username, if this node holds their profile.
    pub username: Option<String>,
    /// Their roles.
    pub roles: Vec<RoleView>,
}

/// `GET /pods/{pod}/members`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MembersView {
    /// The pod.
    pub pod: String,
    /// Members this node knows of (the founders, and each Genesis it holds), less those
    /// whose Leave or Remove decision it holds; sorted by key hash.
    pub members: Vec<MemberView>,
}
