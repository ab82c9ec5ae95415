//! Redialling peers the daemon lost: pod peers whose connections closed. (Bootstrap peers are
//! redialled by each discovery round instead, and never forgotten.)
//!
//! Discovery (rendezvous and providers) finds peers a node never met; this book keeps the ones
//! it had. When a partition heals, both sides dial their lost peers within
//! [`FAST_RETRY`], so the pod's anti-entropy resumes at once instead of at the next discovery
//! round. A peer is retried every [`FAST_RETRY`] for [`FAST_WINDOW`] after it was lost, then
//! every [`SLOW_RETRY`] until [`GIVE_UP`], then forgotten.
//!
//! The book takes the time as an argument and never dials itself: the driver dials what
//! [`Redials::due`] returns.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

/// First retry after a loss, and the pace for [`FAST_WINDOW`] after it.
pub const FAST_RETRY: Duration = Duration::from_secs(2);
/// How long a lost peer is retried at the fast pace.
pub const FAST_WINDOW: Duration = Duration::from_secs(10 * 60);
/// The pace after [`FAST_WINDOW`].
pub const SLOW_RETRY: Duration = Duration::from_secs(60);
/// When a lost peer is forgotten.
pub const GIVE_UP: Duration = Duration::from_secs(24 * 3600);
/// Peers remembered, connected or lost; past this the longest-lost are forgotten.
pub const MAX_PEERS: usize = 512;
/// Addresses kept per peer.
pub const MAX_ADDRESSES: usize = 8;

#[derive(Debug, Default)]
struct Known {
    addresses: Vec<Multiaddr>,
    /// Set while the peer is lost; `None` while connected.
    lost: Option<Lost>,
    /// Whether the daemon wants this peer back: it shares a pod.
    wanted: bool,
}

#[derive(Clone, Copy, Debug)]
struct Lost {
    /// When the last connection closed.
    since: Instant,
    /// When to dial next.
    next_dial: Instant,
}

/// Peers to redial, with their addresses.
#[derive(Debug, Default)]
pub struct Redials {
    peers: HashMap<PeerId, Known>,
}

impl Redials {
    /// Remembers an address `peer` can be reached at (its listen addresses from identify, or
    /// the address the daemon dialled). Unknown peers are added only while there is room.
    pub fn add_address(&mut self, peer: PeerId, address: Multiaddr) {
        if !self.peers.contains_key(&peer) && !self.make_room() {
            return;
        }
        let known = self.peers.entry(peer).or_default();
        if !known.addresses.contains(&address) {
            if known.addresses.len() >= MAX_ADDRESSES {
                known.addresses.remove(0);
            }
            known.addresses.push(address);
        }
    }

    /// Marks `peer` as one to bring back if its connection is lost.
    pub fn want(&mut self, peer: PeerId) {
        if !self.peers.contains_key(&peer) && !self.make_room() {
            return;
        }
        self.peers.entry(peer).or_default().wanted = true;
    }

    /// A connection to `peer` is up: nothing to redial.
    pub fn connected(&mut self, peer: PeerId) {
        if let Some(known) = self.peers.get_mut(&peer) {
            known.lost = None;
        }
    }

    /// The last connection to `peer` closed at `now`. A peer that is not wanted is forgotten.
    pub fn disconnected(&mut self, peer: PeerId, now: Instant) {
        match self.peers.get_mut(&peer) {
            Some(known) if known.wanted && !known.addresses.is_empty() => {
                known.lost = Some(Lost {
                    since: now,
                    next_dial: now + FAST_RETRY / 2,
                });
            }
            Some(_) => {
                self.peers.remove(&peer);
            }
            None => {}
        }
    }

    /// The peers to dial at `now`, with their addresses; each is scheduled for its next retry.
    pub fn due(&mut self, now: Instant) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut due = Vec::new();
        self.peers.retain(|peer, known| {
            let Some(lost) = known.lost.as_mut() else {
                return true;
            };
            let since = now.saturating_duration_since(lost.since);
            if since >= GIVE_UP {
                return false;
            }
            if now >= lost.next_dial {
                let pace = if since < FAST_WINDOW {
                    FAST_RETRY
                } else {
                    SLOW_RETRY
                };
                lost.next_dial = now + pace;
                due.push((*peer, known.addresses.clone()));
            }
            true
        });
        due
    }

    /// Forgets `peer` entirely (it was banned).
    pub fn forget(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
    }

    /// How many peers are lost and waiting to be redialled.
    pub fn lost(&self) -> usize {
        self.peers.values().filter(|k| k.lost.is_some()).count()
    }

    /// Frees a slot if the book is full, forgetting the longest-lost peer; false if every
    /// remembered peer is connected.
    fn make_room(&mut self) -> bool {
        if self.peers.len() < MAX_PEERS {
            return true;
        }
        let oldest = self
            .peers
            .iter()
            .filter_map(|(peer, known)| known.lost.map(|lost| (lost.since, *peer)))
            .min();
        match oldest {
            Some((_, peer)) => {
                self.peers.remove(&peer);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(port: u16) -> Multiaddr {
        format!("/ip4/10.0.0.1/tcp/{port}")
            .parse()
            .expect("address")
    }

    #[test]
    fn a_lost_pod_peer_is_redialled_fast_then_slowly_then_forgotten() {
        let mut book = Redials::default();
        let peer = PeerId::random();
        let start = Instant::now();
        book.add_address(peer, address(1));
        book.want(peer);
        book.connected(peer);
        assert!(
            book.due(start).is_empty(),
            "a connected peer is not dialled"
        );

        book.disconnected(peer, start);
        assert_eq!(book.lost(), 1);
        assert!(
            book.due(start).is_empty(),
            "not at the very instant it was lost"
        );
        let first = book.due(start + FAST_RETRY / 2);
        assert_eq!(first, vec![(peer, vec![address(1)])]);
        assert!(
            book.due(start + FAST_RETRY / 2 + Duration::from_millis(10))
                .is_empty(),
            "one dial per retry period"
        );
        assert_eq!(book.due(start + FAST_RETRY * 2).len(), 1);

        let late = start + FAST_WINDOW + Duration::from_secs(1);
        assert_eq!(book.due(late).len(), 1);
        assert!(
            book.due(late + FAST_RETRY).is_empty(),
            "slow pace after the window"
        );
        assert_eq!(book.due(late + SLOW_RETRY).len(), 1);

        assert!(book.due(start + GIVE_UP).is_empty());
        assert_eq!(book.lost(), 0, "forgotten after a day");
    }

    #[test]
    fn a_reconnected_peer_is_no_longer_dialled() {
        let mut book = Redials::default();
        let peer = PeerId::random();
        let start = Instant::now();
        book.add_address(peer, address(1));
        book.want(peer);
        book.disconnected(peer, start);
        book.connected(peer);
        assert!(book.due(start + FAST_RETRY * 3).is_empty());
        assert_eq!(book.lost(), 0);
    }

    #[test]
    fn peers_that_share_no_pod_or_have_no_address_are_forgotten_when_lost() {
        let mut book = Redials::default();
        let start = Instant::now();
        let stranger = PeerId::random();
        book.add_address(stranger, address(1));
        book.disconnected(stranger, start);
        let nowhere = PeerId::random();
        book.want(nowhere);
        book.disconnected(nowhere, start);
        assert!(book.due(start + FAST_RETRY).is_empty());
        assert_eq!(book.lost(), 0);
    }

    #[test]
    fn the_book_is_bounded_and_forgets_the_longest_lost_first() {
        let mut book = Redials::default();
        let start = Instant::now();
        let first = PeerId::random();
        book.add_address(first, address(1));
        book.want(first);
        book.disconnected(first, start);
        for n in 1..MAX_PEERS {
            let peer = PeerId::random();
            book.add_address(peer, address(n as u16));
            book.want(peer);
            book.disconnected(peer, start + Duration::from_secs(1));
        }
        let newcomer = PeerId::random();
        book.add_address(newcomer, address(9));
        assert_eq!(book.peers.len(), MAX_PEERS);
        assert!(
            !book.peers.contains_key(&first),
            "the longest-lost peer made room"
        );

        let mut full = Redials::default();
        for n in 0..MAX_PEERS {
            full.add_address(PeerId::random(), address(n as u16));
        }
        let extra = PeerId::random();
        full.add_address(extra, address(1));
        assert!(
            !full.peers.contains_key(&extra),
            "no room while every peer is connected"
        );
    }

    #[test]
    fn addresses_per_peer_are_bounded_and_deduplicated() {
        let mut book = Redials::default();
        let peer = PeerId::random();
        for n in 0..(MAX_ADDRESSES as u16 * 2) {
            book.add_address(peer, address(n));
            book.add_address(peer, address(n));
        }
        book.want(peer);
        let start = Instant::now();
        book.disconnected(peer, start);
        let due = book.due(start + FAST_RETRY);
        assert_eq!(due[0].1.len(), MAX_ADDRESSES);
    }
}
