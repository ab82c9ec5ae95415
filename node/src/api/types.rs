//! The local API's JSON bodies, shared by the server and the CLI client. Identifiers travel
//! in their text forms (`dna_…`, `kh_…`, `act_…`, `agent_…`).

use serde::{Deserialize, Serialize};

mod community;

pub use community::*;

/// Largest JSON body the API reads: four times the largest entry a record may carry
/// ([`myco_dna::limits::MAX_ENTRY_BYTES`]), so every write whose record fits its bounds fits
/// in a body even when JSON escapes every other byte of it, and a larger body is answered 413
/// before it is parsed. A body within this bound whose record would be over a record bound is
/// refused by the same checks network input meets, also with 413, naming the bound.
pub const MAX_BODY_BYTES: usize = 4 * myco_dna::limits::MAX_ENTRY_BYTES;

/// An error answer: `{"error": "..."}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, and what to do.
    pub error: String,
}

/// `GET /status`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusView {
    /// The hosted agent's key.
    pub agent_key: String,
    /// Its key hash: what the registry stores.
    pub key_hash: String,
    /// The node's libp2p peer id.
    pub peer_id: String,
    /// Addresses the node listens on, with `/p2p/<peer id>`.
    pub listen: Vec<String>,
    /// Connected peers.
    pub peers: usize,
    /// Hosted pods.
    pub pods: Vec<PodSummary>,
    /// Records waiting for dependencies.
    pub limbo: usize,
    /// Seconds since the daemon started.
    pub uptime_secs: u64,
    /// What the daemon found wrong at start and fixed, or could not (a data dir open to other
    /// users, say).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Whether the node is publicly reachable, the relays holding a slot for it, and each
    /// open connection's path (direct or relayed).
    #[serde(default)]
    pub network: crate::daemon::reach::ReachView,
}

/// One hosted pod.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PodSummary {
    /// The pod id.
    pub dna_hash: String,
    /// Its DNA's name.
    pub name: String,
    /// Peers known to host it.
    pub peers: usize,
    /// This node's agent has its Genesis in the pod. False after a refused join (a bad or
    /// missing membrane proof): the node then only follows what the pod shows non-members,
    /// until a join with a valid proof.
    #[serde(default)]
    pub joined: bool,
    /// Why this node gets none of the pod's Pod entries, if it does not (a region the pod
    /// does not allow), and what to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// This node's agent's roles in the pod, each with the decision that granted it.
    #[serde(default)]
    pub roles: Vec<RoleView>,
}

/// `POST /pods` (create) and `POST /pods/join`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The DNA manifest, as TOML text.
    pub manifest: String,
    /// The membrane proof, hex-encoded (empty for open pods and founders).
    #[serde(default)]
    pub membrane_proof_hex: String,
    /// Host the pod as an archivist: no Genesis until an approve_replica decision names
    /// this agent and node.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archivist: bool,
}

/// `POST /pods/{pod}/forget`: the pod this node no longer hosts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Forgotten {
    /// The pod.
    pub forgotten: String,
}

/// The hash of a record this node wrote.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Written {
    /// The pod.
    pub pod: String,
    /// The record's action hash.
    pub hash: String,
}

/// Consent flags of content, each stated by its author: the daemon never fills one in. A
/// flag left out of the JSON is false.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsentBody {
    /// May be shown to anyone.
    pub public_sharing: bool,
    /// May be shown to the pod's members.
    pub community_sharing: bool,
    /// May be used for AI analysis.
    pub ai_analysis: bool,
    /// May be used commercially.
    pub commercial_use: bool,
    /// Reuse must credit the author.
    pub attribution_required: bool,
    /// May be modified by others.
    pub modification_allowed: bool,
}

impl ConsentBody {
    /// The names of the flags, as `--consent` takes them.
    pub const FLAGS: [&'static str; 6] = [
        "public_sharing",
        "community_sharing",
        "ai_analysis",
        "commercial_use",
        "attribution_required",
        "modification_allowed",
    ];

    /// Consent to community sharing only: what `Pod` visibility needs.
    pub fn community() -> Self {
        ConsentBody {
            community_sharing: true,
            ..ConsentBody::default()
        }
    }

    /// Consent to public and community sharing: what `Public` visibility needs.
    pub fn public() -> Self {
        ConsentBody {
            public_sharing: true,
            community_sharing: true,
            ..ConsentBody::default()
        }
    }

    /// The flag named `name`, to set; `None` for a name that is not a flag.
    pub fn flag_mut(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "public_sharing" => &mut self.public_sharing,
            "community_sharing" => &mut self.community_sharing,
            "ai_analysis" => &mut self.ai_analysis,
            "commercial_use" => &mut self.commercial_use,
            "attribution_required" => &mut self.attribution_required,
            "modification_allowed" => &mut self.modification_allowed,
            _ => return None,
        })
    }
}

/// One recipient's part of content's revenue, as the API takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareBody {
    /// A member (`kh_…`), or `community` for the part the DNA's benefit model shares out.
    pub recipient: String,
    /// Basis points (7500 = 75%); the shares of one content sum to exactly 10000.
    pub bp: u16,
}

/// `POST /pods/{pod}/content`. The author states the principles and consent: nothing is
/// filled in on their behalf, and a publish without them is refused, naming what is missing.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublishRequest {
    /// Title.
    pub title: String,
    /// Text body.
    #[serde(default)]
    pub body: String,
    /// Kind of work (default `story`).
    #[serde(default)]
    pub kind: Option<String>,
    /// `public`, `pod` or `private`.
    pub visibility: String,
    /// Consent, as the author states it (required).
    pub consent: ConsentBody,
    /// Principles the author affirms (required; every one the pod requires).
    pub principles: Vec<String>,
    /// Cultural protocol tags.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// How to credit the author.
    #[serde(default)]
    pub attribution: Option<String>,
    /// How revenue is shared; omitted means all of it goes to the creator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_share: Option<Vec<ShareBody>>,
}

impl PublishRequest {
    /// A story with `visibility`, affirming `principles` with `consent`; no protocol tags,
    /// attribution or revenue share.
    pub fn story(
        title: impl Into<String>,
        body: impl Into<String>,
        visibility: &str,
        principles: &[&str],
        consent: ConsentBody,
    ) -> Self {
        PublishRequest {
            title: title.into(),
            body: body.into(),
            kind: None,
            visibility: visibility.into(),
            consent,
            principles: principles.iter().map(|p| p.to_string()).collect(),
            protocols: Vec::new(),
            attribution: None,
            revenue_share: None,
        }
    }
}

/// `POST /pods/{pod}/profile`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProfileRequestBody {
    /// Short handle.
    pub username: String,
    /// Name shown to others.
    #[serde(default)]
    pub display_name: String,
    /// About the member.
    #[serde(default)]
    pub bio: String,
    /// Whether other pods may find it.
    #[serde(default)]
    pub profile_public: bool,
    /// `public`, `pod` or `private`; by default public when `profile_public`, else pod.
    #[serde(default)]
    pub visibility: Option<String>,
}

/// `POST /pods/{pod}/proposals`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProposeRequest {
    /// `admit`, `remove`, `grant_role`, `revoke_role`, `change_policy`, `approve_replica`,
    /// `revoke_replica`, `approve_backup_schedule`, `emergency_block` or `emergency_restore`.
    pub kind: String,
    /// The member concerned (`kh_…`), for kinds about a member.
    #[serde(default)]
    pub member: Option<String>,
    /// The role, for role kinds: `steward`, `manager`, `treasurer` or `archivist`.
    #[serde(default)]
    pub role: Option<String>,
    /// The region (approve_replica), schedule (approve_backup_schedule) or backup listing
    /// (`act_…`, emergency_restore).
    #[serde(default)]
    pub detail: Option<String>,
    /// approve_replica for an archivist: its node's peer id (`12D3…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// revoke_replica: the approve_replica decision it revokes; approve_backup_schedule: the
    /// approve_replica decision naming the archivist that takes the backups (`act_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// approve_backup_schedule: days each backup is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// The case for it.
    #[serde(default)]
    pub text: String,
    /// change_policy: a new floor on the creator's share, in basis points (never lower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_creator_share_bp: Option<u16>,
    /// change_policy: a new vote threshold, in basis points (never lower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_bp: Option<u16>,
    /// change_policy: principles content must also affirm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_principles: Vec<String>,
    /// change_policy: a narrower list of allowed regions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restrict_regions: Vec<String>,
}

/// `POST /pods/{pod}/votes`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VoteRequest {
    /// The proposal (`act_…`).
    pub proposal: String,
    /// `yes`, `no` or `abstain`.
    pub choice: String,
}

/// `POST /pods/{pod}/decisions`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DecideRequest {
    /// The proposal (`act_…`).
    pub proposal: String,
}

/// `POST /pods/{pod}/approvals`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApproveRequest {
    /// The content's Create (`act_…`).
    pub content: String,
    /// The cultural protocol approved under.
    pub protocol: String,
    /// The GrantRole decision that makes this agent a steward (`act_…`); omit for founders.
    #[serde(default)]
    pub grant: Option<String>,
}

/// `POST /pods/{pod}/invitations`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InviteRequest {
    /// Whom to invite (`kh_…`, from their `myco key show`).
    pub invitee: String,
    /// Days the invitation holds; 7 when omitted, at most [`MAX_INVITATION_DAYS`].
    #[serde(default)]
    pub days: Option<u32>,
    /// The GrantRole decision that makes this agent a steward (`act_…`); omit for founders.
    #[serde(default)]
    pub grant: Option<String>,
}

/// Days an invitation holds unless the steward says otherwise.
pub const DEFAULT_INVITATION_DAYS: u32 = 7;
/// Longest an invitation may hold: an old invitation in the wrong hands admits a stranger.
pub const MAX_INVITATION_DAYS: u32 = 365;

/// A signed invitation, ready to hand to the invitee.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InvitationView {
    /// The pod.
    pub pod: String,
    /// Whom it invites.
    pub invitee: String,
    /// Until when it may be used (µs since the Unix epoch).
    pub expires_micros: u64,
    /// The membrane proof, hex-encoded: the invitee passes it to `myco pod join --proof-file`.
    pub membrane_proof_hex: String,
}

/// `POST /pods/{pod}/delete`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeleteRequest {
    /// The record to delete (`act_…`).
    pub target: String,
}

/// `GET /records/{hash}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordView {
    /// The record.
    pub hash: String,
    /// Whether this node stores it.
    pub stored: bool,
    /// Whether it stores its entry bytes.
    pub entry: bool,
}

/// A public profile found by lookup: from a profile record the agent signed, verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicProfile {
    /// Short handle.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// About the member.
    pub bio: String,
    /// The pod whose chain holds the record (`dna_…`).
    pub pod: String,
    /// The profile record's action hash (`act_…`).
    pub record: String,
    /// The record's seq in the agent's chain in that pod.
    pub seq: u64,
}

/// A pod a looked-up agent's pointer lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupPod {
    /// The pod (`dna_…`).
    pub dna_hash: String,
    /// `confirmed` if a provider of the pod showed the agent's signed Genesis in it;
    /// `claimed` if only the agent's own pointer says so.
    pub status: String,
}

/// `GET /lookup/{key_hash}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LookupView {
    /// The key hash looked up.
    pub key_hash: String,
    /// Whether a valid registry pointer was found.
    pub found: bool,
    /// The agent's key, from the pointer.
    pub agent_key: Option<String>,
    /// The pods the pointer lists, each confirmed or only claimed.
    pub pods: Vec<LookupPod>,
    /// `public` (a verified profile record), `not_found_or_not_public`, `unreachable` (no
    /// provider answered), or `no_pointer`.
    pub profile_status: String,
    /// The public profile, when a verified one was found.
    pub profile: Option<PublicProfile>,
}

/// One pod of `POST /recover`'s answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecoverPod {
    /// The pod (`dna_…`).
    pub dna_hash: String,
    /// `hosted` (this node hosted it already), `joined` (its DNA came from a member and the
    /// node now hosts it, fetching the agent's chain), or `not_found`.
    pub status: String,
    /// Why not, for `not_found`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `POST /recover`: what the registry pointer named, and what became of each pod.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecoverStarted {
    /// The agent's key hash.
    pub key_hash: String,
    /// Whether a valid registry pointer was found.
    pub pointer_found: bool,
    /// Each pod the pointer lists, and each hosted already.
    pub pods: Vec<RecoverPod>,
}

/// One pod of `GET /recover`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecoveryPodView {
    /// The pod (`dna_…`).
    pub dna_hash: String,
    /// Its name.
    pub name: String,
    /// True once its peers confirmed this agent's newest records and this node holds them.
    pub anchored: bool,
    /// Seconds asked so far, while not anchored.
    pub waited_secs: Option<u64>,
    /// Members' peers that answered in full, while not anchored.
    pub answered: usize,
    /// The seq a peer said this agent's chain reaches, if any did.
    pub claimed_seq: Option<u64>,
    /// Records of this agent's chain held here.
    pub records: u64,
    /// Private records held without their entry (not deleted): only a backup can fill them.
    /// Counted once the pod is anchored (0 before: the chain is still coming).
    pub private_unfilled_count: usize,
    /// The first of them, by hash.
    pub private_unfilled: Vec<String>,
}

/// `GET /recover`: how far recovering this agent's chains is, pod by pod.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecoveryView {
    /// The pods.
    pub pods: Vec<RecoveryPodView>,
}
