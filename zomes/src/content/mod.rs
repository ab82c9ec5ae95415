//! The content zome: stories and creator content, consent, revenue shares, principles,
//! cultural protocols and steward approvals, comments and reactions.

pub mod migration;
mod types;

pub use migration::{Migration, TableCount, MIGRATION};
pub use types::*;

use myco_dna::{DnaManifest, KeyHash, Record, ValidationContext, Verdict, Visibility, Zome};

use crate::codec::{decode, decode_required, fetch, is_entry};
use crate::governance::{check_role, Role};
use crate::text::{bounded, required};
use crate::ZOME_CONTENT;

/// Longest title, kind or attribution, in bytes.
pub const MAX_SHORT_FIELD: usize = 256;
/// Longest comment, in bytes.
pub const MAX_COMMENT: usize = 4096;
/// Most revenue-share recipients.
pub const MAX_SHARES: usize = 64;

/// The content zome.
pub struct ContentZome;

impl Zome for ContentZome {
    fn name(&self) -> &'static str {
        ZOME_CONTENT
    }

    fn entry_types(&self) -> &'static [&'static str] {
        &[CONTENT, APPROVAL, COMMENT, REACTION, RECEIPT, MIGRATION]
    }

    fn validate(&self, record: &Record, dna: &DnaManifest, ctx: &dyn ValidationContext) -> Verdict {
        crate::verdict_of(validate(record, dna, ctx))
    }
}

/// The creator's share of `content`'s revenue, in basis points (all of it without a share
/// list). Summed without overflow, so it is safe on content that never passed validation.
pub fn creator_share_bp(content: &Content, creator: &KeyHash) -> u32 {
    match &content.revenue_share {
        None => 10_000,
        Some(shares) => shares
            .iter()
            .filter(|s| s.recipient == Recipient::Member(*creator))
            .map(|s| u32::from(s.bp.0))
            .sum(),
    }
}

fn validate(
    record: &Record,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let Some(entry_ref) = record.action().body.entry_ref() else {
        return Ok(());
    };
    let visibility = entry_ref.visibility;
    match entry_ref.entry_type.as_str() {
        CONTENT => match decode::<Content>(record, "content")? {
            Some(content) => {
                validate_content(record, &content, visibility, dna)?;
                keeps_approval_protocols(record, &content, dna, ctx)
            }
            None => Ok(()),
        },
        APPROVAL => validate_approval(record, &decode_required(record, "approval")?, dna, ctx),
        // A Private (or purged) response reaches other nodes without its entry: only the
        // action-level rules apply there, as for content.
        COMMENT => match decode::<Comment>(record, "comment")? {
            Some(comment) => {
                bounded("comment", &comment.text, MAX_COMMENT)?;
                follows_content_visibility(&comment.content, visibility, ctx)
            }
            None => Ok(()),
        },
        REACTION => match decode::<Reaction>(record, "reaction")? {
            Some(reaction) => {
                bounded("reaction", &reaction.reaction, 64)?;
                follows_content_visibility(&reaction.content, visibility, ctx)
            }
            None => Ok(()),
        },
        RECEIPT => validate_receipt(record, &decode_required(record, "receipt")?, ctx),
        MIGRATION => match decode::<Migration>(record, "migration manifest")? {
            Some(migration) => migration::validate_migration(&migration, visibility),
            None => Ok(()),
        },
        other => Err(crate::unknown_entry_type(ZOME_CONTENT, other)),
    }
}

/// A receipt names a revocation by another author, and a record of that author's; it is
/// visible to the pod (the author must be able to read it) and dated no later than itself.
fn validate_receipt(
    record: &Record,
    receipt: &Receipt,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    crate::claim::check_claim(record, "a deletion receipt", receipt.purged_at)?;
    let revocation = fetch(ctx, &receipt.revocation)?;
    let revoker = revocation.action().author;
    let revokes = matches!(
        &revocation.action().body,
        myco_dna::ActionBody::Delete { .. } | myco_dna::ActionBody::Update { .. }
    );
    if !revokes {
        return Err(Verdict::invalid(format!(
            "{} is neither a Delete nor an Update; a receipt answers one of those",
            receipt.revocation
        )));
    }
    if revoker == record.action().author {
        return Err(Verdict::invalid(
            "an author does not write receipts for its own revocations",
        ));
    }
    let purged = fetch(ctx, &receipt.record)?;
    if purged.action().author != revoker {
        return Err(Verdict::invalid(format!(
            "{} was not written by the author of the revocation",
            receipt.record
        )));
    }
    Ok(())
}

/// True if `new` (a later version of `old`'s content) takes back something `old` allowed: a
/// narrower visibility, or a consent flag or channel withdrawn. Then every node but the
/// author's must stop holding `old`. Records that are not content compare by visibility only;
/// when either entry is not held, visibility decides.
pub fn narrows(old: &Record, new: &Record) -> bool {
    let (Some(old_ref), Some(new_ref)) =
        (old.action().body.entry_ref(), new.action().body.entry_ref())
    else {
        return false;
    };
    if !new_ref
        .visibility
        .is_at_least_as_wide_as(old_ref.visibility)
    {
        return true;
    }
    match (
        decode::<Content>(old, "content").ok().flatten(),
        decode::<Content>(new, "content").ok().flatten(),
    ) {
        (Some(before), Some(after)) => !before.consent.is_narrower_or_equal(&after.consent),
        _ => false,
    }
}

fn validate_content(
    record: &Record,
    content: &Content,
    visibility: Visibility,
    dna: &DnaManifest,
) -> Result<(), Verdict> {
    for (field, value) in [("title", &content.title), ("kind", &content.kind)] {
        bounded(field, value, MAX_SHORT_FIELD)?;
        required(field, value)?;
    }
    bounded(
        "attribution",
        content.attribution.as_deref().unwrap_or(""),
        MAX_SHORT_FIELD,
    )?;
    match visibility {
        Visibility::Public if !content.consent.public_sharing => {
            return Err(Verdict::invalid(
                "Public visibility needs the author's public_sharing consent",
            ))
        }
        Visibility::Pod if !content.consent.community_sharing => {
            return Err(Verdict::invalid(
                "Pod visibility needs the author's community_sharing consent",
            ))
        }
        _ => {}
    }
    let creator = record.action().author.key_hash();
    if let Some(shares) = &content.revenue_share {
        check_shares(shares, &creator, dna)?;
    }
    let props = &dna.properties;
    if let Some(missing) = props
        .required_principles
        .iter()
        .find(|p| !content.principles.contains(p))
    {
        return Err(Verdict::invalid(format!(
            "the content does not affirm the required principle `{missing}`"
        )));
    }
    for tag in &content.protocols {
        let Some(protocol) = props.cultural_protocols.iter().find(|p| &p.name == tag) else {
            return Err(Verdict::invalid(format!(
                "`{tag}` is not one of this pod's cultural protocols"
            )));
        };
        if !protocol.max_visibility.is_at_least_as_wide_as(visibility) {
            return Err(Verdict::invalid(format!(
                "the `{tag}` protocol allows at most {:?} visibility, not {visibility:?}",
                protocol.max_visibility
            )));
        }
    }
    Ok(())
}

/// An update may add protocol tags but never drop one that needs a steward's approval: that
/// would release the story without the approval.
fn keeps_approval_protocols(
    record: &Record,
    content: &Content,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let myco_dna::ActionBody::Update { original, .. } = &record.action().body else {
        return Ok(());
    };
    let original = fetch(ctx, original)?;
    let Some(before) = decode::<Content>(&original, "content")? else {
        return Ok(());
    };
    for tag in &before.protocols {
        let needs_approval = dna
            .properties
            .cultural_protocols
            .iter()
            .any(|p| &p.name == tag && p.requires_steward_approval);
        if needs_approval && !content.protocols.contains(tag) {
            return Err(Verdict::invalid(format!(
                "an update cannot drop the `{tag}` protocol tag: stories under it need a steward's approval"
            )));
        }
    }
    Ok(())
}

fn check_shares(shares: &[Share], creator: &KeyHash, dna: &DnaManifest) -> Result<(), Verdict> {
    if shares.is_empty() || shares.len() > MAX_SHARES {
        return Err(Verdict::invalid(format!(
            "a revenue share lists 1 to {MAX_SHARES} recipients"
        )));
    }
    let mut recipients: Vec<&Recipient> = shares.iter().map(|s| &s.recipient).collect();
    recipients.sort();
    if recipients.windows(2).any(|w| w[0] == w[1]) {
        return Err(Verdict::invalid(
            "revenue-share recipients must be distinct",
        ));
    }
    let total: u32 = shares.iter().map(|s| u32::from(s.bp.0)).sum();
    if total != 10_000 {
        return Err(Verdict::invalid(format!(
            "revenue shares sum to {total} bp; they must sum to exactly 10000"
        )));
    }
    let creator_bp: u32 = shares
        .iter()
        .filter(|s| s.recipient == Recipient::Member(*creator))
        .map(|s| u32::from(s.bp.0))
        .sum();
    let floor = dna.properties.min_creator_share_bp.0;
    if creator_bp < u32::from(floor) {
        return Err(Verdict::invalid(format!(
            "the creator's share is {creator_bp} bp, below this pod's floor of {floor} bp"
        )));
    }
    Ok(())
}

fn validate_approval(
    record: &Record,
    approval: &Approval,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let target = fetch(ctx, &approval.content)?;
    if !is_entry(&target, ZOME_CONTENT, CONTENT) {
        return Err(Verdict::invalid(format!(
            "{} is not content",
            approval.content
        )));
    }
    let needs_approval = dna
        .properties
        .cultural_protocols
        .iter()
        .any(|p| p.name == approval.protocol && p.requires_steward_approval);
    if !needs_approval {
        return Err(Verdict::invalid(format!(
            "`{}` is not a protocol that requires steward approval",
            approval.protocol
        )));
    }
    if let Some(content) = decode::<Content>(&target, "content")? {
        if !content.protocols.contains(&approval.protocol) {
            return Err(Verdict::invalid(format!(
                "the content is not tagged with `{}`",
                approval.protocol
            )));
        }
    }
    check_role(
        &approval.role,
        &record.action().author.key_hash(),
        Role::Steward,
        dna,
        ctx,
    )
}

fn follows_content_visibility(
    content: &myco_dna::ActionHash,
    visibility: Visibility,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let target = fetch(ctx, content)?;
    let Some(target_ref) = target.action().body.entry_ref() else {
        return Err(Verdict::invalid(format!("{content} is not content")));
    };
    if !is_entry(&target, ZOME_CONTENT, CONTENT) {
        return Err(Verdict::invalid(format!("{content} is not content")));
    }
    if !target_ref.visibility.is_at_least_as_wide_as(visibility) {
        return Err(Verdict::invalid(format!(
            "a {visibility:?} response cannot be wider than the {:?} content it responds to",
            target_ref.visibility
        )));
    }
    Ok(())
}
