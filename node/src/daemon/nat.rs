//! The swarm loop's side of NAT traversal and LAN discovery: AutoNAT answers, relay
//! reservations, hole punches and mDNS, carried out with the book in [`super::reach`].

use std::collections::BTreeMap;
use std::time::Instant;

use libp2p::core::ConnectedPoint;
use libp2p::swarm::ConnectionId;
use libp2p::{autonat, dcutr, mdns, relay, Multiaddr, PeerId};

use super::driver::Driver;
use super::metrics::Metrics;
use super::reach::ReachView;
use crate::net::relay::is_relayed;

/// Peers taken from one mDNS answer: a LAN holds a handful of Myco nodes, not hundreds.
const MAX_MDNS_PEERS: usize = 32;

impl Driver {
    /// An AutoNAT v2 test of one of this node's addresses.
    pub(super) fn on_autonat(&mut self, event: autonat::v2::client::Event) {
        let reachable = event.result.is_ok();
        match &event.result {
            Ok(()) => {
                tracing::info!(address = %event.tested_addr, server = %event.server, "AutoNAT: a dial-back reached this address")
            }
            Err(error) => {
                tracing::info!(address = %event.tested_addr, server = %event.server, %error, "AutoNAT: this address is not reachable from outside")
            }
        }
        if self.reach.probed(event.tested_addr, reachable) {
            let now = self.reach.reachability();
            tracing::info!(reachability = now.name(), "reachability changed");
            Metrics::set(&self.metrics.reachability, now.gauge());
            for listener in self.reach.release() {
                tracing::info!("publicly reachable: releasing a relay slot");
                // `ListenerClosed` follows, and updates `myco_relay_reservations`.
                self.swarm.remove_listener(listener);
            }
            self.reserve_relays();
        }
    }

    /// Identify told what address `peer` sees this node at, on `connection`. A bootstrap
    /// peer that sees it at an IP address it does not listen on shows address translation:
    /// the node reserves relay slots now rather than after AutoNAT's verdict.
    pub(super) fn observed_by(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        observed: &Multiaddr,
    ) {
        if !self.is_bootstrap(&peer) || self.reach.relayed(connection) != Some(false) {
            return;
        }
        if self.reach.observed(observed, &self.listen) {
            tracing::info!(%observed, "behind address translation: reserving relay slots before AutoNAT's verdict");
            self.reserve_relays();
        }
    }

    /// Reserves a slot at each connected bootstrap peer while this node is private.
    pub(super) fn reserve_relays(&mut self) {
        let now = Instant::now();
        let connected: Vec<(PeerId, Multiaddr)> = self
            .bootstrap
            .iter()
            .filter(|(peer, _)| self.swarm.is_connected(peer))
            .cloned()
            .collect();
        for (relay, address) in self.reach.relays_to_reserve(&connected, now) {
            match self.swarm.listen_on(address.clone()) {
                Ok(listener) => {
                    tracing::info!(%relay, %address, "behind NAT: reserving a relay slot");
                    self.reach.reserving(relay, listener);
                }
                Err(error) => {
                    tracing::warn!(%relay, %address, %error, "cannot listen through the relay");
                    self.reach.reservation_failed(relay, now);
                }
            }
        }
    }

    /// A relay's answer to a reservation, or a circuit through a relay.
    pub(super) fn on_relay(&mut self, event: relay::client::Event) {
        match event {
            relay::client::Event::ReservationReqAccepted { relay_peer_id, .. } => {
                if self.reach.reserved(relay_peer_id) {
                    tracing::info!(relay = %relay_peer_id, "relay slot reserved: peers can reach this node through it");
                }
                Metrics::set(&self.metrics.relay_reservations, self.reach.held() as u64);
            }
            relay::client::Event::OutboundCircuitEstablished { relay_peer_id, .. } => {
                tracing::debug!(relay = %relay_peer_id, "circuit opened through a relay")
            }
            relay::client::Event::InboundCircuitEstablished { src_peer_id, .. } => {
                tracing::debug!(peer = %src_peer_id, "a peer reached this node through a relay")
            }
        }
    }

    /// A hole punch's outcome.
    pub(super) fn on_hole_punch(&mut self, event: dcutr::Event) {
        match event.result {
            Ok(_) => {
                Metrics::inc(&self.metrics.hole_punches_succeeded_total);
                tracing::info!(peer = %event.remote_peer_id, "hole punch succeeded: the connection is direct");
            }
            Err(error) => {
                Metrics::inc(&self.metrics.hole_punches_failed_total);
                tracing::info!(peer = %event.remote_peer_id, %error, "hole punch failed: the connection stays relayed");
            }
        }
    }

    /// Peers on the LAN: dial those not connected yet (banned peers are refused by the
    /// swarm). Whether they share a pod is learnt as with any peer, from their gossip
    /// subscriptions.
    pub(super) fn on_mdns(&mut self, event: mdns::Event) {
        let mdns::Event::Discovered(found) = event else {
            return;
        };
        let me = *self.swarm.local_peer_id();
        let mut peers: BTreeMap<PeerId, Vec<Multiaddr>> = BTreeMap::new();
        for (peer, address) in found {
            if peer != me {
                peers.entry(peer).or_default().push(address);
            }
        }
        for (peer, addresses) in peers.into_iter().take(MAX_MDNS_PEERS) {
            if self.swarm.is_connected(&peer) {
                continue;
            }
            tracing::info!(%peer, "found a peer on the LAN by mDNS");
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                .addresses(addresses)
                .condition(libp2p::swarm::dial_opts::PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(error) = self.swarm.dial(opts) {
                tracing::debug!(%peer, %error, "cannot dial a LAN peer");
            }
        }
    }

    /// A connection opened: direct ones supersede relayed ones to the same peer (at the tick
    /// after [`super::reach::SUPERSEDE_GRACE`], see [`Driver::close_superseded`]).
    pub(super) fn path_opened(
        &mut self,
        connection: ConnectionId,
        peer: PeerId,
        endpoint: &ConnectedPoint,
    ) {
        // A circuit a peer opened to this node shows the relay in the local address; its
        // remote address is only `/p2p/<peer>`.
        let address = match endpoint {
            ConnectedPoint::Listener { local_addr, .. } if endpoint.is_relayed() => {
                local_addr.clone()
            }
            _ => endpoint.get_remote_address().clone(),
        };
        self.reach.connected(
            connection,
            peer,
            address,
            endpoint.is_relayed(),
            Instant::now(),
        );
        self.count_paths();
    }

    /// Closes relayed connections a settled direct one supersedes.
    pub(super) fn close_superseded(&mut self) {
        for (superseded, peer) in self.reach.superseded(Instant::now()) {
            tracing::info!(%peer, "a direct connection replaces a relayed one");
            self.swarm.close_connection(superseded);
        }
    }

    /// A connection closed.
    pub(super) fn path_closed(&mut self, connection: ConnectionId) {
        self.reach.closed(connection);
        self.count_paths();
    }

    fn count_paths(&self) {
        let (direct, relayed) = self.reach.counts();
        Metrics::set(&self.metrics.connections_direct, direct);
        Metrics::set(&self.metrics.connections_relayed, relayed);
    }

    /// Counts the sync bytes received on `connection` by path.
    pub(super) fn count_sync_bytes(&self, connection: ConnectionId, bytes: usize) {
        let counter = match self.reach.relayed(connection) {
            Some(true) => &self.metrics.sync_bytes_relayed_total,
            Some(false) => &self.metrics.sync_bytes_direct_total,
            None => return,
        };
        counter.fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// What `myco status` shows of reachability.
    pub(super) fn reach_view(&self) -> ReachView {
        self.reach.view(
            self.listen
                .iter()
                .filter(|a| is_relayed(a))
                .map(|a| a.to_string()),
        )
    }
}
