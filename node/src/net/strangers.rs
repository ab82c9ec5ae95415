//! # Strangers: connection slots kept for the peers that matter
//!
//! A *stranger* is an inbound connection from a peer that is none of: a pod member that
//! proved it with a session binding (the daemon tells this behaviour, see
//! [`Behaviour::trust_member`]), a bootstrap peer ([`Behaviour::trust_bootstrap`]), or a peer
//! this node dialled (outbound connections are never strangers). Strangers are bounded:
//!
//! - at most [`StrangerLimits::per_ip`] from one IP address ([`MAX_STRANGERS_PER_IP`] by
//!   default), and at most [`MAX_STRANGERS`] in all, below the swarm's
//!   [`MAX_ESTABLISHED`](super::MAX_ESTABLISHED), so members, bootstrap peers and our own
//!   dials always find a slot;
//! - when a budget is full, the newest *quiet* stranger (no subscription to a hosted pod's
//!   topic, no request within [`StrangerLimits::idle`]) is closed to make room; if every
//!   stranger in that budget is busy, the new connection is refused;
//! - a stranger that stays quiet for [`StrangerLimits::idle`] ([`STRANGER_IDLE`] by default)
//!   is closed. Only what the peer does counts: our pings, identify and gossip control
//!   messages are not activity.
//!
//! ```text
//!   inbound connection ──► member / bootstrap? ──yes──► admitted, not counted
//!                                │ no
//!                                ▼
//!        per-IP budget full? ── evict newest quiet from that IP, or refuse
//!        total budget full?  ── evict newest quiet stranger, or refuse
//!                                ▼
//!        counted; closed once quiet for `idle`; promoted when it shows a member binding
//! ```
//!
//! The decisions live in [`Book`], which takes the time as an argument and has its own
//! tests; [`Behaviour`] is the libp2p adapter that asks it and carries out its closes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    dummy, CloseConnection, ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm,
    ListenFailure, NetworkBehaviour, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// Strangers held at once, in all: half of [`MAX_ESTABLISHED`](super::MAX_ESTABLISHED), so
/// the other half (128) always stays free for pod members, bootstrap peers and the daemon's
/// own dials; a pod mesh needs ~12 of those and the DHT a few dozen. 128 strangers is still
/// room for many newcomers joining at once, each a stranger only until it shows its binding.
pub const MAX_STRANGERS: usize = 128;
/// Strangers held at once from one IP address: a household or office behind one NAT may hold
/// a few followers of public pods, but one host opening hundreds of identities is an attack,
/// and without this bound one host could take the whole [`MAX_STRANGERS`] budget.
pub const MAX_STRANGERS_PER_IP: usize = 8;
/// How long a stranger may stay quiet (no subscription to a hosted pod's topic, no request)
/// before it is closed: a node that wants something from us subscribes or asks within
/// seconds of connecting, and a sync or profile round trip takes well under this.
pub const STRANGER_IDLE: Duration = Duration::from_secs(30);
/// How often quiet strangers are looked for: the idle bound is kept to within this.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// The bounds on strangers, as configured (see `docs/operations.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrangerLimits {
    /// Strangers held at once from one IP address.
    pub per_ip: usize,
    /// How long a stranger may stay quiet before it is closed.
    pub idle: Duration,
}

impl Default for StrangerLimits {
    fn default() -> Self {
        StrangerLimits {
            per_ip: MAX_STRANGERS_PER_IP,
            idle: STRANGER_IDLE,
        }
    }
}

/// Why a stranger's connection was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Its address already holds its share, and none of those is quiet.
    #[error("{limit} strangers are already connected from {ip} and none is quiet; connect again later, or show a member binding from an existing connection")]
    PerIp {
        /// The address.
        ip: IpAddr,
        /// The per-address bound.
        limit: usize,
    },
    /// Every stranger slot is taken by a busy stranger.
    #[error("all {limit} stranger slots are taken by busy peers; connect again later")]
    Full {
        /// The total bound.
        limit: usize,
    },
}

/// What the behaviour reports to the daemon.
#[derive(Debug)]
pub enum Event {
    /// A quiet stranger was closed to make room for a new one.
    Evicted {
        /// The stranger.
        peer: PeerId,
    },
    /// A stranger was closed because it stayed quiet for the idle bound.
    ClosedIdle {
        /// The stranger.
        peer: PeerId,
    },
    /// A new stranger was refused.
    Refused {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: Refusal,
    },
}

/// One stranger's connection.
#[derive(Clone, Debug)]
struct Stranger {
    peer: PeerId,
    ip: Option<IpAddr>,
    /// Admission order: higher is newer.
    seq: u64,
    since: Instant,
    subscribed: bool,
    last_request: Option<Instant>,
}

impl Stranger {
    /// No subscription to a hosted topic and no request within `idle` before `now`.
    fn quiet(&self, now: Instant, idle: Duration) -> bool {
        !self.subscribed
            && self
                .last_request
                .is_none_or(|at| now.saturating_duration_since(at) >= idle)
    }
}

/// What [`Book::admit`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Admitted; close these connections first to make room.
    Admit(Vec<(PeerId, ConnectionId)>),
    /// Refused.
    Refuse(Refusal),
}

/// The strangers book: who is trusted, which connections are strangers and what they did.
/// Time is an argument; nothing here does IO.
#[derive(Debug)]
pub struct Book {
    limits: StrangerLimits,
    /// Bootstrap peers: trusted for the node's lifetime (the config bounds how many).
    bootstrap: HashSet<PeerId>,
    /// Connected peers that showed a member binding; dropped with their last connection, so
    /// this holds at most one entry per connected peer.
    members: HashSet<PeerId>,
    strangers: HashMap<ConnectionId, Stranger>,
    next_seq: u64,
}

impl Book {
    /// An empty book with `limits`.
    pub fn new(limits: StrangerLimits) -> Self {
        Book {
            limits,
            bootstrap: HashSet::new(),
            members: HashSet::new(),
            strangers: HashMap::new(),
            next_seq: 0,
        }
    }

    /// Whether connections from `peer` are never strangers.
    pub fn is_trusted(&self, peer: &PeerId) -> bool {
        self.bootstrap.contains(peer) || self.members.contains(peer)
    }

    /// Stranger connections held.
    pub fn len(&self) -> usize {
        self.strangers.len()
    }

    /// True when no stranger is held.
    pub fn is_empty(&self) -> bool {
        self.strangers.is_empty()
    }

    /// Decides on an inbound connection `id` from `peer` at `ip`, established at `now`.
    pub fn admit(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        ip: Option<IpAddr>,
        now: Instant,
    ) -> Admission {
        if self.is_trusted(&peer) {
            return Admission::Admit(Vec::new());
        }
        let mut evict = Vec::new();
        if let Some(ip) = ip {
            let from_ip = self.strangers.values().filter(|s| s.ip == Some(ip)).count();
            if from_ip >= self.limits.per_ip {
                match self.newest_quiet(now, |s| s.ip == Some(ip)) {
                    Some(victim) => evict.push(victim),
                    None => {
                        return Admission::Refuse(Refusal::PerIp {
                            ip,
                            limit: self.limits.per_ip,
                        })
                    }
                }
            }
        }
        if self.strangers.len() - evict.len() >= MAX_STRANGERS {
            match self.newest_quiet(now, |_| true) {
                Some(victim) => evict.push(victim),
                None => {
                    return Admission::Refuse(Refusal::Full {
                        limit: MAX_STRANGERS,
                    })
                }
            }
        }
        let evict: Vec<(PeerId, ConnectionId)> = evict
            .into_iter()
            .filter_map(|victim| self.strangers.remove(&victim).map(|s| (s.peer, victim)))
            .collect();
        self.next_seq += 1;
        self.strangers.insert(
            id,
            Stranger {
                peer,
                ip,
                seq: self.next_seq,
                since: now,
                subscribed: false,
                last_request: None,
            },
        );
        Admission::Admit(evict)
    }

    /// The newest quiet stranger among those `matching`.
    fn newest_quiet(
        &self,
        now: Instant,
        matching: impl Fn(&Stranger) -> bool,
    ) -> Option<ConnectionId> {
        self.strangers
            .iter()
            .filter(|(_, s)| matching(s) && s.quiet(now, self.limits.idle))
            .max_by_key(|(_, s)| s.seq)
            .map(|(id, _)| *id)
    }

    /// Connection `id` closed (or was never admitted by the swarm).
    pub fn closed(&mut self, id: ConnectionId) {
        self.strangers.remove(&id);
    }

    /// `peer` has no connection left: it must show its binding again next time.
    pub fn disconnected(&mut self, peer: &PeerId) {
        self.members.remove(peer);
    }

    /// `peer` is a bootstrap peer of this node.
    pub fn trust_bootstrap(&mut self, peer: PeerId) {
        self.bootstrap.insert(peer);
        self.strangers.retain(|_, s| s.peer != peer);
    }

    /// `peer` showed a valid binding of a current member: its connections no longer count as
    /// strangers. Call only while it is connected.
    pub fn trust_member(&mut self, peer: PeerId) {
        self.members.insert(peer);
        self.strangers.retain(|_, s| s.peer != peer);
    }

    /// `peer` is (or is no longer) subscribed to a hosted pod's topic.
    pub fn subscribed(&mut self, peer: &PeerId, subscribed: bool) {
        for s in self.strangers.values_mut().filter(|s| s.peer == *peer) {
            s.subscribed = subscribed;
        }
    }

    /// `peer` made a request at `now`.
    pub fn requested(&mut self, peer: &PeerId, now: Instant) {
        for s in self.strangers.values_mut().filter(|s| s.peer == *peer) {
            s.last_request = Some(now);
        }
    }

    /// Removes and returns the strangers that have been quiet for the idle bound at `now`.
    pub fn idle(&mut self, now: Instant) -> Vec<(PeerId, ConnectionId)> {
        let idle = self.limits.idle;
        let due: Vec<ConnectionId> = self
            .strangers
            .iter()
            .filter(|(_, s)| s.quiet(now, idle) && now.saturating_duration_since(s.since) >= idle)
            .map(|(id, _)| *id)
            .collect();
        due.into_iter()
            .filter_map(|id| self.strangers.remove(&id).map(|s| (s.peer, id)))
            .collect()
    }
}

/// The IP address of a multiaddr, if it has one.
pub fn ip_of(address: &Multiaddr) -> Option<IpAddr> {
    address.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

/// The libp2p adapter of [`Book`]: it decides on inbound connections, closes evicted and
/// idle strangers, and reports what it did as [`Event`]s.
pub struct Behaviour {
    book: Book,
    events: VecDeque<ToSwarm<Event, Infallible>>,
    /// Made on the first poll, inside the runtime.
    sweep: Option<tokio::time::Interval>,
}

impl Behaviour {
    /// A behaviour bounding strangers by `limits`.
    pub fn new(limits: StrangerLimits) -> Self {
        Behaviour {
            book: Book::new(limits),
            events: VecDeque::new(),
            sweep: None,
        }
    }

    /// The book, to read.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// See [`Book::trust_bootstrap`].
    pub fn trust_bootstrap(&mut self, peer: PeerId) {
        self.book.trust_bootstrap(peer);
    }

    /// See [`Book::trust_member`].
    pub fn trust_member(&mut self, peer: PeerId) {
        self.book.trust_member(peer);
    }

    /// See [`Book::subscribed`].
    pub fn subscribed(&mut self, peer: &PeerId, subscribed: bool) {
        self.book.subscribed(peer, subscribed);
    }

    /// `peer` made a request now.
    pub fn requested(&mut self, peer: &PeerId) {
        self.book.requested(peer, Instant::now());
    }

    fn close(&mut self, peer: PeerId, connection: ConnectionId, event: Event) {
        self.events.push_back(ToSwarm::CloseConnection {
            peer_id: peer,
            connection: CloseConnection::One(connection),
        });
        self.events.push_back(ToSwarm::GenerateEvent(event));
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Event;

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        match self
            .book
            .admit(connection_id, peer, ip_of(remote_addr), Instant::now())
        {
            Admission::Admit(evict) => {
                for (victim, connection) in evict {
                    self.close(victim, connection, Event::Evicted { peer: victim });
                }
                Ok(dummy::ConnectionHandler)
            }
            Admission::Refuse(reason) => {
                self.events
                    .push_back(ToSwarm::GenerateEvent(Event::Refused {
                        peer,
                        reason: reason.clone(),
                    }));
                Err(ConnectionDenied::new(reason))
            }
        }
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        // A peer this node dialled is never a stranger.
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionClosed(ConnectionClosed {
                peer_id,
                connection_id,
                remaining_established,
                ..
            }) => {
                self.book.closed(connection_id);
                if remaining_established == 0 {
                    self.book.disconnected(&peer_id);
                }
            }
            // Another behaviour refused a connection this one admitted.
            FromSwarm::ListenFailure(ListenFailure { connection_id, .. }) => {
                self.book.closed(connection_id)
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer_id: PeerId,
        _connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        let sweep = self.sweep.get_or_insert_with(|| {
            let mut interval = tokio::time::interval(SWEEP_INTERVAL);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        if sweep.poll_tick(cx).is_ready() {
            for (peer, connection) in self.book.idle(Instant::now()) {
                self.close(peer, connection, Event::ClosedIdle { peer });
            }
        }
        match self.events.pop_front() {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(30);

    fn book(per_ip: usize) -> Book {
        Book::new(StrangerLimits { per_ip, idle: IDLE })
    }

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, n]))
    }

    fn admitted(admission: Admission) -> Vec<(PeerId, ConnectionId)> {
        match admission {
            Admission::Admit(evict) => evict,
            Admission::Refuse(reason) => panic!("refused: {reason}"),
        }
    }

    #[test]
    fn a_full_budget_closes_the_newest_quiet_stranger_first() {
        let mut book = book(MAX_STRANGERS);
        let t0 = Instant::now();
        let mut ids = Vec::new();
        for n in 0..MAX_STRANGERS {
            let id = ConnectionId::new_unchecked(n);
            assert!(admitted(book.admit(id, PeerId::random(), ip(1), t0)).is_empty());
            ids.push(id);
        }
        // The newest one is busy: the one before it goes.
        let busy = ids[MAX_STRANGERS - 1];
        let busy_peer = book.strangers[&busy].peer;
        book.subscribed(&busy_peer, true);
        let newcomer = ConnectionId::new_unchecked(10_000);
        let evicted = admitted(book.admit(newcomer, PeerId::random(), ip(2), t0));
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].1, ids[MAX_STRANGERS - 2]);
        assert_eq!(book.len(), MAX_STRANGERS);
    }

    #[test]
    fn a_budget_full_of_busy_strangers_refuses_the_next_one() {
        let mut book = book(2);
        let t0 = Instant::now();
        for n in 0..2 {
            let peer = PeerId::random();
            admitted(book.admit(ConnectionId::new_unchecked(n), peer, ip(1), t0));
            book.requested(&peer, t0);
        }
        let refused = book.admit(ConnectionId::new_unchecked(9), PeerId::random(), ip(1), t0);
        assert!(matches!(
            refused,
            Admission::Refuse(Refusal::PerIp { limit: 2, .. })
        ));
        // Another address is still welcome.
        admitted(book.admit(ConnectionId::new_unchecked(10), PeerId::random(), ip(2), t0));
        // Once their requests are older than the idle bound, they are quiet again.
        let later = t0 + IDLE;
        let evicted = admitted(book.admit(
            ConnectionId::new_unchecked(11),
            PeerId::random(),
            ip(1),
            later,
        ));
        assert_eq!(evicted.len(), 1);
    }

    #[test]
    fn the_per_address_budget_evicts_only_from_that_address() {
        let mut book = book(3);
        let t0 = Instant::now();
        let other = ConnectionId::new_unchecked(100);
        admitted(book.admit(other, PeerId::random(), ip(2), t0));
        for n in 0..3 {
            admitted(book.admit(ConnectionId::new_unchecked(n), PeerId::random(), ip(1), t0));
        }
        let evicted =
            admitted(book.admit(ConnectionId::new_unchecked(3), PeerId::random(), ip(1), t0));
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].1, ConnectionId::new_unchecked(2));
        assert!(book.strangers.contains_key(&other));
    }

    #[test]
    fn members_and_bootstrap_peers_are_never_counted() {
        let mut book = book(1);
        let t0 = Instant::now();
        let member = PeerId::random();
        admitted(book.admit(ConnectionId::new_unchecked(1), member, ip(1), t0));
        assert_eq!(book.len(), 1);
        book.trust_member(member);
        assert_eq!(book.len(), 0, "a member's stranger connection is promoted");
        let boot = PeerId::random();
        book.trust_bootstrap(boot);
        for n in 2..10 {
            admitted(book.admit(ConnectionId::new_unchecked(n), boot, ip(1), t0));
        }
        assert_eq!(book.len(), 0);
        // A member that left must show its binding again.
        book.disconnected(&member);
        admitted(book.admit(ConnectionId::new_unchecked(20), member, ip(1), t0));
        assert_eq!(book.len(), 1);
    }

    #[test]
    fn quiet_strangers_are_closed_after_the_idle_bound_and_busy_ones_stay() {
        let mut book = book(MAX_STRANGERS_PER_IP);
        let t0 = Instant::now();
        let (quiet, asker, follower) = (PeerId::random(), PeerId::random(), PeerId::random());
        admitted(book.admit(ConnectionId::new_unchecked(1), quiet, ip(1), t0));
        admitted(book.admit(ConnectionId::new_unchecked(2), asker, ip(1), t0));
        admitted(book.admit(ConnectionId::new_unchecked(3), follower, ip(1), t0));
        book.subscribed(&follower, true);
        assert!(book.idle(t0 + IDLE - Duration::from_millis(1)).is_empty());
        book.requested(&asker, t0 + IDLE / 2);
        assert_eq!(
            book.idle(t0 + IDLE),
            vec![(quiet, ConnectionId::new_unchecked(1))]
        );
        assert_eq!(
            book.idle(t0 + IDLE + IDLE / 2),
            vec![(asker, ConnectionId::new_unchecked(2))]
        );
        assert!(book.idle(t0 + 10 * IDLE).is_empty(), "a follower stays");
        book.subscribed(&follower, false);
        assert_eq!(book.idle(t0 + 10 * IDLE).len(), 1);
        assert!(book.is_empty());
    }

    #[test]
    fn addresses_give_their_ip() {
        let a: Multiaddr = "/ip4/192.0.2.1/tcp/4710".parse().expect("address");
        assert_eq!(ip_of(&a), Some(IpAddr::from([192, 0, 2, 1])));
        let q: Multiaddr = "/ip6/::1/udp/1/quic-v1".parse().expect("address");
        assert!(ip_of(&q).is_some_and(|ip| ip.is_loopback()));
    }
}
