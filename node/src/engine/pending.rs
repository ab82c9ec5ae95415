//! Have notices whose record is being fetched: their gossip verdict waits for the record.
//!
//! Gossipsub forwards a message only once the engine gives its verdict, so a notice held here
//! is a notice not yet passed on. The map is bounded in three ways, so that no peer can hold
//! back members' notices by sending fake ones: a total bound, a share per peer (small for a
//! peer that has not shown a member's binding), and an age: a notice whose record has not come
//! within the request timeout gets `Ignore`, whatever else is outstanding.

use std::collections::BTreeMap;

use myco_dna::ActionHash;

use super::io::PeerId;

/// How many notices a peer that showed no member binding may have waiting at once. A member
/// announces its own records, a few at a time; a stranger's notices are worth little.
pub const MAX_PENDING_PER_STRANGER: usize = 8;

/// How many notices a peer that showed a member's binding may have waiting at once: a burst
/// of writes by one member fits, a flood does not.
pub const MAX_PENDING_PER_MEMBER: usize = 256;

/// How many peers may wait on one record: the first few carry the verdict just as well.
pub const MAX_WAITERS_PER_RECORD: usize = 16;

/// One record's waiting notices.
#[derive(Debug, Default)]
struct Waiting {
    since: u64,
    notices: Vec<(PeerId, Vec<u8>)>,
}

/// The held notices; see the module docs.
#[derive(Debug)]
pub(crate) struct PendingGossip {
    max_total: usize,
    by_record: BTreeMap<ActionHash, Waiting>,
    per_peer: BTreeMap<PeerId, usize>,
}

impl PendingGossip {
    /// At most `max_total` records waited on at once.
    pub fn new(max_total: usize) -> Self {
        PendingGossip {
            max_total,
            by_record: BTreeMap::new(),
            per_peer: BTreeMap::new(),
        }
    }

    /// Whether a notice from `peer` may be held now.
    pub fn has_room(&self, peer: &PeerId, member: bool) -> bool {
        let share = if member {
            MAX_PENDING_PER_MEMBER
        } else {
            MAX_PENDING_PER_STRANGER
        };
        self.by_record.len() < self.max_total
            && self.per_peer.get(peer).copied().unwrap_or(0) < share
    }

    /// Holds a notice for `hash` from `peer` (the caller checked [`Self::has_room`]). A notice
    /// beyond [`MAX_WAITERS_PER_RECORD`] for one record is returned, to be answered `Ignore`.
    pub fn hold(
        &mut self,
        now: u64,
        hash: ActionHash,
        peer: PeerId,
        message_id: Vec<u8>,
    ) -> Option<(PeerId, Vec<u8>)> {
        let waiting = self.by_record.entry(hash).or_insert_with(|| Waiting {
            since: now,
            notices: Vec::new(),
        });
        if waiting.notices.len() >= MAX_WAITERS_PER_RECORD {
            return Some((peer, message_id));
        }
        *self.per_peer.entry(peer.clone()).or_default() += 1;
        waiting.notices.push((peer, message_id));
        None
    }

    /// The notices waiting on `hash`, which has just been stored.
    pub fn release(&mut self, hash: &ActionHash) -> Option<Vec<(PeerId, Vec<u8>)>> {
        let waiting = self.by_record.remove(hash)?;
        for (peer, _) in &waiting.notices {
            self.uncount(peer);
        }
        Some(waiting.notices)
    }

    /// Removes and returns every notice held since before `cutoff`.
    pub fn expire(&mut self, cutoff: u64) -> Vec<(PeerId, Vec<u8>)> {
        let old: Vec<ActionHash> = self
            .by_record
            .iter()
            .filter(|(_, w)| w.since < cutoff)
            .map(|(hash, _)| *hash)
            .collect();
        old.iter()
            .filter_map(|hash| self.release(hash))
            .flatten()
            .collect()
    }

    /// How many records are waited on.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_record.len()
    }

    fn uncount(&mut self, peer: &PeerId) {
        if let Some(count) = self.per_peer.get_mut(peer) {
            *count -= 1;
            if *count == 0 {
                self.per_peer.remove(peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> PeerId {
        PeerId(vec![n])
    }

    #[test]
    fn a_stranger_gets_a_small_share_and_a_member_a_larger_one() {
        let mut pending = PendingGossip::new(1_000);
        for i in 0..MAX_PENDING_PER_STRANGER {
            assert!(pending.has_room(&peer(1), false));
            pending.hold(0, ActionHash([i as u8; 32]), peer(1), vec![i as u8]);
        }
        assert!(!pending.has_room(&peer(1), false));
        assert!(pending.has_room(&peer(1), true));
        assert!(pending.has_room(&peer(2), false));
    }

    #[test]
    fn old_notices_expire_and_free_their_peers_share() {
        let mut pending = PendingGossip::new(1_000);
        for i in 0..MAX_PENDING_PER_STRANGER {
            pending.hold(10, ActionHash([i as u8; 32]), peer(1), vec![]);
        }
        assert!(pending.expire(10).is_empty());
        assert_eq!(pending.expire(11).len(), MAX_PENDING_PER_STRANGER);
        assert_eq!(pending.len(), 0);
        assert!(pending.has_room(&peer(1), false));
    }

    #[test]
    fn a_released_record_returns_every_waiting_notice() {
        let mut pending = PendingGossip::new(1_000);
        let hash = ActionHash([1; 32]);
        pending.hold(0, hash, peer(1), vec![1]);
        pending.hold(0, hash, peer(2), vec![2]);
        assert_eq!(pending.release(&hash).map(|n| n.len()), Some(2));
        assert_eq!(pending.release(&hash), None);
    }

    #[test]
    fn the_total_bound_holds() {
        let mut pending = PendingGossip::new(2);
        pending.hold(0, ActionHash([1; 32]), peer(1), vec![]);
        pending.hold(0, ActionHash([2; 32]), peer(2), vec![]);
        assert!(!pending.has_room(&peer(3), true));
    }
}
