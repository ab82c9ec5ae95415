//! Providers that answered a profile request with a forgery, kept out of later lookups.
//!
//! No honest member sends a record that is not the agent's, not signed, not of the pod asked
//! or not public: one such answer is enough to stop asking that peer. The book is bounded and
//! forgets after a while, and takes the time as an argument like the ban book.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// How long a forger is not asked again: long enough to outlast an attack's lookups, short
/// enough that a reused peer id (a reinstalled node) is not shunned for good.
pub const FORGER_MEMORY: Duration = Duration::from_secs(3600);
/// Forgers remembered at once; past this the one remembered longest is forgotten. Each entry
/// is a peer id and an instant (under 100 bytes), so the book stays under half a MiB.
pub const MAX_FORGERS: usize = 4096;

/// Peers that forged a profile answer, and until when they are not asked.
#[derive(Debug, Default)]
pub struct Forgers {
    until: HashMap<PeerId, Instant>,
}

impl Forgers {
    /// Remembers `peer` as a forger from `now` for [`FORGER_MEMORY`].
    pub fn mark(&mut self, peer: PeerId, now: Instant) {
        self.until.retain(|_, until| *until > now);
        if !self.until.contains_key(&peer) && self.until.len() >= MAX_FORGERS {
            if let Some(oldest) = self.until.iter().min_by_key(|(_, u)| **u).map(|(p, _)| *p) {
                self.until.remove(&oldest);
            }
        }
        self.until.insert(peer, now + FORGER_MEMORY);
    }

    /// True if `peer` forged an answer and is still not to be asked at `now`.
    pub fn is_forger(&self, peer: &PeerId, now: Instant) -> bool {
        self.until.get(peer).is_some_and(|until| *until > now)
    }

    /// How many forgers are remembered.
    pub fn len(&self) -> usize {
        self.until.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forger_is_not_asked_again_until_it_is_forgotten() {
        let mut book = Forgers::default();
        let (peer, now) = (PeerId::random(), Instant::now());
        assert!(!book.is_forger(&peer, now));
        book.mark(peer, now);
        assert!(book.is_forger(&peer, now + FORGER_MEMORY / 2));
        assert!(!book.is_forger(&peer, now + FORGER_MEMORY));
    }

    #[test]
    fn the_book_is_bounded_and_forgets_the_oldest_first() {
        let mut book = Forgers::default();
        let now = Instant::now();
        let first = PeerId::random();
        book.mark(first, now);
        for n in 1..=MAX_FORGERS {
            book.mark(PeerId::random(), now + Duration::from_millis(n as u64));
        }
        assert_eq!(book.len(), MAX_FORGERS);
        assert!(!book.is_forger(&first, now));
    }
}
