//! Invitations: a steward's signed offer that lets one key hash join a pod whose DNA admits by
//! invitation. The joiner puts it in its Genesis as the membrane proof; every member then checks
//! it with the membership zome. Signing one writes nothing to the chain.

use myco_dna::manifest::Admission;
use myco_dna::{DnaHash, KeyHash, Timestamp, Verdict};
use myco_zomes::governance::{check_role, Role, RoleProof};
use myco_zomes::membership::{
    encode_membrane_proof, sign_invitation, InvitationTerms, MembraneProof,
};

use super::context::StoreContext;
use super::Engine;
use crate::store::Store;

/// Why this node cannot sign an invitation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    /// The pod is not hosted here.
    #[error("this node does not host pod {0}; join it first")]
    NotHosted(DnaHash),
    /// The pod does not admit by invitation.
    #[error("pod {pod} admits members by {admission}, not by invitation")]
    NotByInvitation {
        /// The pod.
        pod: DnaHash,
        /// How it admits.
        admission: &'static str,
    },
    /// The expiry is not in the future.
    #[error("the invitation would expire before it could be used; give it a later expiry")]
    Expired,
    /// This agent cannot show that it is a steward.
    #[error("this agent cannot invite: {0}")]
    NotASteward(String),
}

impl<S: Store> Engine<S> {
    /// Signs, as this node's agent, an invitation to `pod` for `invitee` that holds until
    /// `expires`, with `role` as the proof that the agent is a steward (a founder, or a
    /// GrantRole decision this node holds). Returns the membrane proof bytes the invitee
    /// joins with. The role is checked here as every member will check it, so an invitation
    /// that would be refused is never handed out.
    pub fn invite(
        &self,
        now: u64,
        pod: &DnaHash,
        invitee: KeyHash,
        expires: Timestamp,
        role: RoleProof,
    ) -> Result<Vec<u8>, InviteError> {
        let view = self.pods.get(pod).ok_or(InviteError::NotHosted(*pod))?;
        let admission = view.dna.properties.admission;
        if admission != Admission::Invite {
            return Err(InviteError::NotByInvitation {
                pod: *pod,
                admission: match admission {
                    Admission::Open => "open joining",
                    Admission::Vote => "vote",
                    Admission::Invite => "invitation",
                },
            });
        }
        if expires.0 <= now {
            return Err(InviteError::Expired);
        }
        let context = StoreContext::settled(&self.store, *pod, self.agent);
        match check_role(
            &role,
            &self.agent.key_hash(),
            Role::Steward,
            &view.dna,
            &context,
        ) {
            Ok(()) => {}
            Err(Verdict::Invalid(breach)) => return Err(InviteError::NotASteward(breach.detail)),
            Err(Verdict::MissingDeps(missing)) => {
                return Err(InviteError::NotASteward(format!(
                    "the role proof needs records this node does not hold yet ({}); wait for sync",
                    missing.len()
                )))
            }
            Err(Verdict::Valid) => {}
        }
        let terms = InvitationTerms {
            pod: *pod,
            invitee,
            expires,
        };
        let invitation = sign_invitation(&self.key, terms, role);
        Ok(encode_membrane_proof(&MembraneProof::Invite(invitation)))
    }
}
