//! Entry types of the membership zome.

use myco_dna::{ActionHash, AgentKey, DnaHash, EntryHash, KeyHash, Signature, Timestamp};
use serde::{Deserialize, Serialize};

use crate::governance::RoleProof;

/// Entry type name of a profile.
pub const PROFILE: &str = "profile";
/// Entry type name of a leave notice.
pub const LEAVE: &str = "leave";

/// Domain tag of invitation signatures.
pub const INVITATION_DOMAIN: &str = "myco/invitation/v1";

/// What a Genesis carries as its membrane proof, CBOR-encoded. Empty bytes mean
/// [`MembraneProof::None`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MembraneProof {
    /// No proof: enough for an open pod, or for a founder.
    None,
    /// A steward's invitation (pods with `invite` admission).
    Invite(Invitation),
    /// A passed Admit decision for the joiner (pods with `vote` admission).
    Admit {
        /// The Decision record.
        decision: ActionHash,
    },
    /// A passed ApproveReplica decision naming the joiner as an archivist (any admission
    /// policy). The Genesis gives the archivist a chain for its receipts; it does not make
    /// it a member: it is on no roster and in no electorate.
    Replica {
        /// The Decision record.
        decision: ActionHash,
    },
}

/// The part of an invitation the steward signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationTerms {
    /// The pod the invitation is for.
    pub pod: DnaHash,
    /// Whom it invites.
    pub invitee: KeyHash,
    /// Until when it may be used; judged by the Genesis action's own timestamp.
    pub expires: Timestamp,
}

/// A steward's signed invitation for one key hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// What is offered.
    pub terms: InvitationTerms,
    /// The inviting steward.
    pub steward: AgentKey,
    /// Why the inviter is a steward: a founder, or a GrantRole decision.
    pub role: RoleProof,
    /// The steward's signature over the terms' canonical bytes, under [`INVITATION_DOMAIN`].
    pub signature: Signature,
}

/// Personal data that may only ever be held in a `Private` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Legal name.
    pub legal_name: Option<String>,
}

impl Contact {
    /// True if any field is filled in.
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.phone.is_none() && self.legal_name.is_none()
    }
}

/// A member's profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Short handle.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Free text about the member.
    pub bio: String,
    /// An avatar image, as a blob hash.
    pub avatar: Option<EntryHash>,
    /// Whether the profile may be shown to people outside the pod (cross-pod lookup).
    pub profile_public: bool,
    /// Contact data: allowed only when the profile entry is `Private`.
    pub contact: Option<Contact>,
}

/// A member's notice that they leave the pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    /// Optional reason, for the audit log.
    pub reason: Option<String>,
}
