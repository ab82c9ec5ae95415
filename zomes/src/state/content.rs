//! Content: each story's current version, consent and visibility, its revocations and
//! deletion, and whether a steward has approved it under its cultural protocols.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{ActionHash, BasisPoints, DnaManifest, KeyHash, Timestamp, Visibility};
use serde::Serialize;

use super::input::{Fact, Input, Item};
use crate::content::{Consent, Content, Recipient};

/// One piece of content (a `content/content` Create) with its updates applied.
///
/// The fields read from the entry describe the newest version. They are unknown (`None`,
/// `false`) when that version's entry is not readable here: it is `Private`, or purged.
/// Once the content is deleted they are unknown too, so a node that has not purged the bytes
/// yet folds the same state as one that has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContentState {
    /// The creator: the author of the Create.
    #[serde(serialize_with = "super::ids::text")]
    pub author: KeyHash,
    /// When it was created.
    pub created_at: Timestamp,
    /// The newest version by (timestamp, hash): the Create or an Update.
    #[serde(serialize_with = "super::ids::text")]
    pub latest: ActionHash,
    /// The newest version's visibility.
    pub visibility: Visibility,
    /// The newest version's consent.
    pub consent: Option<Consent>,
    /// True if the newest version lists a revenue share.
    pub shares_revenue: bool,
    /// The creator's share of revenue: all of it (10000) without a revenue share.
    pub creator_share_bp: Option<BasisPoints>,
    /// The cultural protocols it is tagged with: those of the newest readable version, so
    /// that an unreadable newest version never drops a tag.
    pub protocols: Vec<String>,
    /// Tagged with a protocol whose DNA entry requires a steward's approval.
    pub needs_approval: bool,
    /// A steward approved it under every such protocol.
    pub approved: bool,
    /// Some update narrowed its consent or visibility.
    pub revoked: bool,
    /// A Delete targets its Create or one of its updates.
    pub deleted: bool,
    /// When the newest version was written.
    pub updated_at: Timestamp,
}

/// True if members of the pod may be shown the content: it is not deleted, not `Private`,
/// and not waiting for a steward's approval under a cultural protocol.
pub fn is_visible_to_pod(content: &ContentState) -> bool {
    !content.deleted && !content.awaits_approval() && content.visibility != Visibility::Private
}

impl ContentState {
    /// True if it is tagged with a protocol that requires a steward's approval, and no
    /// steward has approved it yet.
    pub fn awaits_approval(&self) -> bool {
        self.needs_approval && !self.approved
    }
}

/// Content by its Create, and the updates that narrowed consent or visibility.
pub(super) struct ContentFold {
    pub states: BTreeMap<ActionHash, ContentState>,
    pub revocations: BTreeSet<ActionHash>,
}

/// Folds the content, its updates, deletes and approvals.
///
/// An update or delete whose chain of originals does not lead to a Create among the records,
/// or that another author wrote, is left out.
pub(super) fn fold_content(dna: &DnaManifest, input: &Input) -> ContentFold {
    let mut versions: BTreeMap<ActionHash, Vec<&Item>> = BTreeMap::new();
    let mut revocations = BTreeSet::new();
    let mut deleted = BTreeSet::new();
    let mut approvals: BTreeSet<(ActionHash, &str)> = BTreeSet::new();
    for item in input.items() {
        match &item.fact {
            Fact::Content { original: None, .. } => {
                versions.insert(item.hash, vec![item]);
            }
            Fact::Content {
                original: Some(original),
                ..
            } => {
                let Some(root) = root_by(input, original, &item.author) else {
                    continue;
                };
                if input.get(original).is_some_and(|old| narrows(old, item)) {
                    revocations.insert(item.hash);
                }
                // Items come oldest first, so each list stays in (timestamp, hash) order.
                versions.entry(root).or_default().push(item);
            }
            Fact::Delete { target } => {
                if let Some(root) = root_by(input, target, &item.author) {
                    deleted.insert(root);
                }
            }
            Fact::Approval(Some(approval)) => {
                approvals.insert((approval.content, approval.protocol.as_str()));
            }
            _ => {}
        }
    }
    let states = versions
        .into_iter()
        .filter_map(|(root, versions)| {
            let state = content_state(dna, &root, &versions, &revocations, &deleted, &approvals)?;
            Some((root, state))
        })
        .collect();
    ContentFold {
        states,
        revocations,
    }
}

/// The Create that `hash` (a content Create or Update) goes back to, if `author` wrote it.
fn root_by(input: &Input, hash: &ActionHash, author: &KeyHash) -> Option<ActionHash> {
    let mut hash = *hash;
    // Each step goes to an earlier record, so there are at most as many steps as records.
    for _ in 0..=input.items().len() {
        let item = input.get(&hash)?;
        if item.author != *author {
            return None;
        }
        match &item.fact {
            Fact::Content { original: None, .. } => return Some(hash),
            Fact::Content {
                original: Some(original),
                ..
            } => hash = *original,
            _ => return None,
        }
    }
    None
}

/// True if `new` narrows the consent or visibility of `old`, the version it replaces.
/// Consent can only be compared when both entries are readable.
fn narrows(old: &Item, new: &Item) -> bool {
    let visibility = match (old.visibility, new.visibility) {
        (Some(old), Some(new)) => !new.is_at_least_as_wide_as(old),
        _ => false,
    };
    let consent = match (entry(old), entry(new)) {
        (Some(old), Some(new)) => {
            new.consent.is_narrower_or_equal(&old.consent) && new.consent != old.consent
        }
        _ => false,
    };
    visibility || consent
}

fn entry(item: &Item) -> Option<&Content> {
    match &item.fact {
        Fact::Content { entry, .. } => entry.as_ref(),
        _ => None,
    }
}

fn content_state(
    dna: &DnaManifest,
    root: &ActionHash,
    versions: &[&Item],
    revocations: &BTreeSet<ActionHash>,
    deleted: &BTreeSet<ActionHash>,
    approvals: &BTreeSet<(ActionHash, &str)>,
) -> Option<ContentState> {
    let create = versions.first()?;
    let latest = versions.last()?;
    let deleted = deleted.contains(root);
    let current = if deleted { None } else { entry(latest) };
    let protocols = if deleted {
        Vec::new()
    } else {
        versions
            .iter()
            .rev()
            .find_map(|v| entry(v))
            .map(|c| c.protocols.clone())
            .unwrap_or_default()
    };
    let gated: Vec<&str> = protocols
        .iter()
        .map(String::as_str)
        .filter(|tag| {
            dna.properties
                .cultural_protocols
                .iter()
                .any(|p| p.name == *tag && p.requires_steward_approval)
        })
        .collect();
    let needs_approval = !gated.is_empty();
    Some(ContentState {
        author: create.author,
        created_at: create.at,
        latest: latest.hash,
        visibility: latest.visibility.unwrap_or(Visibility::Private),
        consent: current.map(|c| c.consent.clone()),
        shares_revenue: current.is_some_and(|c| c.revenue_share.is_some()),
        creator_share_bp: current.map(|c| creator_share(c, &create.author)),
        needs_approval,
        approved: needs_approval && gated.iter().all(|tag| approvals.contains(&(*root, *tag))),
        protocols,
        revoked: versions.iter().any(|v| revocations.contains(&v.hash)),
        deleted,
        updated_at: latest.at,
    })
}

/// The creator's share of `content`'s revenue: all of it without a revenue share. Summed
/// wide and capped, so that even a share list that never passed validation cannot overflow.
fn creator_share(content: &Content, creator: &KeyHash) -> BasisPoints {
    let Some(shares) = &content.revenue_share else {
        return BasisPoints::WHOLE;
    };
    let bp: u32 = shares
        .iter()
        .filter(|s| s.recipient == Recipient::Member(*creator))
        .map(|s| u32::from(s.bp.0))
        .sum();
    BasisPoints(bp.min(u32::from(BasisPoints::WHOLE.0)) as u16)
}
