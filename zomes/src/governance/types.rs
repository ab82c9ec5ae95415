//! Entry types of the governance zome.

use myco_dna::{ActionHash, BasisPoints, KeyHash, Timestamp};
use serde::{Deserialize, Serialize};

/// Entry type name of a proposal.
pub const PROPOSAL: &str = "proposal";
/// Entry type name of a vote.
pub const VOTE: &str = "vote";
/// Entry type name of a decision.
pub const DECISION: &str = "decision";
/// Entry type name of a roster checkpoint.
pub const CHECKPOINT: &str = "checkpoint";
/// Entry type name of an archivist's replica receipt: its claim that it purged the pod's
/// entries after its approval was revoked.
pub const REPLICA_RECEIPT: &str = "replica_receipt";

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A role a member can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Enforces cultural protocols, invites, approves; founders start as stewards.
    Steward,
    /// Manages a territory.
    Manager,
    /// Records value events and distributions.
    Treasurer,
    /// Holds a full replica or backup.
    Archivist,
}

/// Why the author of a record holds a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleProof {
    /// The author is a founder named in the DNA (founders are stewards).
    Founder,
    /// A passed GrantRole decision for the author and the role.
    Grant(ActionHash),
}

/// Where a replica may be held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplicaTarget {
    /// A region code.
    Region(String),
    /// An archivist: an agent that is not an ordinary member, on one node, in one region.
    Archivist(ArchivistNode),
}

/// The archivist an ApproveReplica decision names: members serve it the pod's data only
/// while the decision holds and only through this node, declaring this region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivistNode {
    /// The archivist's agent, by key hash.
    pub agent: KeyHash,
    /// Its node: the libp2p peer id it connects from (`12D3…`).
    pub node: String,
    /// The region its node declares; one of the DNA's allowed regions when it names any.
    pub region: String,
}

/// An archivist's signed claim that it purged every entry of the pod it held, because the
/// decision approving it was revoked. Like a deletion receipt it is a claim, not a proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaReceipt {
    /// The passed RevokeReplica decision.
    pub revocation: ActionHash,
    /// How many entries it purged.
    pub purged: u64,
    /// When.
    pub purged_at: Timestamp,
}

/// What an emergency proposal does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmergencyMeasure {
    /// Block a member's records in the pod.
    BlockMember(KeyHash),
    /// Authorise the archivist that listed a backup to restore it into the members' nodes
    /// (`docs/governance.md`, "Emergency restore").
    AuthoriseRestore {
        /// The backup's `governance/backup_listing` record, as `act_…` text.
        backup: String,
    },
}

/// A change to the pod's policy. It may only tighten what the DNA sets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChange {
    /// A new floor on the creator's share: never below the DNA's.
    pub min_creator_share_bp: Option<BasisPoints>,
    /// A new vote threshold: never below the DNA's.
    pub threshold_bp: Option<BasisPoints>,
    /// Principles content must also affirm.
    pub add_required_principles: Vec<String>,
    /// A narrower list of allowed regions: a subset of the DNA's (when the DNA names any).
    pub restrict_regions: Option<Vec<String>>,
}

/// What a proposal asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposalKind {
    /// Admit a new member (pods with `vote` admission).
    Admit {
        /// Who.
        member: KeyHash,
    },
    /// Remove a member.
    Remove {
        /// Who.
        member: KeyHash,
    },
    /// Give a member a role.
    GrantRole {
        /// Who.
        member: KeyHash,
        /// Which role.
        role: Role,
    },
    /// Take a role away.
    RevokeRole {
        /// Who.
        member: KeyHash,
        /// Which role.
        role: Role,
    },
    /// Tighten the pod's policy.
    ChangePolicy(PolicyChange),
    /// Approve a new replica location or archivist.
    ApproveReplica(ReplicaTarget),
    /// Revoke an archivist's approval: members stop serving it, and it purges the pod.
    RevokeReplica {
        /// The passed ApproveReplica decision that approved it.
        approval: ActionHash,
    },
    /// Approve a backup schedule (see [`super::BackupPlan`]).
    ApproveBackupSchedule {
        /// The schedule. With an archivist named it is in cron form (`0 3 * * *`), and the
        /// archivist follows it; without one it may be words, a record of intent only.
        schedule: String,
        /// The passed approve_replica decision naming the archivist that takes the backups.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        archivist: Option<ActionHash>,
        /// Days each backup is kept (1 to 3650 when an archivist is named).
        #[serde(default, skip_serializing_if = "is_zero")]
        retention_days: u32,
    },
    /// An emergency measure: stewards vote, shorter window, higher threshold.
    Emergency(EmergencyMeasure),
}

impl ProposalKind {
    /// True for emergencies, which use the DNA's emergency rule.
    pub fn is_emergency(&self) -> bool {
        matches!(self, ProposalKind::Emergency(_))
    }

    /// A short name for logs, the audit log and figures.
    pub fn name(&self) -> &'static str {
        match self {
            ProposalKind::Admit { .. } => "admit",
            ProposalKind::Remove { .. } => "remove",
            ProposalKind::GrantRole { .. } => "grant_role",
            ProposalKind::RevokeRole { .. } => "revoke_role",
            ProposalKind::ChangePolicy(_) => "change_policy",
            ProposalKind::ApproveReplica(_) => "approve_replica",
            ProposalKind::RevokeReplica { .. } => "revoke_replica",
            ProposalKind::ApproveBackupSchedule { .. } => "approve_backup_schedule",
            ProposalKind::Emergency(_) => "emergency",
        }
    }
}

/// A proposal put to a vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// What it asks for.
    pub kind: ProposalKind,
    /// The case for it, in words.
    pub text: String,
    /// When voting opens: the proposal action's own timestamp.
    pub opened_at: Timestamp,
    /// When voting closes: `opened_at` plus the rule's window.
    pub closes_at: Timestamp,
    /// The roster checkpoint that fixes the electorate; `None` means the founders.
    pub checkpoint: Option<ActionHash>,
}

/// A vote's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Choice {
    /// For.
    Yes,
    /// Against.
    No,
    /// Counted as participation, neither for nor against.
    Abstain,
}

/// One member's vote on one proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The proposal.
    pub proposal: ActionHash,
    /// The choice.
    pub choice: Choice,
}

/// The claim that a proposal passed, with the yes votes that prove it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The proposal.
    pub proposal: ActionHash,
    /// Yes votes: at least ⌈threshold × electorate⌉ distinct, eligible, timely ones.
    pub votes: Vec<ActionHash>,
}

/// A roster checkpoint: the pod's members and stewards, proven from the previous checkpoint
/// (or the founders) and the listed changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The previous checkpoint; `None` starts from the founders.
    pub prev: Option<ActionHash>,
    /// Members after the changes, sorted, distinct.
    pub members: Vec<KeyHash>,
    /// Stewards after the changes, sorted, distinct; all are members.
    pub stewards: Vec<KeyHash>,
    /// What changed since `prev`: Genesis records (joins), Leave records, and Decisions on
    /// Remove, GrantRole(Steward) and RevokeRole(Steward) proposals.
    pub changes: Vec<ActionHash>,
}
