//! Links in the style of netem: latency with a jitter distribution, loss, duplication,
//! reordering and bandwidth, plus one-way and two-way partitions between groups of nodes.
//!
//! A link never reads a clock: it turns (now, message size, RNG) into zero, one or two
//! arrival times. Bandwidth is modelled as each node's uplink: a message leaves only after the
//! ones queued before it have been serialised.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// The shape of the jitter added to the base latency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// Normal, with `jitter_ms` as its standard deviation (netem's `distribution normal`).
    #[default]
    Normal,
    /// Uniform in ±`jitter_ms`.
    Uniform,
    /// Pareto-like heavy tail, `jitter_ms` as its scale: most messages fast, a few very late.
    Pareto,
}

/// How every link of a scenario behaves.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSpec {
    /// Mean one-way latency, in ms.
    pub latency_ms: f64,
    /// Jitter scale, in ms.
    pub jitter_ms: f64,
    /// Jitter distribution.
    pub jitter: Jitter,
    /// Chance a message is lost, 0..1.
    pub loss: f64,
    /// Chance a message is delivered twice, 0..1.
    pub duplicate: f64,
    /// Chance a message is held back by `reorder_ms` so later ones overtake it, 0..1.
    pub reorder: f64,
    /// How long a reordered message is held back, in ms.
    pub reorder_ms: f64,
    /// Each node's uplink, in Mbit/s; none means unlimited.
    pub bandwidth_mbps: Option<f64>,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            latency_ms: 50.0,
            jitter_ms: 10.0,
            jitter: Jitter::Normal,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_ms: 20.0,
            bandwidth_mbps: None,
        }
    }
}

/// Shortest one-way delay a link gives, in µs: nothing arrives at the instant it is sent.
pub const MIN_DELAY_MICROS: u64 = 100;

impl LinkSpec {
    /// One sample of one-way latency, in µs.
    pub fn sample_latency(&self, rng: &mut ChaCha8Rng) -> u64 {
        let base = self.latency_ms * 1_000.0;
        let scale = self.jitter_ms * 1_000.0;
        let jitter = if scale <= 0.0 {
            0.0
        } else {
            match self.jitter {
                Jitter::Normal => {
                    // Box–Muller: two uniforms give one standard normal.
                    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
                    let u2: f64 = rng.gen();
                    scale * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                }
                Jitter::Uniform => rng.gen_range(-scale..=scale),
                Jitter::Pareto => {
                    // Shape 3: mean 1.5 × scale, so subtract it to keep the mean at `base`.
                    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
                    scale * (u.powf(-1.0 / 3.0) - 1.0) - scale * 0.5
                }
            }
        };
        ((base + jitter).max(0.0) as u64).max(MIN_DELAY_MICROS)
    }

    /// Time to put `bytes` on the wire of one uplink, in µs.
    pub fn serialisation_micros(&self, bytes: usize) -> u64 {
        match self.bandwidth_mbps {
            Some(mbps) if mbps > 0.0 => ((bytes as f64 * 8.0) / mbps) as u64,
            _ => 0,
        }
    }

    /// True if one message is lost (a draw of the loss chance alone).
    pub fn loses(&self, rng: &mut ChaCha8Rng) -> bool {
        self.loss > 0.0 && rng.gen_bool(self.loss.min(1.0))
    }

    /// Arrival times of one message sent at `departs` (after the uplink queue): empty if it is
    /// lost, two if it is duplicated.
    pub fn arrivals(&self, rng: &mut ChaCha8Rng, departs: u64) -> Vec<u64> {
        if self.loses(rng) {
            return Vec::new();
        }
        let copies = if self.duplicate > 0.0 && rng.gen_bool(self.duplicate.min(1.0)) {
            2
        } else {
            1
        };
        (0..copies)
            .map(|_| {
                let mut at = departs + self.sample_latency(rng);
                if self.reorder > 0.0 && rng.gen_bool(self.reorder.min(1.0)) {
                    at += (self.reorder_ms * 1_000.0) as u64;
                }
                at
            })
            .collect()
    }
}

/// A partition scheduled in a scenario.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionSpec {
    /// When it starts, in s of virtual time.
    pub start_s: f64,
    /// When it heals, in s.
    pub end_s: f64,
    /// Share of each pod's nodes on side A, 0..1.
    #[serde(default = "half")]
    pub fraction: f64,
    /// If true, only messages from side A to side B are dropped; B still reaches A.
    #[serde(default)]
    pub one_way: bool,
}

fn half() -> f64 {
    0.5
}

/// The partitions in force in one pod's network.
#[derive(Clone, Debug, Default)]
pub struct Partitions {
    active: Vec<(Vec<bool>, bool)>,
}

impl Partitions {
    /// Puts a partition in force: `side_a[i]` says which side node `i` is on.
    pub fn start(&mut self, side_a: Vec<bool>, one_way: bool) -> usize {
        self.active.push((side_a, one_way));
        self.active.len() - 1
    }

    /// Heals every partition in force.
    pub fn heal_all(&mut self) {
        self.active.clear();
    }

    /// True if some partition in force drops messages from `from` to `to`.
    pub fn blocks(&self, from: usize, to: usize) -> bool {
        self.active.iter().any(|(side_a, one_way)| {
            let (a, b) = (side_a[from], side_a[to]);
            if *one_way {
                a && !b
            } else {
                a != b
            }
        })
    }

    /// True if any partition is in force.
    pub fn any(&self) -> bool {
        !self.active.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_one_way_partition_drops_only_one_direction() {
        let mut p = Partitions::default();
        p.start(vec![true, false], true);
        assert!(p.blocks(0, 1));
        assert!(!p.blocks(1, 0));
        p.heal_all();
        assert!(!p.blocks(0, 1));
        p.start(vec![true, false], false);
        assert!(p.blocks(0, 1) && p.blocks(1, 0));
    }

    #[test]
    fn latency_samples_centre_on_the_configured_mean() {
        let link = LinkSpec::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 10_000;
        let mean = (0..n).map(|_| link.sample_latency(&mut rng)).sum::<u64>() / n;
        assert!((48_000..52_000).contains(&mean), "mean {mean} µs");
    }

    #[test]
    fn a_lossy_link_loses_about_its_share() {
        let link = LinkSpec {
            loss: 0.1,
            ..LinkSpec::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let lost = (0..10_000)
            .filter(|_| link.arrivals(&mut rng, 0).is_empty())
            .count();
        assert!((800..1200).contains(&lost), "{lost} lost");
    }
}
