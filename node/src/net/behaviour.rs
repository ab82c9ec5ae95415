//! The swarm's behaviour: every protocol a Myco node speaks, combined by libp2p's derive.
// The derive generates `BehaviourEvent` with one undocumented variant per field; each variant
// is the event of the field of the same name, documented below.
#![allow(missing_docs)]

use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, kad, ping, rendezvous,
    request_response,
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
}
