//! What the engine knows of one pod: its DNA, who is a current member, who is blocked, which
//! protocol-tagged content is approved, and which peers are in it. Access control reads this.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{
    ActionBody, ActionHash, AgentKey, DnaHash, DnaManifest, KeyHash, Record, Timestamp, Visibility,
};
use myco_zomes::codec::{decode, is_entry};
use myco_zomes::content::{Approval, Content, APPROVAL, CONTENT};
use myco_zomes::governance::{
    decided_proposal, restore_listing, ArchivistNode, BackupListing, BackupPlan, EmergencyMeasure,
    ProposalKind, ReplicaTarget, RestoreReceipt, BACKUP_LISTING, DECISION, RESTORE_RECEIPT,
};
use myco_zomes::membership::{is_archivist_genesis, MembraneProof, LEAVE};
use myco_zomes::{ZOME_CONTENT, ZOME_GOVERNANCE, ZOME_MEMBERSHIP};

use super::io::PeerId;

/// How many peers' bindings a pod view remembers. A binding is remembered only while its peer
/// is connected (it is forgotten when the peer leaves), so this bounds what a crowd of
/// members' nodes — or identities that show bindings of members who signed for them — costs.
pub const MAX_BOUND_PEERS: usize = 4_096;

/// One hosted pod.
pub(crate) struct PodView {
    pub dna: DnaManifest,
    pub hash: DnaHash,
    /// Authors with a valid Genesis, by key hash.
    pub authors: BTreeMap<KeyHash, AgentKey>,
    /// Members who left or were removed.
    pub gone: BTreeSet<KeyHash>,
    /// Authors blocked by a warrant or an emergency decision.
    pub blocked: BTreeSet<KeyHash>,
    /// Content approved by a steward, under a protocol.
    pub approved: BTreeSet<(ActionHash, String)>,
    /// Peers known to be in the pod.
    pub peers: BTreeSet<PeerId>,
    /// Peers that showed a valid member binding, and for whom.
    pub bound: BTreeMap<PeerId, AgentKey>,
    /// Authors whose Genesis is an archivist's: they have a chain, but are no members.
    pub archivists: BTreeSet<KeyHash>,
    /// Passed ApproveReplica decisions for archivists, by decision hash.
    pub replica_approvals: BTreeMap<ActionHash, ArchivistNode>,
    /// Revoked approvals: approving decision → the RevokeReplica decision.
    pub revoked_replicas: BTreeMap<ActionHash, ActionHash>,
    /// Passed backup schedules that name an archivist: decision → (its time, the plan).
    pub backup_plans: BTreeMap<ActionHash, (Timestamp, BackupPlan)>,
    /// The newest backup listed under each schedule: schedule decision → when it was taken.
    pub listed_backups: BTreeMap<ActionHash, Timestamp>,
    /// Passed emergency decisions authorising a restore: decision → (the backup listing it
    /// names, when it was decided).
    pub restore_authorisations: BTreeMap<ActionHash, (ActionHash, Timestamp)>,
    /// Decisions authorising a restore whose archivist signed its receipt.
    pub restore_receipts: BTreeSet<ActionHash>,
    /// Backup listings held, by hash: their authors.
    pub listing_authors: BTreeMap<ActionHash, KeyHash>,
    /// The chain heights each peer last claimed, for `myco pod audit` (at most
    /// [`MAX_HEARD_PEERS`] peers, the longest unheard forgotten first).
    pub heard_heights: BTreeMap<PeerId, HeardHeights>,
}

/// Peers whose claimed heights a pod view keeps.
pub const MAX_HEARD_PEERS: usize = 64;

/// The heights one peer claimed for a pod's chains.
#[derive(Clone, Debug, Default)]
pub struct HeardHeights {
    /// When it last answered, µs.
    pub at: u64,
    /// Each author's newest seq and hash, as the peer claims them.
    pub chains: BTreeMap<AgentKey, (u64, ActionHash)>,
    /// True if the peer named its own chain only (an archivist): chains it leaves out are
    /// not missing there.
    pub own_only: bool,
}

/// The heights one peer last claimed, as `myco pod audit` reads them.
#[derive(Clone, Debug)]
pub struct HeardFrom {
    /// The peer's id text.
    pub peer: String,
    /// When it last answered, µs.
    pub at: u64,
    /// True if it named its own chain only (an archivist).
    pub own_only: bool,
    /// What it claimed.
    pub heights: Vec<super::Height>,
}

/// What an approve_replica decision lets a non-member's node have.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReplicaAccess<'a> {
    /// No decision names this agent on this node.
    None,
    /// A decision in force approves it.
    Approved {
        decision: ActionHash,
        node: &'a ArchivistNode,
    },
    /// Every decision that approved it was revoked.
    Revoked { revocation: ActionHash },
}

impl PodView {
    pub fn new(dna: DnaManifest) -> Self {
        PodView {
            hash: dna.dna_hash(),
            dna,
            authors: BTreeMap::new(),
            gone: BTreeSet::new(),
            blocked: BTreeSet::new(),
            approved: BTreeSet::new(),
            peers: BTreeSet::new(),
            bound: BTreeMap::new(),
            archivists: BTreeSet::new(),
            replica_approvals: BTreeMap::new(),
            revoked_replicas: BTreeMap::new(),
            backup_plans: BTreeMap::new(),
            listed_backups: BTreeMap::new(),
            restore_authorisations: BTreeMap::new(),
            restore_receipts: BTreeSet::new(),
            listing_authors: BTreeMap::new(),
            heard_heights: BTreeMap::new(),
        }
    }

    /// Remembers that `peer` showed a valid binding for `agent`. Past [`MAX_BOUND_PEERS`],
    /// bindings of peers no longer known to be in the pod make room; if none can, the new one
    /// is not remembered (the peer shows it again with its next request).
    pub fn bind(&mut self, peer: PeerId, agent: AgentKey) {
        if self.bound.len() >= MAX_BOUND_PEERS && !self.bound.contains_key(&peer) {
            let peers = &self.peers;
            self.bound.retain(|p, _| peers.contains(p));
            if self.bound.len() >= MAX_BOUND_PEERS {
                return;
            }
        }
        self.bound.insert(peer, agent);
    }

    /// A member who may be served pod data: joined, not gone, not blocked.
    pub fn is_current_member(&self, agent: &AgentKey) -> bool {
        let key = agent.key_hash();
        self.authors.contains_key(&key)
            && !self.gone.contains(&key)
            && !self.blocked.contains(&key)
            && !self.archivists.contains(&key)
    }

    /// What the approve_replica decisions held here let `agent`'s node `node` have. The
    /// answer does not depend on the order the decisions arrived in.
    pub fn replica_access(&self, agent: &AgentKey, node: &str) -> ReplicaAccess<'_> {
        let key = agent.key_hash();
        let mut revoked = None;
        for (decision, approved) in &self.replica_approvals {
            if approved.agent != key || approved.node != node {
                continue;
            }
            match self.revoked_replicas.get(decision) {
                None => {
                    return ReplicaAccess::Approved {
                        decision: *decision,
                        node: approved,
                    }
                }
                Some(revocation) => revoked = Some(*revocation),
            }
        }
        match revoked {
            Some(revocation) => ReplicaAccess::Revoked { revocation },
            None => ReplicaAccess::None,
        }
    }

    /// True if `agent` had an archivist's approval and every one was revoked.
    pub fn replica_revoked(&self, agent: &AgentKey) -> bool {
        let key = agent.key_hash();
        let mut approvals = self
            .replica_approvals
            .iter()
            .filter(|(_, a)| a.agent == key)
            .peekable();
        approvals.peek().is_some()
            && approvals.all(|(decision, _)| self.revoked_replicas.contains_key(decision))
    }

    /// True if this node may hand `own_genesis` to a node that speaks for `agent` (`None`: a
    /// node that showed no binding). A Genesis without a membrane proof shows nothing the
    /// agent's session binding does not, so anyone may have it. One with a proof (an
    /// invitation, an Admit decision) is for members: it goes only to a node whose agent this
    /// node can vouch for before it is itself a member in every peer's eyes — a current
    /// member in this view, a founder the DNA names, or the steward who signed the invitation.
    pub fn may_receive_genesis(&self, agent: Option<&AgentKey>, own_genesis: &Record) -> bool {
        carries_no_proof(own_genesis)
            || agent.is_some_and(|agent| {
                self.is_current_member(agent)
                    || self.dna.properties.founders.contains(&agent.key_hash())
                    || inviter(own_genesis).is_some_and(|steward| &steward == agent)
            })
    }

    /// True if the pod has data-residency rules and `region` is not allowed by them.
    pub fn region_refused(&self, region: Option<&str>) -> bool {
        let allowed = &self.dna.properties.allowed_regions;
        !allowed.is_empty() && !region.is_some_and(|r| allowed.iter().any(|a| a == r))
    }

    /// Keeps what `peer` claimed of the pod's chain heights (one page of its answer).
    pub fn hear_heights(
        &mut self,
        now: u64,
        peer: &PeerId,
        heights: &[super::Height],
        own_only: bool,
    ) {
        if !self.heard_heights.contains_key(peer) && self.heard_heights.len() >= MAX_HEARD_PEERS {
            let oldest = self
                .heard_heights
                .iter()
                .min_by_key(|(_, heard)| heard.at)
                .map(|(p, _)| p.clone());
            if let Some(oldest) = oldest {
                self.heard_heights.remove(&oldest);
            }
        }
        let heard = self.heard_heights.entry(peer.clone()).or_default();
        heard.at = now;
        heard.own_only = own_only;
        for height in heights {
            heard
                .chains
                .insert(height.author, (height.seq, height.hash));
        }
    }

    /// Learns from a record that was just accepted. `decided` resolves a decision's proposal.
    pub fn note(&mut self, record: &Record, decided: impl Fn(&ActionHash) -> Option<ProposalKind>) {
        let author = record.action().author;
        let key = author.key_hash();
        if matches!(record.action().body, ActionBody::Genesis { .. }) {
            self.authors.insert(key, author);
            if is_archivist_genesis(record) {
                self.archivists.insert(key);
            }
        } else if is_entry(record, ZOME_MEMBERSHIP, LEAVE) {
            self.gone.insert(key);
        } else if is_entry(record, ZOME_CONTENT, APPROVAL) {
            if let Ok(Some(approval)) = decode::<Approval>(record, "approval") {
                self.approved.insert((approval.content, approval.protocol));
            }
        } else if is_entry(record, ZOME_GOVERNANCE, DECISION) {
            match decided(&record.hash()) {
                Some(ProposalKind::Remove { member }) => {
                    self.gone.insert(member);
                }
                Some(ProposalKind::Emergency(EmergencyMeasure::BlockMember(member))) => {
                    self.blocked.insert(member);
                }
                Some(ProposalKind::ApproveReplica(ReplicaTarget::Archivist(node))) => {
                    self.replica_approvals.insert(record.hash(), node);
                }
                Some(ProposalKind::RevokeReplica { approval }) => {
                    self.revoked_replicas.insert(approval, record.hash());
                }
                Some(ProposalKind::Emergency(EmergencyMeasure::AuthoriseRestore { backup })) => {
                    if let Ok(listing) = restore_listing(&backup) {
                        self.restore_authorisations
                            .insert(record.hash(), (listing, record.action().timestamp));
                    }
                }
                Some(kind) => {
                    if let Some(plan) = BackupPlan::of(&kind) {
                        self.backup_plans
                            .insert(record.hash(), (record.action().timestamp, plan));
                    }
                }
                None => {}
            }
        } else if is_entry(record, ZOME_GOVERNANCE, RESTORE_RECEIPT) {
            if let Ok(Some(receipt)) = decode::<RestoreReceipt>(record, "restore receipt") {
                self.restore_receipts.insert(receipt.decision);
            }
        } else if is_entry(record, ZOME_GOVERNANCE, BACKUP_LISTING) {
            self.listing_authors.insert(record.hash(), key);
            if let Ok(Some(listing)) = decode::<BackupListing>(record, "backup listing") {
                let newest = self
                    .listed_backups
                    .entry(listing.schedule)
                    .or_insert(listing.taken_at);
                *newest = (*newest).max(listing.taken_at);
            }
        }
    }

    /// Whether the entry of `record` may be shown to `reader` (a current member, or the
    /// author). Private entries never leave their author's node; content under a protocol
    /// that needs approval is shown only to its author until approved.
    pub fn entry_visible_to(&self, record: &Record, reader: &AgentKey) -> bool {
        let Some(entry_ref) = record.action().body.entry_ref() else {
            return false;
        };
        if entry_ref.visibility == Visibility::Private {
            return false;
        }
        if &record.action().author == reader {
            return true;
        }
        !self.awaits_approval(record)
    }

    /// Whether anyone at all may receive the entry of `record` through gossip.
    pub fn entry_is_public(&self, record: &Record) -> bool {
        record
            .action()
            .body
            .entry_ref()
            .is_some_and(|e| e.visibility == Visibility::Public)
            && !self.awaits_approval(record)
    }

    fn awaits_approval(&self, record: &Record) -> bool {
        if !is_entry(record, ZOME_CONTENT, CONTENT) {
            return false;
        }
        let Ok(Some(content)) = decode::<Content>(record, "content") else {
            return false;
        };
        let root = match &record.action().body {
            ActionBody::Update { original, .. } => *original,
            _ => record.hash(),
        };
        content.protocols.iter().any(|tag| {
            let needs = self
                .dna
                .properties
                .cultural_protocols
                .iter()
                .any(|p| &p.name == tag && p.requires_steward_approval);
            needs
                && !self.approved.contains(&(record.hash(), tag.clone()))
                && !self.approved.contains(&(root, tag.clone()))
        })
    }
}

/// Resolves a decision's proposal kind through a validation context.
pub(crate) fn proposal_kind_of(
    ctx: &dyn myco_dna::ValidationContext,
    decision: &ActionHash,
) -> Option<ProposalKind> {
    decided_proposal(decision, ctx).ok().map(|(_, p)| p.kind)
}

/// The steward who signed the invitation in a Genesis's membrane proof, if it holds one.
fn inviter(genesis: &Record) -> Option<AgentKey> {
    let ActionBody::Genesis { membrane_proof } = &genesis.action().body else {
        return None;
    };
    match myco_dna::encoding::from_canonical_cbor("membrane proof", membrane_proof) {
        Ok(MembraneProof::Invite(invitation)) => Some(invitation.steward),
        _ => None,
    }
}

/// True if a Genesis carries an empty membrane proof (a founder's, or an open pod's): it then
/// says nothing that the agent's session binding does not already show.
fn carries_no_proof(genesis: &Record) -> bool {
    matches!(&genesis.action().body, ActionBody::Genesis { membrane_proof } if membrane_proof.is_empty())
}
