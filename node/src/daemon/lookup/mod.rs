//! Cross-pod lookup of a person, in three steps over the network:
//!
//! 1. GET the agent's registry pointer (each record found is validated; invalid ones are
//!    ignored and counted; the newest valid one wins);
//! 2. find the providers of **every** pod the pointer lists, and its members registered at
//!    the bootstrap peers' rendezvous (a second source, should strangers crowd the pod's
//!    provider slots);
//! 3. ask several providers of each pod at once ([`pod::ASKS_IN_FLIGHT_PER_POD`]) for the
//!    profile over `/myco/profile/2`, and believe only what verifies
//!    ([`crate::net::profile::verify`]).
//!
//! The answer says `public` only with a profile record the agent signed, in a pod it lists,
//! newest of what the answers proved in that pod. Anything else is `not_found_or_not_public`
//! (or `unreachable` when no provider answered at all): a stranger's "not public" neither
//! ends a lookup nor hides a profile another pod serves. A provider that answers with a
//! forgery is not asked again ([`forgers`]) and is banned like a flooding peer. Each pod is
//! `confirmed` once a provider showed the agent's Genesis in it, else `claimed`.
//!
//! [`Lookups`] holds the lookups in flight and decides each next step; the driver carries the
//! steps out and feeds the results back.

pub mod forgers;
pub mod pod;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::kad::QueryId;
use libp2p::request_response::OutboundRequestId;
use libp2p::PeerId;
use myco_dna::{DnaHash, KeyHash};
use tokio::sync::oneshot;

use self::forgers::Forgers;
use self::pod::PodAsks;
use crate::api::types::{LookupPod, LookupView, PublicProfile};
use crate::net::profile::{verify_answer, Proven};
use crate::net::ProfileRequest;
use crate::registry::Pointer;

/// Lookups in flight at once; more are answered as failed at once.
pub const MAX_LOOKUPS: usize = 64;
/// How long one lookup may take in all; when it runs out, the lookup answers with what was
/// proven by then.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Profile requests one lookup sends in all, across its pods: a pointer lists at most 16
/// pods, and most hold a few members, so 64 covers the honest case while an attacker's
/// providers cannot make one lookup send hundreds.
pub const MAX_ASKS_PER_LOOKUP: usize = 64;

/// The profile status of a verified public profile.
pub const PUBLIC: &str = "public";
/// The profile status when no verified public profile was found.
pub const NOT_FOUND_OR_NOT_PUBLIC: &str = "not_found_or_not_public";
/// The profile status when no provider of any pod answered.
pub const UNREACHABLE: &str = "unreachable";
/// The profile status when the registry holds no valid pointer.
pub const NO_POINTER: &str = "no_pointer";

/// A profile request the driver should send.
#[derive(Debug)]
pub struct Ask {
    /// The lookup.
    pub lookup: u64,
    /// Whom.
    pub peer: PeerId,
    /// The request.
    pub request: ProfileRequest,
}

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
    /// Ask a provider for the profile.
    Ask(Ask),
    /// This peer answered with a forgery: keep it away.
    Forger {
        /// The peer.
        peer: PeerId,
        /// What was forged.
        reason: String,
    },
}

struct Lookup {
    key: KeyHash,
    reply: oneshot::Sender<LookupView>,
    started: Instant,
    pointer: Option<Pointer>,
    record_query: bool,
    provider_queries: Vec<QueryId>,
    /// Rendezvous discovers awaiting their answer: the rendezvous node and the pod.
    discovers: Vec<(PeerId, DnaHash)>,
    pods: Vec<PodAsks>,
    asked: usize,
    answered: usize,
}

/// Every lookup in flight, and the forgers they met.
#[derive(Default)]
pub struct Lookups {
    next: u64,
    pending: HashMap<u64, Lookup>,
    by_query: HashMap<QueryId, u64>,
    by_request: HashMap<OutboundRequestId, (u64, PeerId, ProfileRequest)>,
    forgers: Forgers,
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
                record_query: true,
                provider_queries: Vec::new(),
                discovers: Vec::new(),
                pods: Vec::new(),
                asked: 0,
                answered: 0,
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
    pub fn on_record_query_done(&mut self, query: &QueryId) -> Vec<Step> {
        let Some(id) = self.by_query.remove(query) else {
            return Vec::new();
        };
        let Some(l) = self.pending.get_mut(&id) else {
            return Vec::new();
        };
        l.record_query = false;
        match &l.pointer {
            None => {
                self.finish(id, NO_POINTER);
                Vec::new()
            }
            Some(p) => {
                let pods = p.terms.pods.clone();
                l.pods = pods.iter().copied().map(PodAsks::new).collect();
                vec![Step::FindProviders { lookup: id, pods }]
            }
        }
    }

    /// The driver started the provider queries and the rendezvous discovers (at which node,
    /// for which pod) of a [`Step::FindProviders`].
    pub fn providers_started(
        &mut self,
        lookup: u64,
        queries: Vec<QueryId>,
        discovers: Vec<(PeerId, DnaHash)>,
    ) -> Vec<Step> {
        let Some(l) = self.pending.get_mut(&lookup) else {
            return Vec::new();
        };
        for q in &queries {
            self.by_query.insert(*q, lookup);
        }
        l.provider_queries = queries;
        l.discovers = discovers;
        self.progress(lookup)
    }

    /// A rendezvous node answered a discover with `members` (pod, peer): they are offered to
    /// every lookup of that pod, as providers are. `pod` is the pod asked about when known.
    pub fn on_members(
        &mut self,
        node: PeerId,
        pod: Option<DnaHash>,
        members: &[(DnaHash, PeerId)],
    ) -> Vec<Step> {
        let mut touched: Vec<u64> = Vec::new();
        for (id, l) in &mut self.pending {
            for (pod, peer) in members {
                if let Some(asks) = l.pods.iter_mut().find(|p| p.pod == *pod) {
                    asks.offer(*peer);
                    touched.push(*id);
                }
            }
        }
        // The answer does not say whose discover it was: it settles the oldest lookup's.
        let mut ids: Vec<u64> = self.pending.keys().copied().collect();
        ids.sort_unstable();
        let pod = pod.or_else(|| members.first().map(|(pod, _)| *pod));
        for id in ids {
            let Some(l) = self.pending.get_mut(&id) else {
                continue;
            };
            let matches =
                |(n, p): &(PeerId, DnaHash)| *n == node && pod.is_none_or(|pod| pod == *p);
            if let Some(i) = l.discovers.iter().position(matches) {
                l.discovers.remove(i);
                touched.push(id);
                break;
            }
        }
        touched.sort_unstable();
        touched.dedup();
        touched
            .into_iter()
            .flat_map(|id| self.progress(id))
            .collect()
    }

    /// Providers found for a pod: the first of them are asked at once.
    pub fn on_providers(
        &mut self,
        query: &QueryId,
        pod: DnaHash,
        peers: impl Iterator<Item = PeerId>,
    ) -> Vec<Step> {
        let Some(&id) = self.by_query.get(query) else {
            return Vec::new();
        };
        let Some(l) = self.pending.get_mut(&id) else {
            return Vec::new();
        };
        if let Some(asks) = l.pods.iter_mut().find(|p| p.pod == pod) {
            for peer in peers {
                asks.offer(peer);
            }
        }
        self.progress(id)
    }

    /// A provider query ended.
    pub fn on_providers_done(&mut self, query: &QueryId) -> Vec<Step> {
        let Some(id) = self.by_query.remove(query) else {
            return Vec::new();
        };
        if let Some(l) = self.pending.get_mut(&id) {
            l.provider_queries.retain(|q| q != query);
        }
        self.progress(id)
    }

    /// The driver sent the profile request of `ask` as `request`.
    pub fn asked(&mut self, ask: Ask, request: OutboundRequestId) {
        if self.pending.contains_key(&ask.lookup) {
            self.by_request
                .insert(request, (ask.lookup, ask.peer, ask.request));
        }
    }

    /// A profile request was answered locally (`Some` bytes) or could not be sent (`None`).
    pub fn answered_locally(&mut self, ask: Ask, answer: Option<&[u8]>) -> Vec<Step> {
        self.judge(ask.lookup, ask.peer, &ask.request, answer)
    }

    /// A profile request answered with `answer` bytes, or failed (`None`).
    pub fn on_profile(&mut self, request: &OutboundRequestId, answer: Option<&[u8]>) -> Vec<Step> {
        let Some((id, peer, asked)) = self.by_request.remove(request) else {
            return Vec::new();
        };
        self.judge(id, peer, &asked, answer)
    }

    /// Verifies an answer and takes what it proves; a forgery marks its sender.
    fn judge(
        &mut self,
        id: u64,
        peer: PeerId,
        request: &ProfileRequest,
        answer: Option<&[u8]>,
    ) -> Vec<Step> {
        let Some(l) = self.pending.get_mut(&id) else {
            return Vec::new();
        };
        let mut steps = Vec::new();
        let proven = match answer.map(|bytes| verify_answer(&l.key, request, bytes)) {
            None => Proven::default(),
            Some(Ok(proven)) => {
                l.answered += 1;
                proven
            }
            Some(Err(forgery)) => {
                self.forgers.mark(peer, Instant::now());
                tracing::warn!(
                    %peer,
                    key = %l.key,
                    pod = %request.pod,
                    %forgery,
                    forgers = self.forgers.len(),
                    "refused a forged profile answer; not asking that peer again"
                );
                steps.push(Step::Forger {
                    peer,
                    reason: forgery.to_string(),
                });
                Proven::default()
            }
        };
        if let Some(asks) = l.pods.iter_mut().find(|p| p.pod == request.pod) {
            asks.answered(proven);
        }
        steps.extend(self.progress(id));
        steps
    }

    /// Asks whatever may be asked now, and answers the lookup once nothing is left to wait for.
    fn progress(&mut self, id: u64) -> Vec<Step> {
        let Some(l) = self.pending.get_mut(&id) else {
            return Vec::new();
        };
        let agent = match &l.pointer {
            Some(p) => p.terms.agent,
            None => return Vec::new(),
        };
        let now = Instant::now();
        let forgers = &self.forgers;
        let mut steps = Vec::new();
        for asks in &mut l.pods {
            while l.asked < MAX_ASKS_PER_LOOKUP {
                let Some(peer) = asks.next(|p| forgers.is_forger(p, now)) else {
                    break;
                };
                l.asked += 1;
                steps.push(Step::Ask(Ask {
                    lookup: id,
                    peer,
                    request: ProfileRequest {
                        pod: asks.pod,
                        agent,
                    },
                }));
            }
        }
        // A pod with candidates and room left would have asked above, so only answers in
        // flight and queries still running are worth waiting for.
        let waiting = l.record_query
            || !l.provider_queries.is_empty()
            || !l.discovers.is_empty()
            || l.pods.iter().any(PodAsks::in_flight);
        if steps.is_empty() && !waiting {
            let status = self.status_of(id);
            self.finish(id, status);
        }
        steps
    }

    fn status_of(&self, id: u64) -> &'static str {
        match self.pending.get(&id) {
            Some(l) if pod::newest_public(&l.pods).is_some() => PUBLIC,
            // A pointer that lists no pod has no one to ask: nothing is unreachable.
            Some(l) if l.answered == 0 && !l.pods.is_empty() => UNREACHABLE,
            _ => NOT_FOUND_OR_NOT_PUBLIC,
        }
    }

    /// Answers lookups that took too long with what they proved; returns how many.
    pub fn sweep(&mut self) -> usize {
        let late: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, l)| l.started.elapsed() > LOOKUP_TIMEOUT)
            .map(|(id, _)| *id)
            .collect();
        for id in &late {
            let status = match self.pending.get(id) {
                Some(l) if l.pointer.is_none() => NO_POINTER,
                _ => self.status_of(*id),
            };
            self.finish(*id, status);
        }
        late.len()
    }

    fn finish(&mut self, id: u64, status: &str) {
        if let Some(l) = self.pending.remove(&id) {
            self.by_query.retain(|_, v| *v != id);
            self.by_request.retain(|_, (v, _, _)| *v != id);
            let answer = view(&l, status);
            tracing::info!(
                key = %l.key,
                found = answer.found,
                profile = status,
                asked = l.asked,
                answered = l.answered,
                "lookup done"
            );
            // The API caller may have gone away; then nobody needs the answer.
            let _ = l.reply.send(answer);
        }
    }
}

/// The lookup's answer: the profile only with the status `public`, from the newest verified
/// public version across pods.
fn view(lookup: &Lookup, status: &str) -> LookupView {
    let profile = if status == PUBLIC {
        pod::newest_public(&lookup.pods).and_then(|(pod, v)| {
            v.profile.as_ref().map(|p| PublicProfile {
                username: p.username.clone(),
                display_name: p.display_name.clone(),
                bio: p.bio.clone(),
                pod: pod.to_string(),
                record: v.hash.to_string(),
                seq: v.seq,
            })
        })
    } else {
        None
    };
    LookupView {
        key_hash: lookup.key.to_string(),
        found: lookup.pointer.is_some(),
        agent_key: lookup.pointer.as_ref().map(|p| p.terms.agent.to_string()),
        pods: lookup
            .pods
            .iter()
            .map(|p| LookupPod {
                dna_hash: p.pod.to_string(),
                status: p.status().into(),
            })
            .collect(),
        profile_status: status.into(),
        profile,
    }
}
