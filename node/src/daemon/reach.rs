//! How this daemon is reached: whether it is publicly reachable (AutoNAT), which relays it
//! holds a slot at when it is not, and over which path each connection runs.
//!
//! - **Reachability.** AutoNAT v2 asks a bootstrap peer to dial each address other peers
//!   observed this node at. One dial-back that arrives makes the node *public*; tests that
//!   all fail make it *private*; before any answer it is *unknown*.
//! - **Relays.** A private node reserves a slot at each bootstrap peer it is connected to
//!   (circuit relay v2): it listens on `<bootstrap>/p2p-circuit`, and the relayed address is
//!   what its rendezvous registrations and provider records then carry. A refused or lost
//!   reservation is asked again after [`RESERVATION_RETRY`].
//! - **Reserving early.** AutoNAT's verdict takes seconds (its first probe, then a dial-back
//!   that a home router drops until it times out). A node that a bootstrap peer observed at
//!   an IP address it does not listen on is behind address translation, and most such nodes
//!   cannot be dialled: it reserves as soon as it learns this, before any verdict, so pod
//!   peers can reach it at once. If AutoNAT then finds it public (a forwarded port, a 1:1
//!   NAT), its reservations are released.
//! - **Paths.** Every connection is direct or relayed. Once a direct connection to a peer
//!   has been open for [`SUPERSEDE_GRACE`] (hole punching, or a dial that went through), its
//!   relayed ones are closed, so sync and gossip run over the direct one and the relay's slot
//!   is freed. The grace lets the other side see the direct connection too before the relayed
//!   one goes: closed at once, the peer could be left with no connection for an instant, and
//!   gossipsub forgets the topics of a peer it has no connection to, which the peer does not
//!   send again over a connection it already had.
//!
//! The book keeps no socket: the driver tells it what the swarm reported and carries out what
//! it answers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use libp2p::core::transport::ListenerId;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

use crate::net::relay::{circuit_listen_address, is_relayed};
use crate::net::strangers::ip_of;

/// How long after a refused or lost reservation it is asked again.
pub const RESERVATION_RETRY: Duration = Duration::from_secs(10);
/// How long a direct connection to a peer is open before its relayed ones are closed.
pub const SUPERSEDE_GRACE: Duration = Duration::from_secs(3);

/// Whether this node can be dialled from the internet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reachability {
    /// No AutoNAT answer yet (no bootstrap peer, or none answered).
    #[default]
    Unknown,
    /// A bootstrap peer dialled one of this node's observed addresses back.
    Public,
    /// Every dial-back failed: the node is behind NAT or a firewall, and is reached through
    /// relays until hole punching connects its peers directly.
    Private,
}

impl Reachability {
    /// The metric's value: 0 unknown, 1 public, 2 private.
    pub fn gauge(self) -> u64 {
        match self {
            Reachability::Unknown => 0,
            Reachability::Public => 1,
            Reachability::Private => 2,
        }
    }

    /// Its name, as `myco status` shows it.
    pub fn name(self) -> &'static str {
        match self {
            Reachability::Unknown => "unknown",
            Reachability::Public => "public",
            Reachability::Private => "private",
        }
    }
}

/// One open connection, as `myco status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    /// The peer.
    pub peer: String,
    /// The remote address: a relayed one holds `/p2p-circuit`.
    pub address: String,
    /// Whether it runs through a relay.
    pub relayed: bool,
}

/// What `myco status` shows of reachability.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReachView {
    /// Public, private or unknown.
    pub reachability: Reachability,
    /// Addresses AutoNAT confirmed others can dial.
    #[serde(default)]
    pub confirmed: Vec<String>,
    /// Relays holding a slot for this node.
    #[serde(default)]
    pub relays: Vec<String>,
    /// Open connections and their paths.
    #[serde(default)]
    pub connections: Vec<ConnectionView>,
}

#[derive(Clone, Debug)]
struct Path {
    peer: PeerId,
    address: Multiaddr,
    relayed: bool,
    opened: Instant,
    /// Superseded: asked to close.
    closing: bool,
}

#[derive(Clone, Debug)]
enum Slot {
    /// Listening through the relay; the reservation is asked for or held.
    Listening { listener: ListenerId, held: bool },
    /// Refused or lost; asked again at the instant.
    Retry(Instant),
}

/// The book of reachability, reservations and connection paths.
#[derive(Debug, Default)]
pub struct Reach {
    reachability: Reachability,
    /// A bootstrap peer saw this node at an IP address it does not listen on.
    translated: bool,
    confirmed: BTreeSet<Multiaddr>,
    failed: BTreeSet<Multiaddr>,
    paths: HashMap<ConnectionId, Path>,
    slots: BTreeMap<PeerId, Slot>,
}

impl Reach {
    /// Where reachability stands.
    pub fn reachability(&self) -> Reachability {
        self.reachability
    }

    /// An AutoNAT answer about `address`; true if reachability changed.
    pub fn probed(&mut self, address: Multiaddr, reachable: bool) -> bool {
        if reachable {
            self.failed.remove(&address);
            self.confirmed.insert(address);
        } else {
            self.confirmed.remove(&address);
            self.failed.insert(address);
        }
        let now = if !self.confirmed.is_empty() {
            Reachability::Public
        } else if !self.failed.is_empty() {
            Reachability::Private
        } else {
            Reachability::Unknown
        };
        let changed = now != self.reachability;
        self.reachability = now;
        changed
    }

    /// A bootstrap peer observed this node at `observed` (identify), over a direct
    /// connection; `own` are the addresses it listens on (its relayed ones, which carry a
    /// relay's IP address, do not count). True if this is the first sign of address
    /// translation.
    pub fn observed<'a>(
        &mut self,
        observed: &Multiaddr,
        own: impl IntoIterator<Item = &'a Multiaddr>,
    ) -> bool {
        if self.translated || is_relayed(observed) {
            return false;
        }
        let Some(seen) = ip_of(observed) else {
            return false;
        };
        if own
            .into_iter()
            .any(|a| !is_relayed(a) && ip_of(a) == Some(seen))
        {
            return false;
        }
        self.translated = true;
        true
    }

    /// Whether this node should hold relay slots: it is private, or it is behind address
    /// translation and AutoNAT has not answered yet.
    pub fn wants_relays(&self) -> bool {
        match self.reachability {
            Reachability::Private => true,
            Reachability::Unknown => self.translated,
            Reachability::Public => false,
        }
    }

    /// The relays (among `connected` bootstrap peers) to reserve a slot at now: all of them
    /// while this node [wants relays](Reach::wants_relays), except those holding or asked for
    /// one, or waiting out a retry. The caller listens on each address returned and reports
    /// the listener.
    pub fn relays_to_reserve(
        &self,
        connected: &[(PeerId, Multiaddr)],
        now: Instant,
    ) -> Vec<(PeerId, Multiaddr)> {
        if !self.wants_relays() {
            return Vec::new();
        }
        connected
            .iter()
            .filter(|(relay, _)| match self.slots.get(relay) {
                None => true,
                Some(Slot::Retry(at)) => *at <= now,
                Some(Slot::Listening { .. }) => false,
            })
            .map(|(relay, address)| (*relay, circuit_listen_address(address)))
            .collect()
    }

    /// The node listens through `relay` on `listener`.
    pub fn reserving(&mut self, relay: PeerId, listener: ListenerId) {
        self.slots.insert(
            relay,
            Slot::Listening {
                listener,
                held: false,
            },
        );
    }

    /// `relay` accepted (or renewed) the reservation; true the first time.
    pub fn reserved(&mut self, relay: PeerId) -> bool {
        match self.slots.get_mut(&relay) {
            Some(Slot::Listening { held, .. }) => !std::mem::replace(held, true),
            _ => false,
        }
    }

    /// Listening on the relay failed at once, or the listener closed (refused or lost
    /// reservation): ask again later.
    pub fn listener_closed(&mut self, listener: ListenerId, now: Instant) {
        for slot in self.slots.values_mut() {
            if matches!(slot, Slot::Listening { listener: l, .. } if *l == listener) {
                *slot = Slot::Retry(now + RESERVATION_RETRY);
            }
        }
    }

    /// Listening through `relay` could not even start.
    pub fn reservation_failed(&mut self, relay: PeerId, now: Instant) {
        self.slots
            .insert(relay, Slot::Retry(now + RESERVATION_RETRY));
    }

    /// The relay listeners to close now that this node is public (each returned once): peers
    /// dial it directly, and the relays' slots go to nodes that need them.
    pub fn release(&mut self) -> Vec<ListenerId> {
        if self.wants_relays() {
            return Vec::new();
        }
        std::mem::take(&mut self.slots)
            .into_values()
            .filter_map(|slot| match slot {
                Slot::Listening { listener, .. } => Some(listener),
                Slot::Retry(_) => None,
            })
            .collect()
    }

    /// Reservations held.
    pub fn held(&self) -> usize {
        self.slots
            .values()
            .filter(|s| matches!(s, Slot::Listening { held: true, .. }))
            .count()
    }

    /// A connection opened at `now` to `peer`, at `address` (for a relayed one, the circuit's
    /// address), relayed or not.
    pub fn connected(
        &mut self,
        connection: ConnectionId,
        peer: PeerId,
        address: Multiaddr,
        relayed: bool,
        now: Instant,
    ) {
        self.paths.insert(
            connection,
            Path {
                peer,
                address,
                relayed,
                opened: now,
                closing: false,
            },
        );
    }

    /// The relayed connections to close at `now`: those to a peer with a direct connection
    /// open for at least [`SUPERSEDE_GRACE`]. Each is answered once.
    pub fn superseded(&mut self, now: Instant) -> Vec<(ConnectionId, PeerId)> {
        let settled: BTreeSet<PeerId> = self
            .paths
            .values()
            .filter(|p| !p.relayed && now.saturating_duration_since(p.opened) >= SUPERSEDE_GRACE)
            .map(|p| p.peer)
            .collect();
        let mut close = Vec::new();
        for (id, path) in &mut self.paths {
            if path.relayed && !path.closing && settled.contains(&path.peer) {
                path.closing = true;
                close.push((*id, path.peer));
            }
        }
        close.sort_by_key(|(id, _)| *id);
        close
    }

    /// A connection closed.
    pub fn closed(&mut self, connection: ConnectionId) {
        self.paths.remove(&connection);
    }

    /// Whether `connection` runs through a relay (`None` if unknown).
    pub fn relayed(&self, connection: ConnectionId) -> Option<bool> {
        self.paths.get(&connection).map(|p| p.relayed)
    }

    /// Open connections (direct, relayed).
    pub fn counts(&self) -> (u64, u64) {
        let relayed = self.paths.values().filter(|p| p.relayed).count() as u64;
        (self.paths.len() as u64 - relayed, relayed)
    }

    /// What `myco status` shows.
    pub fn view(&self, relayed_addresses: impl Iterator<Item = String>) -> ReachView {
        let mut connections: Vec<ConnectionView> = self
            .paths
            .values()
            .map(|p| ConnectionView {
                peer: p.peer.to_string(),
                address: p.address.to_string(),
                relayed: p.relayed,
            })
            .collect();
        connections.sort_by(|a, b| (&a.peer, &a.address).cmp(&(&b.peer, &b.address)));
        ReachView {
            reachability: self.reachability,
            confirmed: self.confirmed.iter().map(|a| a.to_string()).collect(),
            relays: relayed_addresses.collect(),
            connections,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Multiaddr {
        text.parse().expect("address")
    }

    #[test]
    fn one_dial_back_makes_a_node_public_and_failures_alone_make_it_private() {
        let mut reach = Reach::default();
        assert_eq!(reach.reachability(), Reachability::Unknown);
        assert!(reach.probed(address("/ip4/192.0.2.1/tcp/1"), false));
        assert_eq!(reach.reachability(), Reachability::Private);
        assert!(!reach.probed(address("/ip4/192.0.2.1/udp/1/quic-v1"), false));
        assert!(reach.probed(address("/ip4/192.0.2.1/tcp/2"), true));
        assert_eq!(reach.reachability(), Reachability::Public);
    }

    #[test]
    fn a_private_node_reserves_at_each_connected_relay_once_and_retries_after_a_loss() {
        let mut reach = Reach::default();
        let relay = PeerId::random();
        let at = address(&format!("/ip4/192.0.2.7/tcp/4710/p2p/{relay}"));
        let now = Instant::now();
        let connected = [(relay, at.clone())];
        assert!(
            reach.relays_to_reserve(&connected, now).is_empty(),
            "not private yet"
        );
        reach.probed(address("/ip4/192.0.2.1/tcp/1"), false);
        let wanted = reach.relays_to_reserve(&connected, now);
        assert_eq!(wanted, vec![(relay, circuit_listen_address(&at))]);
        let listener = ListenerId::next();
        reach.reserving(relay, listener);
        assert!(
            reach.relays_to_reserve(&connected, now).is_empty(),
            "asked once"
        );
        assert!(reach.reserved(relay));
        assert!(!reach.reserved(relay), "a renewal is no news");
        assert_eq!(reach.held(), 1);
        reach.listener_closed(listener, now);
        assert_eq!(reach.held(), 0);
        assert!(reach.relays_to_reserve(&connected, now).is_empty(), "waits");
        assert_eq!(
            reach
                .relays_to_reserve(&connected, now + RESERVATION_RETRY)
                .len(),
            1
        );
    }

    #[test]
    fn a_translated_node_reserves_before_the_verdict_and_releases_once_public() {
        let mut reach = Reach::default();
        let relay = PeerId::random();
        let at = address(&format!("/ip4/192.0.2.7/tcp/4710/p2p/{relay}"));
        let connected = [(relay, at)];
        let now = Instant::now();
        let own = [
            address("/ip4/127.0.0.1/tcp/4711"),
            address("/ip4/10.0.0.5/tcp/4711"),
        ];
        assert!(!reach.observed(&address("/ip4/10.0.0.5/tcp/4711"), &own));
        assert!(
            !reach.observed(
                &address(&format!(
                    "/ip4/198.51.100.9/tcp/4710/p2p/{relay}/p2p-circuit"
                )),
                &own
            ),
            "a circuit's address says nothing of this node's"
        );
        assert!(reach.relays_to_reserve(&connected, now).is_empty());
        assert!(reach.observed(&address("/ip4/203.0.113.4/tcp/4711"), &own));
        assert!(!reach.observed(&address("/ip4/203.0.113.4/tcp/4712"), &own));
        assert_eq!(reach.reachability(), Reachability::Unknown);
        assert_eq!(reach.relays_to_reserve(&connected, now).len(), 1);
        let listener = ListenerId::next();
        reach.reserving(relay, listener);
        assert!(reach.release().is_empty(), "kept while unknown");
        reach.probed(address("/ip4/203.0.113.4/tcp/4711"), true);
        assert_eq!(reach.release(), vec![listener]);
        assert!(reach.release().is_empty(), "released once");
        assert!(reach.relays_to_reserve(&connected, now).is_empty());
    }

    #[test]
    fn a_node_that_sees_its_own_address_waits_for_the_verdict() {
        let mut reach = Reach::default();
        let relay = PeerId::random();
        let own = [
            address("/ip4/192.0.2.1/tcp/4711"),
            address(&format!(
                "/ip4/198.51.100.9/tcp/4710/p2p/{relay}/p2p-circuit"
            )),
        ];
        assert!(
            Reach::default().observed(&address("/ip4/198.51.100.9/tcp/4711"), &own),
            "a relay's IP address in a circuit address is not this node's"
        );
        assert!(!reach.observed(&address("/ip4/192.0.2.1/tcp/50000"), &own));
        assert!(!reach.wants_relays());
        reach.probed(address("/ip4/192.0.2.1/tcp/4711"), false);
        assert!(reach.wants_relays());
    }

    #[test]
    fn a_direct_connection_supersedes_the_relayed_ones_to_the_same_peer() {
        let mut reach = Reach::default();
        let peer = PeerId::random();
        let other = PeerId::random();
        let relay = PeerId::random();
        let relayed = address(&format!(
            "/ip4/192.0.2.7/tcp/4710/p2p/{relay}/p2p-circuit/p2p/{peer}"
        ));
        let (first, second, third) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
            ConnectionId::new_unchecked(3),
        );
        let start = Instant::now();
        reach.connected(first, peer, relayed.clone(), true, start);
        reach.connected(third, other, address("/ip4/192.0.2.9/tcp/5"), false, start);
        assert_eq!(reach.relayed(first), Some(true));
        assert!(reach.superseded(start + SUPERSEDE_GRACE).is_empty());
        let punched = start + Duration::from_secs(1);
        reach.connected(
            second,
            peer,
            address("/ip4/198.51.100.2/tcp/9"),
            false,
            punched,
        );
        // Not at once: the other side needs the grace to see the direct connection too.
        assert!(reach.superseded(punched).is_empty());
        assert_eq!(
            reach.superseded(punched + SUPERSEDE_GRACE),
            vec![(first, peer)]
        );
        assert!(reach.superseded(punched + SUPERSEDE_GRACE).is_empty());
        reach.closed(first);
        assert_eq!(reach.counts(), (2, 0));
        let later = ConnectionId::new_unchecked(4);
        let again = punched + SUPERSEDE_GRACE * 2;
        reach.connected(later, peer, relayed, true, again);
        assert_eq!(reach.superseded(again), vec![(later, peer)]);
        let view = reach.view(std::iter::empty());
        assert_eq!(view.connections.len(), 3);
    }
}
