//! Swarm events: what the network tells the driver, fed to the engine, the registry store
//! and the lookups.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use libp2p::gossipsub;
use libp2p::kad::{self, QueryResult, RecordKey};
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, ping, rendezvous, Multiaddr, PeerId, Swarm};
use myco_dna::{DnaHash, Timestamp};

use super::driver::{now_micros, Driver, MAX_INBOUND_REQUESTS};
use super::link::ToEngine;
use super::lookup::pod::MAX_CANDIDATES_PER_POD;
use super::lookup::{Ask, Step};
use super::metrics::Metrics;
use super::profiles::Asker;
use crate::engine::Input;
use crate::net::records::{check_found, check_provider, check_put};
use crate::net::relay::is_relayed;
use crate::net::{self, Behaviour, BehaviourEvent};
use crate::registry::{pod_key, POD_KEY_PREFIX};

/// Addresses taken from one identify message.
const MAX_IDENTIFY_ADDRESSES: usize = 8;

/// Validates what peers ask to store in the registry; shared by daemons and bootstrap peers.
pub fn on_kad_inbound(
    swarm: &mut Swarm<Behaviour>,
    request: kad::InboundRequest,
    metrics: &Metrics,
) {
    let now = Timestamp(now_micros());
    match request {
        kad::InboundRequest::PutRecord {
            source,
            record: Some(record),
            ..
        } => {
            let store = swarm.behaviour_mut().kad.store_mut();
            let held = kad::store::RecordStore::get(store, &record.key).map(|r| r.into_owned());
            match check_put(held.as_ref(), &record, now) {
                Ok(_) => {
                    if let Err(error) = kad::store::RecordStore::put(store, record) {
                        tracing::warn!(%error, "registry store is full");
                    }
                }
                Err(error) => {
                    Metrics::inc(&metrics.registry_refused_total);
                    tracing::warn!(peer = %source, %error, "refused a registry record");
                }
            }
        }
        kad::InboundRequest::AddProvider {
            record: Some(record),
        } => match check_provider(&record) {
            Ok(()) => {
                let store = swarm.behaviour_mut().kad.store_mut();
                if let Err(error) = kad::store::RecordStore::add_provider(store, record) {
                    tracing::debug!(%error, "provider not stored");
                }
            }
            Err(error) => {
                Metrics::inc(&metrics.registry_refused_total);
                tracing::warn!(provider = %record.provider, %error, "refused a provider record");
            }
        },
        _ => {}
    }
}

/// Adds the addresses a peer announces over identify to Kademlia, if it speaks Myco's DHT.
pub fn on_identify(swarm: &mut Swarm<Behaviour>, peer: PeerId, info: identify::Info) {
    if !info
        .protocols
        .iter()
        .any(|p| p.as_ref() == net::KAD_PROTOCOL)
    {
        return;
    }
    for address in info.listen_addrs.into_iter().take(MAX_IDENTIFY_ADDRESSES) {
        swarm.behaviour_mut().kad.add_address(&peer, address);
    }
}

/// Closes a connection whose pings go unanswered: a partition leaves it open but silent, and
/// only once it is closed can the peer be dialled afresh. Shared by daemons and bootstrap
/// peers.
pub fn on_ping(swarm: &mut Swarm<Behaviour>, event: ping::Event, metrics: &Metrics) {
    if let Err(failure) = event.result {
        if matches!(failure, ping::Failure::Unsupported) {
            return;
        }
        tracing::info!(peer = %event.peer, %failure, "ping failed; closing the connection");
        Metrics::inc(&metrics.connections_closed_dead_total);
        swarm.close_connection(event.connection);
    }
}

impl Driver {
    /// This node stopped listening on `address`: it is no longer advertised, or listed.
    fn no_longer_listening(&mut self, address: &Multiaddr) {
        tracing::info!(%address, "no longer listening");
        self.swarm.remove_external_address(address);
        let full = address
            .clone()
            .with_p2p(*self.swarm.local_peer_id())
            .unwrap_or_else(|a| a);
        let before = self.listen.len();
        self.listen.retain(|a| *a != full);
        if self.listen.len() != before {
            super::runtime::write_addresses(&self.data_dir, &self.listen);
        }
    }

    pub(super) fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour(event),
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                let full = address
                    .clone()
                    .with_p2p(*self.swarm.local_peer_id())
                    .unwrap_or_else(|a| a);
                tracing::info!(address = %full, "listening");
                self.swarm.add_external_address(address);
                self.listen.push(full.clone());
                super::runtime::write_listen_file(self);
                self.listener_heard(listener_id, Some(&full));
                if is_relayed(&full) {
                    // A relay slot: register the relayed address at rendezvous now, not at
                    // the next round.
                    self.discover();
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => self.no_longer_listening(&address),
            SwarmEvent::ListenerClosed {
                listener_id,
                addresses,
                reason,
            } => {
                if let Err(error) = reason {
                    tracing::info!(%error, "a listener closed (a relay reservation lost or refused?)");
                }
                // No `ExpiredListenAddr` comes for these: a released or lost relay slot's
                // address must leave the external addresses, or peers keep being told it.
                for address in &addresses {
                    self.no_longer_listening(address);
                }
                self.reach.listener_closed(listener_id, Instant::now());
                self.listener_heard(listener_id, None);
                Metrics::set(&self.metrics.relay_reservations, self.reach.held() as u64);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                endpoint,
                ..
            } => {
                self.path_opened(connection_id, peer_id, &endpoint);
                self.redials.connected(peer_id);
                if num_established.get() == 1 {
                    self.dna_peer_connected(peer_id);
                }
                if let libp2p::core::ConnectedPoint::Dialer { address, .. } = endpoint {
                    self.redials.add_address(peer_id, address);
                }
                Metrics::set(
                    &self.metrics.peers_connected,
                    self.swarm.connected_peers().count() as u64,
                );
                if num_established.get() == 1 && self.is_bootstrap(&peer_id) {
                    tracing::info!(peer = %peer_id, "connected to a bootstrap peer");
                    self.next_discovery = Instant::now();
                    if self.swarm.behaviour_mut().kad.bootstrap().is_ok() {
                        self.next_publish = self
                            .next_publish
                            .min(Instant::now() + Duration::from_secs(1));
                    }
                }
            }
            SwarmEvent::ConnectionClosed {
                connection_id,
                num_established: 1..,
                ..
            } => self.path_closed(connection_id),
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established: 0,
                ..
            } => {
                self.path_closed(connection_id);
                Metrics::set(
                    &self.metrics.peers_connected,
                    self.swarm.connected_peers().count() as u64,
                );
                for peers in self.pod_peers.values_mut() {
                    peers.remove(&peer_id);
                }
                self.count_strangers();
                self.redials.disconnected(peer_id, Instant::now());
                self.feed(Input::PeerLeft {
                    peer: net::engine_peer(&peer_id),
                });
            }
            _ => {}
        }
    }

    fn on_behaviour(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                connection_id,
                info,
            }) => {
                for address in info.listen_addrs.iter().take(MAX_IDENTIFY_ADDRESSES) {
                    self.redials.add_address(peer_id, address.clone());
                }
                self.observed_by(peer_id, connection_id, &info.observed_addr);
                on_identify(&mut self.swarm, peer_id, info)
            }
            BehaviourEvent::Ping(event) => on_ping(&mut self.swarm, event, &self.metrics),
            BehaviourEvent::Gossipsub(event) => self.on_gossip(event),
            BehaviourEvent::Sync(event) => self.on_sync(event),
            BehaviourEvent::Profile(event) => self.on_profile(event),
            BehaviourEvent::Kad(event) => self.on_kad(event),
            BehaviourEvent::RendezvousClient(rendezvous::client::Event::DiscoverFailed {
                rendezvous_node,
                namespace,
                error,
            }) => {
                tracing::debug!(node = %rendezvous_node, ?error, "rendezvous discover failed");
                let pod = namespace.and_then(|n| n.to_string().parse::<DnaHash>().ok());
                let steps = self.lookups.on_members(rendezvous_node, pod, &[]);
                self.lookup_steps(steps);
            }
            BehaviourEvent::Strangers(event) => self.on_stranger(event),
            BehaviourEvent::AutonatClient(event) => self.on_autonat(event),
            BehaviourEvent::RelayClient(event) => self.on_relay(event),
            BehaviourEvent::Dcutr(event) => self.on_hole_punch(event),
            BehaviourEvent::Mdns(event) => self.on_mdns(event),
            BehaviourEvent::RendezvousClient(rendezvous::client::Event::Discovered {
                rendezvous_node,
                registrations,
                ..
            }) => {
                let me = *self.swarm.local_peer_id();
                let members: Vec<(DnaHash, PeerId)> = registrations
                    .iter()
                    .filter_map(|r| {
                        let pod = r.namespace.to_string().parse::<DnaHash>().ok()?;
                        Some((pod, r.record.peer_id()))
                    })
                    .filter(|(_, peer)| *peer != me)
                    .collect();
                let steps = self.lookups.on_members(rendezvous_node, None, &members);
                self.lookup_steps(steps);
                for registration in registrations {
                    let peer = registration.record.peer_id();
                    if peer == me || self.swarm.is_connected(&peer) {
                        continue;
                    }
                    let addresses: Vec<Multiaddr> = registration.record.addresses().to_vec();
                    let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                        .addresses(addresses)
                        .build();
                    if let Err(error) = self.swarm.dial(opts) {
                        tracing::debug!(%peer, %error, "cannot dial a pod peer");
                    }
                }
            }
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                Metrics::inc(&self.metrics.gossip_received_total);
                let offered = self.link.offer(ToEngine::Input {
                    now: now_micros(),
                    input: Input::Gossip {
                        from: net::engine_peer(&propagation_source),
                        message_id: message_id.0.clone(),
                        bytes: message.data,
                    },
                });
                if !offered {
                    // The engine is behind: no verdict from it, so no penalty for the sender.
                    Metrics::inc(&self.metrics.gossip_dropped_total);
                    if let Some(gossip) = self.swarm.behaviour_mut().gossipsub.as_mut() {
                        gossip.report_message_validation_result(
                            &message_id,
                            &propagation_source,
                            gossipsub::MessageAcceptance::Ignore,
                        );
                    }
                }
            }
            gossipsub::Event::Subscribed { peer_id, topic, .. } => {
                self.stranger_subscription(&peer_id, &topic);
                if let Some(pod) = self.topics.get(&topic).copied() {
                    self.pod_peer_joined(peer_id, pod);
                }
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } => {
                self.stranger_subscription(&peer_id, &topic)
            }
            _ => {}
        }
    }

    fn on_sync(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message {
                peer,
                connection_id,
                message,
            } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => {
                    Metrics::inc(&self.metrics.sync_requests_total);
                    self.count_sync_bytes(connection_id, request.len());
                    self.stranger_requested(&peer);
                    if self.inbound.len() >= MAX_INBOUND_REQUESTS {
                        Metrics::inc(&self.metrics.sync_requests_dropped_total);
                        return;
                    }
                    let id = self.next_inbound;
                    self.next_inbound += 1;
                    let offered = self.link.offer(ToEngine::Input {
                        now: now_micros(),
                        input: Input::Request {
                            from: net::engine_peer(&peer),
                            request_id: id,
                            bytes: request,
                        },
                    });
                    if !offered {
                        // The engine is behind: the peer sees the request fail, and asks again.
                        Metrics::inc(&self.metrics.sync_requests_dropped_total);
                        return;
                    }
                    // Answered (or let go) once the engine has handled it: see `on_engine`.
                    self.inbound.insert(id, channel);
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    self.count_sync_bytes(connection_id, response.len());
                    if self.on_dna_answer(&request_id, &response) {
                        return;
                    }
                    if let Some(token) = self.outbound.remove(&request_id) {
                        self.feed(Input::Response {
                            from: net::engine_peer(&peer),
                            token,
                            bytes: response,
                        });
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if self.on_dna_failure(&request_id) {
                    return;
                }
                if let Some(token) = self.outbound.remove(&request_id) {
                    Metrics::inc(&self.metrics.sync_requests_failed_total);
                    tracing::debug!(%peer, %error, "sync request failed");
                    self.feed(Input::RequestFailed {
                        peer: net::engine_peer(&peer),
                        token,
                    });
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound profile request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_profile(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => {
                    self.stranger_requested(&peer);
                    // Dropping the channel, if the engine is behind, fails the peer's request.
                    self.ask_store(Asker::Peer(channel), request);
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    let steps = self.lookups.on_profile(&request_id, Some(&response));
                    self.lookup_steps(steps);
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(%peer, %error, "profile request failed");
                let steps = self.lookups.on_profile(&request_id, None);
                self.lookup_steps(steps);
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound profile request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_kad(&mut self, event: kad::Event) {
        match event {
            kad::Event::InboundRequest { request } => {
                // Only a PUT names its sender; the DHT's reads are too cheap to count.
                if let kad::InboundRequest::PutRecord { source, .. } = &request {
                    self.stranger_requested(source);
                }
                on_kad_inbound(&mut self.swarm, request, &self.metrics)
            }
            kad::Event::OutboundQueryProgressed {
                id, result, step, ..
            } => match result {
                QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(found))) => {
                    match check_found(&found.record, Timestamp(now_micros())) {
                        Ok(pointer) => self.lookups.on_pointer(&id, pointer),
                        Err(error) => {
                            Metrics::inc(&self.metrics.registry_refused_total);
                            tracing::warn!(peer = ?found.peer, %error, "ignored an invalid registry record");
                        }
                    }
                    if step.last {
                        let steps = self.lookups.on_record_query_done(&id);
                        self.lookup_steps(steps);
                    }
                }
                QueryResult::GetRecord(_) => {
                    let steps = self.lookups.on_record_query_done(&id);
                    self.lookup_steps(steps);
                }
                QueryResult::GetProviders(result) => {
                    if let Ok(kad::GetProvidersOk::FoundProviders { key, providers }) = &result {
                        self.on_providers(&id, key, providers);
                    }
                    if result.is_err()
                        || step.last
                        || matches!(
                            result,
                            Ok(kad::GetProvidersOk::FinishedWithNoAdditionalRecord { .. })
                        )
                    {
                        let steps = self.lookups.on_providers_done(&id);
                        self.lookup_steps(steps);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn on_providers(&mut self, query: &kad::QueryId, key: &RecordKey, providers: &HashSet<PeerId>) {
        let Some(pod) = key
            .as_ref()
            .strip_prefix(POD_KEY_PREFIX)
            .and_then(DnaHash::from_slice)
        else {
            return;
        };
        let me = *self.swarm.local_peer_id();
        for peer in providers {
            if *peer != me
                && !self.swarm.is_connected(peer)
                && (self.topics.contains_key(&net::topic(&pod).hash()) || self.wants_dna(&pod))
            {
                let _ = self.swarm.dial(*peer);
            }
        }
        let steps = self
            .lookups
            .on_providers(query, pod, providers.iter().copied());
        self.lookup_steps(steps);
    }

    /// Asks every connected bootstrap peer's rendezvous for the members of `pods`; returns
    /// the discovers sent (node, pod).
    fn discover_members(&mut self, pods: &[DnaHash]) -> Vec<(PeerId, DnaHash)> {
        let nodes: Vec<PeerId> = self
            .bootstrap
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| self.swarm.is_connected(p))
            .collect();
        let Some(client) = self.swarm.behaviour_mut().rendezvous_client.as_mut() else {
            return Vec::new();
        };
        let mut sent = Vec::new();
        for pod in pods {
            let Ok(namespace) = rendezvous::Namespace::new(pod.to_string()) else {
                continue;
            };
            for node in &nodes {
                client.discover(
                    Some(namespace.clone()),
                    None,
                    Some(MAX_CANDIDATES_PER_POD as u64),
                    *node,
                );
                sent.push((*node, *pod));
            }
        }
        sent
    }

    /// Asks the engine thread to answer a profile request from the store. If the engine is
    /// too far behind, the asker is handed back unanswered.
    fn ask_store(&mut self, asker: Asker, request: Vec<u8>) -> Option<Asker> {
        if !self.profiles.has_room() {
            Metrics::inc(&self.metrics.engine_inputs_dropped_total);
            return Some(asker);
        }
        let local = matches!(asker, Asker::Lookup(_));
        let id = self.profiles.wait(asker);
        let message = ToEngine::Profile { id, request };
        // A lookup's own ask is what the engine must hear; a peer's is an offer.
        let queued = if local {
            self.link.send(message)
        } else {
            self.link.offer(message)
        };
        if queued {
            return None;
        }
        if !local {
            Metrics::inc(&self.metrics.engine_inputs_dropped_total);
        }
        self.profiles.take(id)
    }

    /// The engine thread answered a profile request from the store.
    pub(super) fn on_profile_answer(&mut self, id: u64, answer: Vec<u8>) {
        match self.profiles.take(id) {
            Some(Asker::Peer(channel)) => {
                if let Some(profile) = self.swarm.behaviour_mut().profile.as_mut() {
                    // Fails only if the peer has gone: nothing to do then.
                    let _ = profile.send_response(channel, answer);
                }
            }
            Some(Asker::Lookup(ask)) => {
                let steps = self.lookups.answered_locally(ask, Some(&answer));
                self.lookup_steps(steps);
            }
            None => {}
        }
    }

    /// This node hosts the pod a lookup asks about: its own store answers, verified all the
    /// same, once the engine thread has read it.
    fn ask_self(&mut self, ask: Ask) -> Vec<Step> {
        let request = ask.request.to_bytes();
        match self.ask_store(Asker::Lookup(ask), request) {
            None => Vec::new(),
            Some(Asker::Lookup(ask)) => self.lookups.answered_locally(ask, None),
            Some(Asker::Peer(_)) => Vec::new(),
        }
    }

    /// Carries out the steps of lookups, and the steps they lead to.
    fn lookup_steps(&mut self, steps: Vec<Step>) {
        let mut work = VecDeque::from(steps);
        while let Some(step) = work.pop_front() {
            let more = match step {
                Step::FindProviders { lookup, pods } => {
                    let queries = pods
                        .iter()
                        .map(|pod| {
                            self.swarm
                                .behaviour_mut()
                                .kad
                                .get_providers(RecordKey::new(&pod_key(pod)))
                        })
                        .collect();
                    let discovers = self.discover_members(&pods);
                    self.lookups.providers_started(lookup, queries, discovers)
                }
                Step::Ask(ask) => {
                    if ask.peer == *self.swarm.local_peer_id() {
                        self.ask_self(ask)
                    } else if let Some(profile) = self.swarm.behaviour_mut().profile.as_mut() {
                        let id = profile.send_request(&ask.peer, ask.request.to_bytes());
                        self.lookups.asked(ask, id);
                        Vec::new()
                    } else {
                        self.lookups.answered_locally(ask, None)
                    }
                }
                Step::Forger { peer, reason } => {
                    Metrics::inc(&self.metrics.profile_forgeries_total);
                    self.ban(peer, &format!("forged a profile answer: {reason}"));
                    Vec::new()
                }
            };
            work.extend(more);
        }
    }
}
