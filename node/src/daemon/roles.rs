//! Members and their roles on the engine thread, each role with the decision that granted it.
//!
//! Founders are members and stewards from the start; any other role comes from a passed GrantRole decision
//! and is lost by a RevokeRole. A member is gone after their Leave or a Remove decision. Only
//! each chain's typed index is read (Leave, Profile, Decision), and each decision's proposal
//! by hash: never a fold of every record of the pod.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{ActionHash, DnaHash, KeyHash, Timestamp};
use myco_zomes::codec::read;
use myco_zomes::governance::{Decision, Proposal, ProposalKind, Role, DECISION};
use myco_zomes::membership::{Profile, LEAVE, PROFILE};
use myco_zomes::{ZOME_GOVERNANCE, ZOME_MEMBERSHIP};

use super::engine_thread::EngineSide;
use super::CommandError;
use crate::api::types::{MemberView, MembersView, RoleView};
use crate::store::Store;

/// The name of a role, as the CLI and API spell it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Steward => "steward",
        Role::Manager => "manager",
        Role::Treasurer => "treasurer",
        Role::Archivist => "archivist",
    }
}

impl<S: Store> EngineSide<S> {
    /// The members of `pod` this node knows of, with their usernames and roles.
    pub(super) fn members(&self, pod: DnaHash) -> Result<MembersView, CommandError> {
        let dna = self
            .engine
            .pods()
            .find(|d| d.dna_hash() == pod)
            .cloned()
            .ok_or(CommandError::NotHosted(pod))?;
        // Founders are members from the start, before this node holds their Genesis.
        let mut members: BTreeSet<KeyHash> = dna.properties.founders.iter().copied().collect();
        let mut gone: BTreeSet<KeyHash> = BTreeSet::new();
        let mut usernames: BTreeMap<KeyHash, String> = BTreeMap::new();
        // The canonical decision per proposal is the lowest hash.
        let mut decisions: BTreeMap<ActionHash, (ActionHash, Timestamp)> = BTreeMap::new();
        for chain in self.pod_chains(pod)? {
            let key = chain.author.key_hash();
            members.insert(key);
            if !self.typed(&chain, ZOME_MEMBERSHIP, LEAVE)?.is_empty() {
                gone.insert(key);
            }
            if let Some(profile) = self
                .typed(&chain, ZOME_MEMBERSHIP, PROFILE)?
                .iter()
                .rev()
                .find_map(|r| read::<Profile>(r, "profile"))
            {
                usernames.insert(key, profile.username);
            }
            for record in self.typed(&chain, ZOME_GOVERNANCE, DECISION)? {
                let Some(decision) = read::<Decision>(&record, "decision") else {
                    continue;
                };
                let hash = record.hash();
                let entry = decisions
                    .entry(decision.proposal)
                    .or_insert((hash, record.action().timestamp));
                if hash < entry.0 {
                    *entry = (hash, record.action().timestamp);
                }
            }
        }
        let mut roles: BTreeMap<(KeyHash, Role), String> = dna
            .properties
            .founders
            .iter()
            .map(|f| ((*f, Role::Steward), "founder".to_string()))
            .collect();
        let mut decided: Vec<(Timestamp, ActionHash, ProposalKind)> = Vec::new();
        for (proposal, (decision, at)) in decisions {
            let Some(record) = self.engine.store().get(&proposal).ok().flatten() else {
                continue;
            };
            if let Some(p) = read::<Proposal>(&record, "proposal") {
                decided.push((at, decision, p.kind));
            }
        }
        decided.sort_by_key(|(at, hash, _)| (*at, *hash));
        for (_, decision, kind) in decided {
            match kind {
                ProposalKind::GrantRole { member, role } => {
                    roles.insert((member, role), decision.to_string());
                }
                ProposalKind::RevokeRole { member, role } => {
                    roles.remove(&(member, role));
                }
                ProposalKind::Remove { member } => {
                    gone.insert(member);
                }
                _ => {}
            }
        }
        let members = members
            .into_iter()
            .filter(|key| !gone.contains(key))
            .map(|key| MemberView {
                key_hash: key.to_string(),
                username: usernames.remove(&key),
                roles: roles
                    .range((key, Role::Steward)..=(key, Role::Archivist))
                    .map(|((_, role), by)| RoleView {
                        role: role_name(*role).into(),
                        granted_by: by.clone(),
                    })
                    .collect(),
            })
            .collect();
        Ok(MembersView {
            pod: pod.to_string(),
            members,
        })
    }

    /// This node's agent's roles in `pod`; none when they cannot be read.
    pub(super) fn my_roles(&self, pod: DnaHash) -> Vec<RoleView> {
        let me = self.engine.agent().key_hash().to_string();
        self.members(pod)
            .ok()
            .and_then(|view| view.members.into_iter().find(|m| m.key_hash == me))
            .map(|m| m.roles)
            .unwrap_or_default()
    }
}
