//! What a run measures, collected as events happen in one pod, then summed over pods.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{ActionHash, KeyHash};

use crate::mesh::MsgId;

/// One honest record being tracked.
#[derive(Clone, Debug)]
struct Tracked {
    authored_at: u64,
    delivered: u32,
}

/// Per-pod collector.
#[derive(Default)]
pub struct Metrics {
    honest: Vec<bool>,
    records: BTreeMap<ActionHash, Tracked>,
    honest_messages: BTreeSet<MsgId>,
    bad: BTreeSet<ActionHash>,
    warrants: BTreeSet<(u32, KeyHash)>,
    /// What the pod's run adds to the totals.
    pub out: PodResult,
}

/// Raw figures of one pod's run (summed over pods into the report).
#[derive(Clone, Debug, Default)]
pub struct PodResult {
    /// Delivery latency of every (honest record, honest receiver) pair, in µs.
    pub latencies: Vec<u64>,
    /// Honest records written.
    pub honest_records: u64,
    /// (record, receiver) pairs that should be delivered.
    pub expected_deliveries: u64,
    /// Pairs delivered.
    pub deliveries: u64,
    /// Honest members.
    pub honest_nodes: u64,
    /// Gossip copies of honest records' messages received by honest members.
    pub gossip_copies: u64,
    /// Bytes received by honest members.
    pub bytes_received: u64,
    /// Bytes sent by honest members.
    pub bytes_sent: u64,
    /// Records known to be invalid that an honest member accepted.
    pub invalid_accepted: u64,
    /// Invalid records crafted by adversaries.
    pub invalid_sent: u64,
    /// Marker bytes of Pod or Private entries seen by non-members.
    pub leaks: u64,
    /// Bytes non-members received (scanned for markers).
    pub reader_bytes: u64,
    /// Warrants honest members issued against honest members.
    pub false_warrants: u64,
    /// Forkers, and forkers warranted by every honest member.
    pub forkers: u64,
    /// Forkers every honest member warranted.
    pub forkers_warranted: u64,
    /// Warrants issued by honest members, in all.
    pub warrants: u64,
    /// Honest local writes the engine refused.
    pub author_refused: u64,
    /// Events processed.
    pub events: u64,
    /// Virtual time of the last delivery of an honest record, µs from start.
    pub last_delivery_at: u64,
    /// When the last disturbance (write, partition, churn) ended, µs from start.
    pub disturbed_until: u64,
    /// Virtual time simulated, µs.
    pub simulated: u64,
    /// Hash of the pod's ordered trace of delivered events.
    pub trace: [u8; 32],
    /// The pod's id (its DNA hash).
    pub pod: [u8; 32],
}

impl Metrics {
    /// A collector for a pod whose honest members are marked in `honest`.
    pub fn new(honest: Vec<bool>) -> Self {
        let out = PodResult {
            honest_nodes: honest.iter().filter(|h| **h).count() as u64,
            ..PodResult::default()
        };
        Metrics {
            honest,
            out,
            ..Metrics::default()
        }
    }

    /// True if node `n` is an honest member.
    pub fn is_honest(&self, n: u32) -> bool {
        self.honest[n as usize]
    }

    /// An honest member wrote `hash` at `now`.
    pub fn authored(&mut self, hash: ActionHash, now: u64) {
        self.records.insert(
            hash,
            Tracked {
                authored_at: now,
                delivered: 0,
            },
        );
        self.out.honest_records += 1;
    }

    /// True if `hash` is an honest record being tracked.
    pub fn is_tracked(&self, hash: &ActionHash) -> bool {
        self.records.contains_key(hash)
    }

    /// The gossip message `id` carries an honest record (or its notice).
    pub fn honest_message(&mut self, id: MsgId) {
        self.honest_messages.insert(id);
    }

    /// An adversary crafted the invalid record `hash`.
    pub fn crafted_invalid(&mut self, hash: ActionHash) {
        if self.bad.insert(hash) {
            self.out.invalid_sent += 1;
        }
    }

    /// Node `n` accepted `hash` at `now`.
    pub fn accepted(&mut self, n: u32, hash: &ActionHash, now: u64) {
        if !self.is_honest(n) {
            return;
        }
        if self.bad.contains(hash) {
            self.out.invalid_accepted += 1;
        }
        if let Some(t) = self.records.get_mut(hash) {
            if now > t.authored_at || t.delivered > 0 {
                t.delivered += 1;
                self.out.latencies.push(now - t.authored_at);
                self.out.last_delivery_at = self.out.last_delivery_at.max(now);
            }
        }
    }

    /// Node `n` warranted `offender`; `offender_honest` says whether that was wrong.
    pub fn warranted(&mut self, n: u32, offender: KeyHash, offender_honest: bool) {
        if !self.is_honest(n) {
            return;
        }
        self.out.warrants += 1;
        if offender_honest {
            self.out.false_warrants += 1;
        }
        self.warrants.insert((n, offender));
    }

    /// A gossip message `id` reached node `n`.
    pub fn gossip_copy(&mut self, n: u32, id: &MsgId) {
        if self.is_honest(n) && self.honest_messages.contains(id) {
            self.out.gossip_copies += 1;
        }
    }

    /// Bytes moved between `from` and `to`.
    pub fn bytes(&mut self, from: u32, to: u32, size: usize) {
        if self.is_honest(from) {
            self.out.bytes_sent += size as u64;
        }
        if self.is_honest(to) {
            self.out.bytes_received += size as u64;
        }
    }

    /// Closes the collector: delivery counts and forker warrants.
    pub fn finish(mut self, forkers: &[KeyHash], trace: [u8; 32]) -> PodResult {
        let receivers = self.out.honest_nodes.saturating_sub(1);
        self.out.expected_deliveries = self.records.len() as u64 * receivers;
        self.out.deliveries = self
            .records
            .values()
            .map(|t| u64::from(t.delivered).min(receivers))
            .sum();
        let honest: Vec<u32> = (0..self.honest.len() as u32)
            .filter(|n| self.honest[*n as usize])
            .collect();
        self.out.forkers = forkers.len() as u64;
        self.out.forkers_warranted = forkers
            .iter()
            .filter(|f| honest.iter().all(|n| self.warrants.contains(&(*n, **f))))
            .count() as u64;
        self.out.trace = trace;
        self.out
    }

    /// True once every tracked honest record reached every other honest member.
    pub fn converged(&self) -> bool {
        let receivers = self.out.honest_nodes.saturating_sub(1) as u32;
        self.records.values().all(|t| t.delivered >= receivers)
    }
}

/// Scans `bytes` for `marker`, counting occurrences.
pub fn count_marker(bytes: &[u8], marker: &[u8]) -> u64 {
    if marker.is_empty() || bytes.len() < marker.len() {
        return 0;
    }
    bytes.windows(marker.len()).filter(|w| *w == marker).count() as u64
}

/// The value at quantile `q` (0..=1) of sorted `values`, by nearest rank.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.99), 99);
        assert_eq!(quantile(&v, 1.0), 100);
        assert_eq!(quantile(&[], 0.5), 0);
    }

    #[test]
    fn markers_are_counted_wherever_they_sit() {
        assert_eq!(count_marker(b"xxSECRETyySECRET", b"SECRET"), 2);
        assert_eq!(count_marker(b"SECRE", b"SECRET"), 0);
    }
}
