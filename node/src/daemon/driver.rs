//! The swarm loop: swarm events, timers and API commands in, engine outputs out. The engine
//! itself runs on its own thread ([`super::engine_thread`]); this loop never waits for it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::core::transport::ListenerId;
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{MessageAcceptance, MessageId, TopicHash};
use libp2p::kad::{self, Quorum, RecordKey};
use libp2p::request_response::{OutboundRequestId, ResponseChannel};
use libp2p::{rendezvous, Multiaddr, PeerId, Swarm};
use myco_dna::{AgentKey, DnaHash, SigningKey, Timestamp};
use tokio::sync::mpsc;

use super::bans::{self, Bans};
use super::engine_thread::EngineStopped;
use super::link::{EngineLink, FromEngine, ToEngine};
use super::lookup::Lookups;
use super::metrics::Metrics;
use super::profiles::Profiles;
use super::redial::Redials;
use super::Command;
use crate::engine::{GossipVerdict, Input, Output, Timer};
use crate::net::{self, Behaviour};
use crate::registry::{pod_key, registry_key, Pointer, PointerTerms, POINTER_TTL_MICROS};

/// Sync requests from peers waiting for the engine's answer; extra requests are dropped (so
/// are those that find the engine's queue full, see [`super::link`]).
pub const MAX_INBOUND_REQUESTS: usize = 1024;
/// Timers the engine may have pending: it keeps two kinds, so a handful is plenty.
pub const MAX_TIMERS: usize = 64;
/// The longest the swarm loop goes between two ticks (timers, discovery, publishing, paths).
pub const TICK: Duration = Duration::from_secs(1);
/// How often pods are rediscovered (rendezvous and providers) while a pod has no peers.
pub const DISCOVERY_INTERVAL: Duration = Duration::from_secs(5);
/// How often pods are rediscovered once they have peers.
pub const SETTLED_DISCOVERY_INTERVAL: Duration = Duration::from_secs(60);
/// How long bootstrap peers wait for the node's listeners to come up before they are dialled
/// anyway. Dialling from a listening TCP port lets a NAT router keep that port, which is what
/// the bootstrap peer then sees and tells others for hole punching ([`super::nat`]).
pub const LISTEN_GRACE: Duration = Duration::from_secs(2);
/// Rendezvous registration lifetime, in seconds.
const RENDEZVOUS_TTL: u64 = 2 * 3600;

pub use crate::dates::now_micros;

/// Everything the swarm loop owns: the swarm and what is network-side. The engine and its
/// store live on their own thread ([`super::engine_thread`]), reached through [`EngineLink`].
pub struct Driver {
    pub(super) link: EngineLink,
    pub(super) from_engine: mpsc::Receiver<FromEngine>,
    pub(super) swarm: Swarm<Behaviour>,
    pub(super) key: SigningKey,
    pub(super) agent: AgentKey,
    /// The pods the engine hosts, as it last said, in order.
    pub(super) hosted: Vec<DnaHash>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) bootstrap: Vec<(PeerId, Multiaddr)>,
    pub(super) listen: Vec<Multiaddr>,
    pub(super) started: Instant,
    pub(super) data_dir: std::path::PathBuf,
    pub(super) warnings: Vec<String>,
    pub(super) announce_json: bool,
    pub(super) timers: BTreeSet<(u64, Timer)>,
    pub(super) next_inbound: u64,
    /// Peers' sync requests the engine has not handled yet.
    pub(super) inbound: HashMap<u64, ResponseChannel<Vec<u8>>>,
    pub(super) outbound: HashMap<OutboundRequestId, u64>,
    /// Profile requests the engine thread is answering from the store.
    pub(super) profiles: Profiles,
    pub(super) topics: HashMap<TopicHash, DnaHash>,
    pub(super) pod_peers: HashMap<DnaHash, HashSet<PeerId>>,
    pub(super) lookups: Lookups,
    pub(super) next_publish: Instant,
    pub(super) next_discovery: Instant,
    pub(super) redials: Redials,
    pub(super) bans: Bans,
    /// DNAs being fetched for `myco recover` ([`super::recovery`]).
    pub(super) dna_fetches: super::recovery::DnaFetches,
    /// The region the node declares, for the bindings the swarm loop signs itself.
    pub(super) region: Option<String>,
    /// The registry pointer last published, for the export.
    pub(super) last_pointer: Option<Vec<u8>>,
    /// Reachability, relay slots and connection paths ([`super::reach`]).
    pub(super) reach: super::reach::Reach,
    /// When [`Driver::on_tick`] last ran.
    pub(super) last_tick: Instant,
    /// The configured listeners that have not reported a usable address yet.
    pub(super) unheard_listeners: super::runtime::Listeners,
}

/// What a driver starts with besides its swarm.
pub struct DriverParts {
    /// Where the swarm loop sends to the engine thread.
    pub queue: mpsc::Sender<ToEngine>,
    /// What the engine thread sends back.
    pub outputs: mpsc::Receiver<FromEngine>,
    /// The hosted agent.
    pub agent: AgentKey,
    /// The pods the engine hosts (resumed), in order.
    pub hosted: Vec<DnaHash>,
    /// The agent's key, for registry pointers.
    pub key: SigningKey,
    /// The node's metrics.
    pub metrics: Arc<Metrics>,
    /// The bootstrap peers (not dialled yet: the driver dials them once `listeners` are up).
    pub bootstrap: Vec<(PeerId, Multiaddr)>,
    /// The configured listeners.
    pub listeners: super::runtime::Listeners,
    /// The data dir, for the listen file.
    pub data_dir: std::path::PathBuf,
    /// What opening the data dir found wrong, for `myco status`.
    pub warnings: Vec<String>,
    /// Print each new listen address as JSON on stdout.
    pub announce_json: bool,
    /// The region the node declares.
    pub region: Option<String>,
}

impl Driver {
    /// A driver over a built swarm, talking to a started engine thread.
    pub fn new(swarm: Swarm<Behaviour>, parts: DriverParts) -> Self {
        let now = Instant::now();
        let mut driver = Driver {
            link: EngineLink::new(parts.queue, parts.metrics.clone()),
            from_engine: parts.outputs,
            swarm,
            key: parts.key,
            agent: parts.agent,
            hosted: parts.hosted.clone(),
            metrics: parts.metrics,
            bootstrap: parts.bootstrap,
            listen: Vec::new(),
            started: now,
            data_dir: parts.data_dir,
            warnings: parts.warnings,
            announce_json: parts.announce_json,
            timers: BTreeSet::new(),
            next_inbound: 0,
            inbound: HashMap::new(),
            outbound: HashMap::new(),
            profiles: Profiles::default(),
            topics: HashMap::new(),
            pod_peers: HashMap::new(),
            lookups: Lookups::default(),
            next_publish: now + Duration::from_secs(1),
            next_discovery: now,
            redials: Redials::default(),
            bans: Bans::default(),
            dna_fetches: Default::default(),
            region: parts.region,
            unheard_listeners: parts.listeners,
            last_tick: now,
            last_pointer: None,
            reach: Default::default(),
        };
        for pod in parts.hosted {
            driver.subscribe(pod);
        }
        // The first input arms the engine's timers.
        driver.feed(Input::Timer(Timer::Sweep));
        driver
    }

    /// Runs until `shutdown` resolves, or until the engine thread stops (an error).
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), EngineStopped> {
        tokio::pin!(shutdown);
        loop {
            // A busy swarm could otherwise keep the sleep below from ever winning.
            if self.last_tick.elapsed() >= TICK {
                self.on_tick();
            }
            let now = now_micros();
            let next_timer = self
                .timers
                .first()
                .map_or(Duration::from_secs(1), |(at, _)| {
                    Duration::from_micros(at.saturating_sub(now))
                });
            let wake = next_timer.min(TICK);
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                message = self.from_engine.recv() => match message {
                    Some(message) => self.on_engine(message),
                    None => {
                        return Err(EngineStopped("its channel closed before shutdown".into()))
                    }
                },
                Some(permit) = self.link.room(), if self.link.has_backlog() => {
                    self.link.pump(permit)
                }
                Some(command) = commands.recv() => self.on_command(command),
                () = tokio::time::sleep(wake) => self.on_tick(),
                () = &mut shutdown => break,
            }
        }
        tracing::info!("shutting down");
        Ok(())
    }

    /// What the engine thread sent: outputs to carry out, and answers.
    fn on_engine(&mut self, message: FromEngine) {
        match message {
            FromEngine::Outputs { outputs, served } => {
                for output in outputs {
                    self.carry_out(output);
                }
                if let Some(served) = served {
                    // A request the engine ignored must not wait forever.
                    self.inbound.remove(&served.request_id);
                    if let Some(peer) = net::libp2p_peer(&served.peer) {
                        self.trust_if_member(&peer, served.member);
                    }
                }
            }
            FromEngine::Hosted(pods) => self.hosted = pods,
            FromEngine::Joined {
                pod,
                summary,
                reply,
            } => self.on_joined(pod, summary, reply),
            FromEngine::Forgot { pod, reply } => {
                self.unsubscribe(pod);
                let _ = reply.send(Ok(()));
            }
            FromEngine::Profile { id, answer } => self.on_profile_answer(id, answer),
        }
    }

    pub(super) fn on_tick(&mut self) {
        self.last_tick = Instant::now();
        let now = now_micros();
        while let Some(&(at, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            self.feed(Input::Timer(timer));
        }
        // Timed-out lookups are answered as failed; the API counts them.
        self.lookups.sweep();
        self.finish_dna_fetches(true);
        self.refresh_pod_peers();
        self.close_superseded();
        let instant = Instant::now();
        if instant >= self.next_publish {
            self.publish_pointer();
        }
        if instant >= self.next_discovery {
            self.discover();
        }
        self.redial(instant);
        self.reserve_relays();
        self.count_strangers();
        for peer in self.bans.ended(instant) {
            self.unban(peer);
        }
    }

    /// Keeps a flooding peer, or one caught forging a profile answer, away for [`bans::BAN`]:
    /// every connection to it closes, none is accepted or dialled, and gossipsub ignores it.
    pub(super) fn ban(&mut self, peer: PeerId, reason: &str) {
        tracing::warn!(%peer, reason, "peer banned for {} s", bans::BAN.as_secs());
        Metrics::inc(&self.metrics.peers_banned_total);
        if let Some(early) = self.bans.ban(peer, Instant::now()) {
            self.unban(early);
        }
        self.redials.forget(peer);
        self.swarm.behaviour_mut().blocked.block_peer(peer);
        if let Some(gossip) = self.swarm.behaviour_mut().gossipsub.as_mut() {
            gossip.blacklist_peer(&peer);
        }
        Metrics::set(&self.metrics.peers_banned, self.bans.len() as u64);
    }

    fn unban(&mut self, peer: PeerId) {
        tracing::info!(%peer, "ban lifted");
        self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        if let Some(gossip) = self.swarm.behaviour_mut().gossipsub.as_mut() {
            gossip.remove_blacklisted_peer(&peer);
        }
        Metrics::set(&self.metrics.peers_banned, self.bans.len() as u64);
    }

    /// Dials the lost pod peers whose retry is due.
    fn redial(&mut self, now: Instant) {
        for (peer, addresses) in self.redials.due(now) {
            if self.swarm.is_connected(&peer) {
                self.redials.connected(peer);
                continue;
            }
            tracing::debug!(%peer, "redialling a lost peer");
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                .addresses(addresses)
                .condition(libp2p::swarm::dial_opts::PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(error) = self.swarm.dial(opts) {
                tracing::debug!(%peer, %error, "cannot redial a lost peer");
            }
        }
        Metrics::set(&self.metrics.peers_lost, self.redials.lost() as u64);
    }

    /// Hands the engine an input, as of now; its outputs come back through the link. False
    /// if the engine is so far behind that it was dropped.
    pub(super) fn feed(&mut self, input: Input) -> bool {
        self.link.send(ToEngine::Input {
            now: now_micros(),
            input,
        })
    }

    /// Carries out one of the engine's outputs on the swarm; what cannot be done goes back to
    /// the engine as an input.
    pub(super) fn carry_out(&mut self, output: Output) {
        match output {
            Output::Request { to, token, request } => {
                let Some(peer) = net::libp2p_peer(&to) else {
                    self.feed(Input::RequestFailed { peer: to, token });
                    return;
                };
                match self.swarm.behaviour_mut().sync.as_mut() {
                    Some(sync) => {
                        let id = sync.send_request(&peer, request.to_bytes());
                        self.outbound.insert(id, token);
                    }
                    None => {
                        self.feed(Input::RequestFailed { peer: to, token });
                    }
                }
            }
            Output::Respond {
                request_id,
                response,
                ..
            } => {
                if let Some(channel) = self.inbound.remove(&request_id) {
                    if let Some(sync) = self.swarm.behaviour_mut().sync.as_mut() {
                        // Fails only if the peer has gone: nothing to do then.
                        let _ = sync.send_response(channel, response.to_bytes());
                    }
                }
            }
            Output::Publish { pod, message } => {
                if let Some(gossip) = self.swarm.behaviour_mut().gossipsub.as_mut() {
                    if let Err(error) = gossip.publish(net::topic(&pod), message.to_bytes()) {
                        tracing::debug!(%pod, %error, "gossip not published; sync will carry it");
                    }
                }
            }
            Output::GossipVerdict {
                from,
                message_id,
                verdict,
            } => {
                let Some(peer) = net::libp2p_peer(&from) else {
                    return;
                };
                let acceptance = match verdict {
                    GossipVerdict::Accept => MessageAcceptance::Accept,
                    GossipVerdict::Reject => {
                        Metrics::inc(&self.metrics.gossip_rejected_total);
                        MessageAcceptance::Reject
                    }
                    GossipVerdict::Ignore => MessageAcceptance::Ignore,
                };
                if let Some(gossip) = self.swarm.behaviour_mut().gossipsub.as_mut() {
                    gossip.report_message_validation_result(
                        &MessageId::new(&message_id),
                        &peer,
                        acceptance,
                    );
                }
            }
            Output::SetTimer { at, timer } => {
                if self.timers.len() < MAX_TIMERS || self.timers.iter().any(|(_, t)| *t == timer) {
                    self.timers.insert((at, timer));
                }
                // Keep only the earliest of each kind beyond the bound's worth.
                while self.timers.len() > MAX_TIMERS {
                    self.timers.pop_last();
                }
            }
            Output::Disconnect { peer, reason } => {
                if let Some(peer) = net::libp2p_peer(&peer) {
                    self.ban(peer, &reason);
                }
            }
            // Events are noted, and pod backups taken, on the engine thread: never sent here.
            Output::Event(_) | Output::TakePodBackup { .. } | Output::RestorePodBackup { .. } => {}
        }
    }

    /// Subscribes to a pod's topic and announces the pod.
    /// Leaves a forgotten pod's topic and stops providing its rendezvous key.
    pub(super) fn unsubscribe(&mut self, pod: DnaHash) {
        let topic = net::topic(&pod);
        self.topics.remove(&topic.hash());
        self.pod_peers.remove(&pod);
        if let Some(gossip) = self.swarm.behaviour_mut().gossipsub.as_mut() {
            gossip.unsubscribe(&topic);
        }
        self.swarm
            .behaviour_mut()
            .kad
            .stop_providing(&RecordKey::new(&pod_key(&pod)));
        Metrics::set(&self.metrics.pods_hosted, self.topics.len() as u64);
        self.next_publish = Instant::now();
    }

    pub(super) fn subscribe(&mut self, pod: DnaHash) {
        let topic = net::topic(&pod);
        self.topics.insert(topic.hash(), pod);
        self.pod_peers.entry(pod).or_default();
        if let Some(gossip) = self.swarm.behaviour_mut().gossipsub.as_mut() {
            if let Err(error) = gossip.subscribe(&topic) {
                tracing::warn!(%pod, %error, "cannot subscribe to the pod's topic");
            }
            let _ = gossip.set_topic_params(topic, net::topic_score_params());
        }
        if let Err(error) = self
            .swarm
            .behaviour_mut()
            .kad
            .start_providing(RecordKey::new(&pod_key(&pod)))
        {
            tracing::warn!(%pod, %error, "cannot provide the pod's rendezvous key");
        }
        Metrics::set(&self.metrics.pods_hosted, self.topics.len() as u64);
        self.next_publish = Instant::now();
        self.next_discovery = Instant::now();
        // Peers already on the topic announced it before this node cared: take them now
        // rather than at the next tick.
        self.refresh_pod_peers();
    }

    /// Tells the engine about pod peers gossipsub knows but the engine was not told of (a
    /// subscription seen on a connection that closed, say).
    pub(super) fn refresh_pod_peers(&mut self) {
        let Some(gossip) = self.swarm.behaviour().gossipsub.as_ref() else {
            return;
        };
        let mut joined = Vec::new();
        for (peer, topics) in gossip.all_peers() {
            for topic in topics {
                if let Some(pod) = self.topics.get(topic) {
                    if !self.pod_peers.get(pod).is_some_and(|p| p.contains(peer)) {
                        joined.push((*peer, *pod));
                    }
                }
            }
        }
        for (peer, pod) in joined {
            self.pod_peer_joined(peer, pod);
        }
    }

    /// `peer` is on `pod`'s topic: the engine syncs with it, and it is redialled if lost.
    pub(super) fn pod_peer_joined(&mut self, peer: PeerId, pod: DnaHash) {
        tracing::info!(%pod, %peer, "peer joined the pod's topic");
        self.pod_peers.entry(pod).or_default().insert(peer);
        self.redials.want(peer);
        let told = self.feed(Input::PeerJoined {
            peer: net::engine_peer(&peer),
            pod,
        });
        if !told {
            // The engine is far behind: the next tick's refresh tells it again.
            if let Some(peers) = self.pod_peers.get_mut(&pod) {
                peers.remove(&peer);
            }
        }
    }

    /// Publishes the agent's registry pointer, signed afresh.
    pub(super) fn publish_pointer(&mut self) {
        self.next_publish = Instant::now() + Duration::from_micros(POINTER_TTL_MICROS / 4);
        let pods = self.hosted.clone();
        if pods.is_empty() {
            return;
        }
        let now = now_micros();
        let agent = self.agent;
        let pointer = Pointer::sign(
            &self.key,
            PointerTerms {
                agent,
                pods,
                seq: now,
                expires: Timestamp(now + POINTER_TTL_MICROS),
            },
        );
        let record = kad::Record::new(registry_key(&agent.key_hash()), pointer.to_bytes());
        match self
            .swarm
            .behaviour_mut()
            .kad
            .put_record(record, Quorum::One)
        {
            Ok(_) => {
                self.last_pointer = Some(pointer.to_bytes());
                Metrics::inc(&self.metrics.registry_published_total);
                tracing::info!(key = %agent.key_hash(), pods = pointer.terms.pods.len(), "registry pointer published");
            }
            Err(error) => tracing::warn!(%error, "cannot publish the registry pointer"),
        }
    }

    /// Dials the bootstrap peers it is not connected to, once every configured listener has
    /// an address (or [`LISTEN_GRACE`] has passed): a TCP dial then leaves from the listening
    /// port, which a port-preserving NAT router keeps, so the address the bootstrap peer
    /// observes is one a hole punch can reach.
    pub(super) fn dial_bootstraps(&mut self) {
        if !self.unheard_listeners.is_empty() && self.started.elapsed() < LISTEN_GRACE {
            self.next_discovery = self.next_discovery.min(self.started + LISTEN_GRACE);
            return;
        }
        for (peer, address) in self.bootstrap.clone() {
            if !self.swarm.is_connected(&peer) {
                if let Err(error) = self.swarm.dial(address.clone()) {
                    tracing::warn!(%address, %error, "cannot dial a bootstrap peer");
                }
            }
        }
    }

    /// Whether `peer` is one of the configured bootstrap peers.
    pub(super) fn is_bootstrap(&self, peer: &PeerId) -> bool {
        self.bootstrap.iter().any(|(p, _)| p == peer)
    }

    /// `listener` reported `address` (`None`: it closed). Once every configured listener has
    /// a usable address, the bootstrap peers are dialled.
    pub(super) fn listener_heard(&mut self, listener: ListenerId, address: Option<&Multiaddr>) {
        let Some(&everywhere) = self.unheard_listeners.get(&listener) else {
            return;
        };
        if everywhere && address.is_some_and(super::runtime::is_loopback) {
            // 127.0.0.1 comes first; a dial to another machine needs the port on a real
            // interface, which the next address brings.
            return;
        }
        self.unheard_listeners.remove(&listener);
        if self.unheard_listeners.is_empty() {
            self.dial_bootstraps();
        }
    }

    /// Looks for peers of every hosted pod: rendezvous at bootstrap peers, and providers.
    pub(super) fn discover(&mut self) {
        let lonely = self.pod_peers.values().any(HashSet::is_empty);
        self.next_discovery = Instant::now()
            + if lonely {
                DISCOVERY_INTERVAL
            } else {
                SETTLED_DISCOVERY_INTERVAL
            };
        let pods: Vec<DnaHash> = self.topics.values().copied().collect();
        let connected: Vec<PeerId> = self
            .bootstrap
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| self.swarm.is_connected(p))
            .collect();
        self.dial_bootstraps();
        for pod in pods {
            let behaviour = self.swarm.behaviour_mut();
            behaviour.kad.get_providers(RecordKey::new(&pod_key(&pod)));
            let Some(client) = behaviour.rendezvous_client.as_mut() else {
                continue;
            };
            let Ok(namespace) = rendezvous::Namespace::new(pod.to_string()) else {
                continue;
            };
            for peer in &connected {
                if let Err(error) = client.register(namespace.clone(), *peer, Some(RENDEZVOUS_TTL))
                {
                    tracing::debug!(%error, "rendezvous registration not sent");
                }
                client.discover(Some(namespace.clone()), None, None, *peer);
            }
        }
    }
}
