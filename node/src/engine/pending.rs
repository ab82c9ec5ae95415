//! Have notices whose record is being fetched: their gossip verdict waits for the record.
//!
//! Gossipsub forwards a message only once the engine gives its verdict, so a notice held here
//! is a notice not yet passed on. The map is bounded in four ways, so that no peer — nor a
//! crowd of identities — can hold back members' notices by sending fake ones: a total bound; a
//! quarter of it at most for peers that have not shown a member's binding ("strangers"), so
//! three quarters are always left for members; a share per peer (small for a stranger); and an
//! age: a notice whose record has not come within the request timeout gets `Ignore`, whatever
//! else is outstanding.

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

/// One held notice.
#[derive(Debug)]
struct Notice {
    peer: PeerId,
    message_id: Vec<u8>,
    member: bool,
}

/// One record's waiting notices.
#[derive(Debug, Default)]
struct Waiting {
    since: u64,
    notices: Vec<Notice>,
}

/// The held notices; see the module docs.
#[derive(Debug)]
pub(crate) struct PendingGossip {
    max_total: usize,
    by_record: BTreeMap<ActionHash, Waiting>,
    per_peer: BTreeMap<PeerId, usize>,
    /// Notices held from strangers, all peers together.
    from_strangers: usize,
}

impl PendingGossip {
    /// At most `max_total` records waited on at once.
    pub fn new(max_total: usize) -> Self {
        PendingGossip {
            max_total,
            by_record: BTreeMap::new(),
            per_peer: BTreeMap::new(),
            from_strangers: 0,
        }
    }

    /// Whether a notice from `peer` (`member`: it showed a current member's binding) may be
    /// held now.
    pub fn has_room(&self, peer: &PeerId, member: bool) -> bool {
        let share = if member {
            MAX_PENDING_PER_MEMBER
        } else {
            if self.from_strangers >= self.max_total / 4 {
                return false;
            }
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
        member: bool,
    ) -> Option<(PeerId, Vec<u8>)> {
        let waiting = self.by_record.entry(hash).or_insert_with(|| Waiting {
            since: now,
            notices: Vec::new(),
        });
        if waiting.notices.len() >= MAX_WAITERS_PER_RECORD {
            return Some((peer, message_id));
        }
        *self.per_peer.entry(peer.clone()).or_default() += 1;
        if !member {
            self.from_strangers += 1;
        }
        waiting.notices.push(Notice {
            peer,
            message_id,
            member,
        });
        None
    }

    /// The notices waiting on `hash`, which has just been stored.
    pub fn release(&mut self, hash: &ActionHash) -> Option<Vec<(PeerId, Vec<u8>)>> {
        let waiting = self.by_record.remove(hash)?;
        let mut out = Vec::with_capacity(waiting.notices.len());
        for notice in waiting.notices {
            self.uncount(&notice.peer);
            if !notice.member {
                self.from_strangers -= 1;
            }
            out.push((notice.peer, notice.message_id));
        }
        Some(out)
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

    fn two_byte_hash(a: u8, b: u8) -> ActionHash {
        let mut bytes = [0; 32];
        bytes[0] = a;
        bytes[1] = b;
        ActionHash(bytes)
    }

    #[test]
    fn a_stranger_gets_a_small_share_and_a_member_a_larger_one() {
        let mut pending = PendingGossip::new(1_000);
        for i in 0..MAX_PENDING_PER_STRANGER {
            assert!(pending.has_room(&peer(1), false));
            pending.hold(0, ActionHash([i as u8; 32]), peer(1), vec![i as u8], false);
        }
        assert!(!pending.has_room(&peer(1), false));
        assert!(pending.has_room(&peer(1), true));
        assert!(pending.has_room(&peer(2), false));
    }

    #[test]
    fn old_notices_expire_and_free_their_peers_share() {
        let mut pending = PendingGossip::new(1_000);
        for i in 0..MAX_PENDING_PER_STRANGER {
            pending.hold(10, ActionHash([i as u8; 32]), peer(1), vec![], false);
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
        pending.hold(0, hash, peer(1), vec![1], true);
        pending.hold(0, hash, peer(2), vec![2], false);
        assert_eq!(pending.release(&hash).map(|n| n.len()), Some(2));
        assert_eq!(pending.release(&hash), None);
    }

    #[test]
    fn a_crowd_of_strangers_fills_a_quarter_and_leaves_the_rest_to_members() {
        let mut pending = PendingGossip::new(400);
        for p in 0..200u8 {
            for i in 0..MAX_PENDING_PER_STRANGER {
                if pending.has_room(&peer(p), false) {
                    pending.hold(0, two_byte_hash(p, i as u8), peer(p), vec![], false);
                }
            }
        }
        assert_eq!(pending.len(), 100);
        assert!(!pending.has_room(&peer(250), false));
        assert!(pending.has_room(&peer(251), true));
    }

    #[test]
    fn the_total_bound_holds() {
        let mut pending = PendingGossip::new(2);
        pending.hold(0, ActionHash([1; 32]), peer(1), vec![], true);
        pending.hold(0, ActionHash([2; 32]), peer(2), vec![], true);
        assert!(!pending.has_room(&peer(3), true));
    }
}
