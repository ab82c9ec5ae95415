//! An in-process libp2p node that speaks Myco's protocols (gossipsub on a pod's topic,
//! `/myco/sync/1`, `/myco/kad/1.0.0`, identify) but is no member of anything, for tests that
//! probe the daemons' edges.
// The behaviour derive generates an undocumented event enum.
#![allow(missing_docs)]

use std::collections::HashSet;
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::kad;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, identify, noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm};
use myco_dna::{agent_key_of, DnaHash, SigningKey, Timestamp};
use myco_node::engine::{BindingTerms, SessionBinding};
use myco_node::net::{
    topic, BytesCodec, RegistryStore, IDENTIFY_PROTOCOL, KAD_PROTOCOL, SYNC_PROTOCOL,
};

use crate::loopback::{peer_of, PATIENCE};

/// Myco's protocols with none of its logic: an outsider, a hijacker, a sender of garbage.
#[derive(NetworkBehaviour)]
pub struct Probe {
    /// The behaviour of that name.
    pub identify: identify::Behaviour,
    /// The behaviour of that name.
    pub kad: kad::Behaviour<RegistryStore>,
    /// The behaviour of that name.
    pub gossipsub: gossipsub::Behaviour,
    /// The behaviour of that name.
    pub sync: request_response::Behaviour<BytesCodec>,
}

/// A probe that accepts and sends messages up to `max_bytes` (larger than the daemon's bounds
/// when a test wants to send oversized messages).
///
/// See [`kad_server`] for its registry side.
pub fn probe(key: &Keypair, max_bytes: usize) -> Swarm<Probe> {
    libp2p::SwarmBuilder::with_existing_identity(key.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|key| {
            let local = key.public().to_peer_id();
            let kad = kad_server(local);
            let gossip_config = gossipsub::ConfigBuilder::default()
                .max_transmit_size(max_bytes)
                .heartbeat_interval(Duration::from_millis(500))
                .build()
                .expect("gossipsub config");
            let gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossip_config,
            )
            .expect("gossipsub");
            let sync = request_response::Behaviour::with_codec(
                BytesCodec::new(max_bytes),
                [(StreamProtocol::new(SYNC_PROTOCOL), ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(10)),
            );
            Ok(Probe {
                identify: identify::Behaviour::new(identify::Config::new(
                    IDENTIFY_PROTOCOL.into(),
                    key.public(),
                )),
                kad,
                gossipsub,
                sync,
            })
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

/// Polls the swarm, handing each event to `on_event`, until it returns `Some` or `limit`
/// passes (then `None`).
pub async fn drive<T>(
    swarm: &mut Swarm<Probe>,
    limit: Duration,
    mut on_event: impl FnMut(&mut Swarm<Probe>, SwarmEvent<ProbeEvent>) -> Option<T>,
) -> Option<T> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        tokio::select! {
            event = swarm.select_next_some() => {
                if let Some(done) = on_event(swarm, event) {
                    return Some(done);
                }
            }
            () = tokio::time::sleep_until(deadline) => return None,
        }
    }
}

/// Runs blocking `work` (API calls) while the swarm keeps being polled; returns its result.
pub async fn while_driving<T: Send + 'static>(
    swarm: &mut Swarm<Probe>,
    work: impl FnOnce() -> T + Send + 'static,
    mut on_event: impl FnMut(&mut Swarm<Probe>, SwarmEvent<ProbeEvent>),
) -> T {
    let mut handle = tokio::task::spawn_blocking(work);
    loop {
        tokio::select! {
            result = &mut handle => return result.expect("blocking work finished"),
            event = swarm.select_next_some() => on_event(swarm, event),
        }
    }
}

/// A one-worker tokio runtime for the probe.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A session binding for `pod` by `agent_key`, for the probe's connection.
pub fn binding(agent_key: &SigningKey, peer: &PeerId, pod: DnaHash) -> SessionBinding {
    SessionBinding::sign(
        agent_key,
        BindingTerms {
            agent: agent_key_of(agent_key),
            peer: peer.to_bytes(),
            pod,
            region: Some("DK".into()),
            expires: Timestamp(myco_node::daemon::now_micros() + 3_600_000_000),
        },
    )
}

/// Dials `addresses` and waits until identify has run with each (so Kademlia knows them, and
/// they us) and, if `pod` is given, each has told us it is on the pod's topic.
pub async fn connect(swarm: &mut Swarm<Probe>, addresses: &[Multiaddr], pod: Option<&DnaHash>) {
    let peers: HashSet<PeerId> = addresses.iter().map(peer_of).collect();
    for address in addresses {
        swarm
            .behaviour_mut()
            .kad
            .add_address(&peer_of(address), address.clone());
        swarm.dial(address.clone()).expect("dial");
    }
    let hash = pod.map(|p| topic(p).hash());
    let (mut identified, mut subscribed) = (HashSet::new(), HashSet::new());
    let done = drive(swarm, PATIENCE, |_, event| {
        match event {
            SwarmEvent::Behaviour(ProbeEvent::Identify(identify::Event::Received {
                peer_id,
                ..
            })) => {
                identified.insert(peer_id);
            }
            SwarmEvent::Behaviour(ProbeEvent::Gossipsub(gossipsub::Event::Subscribed {
                peer_id,
                topic,
            })) if Some(&topic) == hash.as_ref() => {
                subscribed.insert(peer_id);
            }
            _ => {}
        }
        let all_subscribed = hash.is_none() || peers.iter().all(|p| subscribed.contains(p));
        (peers.iter().all(|p| identified.contains(p)) && all_subscribed).then_some(())
    })
    .await;
    assert!(
        done.is_some(),
        "the probe did not meet every peer: identified {identified:?}, subscribed {subscribed:?}, wanted {peers:?}"
    );
}

/// Sends each request to `peer`; returns, in order, each answer's bytes or its failure.
pub async fn ask_all(
    swarm: &mut Swarm<Probe>,
    peer: PeerId,
    requests: Vec<Vec<u8>>,
) -> Vec<Result<Vec<u8>, String>> {
    let ids: Vec<OutboundRequestId> = requests
        .into_iter()
        .map(|r| swarm.behaviour_mut().sync.send_request(&peer, r))
        .collect();
    let mut answers: Vec<Option<Result<Vec<u8>, String>>> = vec![None; ids.len()];
    let position = |id: &OutboundRequestId| ids.iter().position(|i| i == id);
    drive(swarm, PATIENCE, |_, event| {
        match event {
            SwarmEvent::Behaviour(ProbeEvent::Sync(request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            })) => {
                if let Some(i) = position(&request_id) {
                    answers[i] = Some(Ok(response));
                }
            }
            SwarmEvent::Behaviour(ProbeEvent::Sync(request_response::Event::OutboundFailure {
                request_id,
                error,
                ..
            })) => {
                if let Some(i) = position(&request_id) {
                    answers[i] = Some(Err(error.to_string()));
                }
            }
            _ => {}
        }
        answers.iter().all(Option::is_some).then_some(())
    })
    .await
    .expect("every sync request was answered or failed in time");
    answers.into_iter().map(Option::unwrap).collect()
}

/// A Kademlia server on Myco's registry protocol, with an in-memory registry store that
/// validates records as a daemon's does: the registry side of a test's own libp2p peer.
pub fn kad_server(local: libp2p::PeerId) -> kad::Behaviour<RegistryStore> {
    let mut kad_config = kad::Config::new(StreamProtocol::new(KAD_PROTOCOL));
    kad_config
        .set_record_filtering(kad::StoreInserts::FilterBoth)
        .set_query_timeout(Duration::from_secs(10));
    let mut kad = kad::Behaviour::with_config(local, RegistryStore::in_memory(local), kad_config);
    kad.set_mode(Some(kad::Mode::Server));
    kad
}
