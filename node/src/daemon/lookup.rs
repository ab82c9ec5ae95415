//! Cross-pod lookup of a person, in three steps over the network:
//!
//! 1. GET the agent's registry pointer (each record found is validated; invalid ones are
//!    ignored and counted; the newest valid one wins);
//! 2. find the providers of each pod the pointer lists;
//! 3. ask providers, one after another, for the public profile over `/myco/profile/1`.
//!
//! [`Lookups`] holds the lookups in flight and decides each next step; the driver carries the
//! steps out and feeds the results back.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use libp2p::kad::QueryId;
use libp2p::request_response::OutboundRequestId;
use libp2p::PeerId;
use myco_dna::{DnaHash, KeyHash};
use tokio::sync::oneshot;

use crate::api::types::{LookupView, PublicProfile};
use crate::net::ProfileResponse;
use crate::registry::Pointer;

/// Lookups in flight at once; more are answered as failed at once.
pub const MAX_LOOKUPS: usize = 64;
/// How long one lookup may take in all.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Providers asked for a profile before giving up.
pub const MAX_PROFILE_ASKS: usize = 4;

/// What the driver should do next for a lookup.
#[derive(Debug)]
pub enum Step {
    /// Find the providers of these pods.
    FindProviders {
        /// The lookup.
        lookup: u64,
        /// The pods.
        pods: Vec<DnaHash>,
    },
    /// Ask this peer for the profile.
    AskProfile {
        /// The lookup.
        lookup: u64,
        /// Whom.
        peer: PeerId,
        /// The request.
        request: crate::net::ProfileRequest,
    },
    /// Nothing: wait, or the lookup is answered.
    Wait,
}

struct Lookup {
    key: KeyHash,
    reply: oneshot::Sender<LookupView>,
    started: Instant,
    pointer: Option<Pointer>,
    record_query: Option<QueryId>,
    provider_queries: Vec<QueryId>,
    candidates: VecDeque<(PeerId, DnaHash)>,
    asked: usize,
    status: &'static str,
}

/// Every lookup in flight.
#[derive(Default)]
pub struct Lookups {
    next: u64,
    pending: HashMap<u64, Lookup>,
    by_query: HashMap<QueryId, u64>,
    by_request: HashMap<OutboundRequestId, u64>,
}

fn view(lookup: &Lookup, profile: Option<PublicProfile>, status: &str) -> LookupView {
    LookupView {
        key_hash: lookup.key.to_string(),
        found: lookup.pointer.is_some(),
        agent_key: lookup.pointer.as_ref().map(|p| p.terms.agent.to_string()),
        pods: lookup
            .pointer
            .as_ref()
            .map(|p| p.terms.pods.iter().map(|d| d.to_string()).collect())
            .unwrap_or_default(),
        profile_status: status.into(),
        profile,
    }
}

impl Lookups {
    /// Starts a lookup whose registry GET is `query` (check [`Lookups::has_room`] first).
    pub fn start(&mut self, key: KeyHash, query: QueryId, reply: oneshot::Sender<LookupView>) {
        let id = self.next;
        self.next += 1;
        self.by_query.insert(query, id);
        self.pending.insert(
            id,
            Lookup {
                key,
                reply,
                started: Instant::now(),
                pointer: None,
                record_query: Some(query),
                provider_queries: Vec::new(),
                candidates: VecDeque::new(),
                asked: 0,
                status: "not_found",
            },
        );
    }

    /// True if another lookup may start.
    pub fn has_room(&self) -> bool {
        self.pending.len() < MAX_LOOKUPS
    }

    /// A valid pointer was found by the registry query.
    pub fn on_pointer(&mut self, query: &QueryId, pointer: Pointer) {
        if let Some(l) = self
            .by_query
            .get(query)
            .and_then(|id| self.pending.get_mut(id))
        {
            let newer = l
                .pointer
                .as_ref()
                .is_none_or(|held| pointer.terms.seq > held.terms.seq);
            if newer {
                l.pointer = Some(pointer);
            }
        }
    }

    /// The registry query ended.
    pub fn on_record_query_done(&mut self, query: &QueryId) -> Step {
        let Some(id) = self.by_query.remove(query) else {
            return Step::Wait;
        };
        let Some(l) = self.pending.get_mut(&id) else {
            return Step::Wait;
        };
        l.record_query = None;
        match &l.pointer {
            None => {
                self.finish(id, None, "no_pointer");
                Step::Wait
            }
            Some(p) => Step::FindProviders {
                lookup: id,
                pods: p.terms.pods.clone(),
            },
        }
    }

    /// The driver started the provider queries of a [`Step::FindProviders`]; with none, the
    /// next step is due at once.
    pub fn providers_started(&mut self, lookup: u64, queries: Vec<QueryId>) -> Step {
        let Some(l) = self.pending.get_mut(&lookup) else {
            return Step::Wait;
        };
        if queries.is_empty() {
            return self.next_ask(lookup);
        }
        for q in &queries {
            self.by_query.insert(*q, lookup);
        }
        l.provider_queries = queries;
        Step::Wait
    }

    /// Providers found for a pod.
    pub fn on_providers(
        &mut self,
        query: &QueryId,
        pod: DnaHash,
        peers: impl Iterator<Item = PeerId>,
    ) {
        if let Some(l) = self
            .by_query
            .get(query)
            .and_then(|id| self.pending.get_mut(id))
        {
            for peer in peers {
                if !l.candidates.iter().any(|(p, _)| p == &peer) {
                    l.candidates.push_back((peer, pod));
                }
            }
        }
    }

    /// A provider query ended; once all have, the first profile request is due.
    pub fn on_providers_done(&mut self, query: &QueryId) -> Step {
        let Some(id) = self.by_query.remove(query) else {
            return Step::Wait;
        };
        let Some(l) = self.pending.get_mut(&id) else {
            return Step::Wait;
        };
        l.provider_queries.retain(|q| q != query);
        if !l.provider_queries.is_empty() {
            return Step::Wait;
        }
        self.next_ask(id)
    }

    fn next_ask(&mut self, id: u64) -> Step {
        let Some(l) = self.pending.get_mut(&id) else {
            return Step::Wait;
        };
        let agent = match &l.pointer {
            Some(p) => p.terms.agent,
            None => return Step::Wait,
        };
        match l.candidates.pop_front() {
            Some((peer, pod)) if l.asked < MAX_PROFILE_ASKS => {
                l.asked += 1;
                Step::AskProfile {
                    lookup: id,
                    peer,
                    request: crate::net::ProfileRequest { pod, agent },
                }
            }
            _ => {
                let status = if l.asked == 0 {
                    "unreachable"
                } else {
                    l.status
                };
                self.finish(id, None, status);
                Step::Wait
            }
        }
    }

    /// The driver sent a profile request for `lookup`.
    pub fn asked(&mut self, lookup: u64, request: OutboundRequestId) {
        if self.pending.contains_key(&lookup) {
            self.by_request.insert(request, lookup);
        }
    }

    /// A profile request could not be sent, or was answered locally: go on with `lookup`.
    pub fn answered_locally(&mut self, lookup: u64, response: Option<ProfileResponse>) -> Step {
        self.apply(lookup, response)
    }

    /// A profile request answered (or failed, with `None`).
    pub fn on_profile(
        &mut self,
        request: &OutboundRequestId,
        response: Option<ProfileResponse>,
    ) -> Step {
        let Some(id) = self.by_request.remove(request) else {
            return Step::Wait;
        };
        self.apply(id, response)
    }

    fn apply(&mut self, id: u64, response: Option<ProfileResponse>) -> Step {
        match response {
            Some(ProfileResponse::Public(p)) => {
                let profile = PublicProfile {
                    username: p.username,
                    display_name: p.display_name,
                    bio: p.bio,
                };
                self.finish(id, Some(profile), "public");
                Step::Wait
            }
            Some(ProfileResponse::NotPublic) => {
                self.finish(id, None, "not_public");
                Step::Wait
            }
            Some(ProfileResponse::NotFound) => {
                if let Some(l) = self.pending.get_mut(&id) {
                    l.status = "not_found";
                }
                self.next_ask(id)
            }
            Some(ProfileResponse::Refused { .. }) | None => {
                if let Some(l) = self.pending.get_mut(&id) {
                    if l.status != "not_found" {
                        l.status = "unreachable";
                    }
                }
                self.next_ask(id)
            }
        }
    }

    /// Answers lookups that took too long; returns how many failed.
    pub fn sweep(&mut self) -> usize {
        let late: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, l)| l.started.elapsed() > LOOKUP_TIMEOUT)
            .map(|(id, _)| *id)
            .collect();
        for id in &late {
            self.finish(*id, None, "unreachable");
        }
        late.len()
    }

    fn finish(&mut self, id: u64, profile: Option<PublicProfile>, status: &str) {
        if let Some(l) = self.pending.remove(&id) {
            self.by_query.retain(|_, v| *v != id);
            self.by_request.retain(|_, v| *v != id);
            let answer = view(&l, profile, status);
            tracing::info!(key = %l.key, found = answer.found, profile = status, "lookup done");
            // The API caller may have gone away; then nobody needs the answer.
            let _ = l.reply.send(answer);
        }
    }
}
