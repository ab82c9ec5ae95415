//! # The network adapter: libp2p
//!
//! One [`Behaviour`] carries every Myco protocol over one libp2p swarm (TCP and QUIC, noise,
//! yamux):
//!
//! | protocol | libp2p behaviour | carries |
//! |---|---|---|
//! | `/myco/id/1.0.0` | identify | listen addresses, fed into Kademlia |
//! | `/ipfs/ping/1.0.0` | ping | liveness: a connection whose pings time out is closed |
//! | one topic per pod, named by its `DnaHash` text | gossipsub | the engine's [`GossipMessage`](crate::engine::GossipMessage)s; verdicts feed peer scoring |
//! | [`SYNC_PROTOCOL`] | request-response | the engine's sync requests and responses |
//! | [`PROFILE_PROTOCOL`] | request-response | cross-pod profile lookup ([`profile`]) |
//! | [`KAD_PROTOCOL`] | Kademlia | the registry: signed pointers ([`records`]) and pod providers |
//! | `/rendezvous/1.0.0` | rendezvous | pod rendezvous at bootstrap peers |
//! | `/libp2p/circuit/relay/0.2.0/{hop,stop}` | relay v2 | bootstrap peers relay for nodes behind NAT ([`relay`]) |
//! | `/libp2p/dcutr` | DCUtR | hole punching: a relayed connection upgraded to a direct one |
//! | `/libp2p/autonat/2/{dial-request,dial-back}` | AutoNAT v2 | bootstrap peers tell daemons whether they are publicly reachable |
//! | `_p2p._udp.local` | mDNS | daemons on one LAN find each other with no bootstrap peer |
//!
//! Connections are bounded in all ([`MAX_ESTABLISHED`]), per peer, and, on a daemon, for
//! strangers: inbound peers that are no proven pod member and no bootstrap peer
//! ([`strangers`]).
//!
//! This module builds the swarm; [`crate::daemon`] drives it and the engine. The node's
//! libp2p identity is its own key ([`identity`]), never the agent key, and the engine's
//! [`PeerId`](crate::engine::PeerId) is the libp2p peer id's bytes.

mod behaviour;
mod codec;
pub mod identity;
pub mod profile;
pub mod records;
pub mod relay;
pub mod strangers;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    autonat, connection_limits, dcutr, gossipsub, identify, kad, mdns, noise, ping, rendezvous,
    request_response, tcp, yamux, StreamProtocol, Swarm,
};
use myco_dna::DnaHash;

pub use behaviour::{Behaviour, BehaviourEvent};
pub use codec::BytesCodec;
pub use profile::{ProfileRequest, ProfileResponse, MAX_PROFILE_BYTES, PROFILE_PROTOCOL};
pub use records::RegistryStore;
pub use relay::RelayLimits;
pub use strangers::StrangerLimits;

use crate::engine::{MAX_GOSSIP_BYTES, MAX_SYNC_BYTES};

/// The sync protocol: the engine's [`SyncRequest`](crate::engine::SyncRequest) bytes.
pub const SYNC_PROTOCOL: &str = "/myco/sync/1";
/// The registry's Kademlia protocol: Myco's own DHT, not the IPFS one.
pub const KAD_PROTOCOL: &str = "/myco/kad/1.0.0";
/// The identify protocol version Myco nodes announce.
pub const IDENTIFY_PROTOCOL: &str = "/myco/id/1.0.0";
/// Connections to one peer: one each way, and a third while hole punching replaces a relayed
/// connection with a direct one; more is a misbehaving or looping dialer.
pub const MAX_CONNECTIONS_PER_PEER: u32 = 3;
/// How often mDNS asks the LAN for Myco nodes; answers arrive at once, so this only matters
/// when a query or an answer was lost.
pub const MDNS_QUERY_INTERVAL: Duration = Duration::from_secs(30);

/// Established connections in all: a pod mesh needs ~12, the DHT a few dozen; 256 leaves room
/// for a bootstrap peer serving many nodes at once. On a daemon, at most
/// [`strangers::MAX_STRANGERS`] of them are strangers, so members always find a slot.
pub const MAX_ESTABLISHED: u32 = 256;
/// Connections being set up at once, each way.
pub const MAX_PENDING: u32 = 64;
/// Concurrent request-response streams per connection: the engine keeps at most 4 requests
/// in flight to a peer, so 16 leaves room for the other direction and for profile lookups.
pub const MAX_STREAMS: usize = 16;
/// How long a request waits for its response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an unused connection is kept open.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often each connection is pinged. Ping is a few bytes, so even 100 peers cost nothing.
pub const PING_INTERVAL: Duration = Duration::from_secs(2);
/// How long a ping may go unanswered before the daemon treats the connection as dead and
/// closes it. A partition leaves TCP connections open but silent; closing them lets the
/// daemon redial as soon as the network heals, instead of waiting out TCP's backoff.
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a dial (connect and upgrade) may take before it is given up and can be retried.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Penalty weight of each invalid gossip message (squared, decaying): a few invalid messages
/// push a peer below gossipsub's graylist threshold.
const INVALID_MESSAGE_WEIGHT: f64 = -10.0;

/// What the node is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A daemon hosting an agent in pods: gossip, sync, profiles, Kademlia, rendezvous client.
    Daemon,
    /// A bootstrap peer: Kademlia server and rendezvous point, with no agent data.
    Bootstrap,
}

/// How a node's swarm is set up beyond its role.
#[derive(Clone, Copy, Debug, Default)]
pub struct NetOptions {
    /// Bounds on inbound strangers (daemons only; a bootstrap peer serves strangers).
    pub strangers: StrangerLimits,
    /// Relay limits (bootstrap peers only).
    pub relay: RelayLimits,
    /// Find peers on the LAN by mDNS (daemons only).
    pub mdns: bool,
}

/// Why the swarm could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The transport could not be set up.
    #[error("cannot set up the network transport: {0}")]
    Transport(String),
    /// A behaviour's configuration was refused.
    #[error("cannot configure {what}: {detail}")]
    Config {
        /// Which behaviour.
        what: &'static str,
        /// Why.
        detail: String,
    },
}

/// The gossipsub topic of a pod: its `DnaHash` text.
pub fn topic(pod: &DnaHash) -> gossipsub::IdentTopic {
    gossipsub::IdentTopic::new(pod.to_string())
}

/// The engine's name for a libp2p peer.
pub fn engine_peer(peer: &libp2p::PeerId) -> crate::engine::PeerId {
    crate::engine::PeerId(peer.to_bytes())
}

/// The libp2p peer the engine names, if the bytes are one.
pub fn libp2p_peer(peer: &crate::engine::PeerId) -> Option<libp2p::PeerId> {
    libp2p::PeerId::from_bytes(&peer.0).ok()
}

/// Score parameters for a pod topic: invalid messages are punished; quiet pods are not (no
/// mesh-delivery quota, since a small pod may publish nothing for hours).
pub fn topic_score_params() -> gossipsub::TopicScoreParams {
    gossipsub::TopicScoreParams {
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: INVALID_MESSAGE_WEIGHT,
        ..gossipsub::TopicScoreParams::default()
    }
}

fn gossipsub(key: &Keypair) -> Result<gossipsub::Behaviour, NetError> {
    let config = gossipsub::ConfigBuilder::default()
        .validate_messages()
        .validation_mode(gossipsub::ValidationMode::Strict)
        .message_id_fn(|message: &gossipsub::Message| {
            gossipsub::MessageId::from(myco_dna::blake2b_256(&message.data).to_vec())
        })
        // The engine's bound plus gossipsub's framing and signature.
        .max_transmit_size(MAX_GOSSIP_BYTES + 1024)
        .heartbeat_interval(Duration::from_millis(500))
        .build()
        .map_err(|e| NetError::Config {
            what: "gossipsub",
            detail: e.to_string(),
        })?;
    let mut behaviour =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), config)
            .map_err(|e| NetError::Config {
                what: "gossipsub",
                detail: e.to_string(),
            })?;
    let params = gossipsub::PeerScoreParams {
        // Every node of a loopback devnet shares one address; co-location is no signal there.
        ip_colocation_factor_whitelist: HashSet::from([
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]),
        ..gossipsub::PeerScoreParams::default()
    };
    behaviour
        .with_peer_score(params, gossipsub::PeerScoreThresholds::default())
        .map_err(|e| NetError::Config {
            what: "gossipsub peer scoring",
            detail: e.to_string(),
        })?;
    Ok(behaviour)
}

fn request_response(protocol: &'static str, max: usize) -> request_response::Behaviour<BytesCodec> {
    request_response::Behaviour::with_codec(
        BytesCodec::new(max),
        [(
            StreamProtocol::new(protocol),
            request_response::ProtocolSupport::Full,
        )],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(MAX_STREAMS),
    )
}

fn mdns(local: libp2p::PeerId) -> Result<mdns::tokio::Behaviour, NetError> {
    let config = mdns::Config {
        query_interval: MDNS_QUERY_INTERVAL,
        ..mdns::Config::default()
    };
    mdns::tokio::Behaviour::new(config, local).map_err(|e| NetError::Config {
        what: "mDNS (set `mdns = false` in myco.toml to run without LAN discovery)",
        detail: e.to_string(),
    })
}

fn behaviour(
    key: &Keypair,
    role: Role,
    store: RegistryStore,
    options: NetOptions,
    relay_client: libp2p::relay::client::Behaviour,
) -> Result<Behaviour, NetError> {
    let local = key.public().to_peer_id();
    let daemon = role == Role::Daemon;
    let strangers = options.strangers;
    let relay_server = !daemon && options.relay.enabled;
    let mut kad_config = kad::Config::new(StreamProtocol::new(KAD_PROTOCOL));
    kad_config
        .set_record_filtering(kad::StoreInserts::FilterBoth)
        .set_query_timeout(Duration::from_secs(20));
    let mut kad = kad::Behaviour::with_config(local, store, kad_config);
    kad.set_mode(Some(kad::Mode::Server));
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established(Some(MAX_ESTABLISHED))
        .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER))
        .with_max_pending_incoming(Some(MAX_PENDING))
        .with_max_pending_outgoing(Some(MAX_PENDING));
    Ok(Behaviour {
        limits: connection_limits::Behaviour::new(limits),
        blocked: Default::default(),
        strangers: Toggle::from(daemon.then(|| strangers::Behaviour::new(strangers))),
        identify: identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                .with_agent_version(format!("myco/{}", env!("CARGO_PKG_VERSION"))),
        ),
        ping: ping::Behaviour::new(
            ping::Config::new()
                .with_interval(PING_INTERVAL)
                .with_timeout(PING_TIMEOUT),
        ),
        kad,
        gossipsub: Toggle::from(if daemon { Some(gossipsub(key)?) } else { None }),
        sync: Toggle::from(daemon.then(|| request_response(SYNC_PROTOCOL, MAX_SYNC_BYTES))),
        profile: Toggle::from(
            daemon.then(|| request_response(PROFILE_PROTOCOL, MAX_PROFILE_BYTES)),
        ),
        rendezvous_server: Toggle::from(
            (!daemon)
                .then(|| rendezvous::server::Behaviour::new(rendezvous::server::Config::default())),
        ),
        rendezvous_client: Toggle::from(
            daemon.then(|| rendezvous::client::Behaviour::new(key.clone())),
        ),
        relay_server: Toggle::from(
            relay_server.then(|| libp2p::relay::Behaviour::new(local, options.relay.config())),
        ),
        relay_client: Toggle::from(daemon.then_some(relay_client)),
        dcutr: Toggle::from(daemon.then(|| dcutr::Behaviour::new(local))),
        // Probes every 5 s, one untested address each, from the OS's randomness.
        autonat_client: Toggle::from(daemon.then(autonat::v2::client::Behaviour::default)),
        autonat_server: Toggle::from((!daemon).then(autonat::v2::server::Behaviour::default)),
        mdns: Toggle::from(if daemon && options.mdns {
            Some(mdns(local)?)
        } else {
            None
        }),
    })
}

/// Builds a swarm for `role` with identity `key` and registry store `store`. A daemon bounds
/// inbound connections from strangers by `options.strangers` and looks for LAN peers if
/// `options.mdns`; a bootstrap peer, whose job is to serve nodes it does not know, relays
/// within `options.relay`.
pub fn build_swarm(
    key: Keypair,
    role: Role,
    store: RegistryStore,
    options: NetOptions,
) -> Result<Swarm<Behaviour>, NetError> {
    let transport = |e: &dyn std::fmt::Display| NetError::Transport(e.to_string());
    let mut built: Option<NetError> = None;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| transport(&e))?
        .with_quic()
        .with_dns()
        .map_err(|e| transport(&e))?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| transport(&e))?
        .with_behaviour(|key, relay_client| {
            match behaviour(key, role, store, options, relay_client) {
                Ok(b) => Ok(b),
                Err(e) => {
                    let text = e.to_string();
                    built = Some(e);
                    Err(text.into())
                }
            }
        });
    let swarm = match swarm {
        Ok(s) => s,
        Err(e) => return Err(built.unwrap_or_else(|| transport(&e))),
    };
    Ok(swarm
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
        .with_connection_timeout(DIAL_TIMEOUT)
        .build())
}
