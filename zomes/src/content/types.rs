//! Entry types of the content zome.

use myco_dna::{ActionHash, BasisPoints, EntryHash, KeyHash, Timestamp};
use serde::{Deserialize, Serialize};

use crate::governance::RoleProof;

/// Entry type name of a story or other creator content.
pub const CONTENT: &str = "content";
/// Entry type name of a steward's approval under a cultural protocol.
pub const APPROVAL: &str = "approval";
/// Entry type name of a comment.
pub const COMMENT: &str = "comment";
/// Entry type name of a reaction.
pub const REACTION: &str = "reaction";
/// Entry type name of a deletion receipt.
pub const RECEIPT: &str = "receipt";

/// What the storyteller consents to. Granular, and revocable by an update.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// May be shown to anyone (`Public` visibility needs it).
    pub public_sharing: bool,
    /// May be shown to the pod's members (`Pod` visibility needs it).
    pub community_sharing: bool,
    /// May be used for AI analysis.
    pub ai_analysis: bool,
    /// May be used commercially.
    pub commercial_use: bool,
    /// Reuse must credit the author.
    pub attribution_required: bool,
    /// May be modified by others.
    pub modification_allowed: bool,
    /// Channels it may be distributed through.
    pub distribution_channels: Vec<String>,
}

impl Consent {
    /// True if `self` allows nothing that `other` does not.
    pub fn is_narrower_or_equal(&self, other: &Consent) -> bool {
        let flags = |c: &Consent| {
            [
                c.public_sharing,
                c.community_sharing,
                c.ai_analysis,
                c.commercial_use,
                c.modification_allowed,
            ]
        };
        let no_new_flag = flags(self).iter().zip(flags(other)).all(|(a, b)| !a || b);
        let no_new_channel = self
            .distribution_channels
            .iter()
            .all(|c| other.distribution_channels.contains(c));
        no_new_flag && no_new_channel && (self.attribution_required || !other.attribution_required)
    }
}

/// Who receives a share of revenue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Recipient {
    /// A member, by key hash.
    Member(KeyHash),
    /// The community, shared by the DNA's benefit model.
    Community,
}

/// One recipient's share of revenue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// Who.
    pub recipient: Recipient,
    /// How much, in basis points.
    pub bp: BasisPoints,
}

/// A story or piece of creator content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// Title.
    pub title: String,
    /// Text body (may be empty when `blob` holds the media).
    pub body: String,
    /// Media, as a blob hash.
    pub blob: Option<EntryHash>,
    /// What kind of work: story, article, video, …
    pub kind: String,
    /// What the author consents to.
    pub consent: Consent,
    /// How revenue is shared; `None` means all of it goes to the creator.
    pub revenue_share: Option<Vec<Share>>,
    /// Charter principles the author affirms.
    pub principles: Vec<String>,
    /// Cultural protocols the content is tagged with.
    pub protocols: Vec<String>,
    /// How the author wants to be credited.
    pub attribution: Option<String>,
}

/// A steward's approval of content tagged with a cultural protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The Create of the content.
    pub content: ActionHash,
    /// The protocol approved under.
    pub protocol: String,
    /// Why the approver is a steward.
    pub role: RoleProof,
}

/// A comment on content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The Create of the content.
    pub content: ActionHash,
    /// The text.
    pub text: String,
}

/// A reaction to content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The Create of the content.
    pub content: ActionHash,
    /// The reaction, for example an emoji.
    pub reaction: String,
}

/// A node's signed claim that it purged the entry of `record` after the revocation
/// `revocation` (a Delete, or an Update that narrowed it), at `purged_at` by its own clock.
/// It is a claim, not a proof: a node can keep a copy and still sign one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The Delete or narrowing Update that made this node purge.
    pub revocation: ActionHash,
    /// The record whose entry was purged.
    pub record: ActionHash,
    /// When the purge was done, by the purging node's clock.
    pub purged_at: Timestamp,
}
