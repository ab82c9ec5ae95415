//! The value zome: value events on content, and distributions that must match the content's
//! revenue share exactly.

mod split;
mod types;

pub use split::{largest_remainder, payouts_of, revenue_split, RevenueSplit};
pub use types::*;

use std::collections::BTreeMap;

use myco_dna::manifest::BenefitModel;
use myco_dna::{DnaManifest, KeyHash, Record, ValidationContext, Verdict, Visibility, Zome};

use crate::codec::{decode_required, fetch, fetch_all, is_entry};
use crate::content::{Content, CONTENT};
use crate::governance::{check_role, roster_at, Role, RoleProof};
use crate::{ZOME_CONTENT, ZOME_VALUE};

/// Most payouts or contributions a distribution may list.
pub const MAX_PAYOUTS: usize = 10_000;

/// The value zome.
pub struct ValueZome;

impl Zome for ValueZome {
    fn name(&self) -> &'static str {
        ZOME_VALUE
    }

    fn entry_types(&self) -> &'static [&'static str] {
        &[VALUE_EVENT, DISTRIBUTION]
    }

    fn validate(&self, record: &Record, dna: &DnaManifest, ctx: &dyn ValidationContext) -> Verdict {
        crate::verdict_of(validate(record, dna, ctx))
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
    if entry_ref.visibility == Visibility::Private {
        return Err(Verdict::invalid(
            "value records are auditable by members; they cannot be Private",
        ));
    }
    match entry_ref.entry_type.as_str() {
        VALUE_EVENT => {
            let event: ValueEvent = decode_required(record, "value event")?;
            let (content_record, _) = content_of(&event.content, ctx)?;
            check_recorder(record, &content_record, event.role.as_ref(), dna, ctx)?;
            if event.amount.0 == 0 {
                return Err(Verdict::invalid("a value event needs an amount above zero"));
            }
            let currency_ok =
                event.currency.len() == 3 && event.currency.bytes().all(|b| b.is_ascii_uppercase());
            if !currency_ok {
                return Err(Verdict::invalid(format!(
                    "currency `{}` is not a three-letter ISO 4217 code such as EUR",
                    event.currency
                )));
            }
            Ok(())
        }
        DISTRIBUTION => {
            validate_distribution(record, &decode_required(record, "distribution")?, dna, ctx)
        }
        other => Err(crate::unknown_entry_type(ZOME_VALUE, other)),
    }
}

/// The content record a value event names, and its content when this node holds the entry.
/// After a revocation (the story was deleted or narrowed) a member's node no longer holds the
/// text of the versions it erased; the revenue share of such a version cannot be read there,
/// and what needs it is judged by the nodes that still hold it (the author's, at least).
fn content_of(
    hash: &myco_dna::ActionHash,
    ctx: &dyn ValidationContext,
) -> Result<(Record, Option<Content>), Verdict> {
    let record = fetch(ctx, hash)?;
    if !is_entry(&record, ZOME_CONTENT, CONTENT) {
        return Err(Verdict::invalid(format!("{hash} is not content")));
    }
    let content = crate::codec::decode::<Content>(&record, "content")?;
    Ok((record, content))
}

fn check_recorder(
    record: &Record,
    content: &Record,
    role: Option<&RoleProof>,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    let author = record.action().author.key_hash();
    match role {
        None if content.action().author.key_hash() == author => Ok(()),
        None => Err(Verdict::invalid(
            "only the content's creator, or a treasurer showing their role, may record its value",
        )),
        Some(proof) => check_role(proof, &author, Role::Treasurer, dna, ctx),
    }
}

fn validate_distribution(
    record: &Record,
    distribution: &Distribution,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<(), Verdict> {
    if distribution.payouts.len() > MAX_PAYOUTS || distribution.contributions.len() > MAX_PAYOUTS {
        return Err(Verdict::invalid(format!(
            "a distribution lists at most {MAX_PAYOUTS} payouts and contributions"
        )));
    }
    let event_record = fetch(ctx, &distribution.event)?;
    if !is_entry(&event_record, ZOME_VALUE, VALUE_EVENT) {
        return Err(Verdict::invalid(format!(
            "{} is not a value event",
            distribution.event
        )));
    }
    let event: ValueEvent = decode_required(&event_record, "value event")?;
    let (content_record, content) = content_of(&event.content, ctx)?;
    check_recorder(
        record,
        &content_record,
        distribution.role.as_ref(),
        dna,
        ctx,
    )?;
    let sorted = distribution
        .payouts
        .windows(2)
        .all(|w| w[0].recipient < w[1].recipient);
    if !sorted || distribution.payouts.iter().any(|p| p.amount.0 == 0) {
        return Err(Verdict::invalid(
            "payouts must be sorted by recipient, distinct, and none zero",
        ));
    }
    let Some(content) = content else {
        // The share is not readable here (see `content_of`): what the records show is checked
        // here, the split by the nodes that hold the share.
        let paid: u128 = distribution
            .payouts
            .iter()
            .map(|p| u128::from(p.amount.0))
            .sum();
        if paid != u128::from(event.amount.0) {
            return Err(Verdict::invalid(format!(
                "the payouts sum to {paid}, not to the event's {} {}",
                event.amount.0, event.currency
            )));
        }
        return Ok(());
    };
    let creator = content_record.action().author.key_hash();
    let split = revenue_split(event.amount.0, &creator, &content);
    let community = split.community;
    let listed: BTreeMap<KeyHash, u64> = distribution
        .payouts
        .iter()
        .map(|p| (p.recipient, p.amount.0))
        .collect();
    let mut weights = Vec::new();
    if community > 0 {
        match dna.properties.benefit_model {
            BenefitModel::Equal | BenefitModel::Contribution => {
                weights = community_weights(distribution, dna, ctx)?;
                if weights.is_empty() {
                    return Err(Verdict::invalid("the community's part has no one to go to"));
                }
            }
            BenefitModel::Custom => {
                let roster = roster_at(distribution.checkpoint.as_ref(), dna, ctx)?;
                let mut custom = 0u64;
                for (key, amount) in &listed {
                    let member_part = split.members.get(key).copied().unwrap_or(0);
                    let extra = amount.checked_sub(member_part).ok_or_else(|| {
                        Verdict::invalid(format!("{key} is paid less than their revenue share"))
                    })?;
                    if extra > 0 && !roster.is_member(key) {
                        return Err(Verdict::invalid(format!(
                            "{key} gets part of the community's share but is not a member"
                        )));
                    }
                    custom = custom.saturating_add(extra);
                }
                if custom != community {
                    return Err(Verdict::invalid(format!(
                        "the community's part is {community} but the payouts give it {custom}"
                    )));
                }
                return Ok(());
            }
        }
    }
    if listed != split.share_community(&weights) {
        return Err(Verdict::invalid(format!(
            "the payouts do not match the revenue share applied to {} {} (largest remainder, ties to the lower key hash)",
            event.amount.0, event.currency
        )));
    }
    Ok(())
}

fn community_weights(
    distribution: &Distribution,
    dna: &DnaManifest,
    ctx: &dyn ValidationContext,
) -> Result<Vec<(KeyHash, u64)>, Verdict> {
    match dna.properties.benefit_model {
        BenefitModel::Equal => {
            let roster = roster_at(distribution.checkpoint.as_ref(), dna, ctx)?;
            Ok(roster.members.iter().map(|k| (*k, 1)).collect())
        }
        _ => {
            let mut hashes = distribution.contributions.clone();
            hashes.sort();
            if hashes.windows(2).any(|w| w[0] == w[1]) {
                return Err(Verdict::invalid("a contribution is listed twice"));
            }
            let mut weights: BTreeMap<KeyHash, u64> = BTreeMap::new();
            for record in fetch_all(ctx, &hashes)? {
                if !is_entry(&record, ZOME_CONTENT, CONTENT) {
                    return Err(Verdict::invalid(format!(
                        "contribution {} is not content",
                        record.hash()
                    )));
                }
                *weights
                    .entry(record.action().author.key_hash())
                    .or_default() += 1;
            }
            Ok(weights.into_iter().collect())
        }
    }
}
