//! The JSON report of one run: delivery, convergence, redundancy, bytes, safety figures,
//! lookups, the simulator's own speed and the trace hash.

use serde::Serialize;

use crate::lookup::RegistryResult;
use crate::metrics::{quantile, PodResult};
use crate::scenario::Expect;

/// Delivery latency of honest records to honest members.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// Median, ms.
    pub p50_ms: u64,
    /// 90th percentile, ms.
    pub p90_ms: u64,
    /// 99th percentile, ms.
    pub p99_ms: u64,
    /// Slowest, ms.
    pub max_ms: u64,
    /// Delivered (record, member) pairs over expected ones.
    pub ratio: f64,
    /// Delivered pairs.
    pub delivered: u64,
    /// Expected pairs.
    pub expected: u64,
}

/// Registry lookups.
#[derive(Clone, Debug, Serialize)]
pub struct Lookups {
    /// DHT nodes.
    pub nodes: u64,
    /// Lookups run.
    pub count: u64,
    /// Median hops of successful lookups.
    pub p50_hops: u64,
    /// 99th-percentile hops.
    pub p99_hops: u64,
    /// Most hops.
    pub max_hops: u64,
    /// Share of lookups that found a valid pointer.
    pub success: f64,
    /// Median lookup time, ms.
    pub p50_ms: u64,
    /// 99th-percentile lookup time, ms.
    pub p99_ms: u64,
    /// log2(nodes): Kademlia's O(log n) bound with one-bit buckets.
    pub log2_nodes: f64,
    /// log2(nodes) / log2(k): what k-buckets predict for a lookup's length.
    pub predicted_hops: f64,
    /// PUTs refused by validation.
    pub puts_refused: u64,
    /// Hijack attempts.
    pub hijacks_attempted: u64,
    /// Hijacked pointers stored anywhere (must be 0).
    pub hijacks_stored: u64,
}

/// Warrants issued by honest members.
#[derive(Clone, Debug, Serialize)]
pub struct Warrants {
    /// In all.
    pub issued: u64,
    /// Against honest members (must be 0).
    pub false_warrants: u64,
    /// Forkers in the run.
    pub forkers: u64,
    /// Forkers warranted by every honest member of their pod.
    pub forkers_warranted: u64,
}

/// One run's report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Pods.
    pub pods: u64,
    /// Nodes in pods, readers included.
    pub nodes: u64,
    /// Honest records written.
    pub records: u64,
    /// Virtual time simulated (longest pod), ms.
    pub simulated_ms: u64,
    /// Delivery.
    pub delivery: Delivery,
    /// From the end of the last disturbance (write, partition, churn, attack) to the last
    /// delivery, ms; null if delivery is incomplete.
    pub convergence_ms: Option<u64>,
    /// Gossip copies of each honest record's message received per honest member.
    pub copies_per_node_per_record: f64,
    /// Bytes received per honest member.
    pub bytes_per_node: u64,
    /// Bytes sent per honest member.
    pub bytes_sent_per_node: u64,
    /// Invalid records accepted by honest members (must be 0).
    pub invalid_accepted: u64,
    /// Invalid records adversaries sent.
    pub invalid_sent: u64,
    /// Marker bytes of Pod or Private entries received by non-members (must be 0).
    pub leaks: u64,
    /// Bytes non-members received, all scanned.
    pub reader_bytes: u64,
    /// Warrants.
    pub warrants: Warrants,
    /// Honest writes the engine refused.
    pub author_refused: u64,
    /// Registry lookups, if the scenario has a registry.
    pub lookups: Option<Lookups>,
    /// Events the simulator processed.
    pub events: u64,
    /// Events per wall-clock second: the simulator's own speed.
    pub events_per_s: u64,
    /// Wall-clock time of the run, ms.
    pub wall_ms: u64,
    /// blake2b-256 of the ordered trace of delivered events, hex.
    pub trace_hash: String,
    /// Expectations and invariants the run failed; empty on success.
    pub failures: Vec<String>,
}

fn ms(micros: u64) -> u64 {
    micros / 1_000
}

/// Builds the report from each pod's figures and the registry's.
pub fn build(
    scenario: &str,
    seed: u64,
    pods: &[PodResult],
    nodes: u64,
    registry: Option<&RegistryResult>,
    trace: [u8; 32],
    wall: std::time::Duration,
) -> Report {
    let mut latencies: Vec<u64> = pods
        .iter()
        .flat_map(|p| p.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let sum = |f: fn(&PodResult) -> u64| pods.iter().map(f).sum::<u64>();
    let (delivered, expected) = (sum(|p| p.deliveries), sum(|p| p.expected_deliveries));
    let honest_nodes = sum(|p| p.honest_nodes).max(1);
    let records = sum(|p| p.honest_records);
    let receivers: u64 = pods
        .iter()
        .map(|p| p.honest_records * p.honest_nodes.saturating_sub(1))
        .sum();
    let complete = delivered == expected;
    let convergence_ms = complete.then(|| {
        pods.iter()
            .map(|p| ms(p.last_delivery_at.saturating_sub(p.disturbed_until)))
            .max()
            .unwrap_or(0)
    });
    let mut events = sum(|p| p.events);
    let lookups = registry.map(|r| {
        events += r.queries;
        let mut hops = r.hops.clone();
        hops.sort_unstable();
        let mut lat = r.latencies.clone();
        lat.sort_unstable();
        let n = r.nodes.max(2) as f64;
        Lookups {
            nodes: r.nodes,
            count: r.lookups,
            p50_hops: quantile(&hops, 0.5),
            p99_hops: quantile(&hops, 0.99),
            max_hops: hops.last().copied().unwrap_or(0),
            success: if r.lookups == 0 {
                1.0
            } else {
                r.found as f64 / r.lookups as f64
            },
            p50_ms: ms(quantile(&lat, 0.5)),
            p99_ms: ms(quantile(&lat, 0.99)),
            log2_nodes: round2(n.log2()),
            predicted_hops: round2(n.log2() / (r.k.max(2) as f64).log2()),
            puts_refused: r.puts_refused,
            hijacks_attempted: r.hijacks_attempted,
            hijacks_stored: r.hijacks_stored,
        }
    });
    let wall_s = wall.as_secs_f64().max(1e-6);
    Report {
        scenario: scenario.to_string(),
        seed,
        pods: pods.len() as u64,
        nodes,
        records,
        simulated_ms: pods.iter().map(|p| ms(p.simulated)).max().unwrap_or(0),
        delivery: Delivery {
            p50_ms: ms(quantile(&latencies, 0.5)),
            p90_ms: ms(quantile(&latencies, 0.9)),
            p99_ms: ms(quantile(&latencies, 0.99)),
            max_ms: ms(latencies.last().copied().unwrap_or(0)),
            ratio: if expected == 0 {
                1.0
            } else {
                delivered as f64 / expected as f64
            },
            delivered,
            expected,
        },
        convergence_ms,
        copies_per_node_per_record: round2(
            sum(|p| p.gossip_copies) as f64 / receivers.max(1) as f64,
        ),
        bytes_per_node: sum(|p| p.bytes_received) / honest_nodes,
        bytes_sent_per_node: sum(|p| p.bytes_sent) / honest_nodes,
        invalid_accepted: sum(|p| p.invalid_accepted),
        invalid_sent: sum(|p| p.invalid_sent),
        leaks: sum(|p| p.leaks),
        reader_bytes: sum(|p| p.reader_bytes),
        warrants: Warrants {
            issued: sum(|p| p.warrants),
            false_warrants: sum(|p| p.false_warrants),
            forkers: sum(|p| p.forkers),
            forkers_warranted: sum(|p| p.forkers_warranted),
        },
        author_refused: sum(|p| p.author_refused),
        lookups,
        events,
        events_per_s: (events as f64 / wall_s) as u64,
        wall_ms: wall.as_millis() as u64,
        trace_hash: trace.iter().map(|b| format!("{b:02x}")).collect(),
        failures: Vec::new(),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Report {
    /// Fills `failures` with the invariants (no invalid record accepted, no leak, no false
    /// warrant, no hijack stored) and the scenario's expectations that this run missed.
    pub fn check(&mut self, expect: &Expect) {
        let mut f = Vec::new();
        if self.invalid_accepted > 0 {
            f.push(format!(
                "{} invalid records accepted by honest members",
                self.invalid_accepted
            ));
        }
        if self.leaks > 0 {
            f.push(format!(
                "{} marker bytes of Pod or Private entries reached non-members",
                self.leaks
            ));
        }
        if self.warrants.false_warrants > 0 {
            f.push(format!(
                "{} warrants against honest members",
                self.warrants.false_warrants
            ));
        }
        if let Some(l) = &self.lookups {
            if l.hijacks_stored > 0 {
                f.push(format!(
                    "{} hijacked registry pointers stored",
                    l.hijacks_stored
                ));
            }
        }
        let d = &self.delivery;
        if let Some(min) = expect.min_delivery_ratio {
            if d.ratio < min {
                f.push(format!("delivery ratio {} below {min}", d.ratio));
            }
        }
        if let Some(max) = expect.max_p50_ms {
            if d.p50_ms > max {
                f.push(format!("p50 delivery {} ms above {max} ms", d.p50_ms));
            }
        }
        if let Some(max) = expect.max_p99_ms {
            if d.p99_ms > max {
                f.push(format!("p99 delivery {} ms above {max} ms", d.p99_ms));
            }
        }
        if let Some(max) = expect.max_copies_per_node_per_record {
            if self.copies_per_node_per_record > max {
                f.push(format!(
                    "{} copies per node per record, above {max}",
                    self.copies_per_node_per_record
                ));
            }
        }
        if expect.all_forkers_warranted && self.warrants.forkers_warranted < self.warrants.forkers {
            f.push(format!(
                "only {} of {} forkers warranted by every honest member",
                self.warrants.forkers_warranted, self.warrants.forkers
            ));
        }
        if let Some(l) = &self.lookups {
            if let Some(min) = expect.min_lookup_success {
                if l.success < min {
                    f.push(format!("lookup success {} below {min}", l.success));
                }
            }
            if let Some(max) = expect.max_p50_hops {
                if l.p50_hops > max {
                    f.push(format!("median lookup {} hops, above {max}", l.p50_hops));
                }
            }
            if let Some(max) = expect.max_p99_hops {
                if l.p99_hops > max {
                    f.push(format!("p99 lookup {} hops, above {max}", l.p99_hops));
                }
            }
        }
        self.failures = f;
    }
}
