//! Answering peers' sync requests, with access control.
//!
//! Heights, ranges and records by hash go only to current, unblocked members of the pod, who
//! prove it with a session binding for this very connection. Entries are stripped where the
//! requester may not see them: Private entries always, protocol-tagged content awaiting a
//! steward's approval to everyone but its author, and bytes already purged are gone.

use myco_dna::{AgentKey, DnaHash, Record};
use serde_bytes::ByteBuf;

use super::flood::Admission;
use super::ingest::Incoming;
use super::io::{Output, PeerId};
use super::messages::{
    Height, SessionBinding, SyncRequest, SyncResponse, MAX_HEIGHTS, MAX_RESPONSE_RECORD_BYTES,
};
use super::view::ReplicaAccess;
use super::Engine;
use crate::store::{ChainId, Store};

impl<S: Store> Engine<S> {
    pub(crate) fn on_request(&mut self, now: u64, from: PeerId, request_id: u64, bytes: &[u8]) {
        let (rate, burst) = (
            self.config.peer_requests_per_sec,
            self.config.peer_request_burst,
        );
        let admission = self.limiter.admit(now, &from, rate, burst);
        let response = match admission {
            Admission::Allowed => match SyncRequest::from_bytes(bytes) {
                Ok(request) => self.answer(now, &from, request),
                Err(error) => SyncResponse::Refused {
                    reason: format!("bad request: {error}"),
                },
            },
            Admission::Refused | Admission::Flooding => SyncResponse::Refused {
                reason: format!(
                    "rate limit: at most {rate} requests a second (bursts of {burst}); slow down"
                ),
            },
        };
        if admission == Admission::Flooding {
            tracing::warn!(
                ?from,
                "a peer keeps sending more than twice its request allowance; disconnecting it"
            );
            self.emit(Output::Disconnect {
                peer: from.clone(),
                reason: format!("more than twice the allowance of {rate} requests a second"),
            });
        }
        self.emit(Output::Respond {
            to: from,
            request_id,
            response,
        });
    }

    /// Answers `request`; a refusal is reported, so an operator sees who asked for what.
    fn answer(&mut self, now: u64, from: &PeerId, request: SyncRequest) -> SyncResponse {
        let pod = *request.pod();
        let response = self.answer_request(now, from, request);
        let reason = match &response {
            SyncResponse::Refused { reason } => Some(reason.clone()),
            SyncResponse::NotAMember { .. } => Some(Denied::NotAMember.to_string()),
            _ => None,
        };
        if let Some(reason) = reason {
            self.event(super::Event::RequestRefused {
                pod,
                peer: from.text(),
                reason,
            });
        }
        response
    }

    fn answer_request(&mut self, now: u64, from: &PeerId, request: SyncRequest) -> SyncResponse {
        let pod = *request.pod();
        if !self.pods.contains_key(&pod) {
            return refused(format!("this node does not host pod {pod}"));
        }
        match request {
            SyncRequest::Push { records, .. } => {
                let mut batch = Vec::with_capacity(records.len());
                for bytes in records {
                    match Record::from_bytes(&bytes) {
                        Ok(record) => batch.push(Incoming::new(record, Some(from.clone()))),
                        Err(error) => {
                            return refused(format!("a pushed record does not decode: {error}"))
                        }
                    }
                }
                self.ingest(now, pod, batch);
                SyncResponse::Pushed
            }
            SyncRequest::Warrant { warrant, .. } => match myco_dna::Warrant::from_bytes(&warrant) {
                Ok(warrant) if warrant.pod() == &pod => {
                    self.on_warrant(warrant);
                    SyncResponse::Pushed
                }
                Ok(_) => refused("the warrant is for another pod".into()),
                Err(error) => refused(format!("the warrant does not decode: {error}")),
            },
            SyncRequest::Heights { binding, after, .. } => {
                match self.check_binding(now, from, &pod, &binding) {
                    // Only a member's "not a member" invites the asker to push its Genesis:
                    // a node that is no member itself must not collect others' Geneses.
                    Err(Denied::NotAMember)
                        if self
                            .pods
                            .get(&pod)
                            .is_some_and(|v| v.is_current_member(&self.agent)) =>
                    {
                        SyncResponse::NotAMember {
                            binding: self.binding(now, &pod),
                        }
                    }
                    Err(Denied::NotAMember) => refused(format!(
                        "this node is not a member of pod {pod} and serves nothing from it"
                    )),
                    Err(denied) => refused(denied.to_string()),
                    Ok(agent) => {
                        if let Some(view) = self.pods.get_mut(&pod) {
                            view.bind(from.clone(), agent);
                        }
                        self.heights(&pod, after, self.only_own_chain(now, &pod))
                    }
                }
            }
            SyncRequest::Range {
                binding,
                author,
                from_seq,
                limit,
                ..
            } => {
                let reader = match self.check_binding(now, from, &pod, &binding) {
                    Ok(reader) => reader,
                    Err(denied) => return refused(denied.to_string()),
                };
                let Some(agent) = self
                    .pods
                    .get(&pod)
                    .and_then(|v| v.authors.get(&author))
                    .copied()
                    .filter(|agent| !self.only_own_chain(now, &pod) || *agent == self.agent)
                else {
                    return SyncResponse::Records {
                        pod,
                        records: Vec::new(),
                    };
                };
                let limit = (limit as usize).min(self.config.sync_batch);
                match self
                    .store
                    .range(&ChainId { pod, author: agent }, from_seq, limit)
                {
                    Ok(records) => self.records_for(&pod, &reader, records),
                    Err(error) => refused(format!("cannot read that chain: {error}")),
                }
            }
            SyncRequest::Dna { binding, .. } => match self.check_binding(now, from, &pod, &binding)
            {
                Ok(_) => SyncResponse::Dna {
                    pod,
                    manifest: ByteBuf::from(myco_dna::encoding::to_canonical_cbor(
                        &self.pods[&pod].dna,
                    )),
                },
                Err(denied) => refused(denied.to_string()),
            },
            SyncRequest::Get {
                binding, hashes, ..
            } => {
                let reader = match self.check_binding(now, from, &pod, &binding) {
                    Ok(reader) => reader,
                    Err(denied) => return refused(denied.to_string()),
                };
                let own_only = self.only_own_chain(now, &pod);
                let mut records = Vec::with_capacity(hashes.len());
                for hash in &hashes {
                    match self.store.get(hash) {
                        Ok(Some(record))
                            if record.action().pod == pod
                                && (!own_only || record.action().author == self.agent) =>
                        {
                            records.push(record)
                        }
                        Ok(_) => {}
                        // "Not held" would be a lie: say the node cannot read its store.
                        Err(error) => {
                            return refused(format!(
                                "this node cannot read its store now ({error}); ask another member"
                            ))
                        }
                    }
                }
                self.records_for(&pod, &reader, records)
            }
        }
    }

    /// Checks that `binding` proves a current member speaks through `from` for `pod`, now.
    fn check_binding(
        &mut self,
        now: u64,
        from: &PeerId,
        pod: &DnaHash,
        binding: &SessionBinding,
    ) -> Result<AgentKey, Denied> {
        let agent = self.authentic_binding(now, from, pod, binding)?;
        let view = &self.pods[pod];
        if !view.is_current_member(&agent) {
            return check_archivist(view, &agent, from, binding.terms.region.as_deref());
        }
        if view.region_refused(binding.terms.region.as_deref()) {
            return Err(Denied::Region {
                allowed: view.dna.properties.allowed_regions.join(", "),
                declared: binding.terms.region.clone(),
            });
        }
        Ok(agent)
    }

    /// Checks that `binding` is signed by its agent, names the node `from` and `pod`, and has
    /// not expired; returns the agent. Whether the agent is a member is the caller's question.
    pub(super) fn authentic_binding(
        &mut self,
        now: u64,
        from: &PeerId,
        pod: &DnaHash,
        binding: &SessionBinding,
    ) -> Result<AgentKey, Denied> {
        let terms = &binding.terms;
        // A peer shows the same binding on every request: verify its signature once. The cache
        // key covers the terms and the signature, so altered terms are verified afresh.
        let digest = myco_dna::blake2b_256(&myco_dna::encoding::to_canonical_cbor(binding));
        if !self.verified_bindings.contains(&digest) {
            if binding.verify().is_err() {
                return Err(Denied::Binding("its signature does not verify"));
            }
            if self.verified_bindings.len() >= MAX_VERIFIED_BINDINGS {
                self.verified_bindings.clear();
            }
            self.verified_bindings.insert(digest);
        }
        if terms.peer != from.0 {
            return Err(Denied::Binding("it is for another node"));
        }
        if &terms.pod != pod {
            return Err(Denied::Binding("it is for another pod"));
        }
        if terms.expires.0 <= now {
            return Err(Denied::Binding("it has expired; sign a new one"));
        }
        Ok(terms.agent)
    }

    /// A node that is no member of `pod` (an archivist, or one whose Genesis is not back
    /// yet) serves its own chain only: the pod's data it holds is the members' to serve. An
    /// archivist restoring a backup under an emergency decision serves the pod to members
    /// (`restore.rs`).
    fn only_own_chain(&self, now: u64, pod: &DnaHash) -> bool {
        !self.pods[pod].is_current_member(&self.agent) && !self.serving_restore(now, pod)
    }

    fn heights(&self, pod: &DnaHash, after: Option<AgentKey>, own_only: bool) -> SyncResponse {
        let heads = match self.store.heads() {
            Ok(heads) => heads,
            Err(error) => return refused(format!("cannot read chain heads: {error}")),
        };
        let mut heights: Vec<Height> = heads
            .into_iter()
            .filter(|(chain, _)| {
                &chain.pod == pod
                    && after.is_none_or(|a| chain.author > a)
                    && (!own_only || chain.author == self.agent)
            })
            .map(|(chain, head)| Height {
                author: chain.author,
                seq: head.seq,
                hash: head.hash,
            })
            .take(MAX_HEIGHTS + 1)
            .collect();
        let more = heights.len() > MAX_HEIGHTS;
        heights.truncate(MAX_HEIGHTS);
        SyncResponse::Heights {
            pod: *pod,
            heights,
            more,
            own_only,
        }
    }

    /// Encodes records for `reader`, stripping entries they may not see, up to the byte bound.
    /// An archivist whose approval was revoked gets governance entries only: enough to
    /// validate the revocation, and so to purge what it held.
    fn records_for(&self, pod: &DnaHash, reader: &AgentKey, records: Vec<Record>) -> SyncResponse {
        let view = &self.pods[pod];
        let revoked = view.replica_revoked(reader) && !view.is_current_member(reader);
        let mut out = Vec::new();
        let mut bytes = 0;
        for record in records {
            let withheld = record.entry.is_some()
                && (!view.entry_visible_to(&record, reader)
                    || (revoked && !is_governance(&record))
                    || self.superseded_by_narrowing(&record));
            let served = if withheld {
                record.without_entry()
            } else {
                record
            };
            let encoded = served.to_bytes();
            bytes += encoded.len();
            out.push(ByteBuf::from(encoded));
            if bytes >= MAX_RESPONSE_RECORD_BYTES {
                break;
            }
        }
        SyncResponse::Records {
            pod: *pod,
            records: out,
        }
    }
}

/// A non-member's node is served as an archivist while an approve_replica decision names its
/// agent and this very node, and it declares the decision's region (one the pod allows).
fn check_archivist(
    view: &super::view::PodView,
    agent: &AgentKey,
    from: &PeerId,
    declared: Option<&str>,
) -> Result<AgentKey, Denied> {
    match view.replica_access(agent, &from.text()) {
        ReplicaAccess::None => Err(Denied::NotAMember),
        ReplicaAccess::Revoked { .. } => Ok(*agent),
        ReplicaAccess::Approved { decision, node } => {
            if declared != Some(node.region.as_str()) || view.region_refused(declared) {
                return Err(Denied::ArchivistRegion {
                    decision,
                    approved: node.region.clone(),
                    declared: declared.map(str::to_string),
                });
            }
            Ok(*agent)
        }
    }
}

/// Governance records (proposals, votes, decisions, checkpoints, replica receipts).
fn is_governance(record: &Record) -> bool {
    record
        .action()
        .body
        .entry_ref()
        .is_some_and(|e| e.zome == myco_zomes::ZOME_GOVERNANCE)
}

/// Why a request for pod data was denied.
#[derive(Debug)]
pub(super) enum Denied {
    Binding(&'static str),
    NotAMember,
    ArchivistRegion {
        decision: myco_dna::ActionHash,
        approved: String,
        declared: Option<String>,
    },
    Region {
        allowed: String,
        declared: Option<String>,
    },
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Binding(why) => write!(f, "the session binding is not valid: {why}"),
            Denied::NotAMember => write!(
                f,
                "pod data is served to current members, and to archivists a passed approve_replica decision names (agent and node); join the pod first, or ask its members for that decision"
            ),
            Denied::ArchivistRegion {
                decision,
                approved,
                declared,
            } => write!(
                f,
                "decision {decision} approves this archivist in region {approved}, but its node declares {}; set `region = \"{approved}\"` in myco.toml",
                declared.as_deref().unwrap_or("none")
            ),
            Denied::Region { allowed, declared } => write!(
                f,
                "this pod keeps its data in {allowed}; the node declares region {}",
                declared.as_deref().unwrap_or("none")
            ),
        }
    }
}

/// Session bindings whose signature was verified, remembered so a peer's every request does
/// not cost a signature check. The cache is cleared when full; bindings expire within an hour,
/// so a few thousand entries cover every peer of a busy node.
const MAX_VERIFIED_BINDINGS: usize = 4096;

fn refused(reason: String) -> SyncResponse {
    SyncResponse::Refused { reason }
}
