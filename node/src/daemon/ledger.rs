//! Value on the engine thread: the payouts a distribution must list, and each member's
//! statement (earned and paid, per currency).
//!
//! Payouts are computed with the value zome's own split ([`revenue_split`], then the benefit
//! model's share of the community's part), so the daemon that writes a distribution and every
//! node that validates it cannot disagree. Value events and distributions are read from each
//! chain's typed index ([`Store::typed_records`]), never by folding every record of the pod.

use std::collections::BTreeMap;

use myco_dna::manifest::BenefitModel;
use myco_dna::Visibility;
use myco_dna::{ActionBody, ActionHash, DnaHash, DnaManifest, KeyHash, Timestamp};
use myco_zomes::codec::{is_entry, read};
use myco_zomes::content::{Content, CONTENT};
use myco_zomes::governance::{Checkpoint, RoleProof};
use myco_zomes::value::{
    payouts_of, revenue_split, Distribution, ValueEvent, DISTRIBUTION, MAX_PAYOUTS, VALUE_EVENT,
};
use myco_zomes::{ZOME_CONTENT, ZOME_VALUE};

use super::engine_thread::EngineSide;
use super::{CommandError, Write};
use crate::api::types::{Balance, MemberStatement, StatementView};
use crate::engine::Electorate;
use crate::store::Store;

/// The distribution that took effect for each value event: the first by (timestamp, hash).
type Paid = BTreeMap<ActionHash, (Timestamp, ActionHash, Distribution)>;

impl<S: Store> EngineSide<S> {
    /// Every value event (by hash, sorted) and effective distribution of `pod` this node
    /// holds.
    fn value_records(&self, pod: DnaHash) -> Result<(Vec<ActionHash>, Paid), CommandError> {
        let mut events = Vec::new();
        let mut paid = Paid::new();
        for chain in self.pod_chains(pod)? {
            for record in self.typed(&chain, ZOME_VALUE, VALUE_EVENT)? {
                events.push(record.hash());
            }
            for record in self.typed(&chain, ZOME_VALUE, DISTRIBUTION)? {
                let Some(distribution) = read::<Distribution>(&record, "distribution") else {
                    continue;
                };
                let key = (record.action().timestamp, record.hash());
                let earlier = paid
                    .get(&distribution.event)
                    .is_some_and(|(t, h, _)| (*t, *h) < key);
                if !earlier {
                    paid.insert(distribution.event, (key.0, key.1, distribution));
                }
            }
        }
        events.sort();
        Ok((events, paid))
    }

    /// The value event `hash`, the content it is on, and that content's creator.
    fn event_and_content(
        &self,
        hash: &ActionHash,
    ) -> Result<(ValueEvent, Content, KeyHash), CommandError> {
        let record = self.held(hash)?;
        let event: ValueEvent = is_entry(&record, ZOME_VALUE, VALUE_EVENT)
            .then(|| read(&record, "value event"))
            .flatten()
            .ok_or_else(|| CommandError::Invalid(format!("{hash} is not a value event")))?;
        let content_record = self.held(&event.content)?;
        let content: Content = read(&content_record, "content").ok_or_else(|| {
            CommandError::Invalid(format!(
                "the revenue share of {} is not available on this node (the content is private or deleted)",
                event.content
            ))
        })?;
        Ok((event, content, content_record.action().author.key_hash()))
    }

    /// The pod's members now, and the checkpoint that lists them (`None`: the founders),
    /// written first when none this node holds lists them: what a distribution under the
    /// `equal` model cites. It is the electorate a new proposal would cite, found the same way.
    fn current_roster(
        &mut self,
        pod: DnaHash,
        dna: &DnaManifest,
    ) -> Result<(Option<ActionHash>, Vec<KeyHash>), CommandError> {
        Ok(match self.engine.electorate(&pod)? {
            Electorate::Founders => (None, founders(dna)),
            Electorate::Checkpoint(hash) => {
                let checkpoint: Checkpoint = read(&self.held(&hash)?, "checkpoint")
                    .ok_or_else(|| CommandError::Invalid(format!("{hash} is not a checkpoint")))?;
                (Some(hash), checkpoint.members)
            }
            Electorate::NewCheckpoint(draft) => {
                let members = draft.members.clone();
                (Some(self.author(pod, Write::Checkpoint(draft))?), members)
            }
        })
    }

    /// The content records whose authors share the community's part under the
    /// `contribution` model: every Create of Pod or Public content this node holds, sorted,
    /// at most [`MAX_PAYOUTS`].
    fn contributions(&self, pod: DnaHash) -> Result<Vec<ActionHash>, CommandError> {
        let mut out = Vec::new();
        for chain in self.pod_chains(pod)? {
            for record in self.typed(&chain, ZOME_CONTENT, CONTENT)? {
                if let ActionBody::Create(entry) = &record.action().body {
                    if entry.visibility != Visibility::Private {
                        out.push(record.hash());
                    }
                }
            }
        }
        out.sort();
        out.truncate(MAX_PAYOUTS);
        Ok(out)
    }

    /// Weights by author of `contributions`, one per record.
    fn contribution_weights(
        &self,
        contributions: &[ActionHash],
    ) -> Result<Vec<(KeyHash, u64)>, CommandError> {
        let mut weights: BTreeMap<KeyHash, u64> = BTreeMap::new();
        for hash in contributions {
            *weights
                .entry(self.held(hash)?.action().author.key_hash())
                .or_default() += 1;
        }
        Ok(weights.into_iter().collect())
    }

    /// The distribution of value event `event` that the content's revenue share and the
    /// DNA's benefit model require.
    pub(super) fn plan_distribution(
        &mut self,
        pod: DnaHash,
        dna: &DnaManifest,
        event_hash: ActionHash,
        grant: Option<ActionHash>,
    ) -> Result<Distribution, CommandError> {
        let (event, content, creator) = self.event_and_content(&event_hash)?;
        let (_, paid) = self.value_records(pod)?;
        if let Some((_, hash, _)) = paid.get(&event_hash) {
            return Err(CommandError::Invalid(format!(
                "value event {event_hash} is paid out already (distribution {hash}); a value event is paid once"
            )));
        }
        let split = revenue_split(event.amount.0, &creator, &content);
        let mut checkpoint = None;
        let mut contributions = Vec::new();
        let weights: Vec<(KeyHash, u64)> = if split.community == 0 {
            Vec::new()
        } else {
            match dna.properties.benefit_model {
                BenefitModel::Equal => {
                    let (at, members) = self.current_roster(pod, dna)?;
                    checkpoint = at;
                    members.into_iter().map(|k| (k, 1)).collect()
                }
                BenefitModel::Contribution => {
                    contributions = self.contributions(pod)?;
                    self.contribution_weights(&contributions)?
                }
                BenefitModel::Custom => {
                    return Err(CommandError::Invalid(format!(
                        "this pod's benefit model is `custom`: its members decide how the community's part ({} {}) is shared, so the daemon cannot compute the payouts",
                        split.community, event.currency
                    )))
                }
            }
        };
        Ok(Distribution {
            event: event_hash,
            payouts: payouts_of(&split.share_community(&weights)),
            checkpoint,
            contributions,
            role: grant.map(RoleProof::Grant),
        })
    }

    /// What each member of `pod` earned (their computed share of each value event) and was
    /// paid (the payouts to them), per currency; only `member`'s line when given.
    pub(super) fn statement(
        &self,
        pod: DnaHash,
        member: Option<KeyHash>,
    ) -> Result<StatementView, CommandError> {
        let dna = self
            .engine
            .pods()
            .find(|d| d.dna_hash() == pod)
            .cloned()
            .ok_or(CommandError::NotHosted(pod))?;
        let (events, paid) = self.value_records(pod)?;
        let mut lines: BTreeMap<KeyHash, BTreeMap<String, Balance>> = BTreeMap::new();
        let mut current: Option<Vec<(KeyHash, u64)>> = None;
        let mut undistributed = Vec::new();
        for hash in &events {
            let distribution = paid.get(hash).map(|(_, _, d)| d);
            if distribution.is_none() {
                undistributed.push(hash.to_string());
            }
            let (event, content, creator) = match self.event_and_content(hash) {
                Ok(found) => found,
                Err(_) => {
                    // The story's revenue share is not readable here (its text was erased
                    // after a revocation): its distribution, checked against the share by the
                    // nodes that hold it, says what each member earned.
                    let event = self
                        .held(hash)
                        .ok()
                        .and_then(|r| read::<ValueEvent>(&r, "value event"));
                    if let (Some(event), Some(d)) = (event, distribution) {
                        for payout in &d.payouts {
                            let line = balance(&mut lines, payout.recipient, &event.currency);
                            line.earned = line.earned.saturating_add(payout.amount.0);
                            line.paid = line.paid.saturating_add(payout.amount.0);
                        }
                    }
                    continue;
                }
            };
            let split = revenue_split(event.amount.0, &creator, &content);
            let earned = match (dna.properties.benefit_model, distribution) {
                _ if split.community == 0 => split.share_community(&[]),
                // Custom: the members decided the community's part; what was paid is earned.
                (BenefitModel::Custom, Some(d)) => d
                    .payouts
                    .iter()
                    .map(|p| (p.recipient, p.amount.0))
                    .collect(),
                (BenefitModel::Custom, None) => split.members.clone(),
                (BenefitModel::Equal, Some(d)) => {
                    let members = match &d.checkpoint {
                        None => founders(&dna),
                        Some(hash) => read::<Checkpoint>(&self.held(hash)?, "checkpoint")
                            .map(|c| c.members)
                            .unwrap_or_default(),
                    };
                    let weights: Vec<_> = members.into_iter().map(|k| (k, 1)).collect();
                    split.share_community(&weights)
                }
                (BenefitModel::Contribution, Some(d)) => {
                    split.share_community(&self.contribution_weights(&d.contributions)?)
                }
                (model, None) => {
                    if current.is_none() {
                        current = Some(match model {
                            BenefitModel::Contribution => {
                                let contributions = self.contributions(pod)?;
                                self.contribution_weights(&contributions)?
                            }
                            // Until it is paid out, the members this node knows of now
                            // (read from the typed indexes, not the whole pod).
                            _ => self
                                .members(pod)?
                                .members
                                .iter()
                                .filter_map(|m| m.key_hash.parse::<KeyHash>().ok())
                                .map(|k| (k, 1))
                                .collect(),
                        });
                    }
                    split.share_community(current.as_deref().unwrap_or_default())
                }
            };
            for (key, part) in earned {
                let line = balance(&mut lines, key, &event.currency);
                line.earned = line.earned.saturating_add(part);
            }
            if let Some(d) = distribution {
                for payout in &d.payouts {
                    let line = balance(&mut lines, payout.recipient, &event.currency);
                    line.paid = line.paid.saturating_add(payout.amount.0);
                }
            }
        }
        let members = lines
            .into_iter()
            .filter(|(key, _)| member.is_none_or(|m| m == *key))
            .map(|(key, currencies)| MemberStatement {
                member: key.to_string(),
                currencies,
            })
            .collect();
        Ok(StatementView {
            pod: pod.to_string(),
            events: events.len(),
            distributions: paid.len(),
            undistributed,
            members,
        })
    }
}

/// The balance of `member` in `currency` among `lines`, made empty when new.
fn balance<'a>(
    lines: &'a mut BTreeMap<KeyHash, BTreeMap<String, Balance>>,
    member: KeyHash,
    currency: &str,
) -> &'a mut Balance {
    lines
        .entry(member)
        .or_default()
        .entry(currency.to_string())
        .or_default()
}

fn founders(dna: &DnaManifest) -> Vec<KeyHash> {
    let mut members = dna.properties.founders.clone();
    members.sort();
    members
}
