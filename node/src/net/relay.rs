//! Circuit relay v2 on bootstrap peers, and how nodes reach each other through it.
//!
//! A daemon that finds itself behind NAT (AutoNAT, or the address translation identify shows;
//! see [`crate::daemon::reach`]) reserves a slot at its bootstrap peers; others then dial it
//! at `<relay address>/p2p-circuit/p2p/<its id>`. The relay forwards the bytes of a
//! noise-encrypted stream: it sees which peers talk, when, and how much, never what they say.
//! Hole punching (DCUtR) then tries to replace the relayed connection with a direct one.
//!
//! A relay's limits bound what one operator gives away: reservations held, circuits open,
//! and each circuit's lifetime and bytes. A circuit that reaches a limit is closed, and the
//! daemons at its ends dial again through a fresh one; a pod's replication goes on.

use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{relay, Multiaddr, PeerId};

/// The relay limits of a bootstrap peer (each a setting in `myco.toml`, see
/// `docs/operations.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayLimits {
    /// Serve as a relay at all.
    pub enabled: bool,
    /// Reservations held at once, in all.
    pub max_reservations: usize,
    /// Reservations held at once by one peer.
    pub max_reservations_per_peer: usize,
    /// How long a reservation lasts before the client must renew it.
    pub reservation_duration: Duration,
    /// Circuits open at once, in all.
    pub max_circuits: usize,
    /// Circuits open at once with one peer at either end.
    pub max_circuits_per_peer: usize,
    /// How long one circuit may stay open.
    pub max_circuit_duration: Duration,
    /// Bytes one circuit may carry, each way.
    pub max_circuit_bytes: u64,
}

/// Default reservations held by a relay: one per home node of a few pods.
pub const RELAY_MAX_RESERVATIONS: usize = 128;
/// Default reservations held by one peer: one per relay address it listens on.
pub const RELAY_MAX_RESERVATIONS_PER_PEER: usize = 4;
/// Default reservation lifetime.
pub const RELAY_RESERVATION: Duration = Duration::from_secs(3600);
/// Default circuits open at once.
pub const RELAY_MAX_CIRCUITS: usize = 64;
/// Default circuits open at once with one peer.
pub const RELAY_MAX_CIRCUITS_PER_PEER: usize = 8;
/// Default circuit lifetime: long enough for a pod to catch up through it when hole punching
/// fails, short enough that no pair of peers holds a relay's slot for good.
pub const RELAY_MAX_CIRCUIT_DURATION: Duration = Duration::from_secs(30 * 60);
/// Default bytes per circuit, each way: a pod's catch-up of a few thousand records.
pub const RELAY_MAX_CIRCUIT_BYTES: u64 = 64 * 1024 * 1024;

impl Default for RelayLimits {
    fn default() -> Self {
        RelayLimits {
            enabled: true,
            max_reservations: RELAY_MAX_RESERVATIONS,
            max_reservations_per_peer: RELAY_MAX_RESERVATIONS_PER_PEER,
            reservation_duration: RELAY_RESERVATION,
            max_circuits: RELAY_MAX_CIRCUITS,
            max_circuits_per_peer: RELAY_MAX_CIRCUITS_PER_PEER,
            max_circuit_duration: RELAY_MAX_CIRCUIT_DURATION,
            max_circuit_bytes: RELAY_MAX_CIRCUIT_BYTES,
        }
    }
}

impl RelayLimits {
    /// The relay server's configuration; libp2p's rate limiters on reservations and circuits
    /// per peer and per IP address stay as they are.
    pub fn config(&self) -> relay::Config {
        relay::Config {
            max_reservations: self.max_reservations,
            max_reservations_per_peer: self.max_reservations_per_peer,
            reservation_duration: self.reservation_duration,
            max_circuits: self.max_circuits,
            max_circuits_per_peer: self.max_circuits_per_peer,
            max_circuit_duration: self.max_circuit_duration,
            max_circuit_bytes: self.max_circuit_bytes,
            ..relay::Config::default()
        }
    }
}

/// Whether a connection's address runs through a relay.
pub fn is_relayed(address: &Multiaddr) -> bool {
    address.iter().any(|p| matches!(p, Protocol::P2pCircuit))
}

/// The address to listen on to reserve a slot at `relay` (an address ending in
/// `/p2p/<relay id>`): the relay's address with `/p2p-circuit`.
pub fn circuit_listen_address(relay: &Multiaddr) -> Multiaddr {
    relay.clone().with(Protocol::P2pCircuit)
}

/// The relay a relayed address runs through: the peer id just before `/p2p-circuit`.
pub fn relay_of(address: &Multiaddr) -> Option<PeerId> {
    let mut last = None;
    for protocol in address.iter() {
        match protocol {
            Protocol::P2p(peer) => last = Some(peer),
            Protocol::P2pCircuit => return last,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_addresses_name_their_relay() {
        let relay = PeerId::random();
        let direct: Multiaddr = format!("/ip4/192.0.2.7/tcp/4710/p2p/{relay}")
            .parse()
            .expect("address");
        assert!(!is_relayed(&direct));
        assert_eq!(relay_of(&direct), None);
        let circuit = circuit_listen_address(&direct);
        assert!(is_relayed(&circuit));
        assert_eq!(relay_of(&circuit), Some(relay));
        let dialled = circuit.with(Protocol::P2p(PeerId::random()));
        assert_eq!(relay_of(&dialled), Some(relay));
    }

    #[test]
    fn limits_reach_the_relay_configuration() {
        let limits = RelayLimits {
            max_circuit_bytes: 7,
            max_circuits: 3,
            ..RelayLimits::default()
        };
        let config = limits.config();
        assert_eq!(config.max_circuit_bytes, 7);
        assert_eq!(config.max_circuits, 3);
        assert_eq!(config.max_circuit_duration, RELAY_MAX_CIRCUIT_DURATION);
    }
}
