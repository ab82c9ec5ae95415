//! What the local API asks the agent to write, and how each request becomes an action body
//! and entry at the time the driver hands it to the engine (proposals open at their own
//! action's timestamp, so the entry can only be built then). The engine validates the result
//! like any record: a write the pod would reject is refused with the zome's reason.

use myco_dna::{
    ActionBody, ActionHash, DnaManifest, Entry, EntryRef, KeyHash, Record, Timestamp, Visibility,
};
use myco_zomes::content::{
    Approval, Comment, Content, Reaction, APPROVAL, COMMENT, CONTENT, REACTION,
};
use myco_zomes::governance::{
    ArchivistNode, Checkpoint, Choice, Decision, EmergencyMeasure, PolicyChange, Proposal,
    ProposalKind, ReplicaTarget, Role, RoleProof, Vote, CHECKPOINT, DECISION, PROPOSAL, VOTE,
};
use myco_zomes::membership::{Leave, Profile, LEAVE, PROFILE};
use myco_zomes::value::{Distribution, MinorUnits, ValueEvent, DISTRIBUTION, VALUE_EVENT};
use myco_zomes::{codec, ZOME_CONTENT, ZOME_GOVERNANCE, ZOME_MEMBERSHIP, ZOME_VALUE};

pub use super::affirmation::{affirmed, content};

/// A write the API asks for.
#[derive(Clone, Debug)]
pub enum Write {
    /// Publish content.
    Content {
        /// The content, as the API gave it.
        request: Box<crate::api::types::PublishRequest>,
        /// Its visibility.
        visibility: Visibility,
    },
    /// Change content the agent wrote earlier, as the API asks: every field not given
    /// keeps the current version's value. The engine thread reads that version and turns
    /// this into an [`Write::Edit`] ([`super::prepare`]).
    Revise {
        /// The content (its Create, or any version).
        target: ActionHash,
        /// What changes.
        changes: Box<crate::api::types::EditRequest>,
    },
    /// Replace content the agent wrote earlier with a new version.
    Edit {
        /// The Create (or earlier Update) replaced.
        original: ActionHash,
        /// The new version, whole.
        content: Box<Content>,
        /// Its visibility.
        visibility: Visibility,
    },
    /// Comment on content; `visibility` `None` follows the content's (the engine thread
    /// reads it from the store before building).
    Comment {
        /// The content's Create.
        content: ActionHash,
        /// The text.
        text: String,
        /// The comment's visibility.
        visibility: Option<Visibility>,
    },
    /// React to content; `visibility` `None` follows the content's.
    React {
        /// The content's Create.
        content: ActionHash,
        /// The reaction.
        reaction: String,
        /// The reaction's visibility.
        visibility: Option<Visibility>,
    },
    /// Record revenue a piece of content earned.
    ValueEvent {
        /// The content's Create.
        content: ActionHash,
        /// How much, in minor units.
        amount: MinorUnits,
        /// ISO 4217 code.
        currency: String,
        /// The GrantRole decision that makes this agent a treasurer; `None` as the creator.
        grant: Option<ActionHash>,
    },
    /// Pay out a value event; the engine thread computes the payouts
    /// ([`super::ledger`]) and turns this into a [`Write::Distribution`].
    Distribute {
        /// The value event.
        event: ActionHash,
        /// The GrantRole decision that makes this agent a treasurer; `None` as the creator.
        grant: Option<ActionHash>,
    },
    /// A distribution whose payouts are computed.
    Distribution(Box<Distribution>),
    /// Set the agent's profile.
    Profile {
        /// The profile.
        profile: Profile,
        /// Its visibility.
        visibility: Visibility,
    },
    /// Open a proposal.
    Propose {
        /// What it asks for.
        kind: ProposalKind,
        /// The case for it.
        text: String,
        /// The roster checkpoint that fixes its electorate; `None` means the founders. The
        /// driver fills it in from what the node holds ([`crate::engine::Engine::electorate`]).
        checkpoint: Option<ActionHash>,
    },
    /// Write a roster checkpoint (before a proposal that cites it).
    Checkpoint(Checkpoint),
    /// Write the manifest of an import (Pod visibility, so every member can check it).
    Migration(Box<myco_zomes::content::Migration>),
    /// Vote on a proposal.
    Vote {
        /// The proposal.
        proposal: ActionHash,
        /// The choice.
        choice: Choice,
    },
    /// Record the decision on a proposal, listing the yes votes this node holds.
    Decide {
        /// The proposal.
        proposal: ActionHash,
    },
    /// Approve content under a cultural protocol, as a steward.
    Approve {
        /// The content's Create.
        content: ActionHash,
        /// The protocol.
        protocol: String,
        /// Why this agent is a steward; `None` means as a founder.
        grant: Option<ActionHash>,
    },
    /// Delete one of the agent's records (its entry is purged everywhere).
    Delete {
        /// The record.
        target: ActionHash,
    },
    /// Leave the pod.
    Leave {
        /// Why, if the member says.
        reason: Option<String>,
    },
}

/// Why a write could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The pod's DNA has no voting rule for this proposal.
    #[error("{0}")]
    Rule(String),
    /// The proposal is decided already.
    #[error("proposal {proposal} is decided already (decision {decision}); there is nothing more to decide")]
    Decided {
        /// The proposal.
        proposal: ActionHash,
        /// The decision this node holds.
        decision: ActionHash,
    },
    /// No yes votes are held for the proposal.
    #[error("this node holds no yes votes on proposal {0}; wait for sync or vote first")]
    NoVotes(ActionHash),
    /// The author did not state something the pod requires them to.
    #[error("{0}")]
    NotAffirmed(String),
    /// A write that needs the node's records was not resolved against them first.
    #[error("{0} must be resolved against this node's records before it is built")]
    Unresolved(&'static str),
}

/// The entry that writes `value`, and its reference.
fn entry_of<T: serde::Serialize>(
    zome: &str,
    entry_type: &str,
    visibility: Visibility,
    value: &T,
) -> (EntryRef, Entry) {
    let entry = codec::encode(value);
    let entry_ref = EntryRef {
        zome: zome.into(),
        entry_type: entry_type.into(),
        entry_hash: entry.hash(),
        visibility,
    };
    (entry_ref, entry)
}

fn create<T: serde::Serialize>(
    zome: &str,
    entry_type: &str,
    visibility: Visibility,
    value: &T,
) -> (ActionBody, Option<Entry>) {
    let (entry_ref, entry) = entry_of(zome, entry_type, visibility, value);
    (ActionBody::Create(entry_ref), Some(entry))
}

impl Write {
    /// The body and entry to author at `now`, in `dna`'s pod, as `me`; `records` are the pod's
    /// records this node holds (read only by [`Write::Decide`]).
    pub fn build(
        self,
        now: u64,
        dna: &DnaManifest,
        records: impl FnOnce() -> Vec<Record>,
    ) -> Result<(ActionBody, Option<Entry>), WriteError> {
        Ok(match self {
            Write::Content {
                request,
                visibility,
            } => {
                let content = content(*request)?;
                affirmed(dna, &content, visibility)?;
                create(ZOME_CONTENT, CONTENT, visibility, &content)
            }
            Write::Revise { .. } => return Err(WriteError::Unresolved("an edit")),
            Write::Edit {
                original,
                content,
                visibility,
            } => {
                affirmed(dna, &content, visibility)?;
                let (entry_ref, entry) = entry_of(ZOME_CONTENT, CONTENT, visibility, &*content);
                (
                    ActionBody::Update {
                        original,
                        entry: entry_ref,
                    },
                    Some(entry),
                )
            }
            Write::Profile {
                profile,
                visibility,
            } => create(ZOME_MEMBERSHIP, PROFILE, visibility, &profile),
            Write::Checkpoint(checkpoint) => {
                create(ZOME_GOVERNANCE, CHECKPOINT, Visibility::Pod, &checkpoint)
            }
            Write::Migration(migration) => create(
                ZOME_CONTENT,
                myco_zomes::content::MIGRATION,
                Visibility::Pod,
                &*migration,
            ),
            Write::Propose {
                kind,
                text,
                checkpoint,
            } => {
                let opened_at = Timestamp(now);
                let draft = Proposal {
                    kind,
                    text,
                    opened_at,
                    closes_at: opened_at,
                    checkpoint,
                };
                let rule = myco_zomes::governance::rule_for(&draft, dna)
                    .map_err(|v| WriteError::Rule(format!("{v:?}")))?;
                let proposal = Proposal {
                    closes_at: opened_at.plus_micros(rule.window_secs.saturating_mul(1_000_000)),
                    ..draft
                };
                create(ZOME_GOVERNANCE, PROPOSAL, Visibility::Pod, &proposal)
            }
            Write::Vote { proposal, choice } => create(
                ZOME_GOVERNANCE,
                VOTE,
                Visibility::Pod,
                &Vote { proposal, choice },
            ),
            Write::Decide { proposal } => {
                let records = records();
                if let Some(decision) = decision_on(&records, &proposal) {
                    return Err(WriteError::Decided { proposal, decision });
                }
                let votes = yes_votes(&records, &proposal);
                if votes.is_empty() {
                    return Err(WriteError::NoVotes(proposal));
                }
                create(
                    ZOME_GOVERNANCE,
                    DECISION,
                    Visibility::Pod,
                    &Decision { proposal, votes },
                )
            }
            Write::Approve {
                content,
                protocol,
                grant,
            } => {
                let role = grant.map_or(RoleProof::Founder, RoleProof::Grant);
                create(
                    ZOME_CONTENT,
                    APPROVAL,
                    Visibility::Pod,
                    &Approval {
                        content,
                        protocol,
                        role,
                    },
                )
            }
            Write::Comment {
                content,
                text,
                visibility,
            } => {
                let visibility = visibility.ok_or(WriteError::Unresolved("a comment"))?;
                create(
                    ZOME_CONTENT,
                    COMMENT,
                    visibility,
                    &Comment { content, text },
                )
            }
            Write::React {
                content,
                reaction,
                visibility,
            } => {
                let visibility = visibility.ok_or(WriteError::Unresolved("a reaction"))?;
                create(
                    ZOME_CONTENT,
                    REACTION,
                    visibility,
                    &Reaction { content, reaction },
                )
            }
            Write::ValueEvent {
                content,
                amount,
                currency,
                grant,
            } => create(
                ZOME_VALUE,
                VALUE_EVENT,
                Visibility::Pod,
                &ValueEvent {
                    content,
                    amount,
                    currency,
                    role: grant.map(RoleProof::Grant),
                },
            ),
            Write::Distribute { .. } => return Err(WriteError::Unresolved("a distribution")),
            Write::Distribution(distribution) => {
                create(ZOME_VALUE, DISTRIBUTION, Visibility::Pod, &*distribution)
            }
            Write::Delete { target } => (ActionBody::Delete { target }, None),
            Write::Leave { reason } => {
                create(ZOME_MEMBERSHIP, LEAVE, Visibility::Pod, &Leave { reason })
            }
        })
    }
}

/// The decision on `proposal` among `records`, if one is held.
pub fn decision_on(records: &[Record], proposal: &ActionHash) -> Option<ActionHash> {
    records
        .iter()
        .filter(|r| {
            r.action()
                .body
                .entry_ref()
                .is_some_and(|e| e.zome == ZOME_GOVERNANCE && e.entry_type == DECISION)
        })
        .find(|r| {
            r.entry
                .as_ref()
                .and_then(|e| {
                    myco_dna::encoding::from_canonical_cbor::<Decision>("decision", &e.0).ok()
                })
                .is_some_and(|d| d.proposal == *proposal)
        })
        .map(Record::hash)
}

/// The hashes of the yes votes on `proposal` among `records`, one per voter (the first by
/// timestamp and hash), sorted.
pub fn yes_votes(records: &[Record], proposal: &ActionHash) -> Vec<ActionHash> {
    let mut votes: Vec<(KeyHash, Timestamp, ActionHash, Choice)> = records
        .iter()
        .filter(|r| {
            r.action()
                .body
                .entry_ref()
                .is_some_and(|e| e.zome == ZOME_GOVERNANCE && e.entry_type == VOTE)
        })
        .filter_map(|r| {
            let vote: Vote = r
                .entry
                .as_ref()
                .and_then(|e| myco_dna::encoding::from_canonical_cbor("vote", &e.0).ok())?;
            (vote.proposal == *proposal).then(|| {
                (
                    r.action().author.key_hash(),
                    r.action().timestamp,
                    r.hash(),
                    vote.choice,
                )
            })
        })
        .collect();
    votes.sort_by_key(|v| (v.0, v.1, v.2));
    votes.dedup_by(|later, first| later.0 == first.0);
    let mut yes: Vec<ActionHash> = votes
        .into_iter()
        .filter(|v| v.3 == Choice::Yes)
        .map(|v| v.2)
        .collect();
    yes.sort();
    yes.truncate(myco_zomes::governance::MAX_DECISION_VOTES);
    yes
}

/// Parses a visibility name.
pub fn parse_visibility(text: &str) -> Option<Visibility> {
    match text.to_ascii_lowercase().as_str() {
        "public" => Some(Visibility::Public),
        "pod" => Some(Visibility::Pod),
        "private" => Some(Visibility::Private),
        _ => None,
    }
}

/// Parses a role name.
pub fn parse_role(text: &str) -> Option<Role> {
    match text.to_ascii_lowercase().as_str() {
        "steward" => Some(Role::Steward),
        "manager" => Some(Role::Manager),
        "treasurer" => Some(Role::Treasurer),
        "archivist" => Some(Role::Archivist),
        _ => None,
    }
}

/// Parses a vote choice.
pub fn parse_choice(text: &str) -> Option<Choice> {
    match text.to_ascii_lowercase().as_str() {
        "yes" => Some(Choice::Yes),
        "no" => Some(Choice::No),
        "abstain" => Some(Choice::Abstain),
        _ => None,
    }
}

/// What an archivist's approve_replica or a revoke_replica proposal names beside the member.
#[derive(Clone, Debug, Default)]
pub struct ReplicaArgs {
    /// The archivist's node: its peer id.
    pub node: Option<String>,
    /// The approve_replica decision a revoke_replica revokes, or whose archivist an
    /// approve_backup_schedule names.
    pub decision: Option<myco_dna::ActionHash>,
    /// Days an approve_backup_schedule keeps each backup.
    pub retention_days: Option<u32>,
}

/// Builds a proposal kind from its name and arguments, or says what is missing.
pub fn proposal_kind(
    kind: &str,
    member: Option<KeyHash>,
    role: Option<Role>,
    detail: Option<String>,
    policy: PolicyChange,
    replica: ReplicaArgs,
) -> Result<ProposalKind, String> {
    let named = member.is_some();
    let member = || member.ok_or_else(|| format!("a `{kind}` proposal needs a member (kh_…)"));
    let role = || {
        role.ok_or_else(|| {
            format!("a `{kind}` proposal needs a role (steward, manager, treasurer, archivist)")
        })
    };
    let detail = || {
        detail
            .clone()
            .ok_or_else(|| format!("a `{kind}` proposal needs --detail"))
    };
    Ok(match kind {
        "admit" => ProposalKind::Admit { member: member()? },
        "remove" => ProposalKind::Remove { member: member()? },
        "grant_role" => ProposalKind::GrantRole { member: member()?, role: role()? },
        "revoke_role" => ProposalKind::RevokeRole { member: member()?, role: role()? },
        "change_policy" if policy == PolicyChange::default() => return Err("a `change_policy` proposal needs at least one change: --min-creator-share-bp, --threshold-bp, --add-principle or --restrict-region".into()),
        "change_policy" => ProposalKind::ChangePolicy(policy),
        "approve_replica" => match (named, replica.node) {
            (false, _) => ProposalKind::ApproveReplica(ReplicaTarget::Region(detail()?)),
            (true, Some(node)) => ProposalKind::ApproveReplica(ReplicaTarget::Archivist(ArchivistNode {
                agent: member()?,
                node,
                region: detail().map_err(|_| "an archivist's `approve_replica` needs --detail REGION: the region its node declares".to_string())?,
            })),
            (true, None) => return Err("an `approve_replica` proposal for an archivist (--member) needs --node: its peer id, from its `myco status`".into()),
        },
        "revoke_replica" => ProposalKind::RevokeReplica {
            approval: replica.decision.ok_or("a `revoke_replica` proposal needs --decision: the approve_replica decision (act_…) it revokes")?,
        },
        "approve_backup_schedule" => match (replica.decision, replica.retention_days) {
            (Some(archivist), Some(retention_days)) => ProposalKind::ApproveBackupSchedule { schedule: detail()?, archivist: Some(archivist), retention_days },
            (Some(_), None) => return Err("an `approve_backup_schedule` proposal for an archivist needs --retention-days: how many days each backup is kept".into()),
            (None, Some(_)) => return Err("an `approve_backup_schedule` proposal with a retention needs --decision: the approve_replica decision (act_…) naming the archivist that takes the backups".into()),
            (None, None) => ProposalKind::ApproveBackupSchedule { schedule: detail()?, archivist: None, retention_days: 0 },
        },
        "emergency_block" => ProposalKind::Emergency(EmergencyMeasure::BlockMember(member()?)),
        "emergency_restore" => ProposalKind::Emergency(EmergencyMeasure::AuthoriseRestore {
            backup: detail().map_err(|_| "an `emergency_restore` proposal needs --detail: the backup listing (act_…) to restore, as the transparency page or `myco pod audit` shows it".to_string())?,
        }),
        other => return Err(format!("unknown proposal kind `{other}`; use admit, remove, grant_role, revoke_role, change_policy, approve_replica, revoke_replica, approve_backup_schedule, emergency_block or emergency_restore")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_policy_proposal_needs_a_change() {
        let none = proposal_kind(
            "change_policy",
            None,
            None,
            None,
            PolicyChange::default(),
            ReplicaArgs::default(),
        );
        assert!(none.is_err_and(|e| e.contains("--min-creator-share-bp")));
        let raise = PolicyChange {
            min_creator_share_bp: Some(myco_dna::BasisPoints(8000)),
            ..PolicyChange::default()
        };
        assert_eq!(
            proposal_kind(
                "change_policy",
                None,
                None,
                None,
                raise.clone(),
                ReplicaArgs::default()
            ),
            Ok(ProposalKind::ChangePolicy(raise))
        );
    }
}
