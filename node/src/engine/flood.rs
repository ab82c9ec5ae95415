//! Flood control for sync requests: a token bucket per peer, and strikes for what it refuses.
//!
//! Each peer may make `peer_requests_per_sec` requests per second on average, with bursts of
//! `peer_request_burst`. A request beyond that is refused with a reason (the peer may slow
//! down and carry on). Each refusal is a strike; strikes drain at the same average rate, so a
//! peer that keeps sending more than twice its allowance piles up more than a burst of them
//! and is disconnected ([`Output::Disconnect`](super::Output::Disconnect)). An honest peer
//! keeps at most `max_outstanding_per_peer` requests in flight and stays far below.
//!
//! The same buckets pace this node's own requests ([`RequestLimiter::try_take`], without
//! strikes): the engine sends each peer at most half the allowance it grants, so honest nodes
//! on the default configuration are never refused, let alone disconnected, even when a burst
//! of writes makes them ask a lot.
//!
//! Integers only: tokens are counted in millionths, so a refill is `elapsed µs × rate`.

use std::collections::BTreeMap;

use super::io::PeerId;

/// One token, in millionths.
const TOKEN: u64 = 1_000_000;

/// Most peers tracked at once; beyond it the peer with the fullest bucket is forgotten (it
/// loses nothing: it starts again with a full bucket).
pub(crate) const MAX_TRACKED_PEERS: usize = 4_096;

/// What to do with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Within the allowance: answer it.
    Allowed,
    /// Over the allowance: refuse it.
    Refused,
    /// Over the allowance for long enough: refuse it and disconnect the peer.
    Flooding,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Tokens left, in millionths.
    tokens: u64,
    /// Strikes, in millionths.
    strikes: u64,
    /// When the bucket was last refilled (µs).
    at: u64,
}

/// The buckets of every peer that asked something lately.
#[derive(Debug, Default)]
pub(crate) struct RequestLimiter {
    buckets: BTreeMap<PeerId, Bucket>,
}

impl RequestLimiter {
    /// Counts one request of `peer` at `now` against `rate` per second and bursts of `burst`.
    pub fn admit(&mut self, now: u64, peer: &PeerId, rate: u32, burst: u32) -> Admission {
        let cap = cap_of(burst);
        let bucket = self.refilled(now, peer, rate, burst);
        if bucket.tokens >= TOKEN {
            bucket.tokens -= TOKEN;
            return Admission::Allowed;
        }
        bucket.strikes = bucket.strikes.saturating_add(TOKEN);
        if bucket.strikes > cap {
            self.buckets.remove(peer);
            Admission::Flooding
        } else {
            Admission::Refused
        }
    }

    /// Takes a token for one request of this node to `peer`, if there is one. No strikes:
    /// the caller simply does not send.
    pub fn try_take(&mut self, now: u64, peer: &PeerId, rate: u32, burst: u32) -> bool {
        let bucket = self.refilled(now, peer, rate, burst);
        let taken = bucket.tokens >= TOKEN;
        if taken {
            bucket.tokens -= TOKEN;
        }
        taken
    }

    /// `peer`'s bucket (a full one for a new peer), refilled up to `now`.
    fn refilled(&mut self, now: u64, peer: &PeerId, rate: u32, burst: u32) -> &mut Bucket {
        let cap = cap_of(burst);
        if !self.buckets.contains_key(peer) && self.buckets.len() >= MAX_TRACKED_PEERS {
            self.forget_fullest();
        }
        let bucket = self.buckets.entry(peer.clone()).or_insert(Bucket {
            tokens: cap,
            strikes: 0,
            at: now,
        });
        let refill = now
            .saturating_sub(bucket.at)
            .saturating_mul(u64::from(rate));
        bucket.at = bucket.at.max(now);
        bucket.tokens = bucket.tokens.saturating_add(refill).min(cap);
        bucket.strikes = bucket.strikes.saturating_sub(refill);
        bucket
    }

    /// Forgets a peer that left.
    pub fn forget(&mut self, peer: &PeerId) {
        self.buckets.remove(peer);
    }

    fn forget_fullest(&mut self) {
        let fullest = self
            .buckets
            .iter()
            .max_by_key(|(_, b)| (b.tokens, u64::MAX - b.strikes))
            .map(|(p, _)| p.clone());
        if let Some(peer) = fullest {
            self.buckets.remove(&peer);
        }
    }
}

fn cap_of(burst: u32) -> u64 {
    u64::from(burst.max(1)) * TOKEN
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000;

    fn count(limiter: &mut RequestLimiter, peer: &PeerId, times: &[u64]) -> [usize; 3] {
        let mut out = [0; 3];
        for &t in times {
            match limiter.admit(t, peer, 100, 200) {
                Admission::Allowed => out[0] += 1,
                Admission::Refused => out[1] += 1,
                Admission::Flooding => out[2] += 1,
            }
        }
        out
    }

    /// `per_sec` requests a second, evenly spread, for `secs` seconds.
    fn steady(per_sec: u64, secs: u64) -> Vec<u64> {
        (0..per_sec * secs)
            .map(|i| SECOND + i * SECOND / per_sec)
            .collect()
    }

    #[test]
    fn a_peer_within_its_rate_is_never_refused() {
        let mut limiter = RequestLimiter::default();
        let peer = PeerId(vec![1]);
        assert_eq!(count(&mut limiter, &peer, &steady(100, 30)), [3000, 0, 0]);
    }

    #[test]
    fn a_burst_is_allowed_then_the_excess_refused() {
        let mut limiter = RequestLimiter::default();
        let peer = PeerId(vec![1]);
        let [allowed, refused, flooding] = count(&mut limiter, &peer, &[SECOND; 300]);
        assert_eq!((allowed, refused, flooding), (200, 100, 0));
    }

    #[test]
    fn a_peer_at_twice_its_rate_is_refused_but_stays() {
        let mut limiter = RequestLimiter::default();
        let peer = PeerId(vec![1]);
        let [allowed, refused, flooding] = count(&mut limiter, &peer, &steady(200, 60));
        assert_eq!(flooding, 0);
        assert!(refused > 0);
        assert!(
            (6_000..=6_300).contains(&allowed),
            "about the rate is allowed: {allowed}"
        );
    }

    #[test]
    fn a_peer_at_ten_times_its_rate_is_cut_off_within_a_second() {
        let mut limiter = RequestLimiter::default();
        let peer = PeerId(vec![1]);
        let times = steady(1000, 1);
        let first_flood = times
            .iter()
            .position(|&t| limiter.admit(t, &peer, 100, 200) == Admission::Flooding)
            .expect("cut off");
        assert!(first_flood < 1000, "cut off after {first_flood} requests");
        let other = PeerId(vec![2]);
        assert_eq!(
            limiter.admit(times[first_flood], &other, 100, 200),
            Admission::Allowed,
            "other peers keep their own allowance"
        );
    }

    #[test]
    fn pacing_takes_tokens_without_striking() {
        let mut pacer = RequestLimiter::default();
        let peer = PeerId(vec![1]);
        let sent = (0..1_000)
            .filter(|_| pacer.try_take(SECOND, &peer, 100, 200))
            .count();
        assert_eq!(sent, 200, "a burst, then nothing until tokens come back");
        assert!(pacer.try_take(SECOND + SECOND / 100, &peer, 100, 200));
        assert!(!pacer.try_take(SECOND + SECOND / 100, &peer, 100, 200));
    }

    #[test]
    fn tracked_peers_are_bounded() {
        let mut limiter = RequestLimiter::default();
        for i in 0..(MAX_TRACKED_PEERS as u32 + 10) {
            limiter.admit(SECOND, &PeerId(i.to_be_bytes().to_vec()), 100, 200);
        }
        assert_eq!(limiter.buckets.len(), MAX_TRACKED_PEERS);
    }
}
