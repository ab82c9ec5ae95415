//! Peers kept away for a while because they flooded this node with requests (the engine asks
//! for it with `Output::Disconnect`; see the engine's `flood.rs`), or answered a lookup with
//! a forged profile (see `lookup/forgers.rs`, which also keeps them out of later lookups).
//!
//! The driver blocks a banned peer in the swarm (every connection closes, none is accepted or
//! dialled) and blacklists it in gossipsub; when the ban ends it lifts both. The book takes
//! the time as an argument, like the redial book.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// How long a flooding peer is kept away.
pub const BAN: Duration = Duration::from_secs(10 * 60);
/// Peers banned at once; past this the ban that ends soonest is lifted early.
pub const MAX_BANNED: usize = 1024;

/// Banned peers and when their bans end.
#[derive(Debug, Default)]
pub struct Bans {
    until: HashMap<PeerId, Instant>,
}

impl Bans {
    /// Bans `peer` from `now` for [`BAN`]. Returns a peer whose ban was lifted early to make
    /// room, if any.
    pub fn ban(&mut self, peer: PeerId, now: Instant) -> Option<PeerId> {
        let mut lifted = None;
        if !self.until.contains_key(&peer) && self.until.len() >= MAX_BANNED {
            lifted = self
                .until
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(p, _)| *p);
            if let Some(early) = lifted {
                self.until.remove(&early);
            }
        }
        self.until.insert(peer, now + BAN);
        lifted
    }

    /// Removes and returns the peers whose bans ended by `now`.
    pub fn ended(&mut self, now: Instant) -> Vec<PeerId> {
        let ended: Vec<PeerId> = self
            .until
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in &ended {
            self.until.remove(peer);
        }
        ended
    }

    /// How many peers are banned.
    pub fn len(&self) -> usize {
        self.until.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ban_ends_after_its_time() {
        let mut bans = Bans::default();
        let peer = PeerId::random();
        let t0 = Instant::now();
        assert_eq!(bans.ban(peer, t0), None);
        assert_eq!(bans.len(), 1);
        assert!(bans.ended(t0 + BAN - Duration::from_secs(1)).is_empty());
        assert_eq!(bans.ended(t0 + BAN), vec![peer]);
        assert_eq!(bans.len(), 0);
    }

    #[test]
    fn the_book_is_bounded_and_lifts_the_ban_that_ends_soonest() {
        let mut bans = Bans::default();
        let t0 = Instant::now();
        let first = PeerId::random();
        bans.ban(first, t0);
        for i in 1..MAX_BANNED {
            bans.ban(PeerId::random(), t0 + Duration::from_millis(i as u64));
        }
        assert_eq!(bans.len(), MAX_BANNED);
        let lifted = bans.ban(PeerId::random(), t0 + Duration::from_secs(5));
        assert_eq!(lifted, Some(first));
        assert_eq!(bans.len(), MAX_BANNED);
    }
}
