//! Swarm events: what the network tells the driver, fed to the engine, the registry store
//! and the lookups.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use libp2p::gossipsub;
use libp2p::kad::{self, QueryResult, RecordKey};
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, ping, rendezvous, Multiaddr, PeerId, Swarm};
use myco_dna::{DnaHash, Timestamp};

use super::driver::{now_micros, Driver, MAX_INBOUND_REQUESTS};
use super::lookup::Step;
use super::metrics::Metrics;
use crate::engine::Input;
use crate::net::records::{check_found, check_provider, check_put};
use crate::net::{self, Behaviour, BehaviourEvent, ProfileResponse};
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
    pub(super) fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour(event),
            SwarmEvent::NewListenAddr { address, .. } => {
                let full = address
                    .clone()
                    .with_p2p(*self.swarm.local_peer_id())
                    .unwrap_or_else(|a| a);
                tracing::info!(address = %full, "listening");
                self.swarm.add_external_address(address);
                self.listen.push(full);
                super::runtime::write_listen_file(self);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                endpoint,
                ..
            } => {
                self.redials.connected(peer_id);
                if let libp2p::core::ConnectedPoint::Dialer { address, .. } = endpoint {
                    self.redials.add_address(peer_id, address);
                }
                Metrics::set(
                    &self.metrics.peers_connected,
                    self.swarm.connected_peers().count() as u64,
                );
                if num_established.get() == 1 && self.bootstrap.iter().any(|(p, _)| p == &peer_id) {
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
                peer_id,
                num_established: 0,
                ..
            } => {
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
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                for address in info.listen_addrs.iter().take(MAX_IDENTIFY_ADDRESSES) {
                    self.redials.add_address(peer_id, address.clone());
                }
                on_identify(&mut self.swarm, peer_id, info)
            }
            BehaviourEvent::Ping(event) => on_ping(&mut self.swarm, event, &self.metrics),
            BehaviourEvent::Gossipsub(event) => self.on_gossip(event),
            BehaviourEvent::Sync(event) => self.on_sync(event),
            BehaviourEvent::Profile(event) => self.on_profile(event),
            BehaviourEvent::Kad(event) => self.on_kad(event),
            BehaviourEvent::Strangers(event) => self.on_stranger(event),
            BehaviourEvent::RendezvousClient(rendezvous::client::Event::Discovered {
                registrations,
                ..
            }) => {
                let me = *self.swarm.local_peer_id();
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
                self.feed(Input::Gossip {
                    from: net::engine_peer(&propagation_source),
                    message_id: message_id.0,
                    bytes: message.data,
                });
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
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request_id,
                    request,
                    channel,
                } => {
                    Metrics::inc(&self.metrics.sync_requests_total);
                    self.stranger_requested(&peer);
                    if self.inbound.len() >= MAX_INBOUND_REQUESTS {
                        Metrics::inc(&self.metrics.sync_requests_dropped_total);
                        return;
                    }
                    let id = self.next_inbound;
                    self.next_inbound += 1;
                    self.inbound.insert(id, (request_id, channel));
                    self.feed(Input::Request {
                        from: net::engine_peer(&peer),
                        request_id: id,
                        bytes: request,
                    });
                    // The engine answers at once; a request it ignored must not wait forever.
                    self.inbound.remove(&id);
                    self.trust_if_member(&peer);
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
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
                    let hosted: HashSet<DnaHash> = self.topics.values().copied().collect();
                    let answer = net::profile::answer(
                        self.engine.store(),
                        |pod| hosted.contains(pod),
                        &request,
                    );
                    if let Some(profile) = self.swarm.behaviour_mut().profile.as_mut() {
                        let _ = profile.send_response(channel, answer.to_bytes());
                    }
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    let answer = ProfileResponse::from_bytes(&response).ok();
                    let step = self.lookups.on_profile(&request_id, answer);
                    self.lookup_step(step);
                }
            },
            request_response::Event::OutboundFailure { request_id, .. } => {
                let step = self.lookups.on_profile(&request_id, None);
                self.lookup_step(step);
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
                        let step = self.lookups.on_record_query_done(&id);
                        self.lookup_step(step);
                    }
                }
                QueryResult::GetRecord(_) => {
                    let step = self.lookups.on_record_query_done(&id);
                    self.lookup_step(step);
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
                        let step = self.lookups.on_providers_done(&id);
                        self.lookup_step(step);
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
                && self.topics.contains_key(&net::topic(&pod).hash())
            {
                let _ = self.swarm.dial(*peer);
            }
        }
        self.lookups
            .on_providers(query, pod, providers.iter().copied());
    }

    /// Carries out the next step of a lookup.
    fn lookup_step(&mut self, mut step: Step) {
        loop {
            step = match step {
                Step::Wait => return,
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
                    self.lookups.providers_started(lookup, queries)
                }
                Step::AskProfile {
                    lookup,
                    peer,
                    request,
                    ..
                } => {
                    if peer == *self.swarm.local_peer_id() {
                        let answer = net::profile::answer(
                            self.engine.store(),
                            |_| true,
                            &request.to_bytes(),
                        );
                        self.lookups.answered_locally(lookup, Some(answer))
                    } else if let Some(profile) = self.swarm.behaviour_mut().profile.as_mut() {
                        let id = profile.send_request(&peer, request.to_bytes());
                        self.lookups.asked(lookup, id);
                        Step::Wait
                    } else {
                        self.lookups.answered_locally(lookup, None)
                    }
                }
            };
        }
    }
}
