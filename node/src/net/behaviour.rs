//! The swarm's behaviour: every protocol a Myco node speaks, combined by libp2p's derive.
// The derive generates `BehaviourEvent` with one undocumented variant per field; each variant
// is the event of the field of the same name, documented below.
#![allow(missing_docs)]

use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    allow_block_list, autonat, connection_limits, dcutr, gossipsub, identify, kad, mdns, ping,
    relay, rendezvous, request_response,
};

use super::{strangers, BytesCodec, RegistryStore};

/// Every protocol a Myco node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Bounds on connections, total and per peer.
    pub limits: connection_limits::Behaviour,
    /// Peers refused every connection: those banned for flooding.
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Bounds on inbound connections from strangers (daemons only): see [`strangers`].
    pub strangers: Toggle<strangers::Behaviour>,
    /// Exchanges listen addresses.
    pub identify: identify::Behaviour,
    /// Keeps connections alive and measures round trips.
    pub ping: ping::Behaviour,
    /// The registry DHT.
    pub kad: kad::Behaviour<RegistryStore>,
    /// Pod gossip (daemons only).
    pub gossipsub: Toggle<gossipsub::Behaviour>,
    /// Engine sync (daemons only).
    pub sync: Toggle<request_response::Behaviour<BytesCodec>>,
    /// Profile lookup (daemons only).
    pub profile: Toggle<request_response::Behaviour<BytesCodec>>,
    /// Rendezvous point (bootstrap peers only).
    pub rendezvous_server: Toggle<rendezvous::server::Behaviour>,
    /// Rendezvous registration and discovery (daemons only).
    pub rendezvous_client: Toggle<rendezvous::client::Behaviour>,
    /// Circuit relay v2 server: carries noise streams between nodes that cannot dial each
    /// other (bootstrap peers only, unless `relay = false`).
    pub relay_server: Toggle<relay::Behaviour>,
    /// Circuit relay v2 client: reserves a slot at a relay when this node is not publicly
    /// reachable, and dials peers through relays (daemons only).
    pub relay_client: Toggle<relay::client::Behaviour>,
    /// Upgrades relayed connections to direct ones by hole punching (daemons only).
    pub dcutr: Toggle<dcutr::Behaviour>,
    /// AutoNAT v2 client: asks servers to dial this node's observed addresses back, to learn
    /// whether it is publicly reachable (daemons only).
    pub autonat_client: Toggle<autonat::v2::client::Behaviour>,
    /// AutoNAT v2 server: dials back the addresses nodes ask about (bootstrap peers only).
    pub autonat_server: Toggle<autonat::v2::server::Behaviour>,
    /// Local network discovery by multicast DNS (daemons only, unless `mdns = false`).
    pub mdns: Toggle<mdns::tokio::Behaviour>,
}
