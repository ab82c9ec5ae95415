//! What the API's reads answer: a page of a pod's feed, and one story with everything about
//! it. Shared by the server and the CLI client. Times are µs since the Unix epoch.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /pods/{pod}/feed`: one page, newest first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FeedView {
    /// The pod.
    pub pod: String,
    /// The stories on this page.
    pub items: Vec<FeedItemView>,
    /// Pass as `before` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<String>,
}

/// One story in the feed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FeedItemView {
    /// The story's Create (`act_…`): what `myco show` takes.
    pub hash: String,
    /// Its newest version.
    pub latest: String,
    /// Its author's key hash.
    pub author: String,
    /// Its author's username, where this node holds their profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Kind of work.
    pub kind: String,
    /// Title.
    pub title: String,
    /// The start of the body.
    pub excerpt: String,
    /// `public`, `pod` or `private`.
    pub visibility: String,
    /// When the Create was written.
    pub published_micros: u64,
    /// When the newest version was written.
    pub updated_micros: u64,
    /// How many versions.
    pub versions: u64,
    /// Comments held here.
    pub comments: u64,
    /// Reactions held here.
    pub reactions: u64,
}

/// What the storyteller consents to: the content zome's own type.
pub use myco_zomes::content::Consent as ConsentView;

/// One recipient's share of revenue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShareView {
    /// `kh_…`, or `community`.
    pub recipient: String,
    /// Basis points (10000 is all of it).
    pub bp: u16,
}

/// One steward's approval.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApprovedView {
    /// The protocol.
    pub protocol: String,
    /// The steward.
    pub steward: String,
    /// The approval record.
    pub record: String,
}

/// Where the story stands with the pod's cultural protocols.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApprovalView {
    /// `not needed`, `approved`, or `awaiting steward approval`.
    pub status: String,
    /// The protocols tagged on it that need a steward's approval.
    pub required: Vec<String>,
    /// The approvals held here.
    pub approvals: Vec<ApprovedView>,
}

/// One version of a story.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VersionView {
    /// Its record.
    pub hash: String,
    /// When it was written.
    pub micros: u64,
    /// Its visibility.
    pub visibility: String,
    /// `held`, `purged` (erased here), or `not held` (never given to this node).
    pub entry: String,
    /// Its title, when held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A comment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommentView {
    /// Its record.
    pub hash: String,
    /// Its author's key hash.
    pub author: String,
    /// Its author's username, where held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// When.
    pub micros: u64,
    /// The text.
    pub body: String,
}

/// The reactions to a story.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReactionsView {
    /// How many are held here.
    pub total: u64,
    /// How many of each, among the newest [`crate::api::reads::MAX_COUNTED_REACTIONS`].
    pub counts: BTreeMap<String, u64>,
}

/// One node's receipt for erasing a version of the story.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReceiptView {
    /// The member whose node signed it.
    pub member: String,
    /// The version it erased.
    pub record: String,
    /// When, by that node's clock.
    pub purged_micros: u64,
    /// The receipt record.
    pub receipt: String,
}

/// Who confirmed erasure of a revoked story, and who still owes it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReceiptsView {
    /// The Delete or narrowing Update the receipts answer, newest first.
    pub revocations: Vec<String>,
    /// Receipts held here.
    pub confirmed: Vec<ReceiptView>,
    /// Members (by key hash) who could hold a revoked version and sent no receipt yet.
    pub owed: Vec<String>,
    /// What a receipt is worth.
    pub note: String,
}

/// `GET /content/{hash}`: one story.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoryView {
    /// The pod.
    pub pod: String,
    /// The story's Create.
    pub hash: String,
    /// Its newest version.
    pub latest: String,
    /// Its author's key hash.
    pub author: String,
    /// Its author's username, where held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// True once it was deleted.
    pub deleted: bool,
    /// True if this node holds the newest version's text.
    pub held: bool,
    /// Visibility of the newest version.
    pub visibility: String,
    /// Kind of work (empty when not held).
    pub kind: String,
    /// Title (empty when not held).
    pub title: String,
    /// Text (empty when not held).
    pub body: String,
    /// What the storyteller consents to (absent when not held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentView>,
    /// Principles affirmed.
    pub principles: Vec<String>,
    /// Cultural protocols tagged.
    pub protocols: Vec<String>,
    /// How the author wants to be credited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// How revenue is shared (all to the creator when the story lists no share).
    pub revenue_share: Vec<ShareView>,
    /// Approval under the pod's cultural protocols.
    pub approval: ApprovalView,
    /// Every version, oldest first.
    pub versions: Vec<VersionView>,
    /// Reactions.
    pub reactions: ReactionsView,
    /// Comments held here, oldest first: one page.
    pub comments: Vec<CommentView>,
    /// How many comments are held here.
    pub comments_total: u64,
    /// Pass as `comments_after` for the next page of comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_comments_after: Option<String>,
    /// Deletion receipts, once the story was deleted or narrowed.
    pub receipts: ReceiptsView,
    /// How often it was shown on this node since the daemon started, this showing included.
    /// Counted here only: never written to a chain nor sent to anyone.
    #[serde(default)]
    pub views_here: u64,
}
