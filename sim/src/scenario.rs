//! Scenario files: what to simulate, in TOML. Every field has a default except the pods'
//! size; unknown fields are refused, and every error names the field at fault.

use serde::Deserialize;

use crate::link::{LinkSpec, PartitionSpec};

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file is not valid TOML, or a field has the wrong type or name.
    #[error("scenario does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    /// A field's value is out of range.
    #[error("scenario field `{field}` {reason}")]
    Invalid {
        /// The field, as a TOML path.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The DNA could not be loaded.
    #[error("scenario field `pods.dna`: {0}")]
    Dna(String),
}

/// A whole scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name, shown in reports.
    pub name: String,
    /// What the scenario is about.
    #[serde(default)]
    pub description: String,
    /// The seed used when the command line gives none.
    #[serde(default = "one")]
    pub seed: u64,
    /// Longest virtual time to simulate, in s.
    pub duration_s: f64,
    /// Stop this long after every honest record has reached every honest member and every
    /// disturbance is over; 0 runs to `duration_s`.
    #[serde(default = "settle")]
    pub settle_s: f64,
    /// Worker threads for scenarios with many pods (pods are independent).
    #[serde(default = "two")]
    pub threads: usize,
    /// The pods.
    #[serde(default)]
    pub pods: PodsSpec,
    /// Links.
    #[serde(default)]
    pub link: LinkSpec,
    /// Gossipsub parameters.
    #[serde(default)]
    pub gossip: GossipSpec,
    /// Engine settings.
    #[serde(default)]
    pub engine: EngineSpec,
    /// What honest members write.
    #[serde(default)]
    pub workload: Workload,
    /// Partitions, in each pod.
    #[serde(default)]
    pub partitions: Vec<PartitionSpec>,
    /// Nodes leaving and coming back.
    pub churn: Option<ChurnSpec>,
    /// Bad actors, in each pod.
    #[serde(default)]
    pub adversaries: AdversarySpec,
    /// The global registry (Kademlia).
    pub registry: Option<RegistrySpec>,
    /// Figures the run must meet, or the command exits 1.
    #[serde(default)]
    pub expect: Expect,
}

fn one() -> u64 {
    1
}
fn two() -> usize {
    2
}
fn settle() -> f64 {
    2.0
}

/// The pods and their members.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PodsSpec {
    /// How many pods (0 for a registry-only scenario).
    pub count: usize,
    /// Members per pod, adversaries included, readers not.
    pub members: usize,
    /// A DNA from `dna/examples/` by name (`territory-dk`, `storytelling`,
    /// `community-media`), or a path to a manifest relative to the scenario file.
    pub dna: String,
    /// Founders per pod (the first members; they vote on proposals).
    pub founders: usize,
    /// Peers each node is connected to in its pod (mesh peers included).
    pub connections: usize,
    /// If true, every member's Genesis is already in every member's store when the run
    /// starts (the pod exists); if false, members join during the run.
    pub warm_start: bool,
}

impl Default for PodsSpec {
    fn default() -> Self {
        PodsSpec {
            count: 1,
            members: 10,
            dna: "territory-dk".into(),
            founders: 3,
            connections: 20,
            warm_start: true,
        }
    }
}

/// Gossipsub, as modelled: a mesh per pod topic, eager push, lazy IHAVE/IWANT.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GossipSpec {
    /// Mesh degree D.
    pub d: usize,
    /// Fewest mesh peers before grafting more.
    pub d_lo: usize,
    /// Most mesh peers.
    pub d_hi: usize,
    /// Non-mesh peers sent IHAVE each heartbeat.
    pub d_lazy: usize,
    /// Heartbeat interval, in ms.
    pub heartbeat_ms: u64,
    /// Heartbeats a message is advertised in IHAVE.
    pub history: usize,
    /// Rejected messages after which a peer is graylisted.
    pub graylist_after: u32,
}

impl Default for GossipSpec {
    fn default() -> Self {
        GossipSpec {
            d: 6,
            d_lo: 4,
            d_hi: 12,
            d_lazy: 6,
            heartbeat_ms: 1_000,
            history: 3,
            graylist_after: 10,
        }
    }
}

/// Engine settings passed to every node's `EngineConfig`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSpec {
    /// Anti-entropy interval, in ms.
    pub sync_interval_ms: u64,
    /// Request timeout, in ms (also the transport's).
    pub request_timeout_ms: u64,
}

impl Default for EngineSpec {
    fn default() -> Self {
        EngineSpec {
            sync_interval_ms: 1_000,
            request_timeout_ms: 10_000,
        }
    }
}

/// What honest members write.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    /// Records each honest member writes.
    pub records_per_node: usize,
    /// Only this many members (the first honest ones) write; 0 means all of them.
    pub writers: usize,
    /// When writing starts, in s.
    pub start_s: f64,
    /// Writes are spread uniformly over this many s.
    pub spread_s: f64,
    /// Share of records with Public entries.
    pub public: f64,
    /// Share with Pod entries (the rest are Private).
    pub pod: f64,
    /// Proposals the first founder opens; every founder votes yes on each.
    pub proposals: usize,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            records_per_node: 1,
            writers: 0,
            start_s: 1.0,
            spread_s: 5.0,
            public: 1.0,
            pod: 0.0,
            proposals: 0,
        }
    }
}

/// Nodes leaving and coming back.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChurnSpec {
    /// Share of nodes that churn.
    pub fraction: f64,
    /// Mean time online between departures, in s (exponential).
    pub mean_online_s: f64,
    /// Mean time away, in s (exponential).
    pub mean_offline_s: f64,
    /// When churn starts, in s.
    #[serde(default)]
    pub start_s: f64,
    /// When churn ends and every node is back, in s.
    pub end_s: f64,
}

/// Bad actors in each pod, as shares of its members (each is a member unless a reader).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdversarySpec {
    /// Members who send forged records: entries swapped after signing, and records signed in
    /// someone else's name.
    pub forgers: f64,
    /// Members who sign two different records at the same seq.
    pub forkers: f64,
    /// Members who sign records their pod's rules forbid.
    pub rule_breakers: f64,
    /// Members who vote without being in the electorate, and vote twice.
    pub vote_stuffers: f64,
    /// Members who flood valid records and junk gossip.
    pub spammers: f64,
    /// Spam per spammer per second (records and junk messages each).
    pub spam_per_s: f64,
    /// Bad records per other adversary per second.
    pub rate_per_s: f64,
    /// Non-members per pod who subscribe to the topic and ask for sync.
    pub readers: usize,
    /// When attacks start, in s.
    pub start_s: f64,
    /// When attacks stop, in s.
    pub end_s: f64,
}

/// The registry: Kademlia over all nodes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrySpec {
    /// DHT nodes; 0 means one per pod member (at least one per agent).
    pub nodes: usize,
    /// Bucket size and replication factor.
    pub k: usize,
    /// Parallel queries per lookup step.
    pub alpha: usize,
    /// Share of DHT nodes offline at any lookup (fresh draw each epoch).
    pub churn: f64,
    /// Lookups to run.
    pub lookups: usize,
    /// Epochs over which churn is redrawn.
    pub epochs: usize,
    /// Registry hijacks attempted (pointers for someone else's key).
    pub hijacks: usize,
}

impl Default for RegistrySpec {
    fn default() -> Self {
        RegistrySpec {
            nodes: 0,
            k: 20,
            alpha: 3,
            churn: 0.0,
            lookups: 1_000,
            epochs: 10,
            hijacks: 10,
        }
    }
}

/// Figures a run must meet.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Least delivery ratio.
    pub min_delivery_ratio: Option<f64>,
    /// Largest p50 delivery latency, ms.
    pub max_p50_ms: Option<u64>,
    /// Largest p99 delivery latency, ms.
    pub max_p99_ms: Option<u64>,
    /// Largest copies per node per record.
    pub max_copies_per_node_per_record: Option<f64>,
    /// Least lookup success ratio.
    pub min_lookup_success: Option<f64>,
    /// Largest median lookup hops.
    pub max_p50_hops: Option<u64>,
    /// Largest p99 lookup hops.
    pub max_p99_hops: Option<u64>,
    /// Every forker must be warranted by every honest member.
    #[serde(default)]
    pub all_forkers_warranted: bool,
}

fn check(ok: bool, field: &'static str, reason: impl Into<String>) -> Result<(), ScenarioError> {
    if ok {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            field,
            reason: reason.into(),
        })
    }
}

fn share(value: f64, field: &'static str) -> Result<(), ScenarioError> {
    check(
        (0.0..=1.0).contains(&value),
        field,
        format!("must be between 0 and 1, got {value}"),
    )
}

impl Scenario {
    /// Parses and checks a scenario.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)?;
        scenario.check()?;
        Ok(scenario)
    }

    /// Checks every value's range.
    pub fn check(&self) -> Result<(), ScenarioError> {
        check(
            self.duration_s > 0.0 && self.duration_s <= 86_400.0,
            "duration_s",
            format!("must be in (0, 86400], got {}", self.duration_s),
        )?;
        check(self.threads >= 1, "threads", "must be at least 1")?;
        let p = &self.pods;
        check(
            p.count == 0 || p.members >= 2,
            "pods.members",
            format!("must be at least 2, got {}", p.members),
        )?;
        check(
            p.members <= 100_000,
            "pods.members",
            "must be at most 100000",
        )?;
        check(
            p.founders >= 1 && p.founders <= p.members.max(1),
            "pods.founders",
            "must be between 1 and pods.members",
        )?;
        let l = &self.link;
        check(
            l.latency_ms >= 0.0 && l.jitter_ms >= 0.0,
            "link.latency_ms",
            "latency and jitter must not be negative",
        )?;
        share(l.loss, "link.loss")?;
        share(l.duplicate, "link.duplicate")?;
        share(l.reorder, "link.reorder")?;
        check(
            l.bandwidth_mbps.is_none_or(|b| b > 0.0),
            "link.bandwidth_mbps",
            "must be positive",
        )?;
        let g = &self.gossip;
        check(
            g.d_lo <= g.d && g.d <= g.d_hi && g.d >= 1,
            "gossip.d",
            "needs 1 <= d_lo <= d <= d_hi",
        )?;
        check(
            g.heartbeat_ms > 0,
            "gossip.heartbeat_ms",
            "must be positive",
        )?;
        check(
            self.engine.sync_interval_ms > 0,
            "engine.sync_interval_ms",
            "must be positive",
        )?;
        let w = &self.workload;
        share(w.public, "workload.public")?;
        share(w.pod, "workload.pod")?;
        check(
            w.public + w.pod <= 1.0 + 1e-9,
            "workload.pod",
            "workload.public + workload.pod must be at most 1",
        )?;
        check(
            w.spread_s >= 0.0,
            "workload.spread_s",
            "must not be negative",
        )?;
        for part in &self.partitions {
            check(
                part.start_s < part.end_s,
                "partitions.end_s",
                "must come after start_s",
            )?;
            share(part.fraction, "partitions.fraction")?;
        }
        if let Some(c) = &self.churn {
            share(c.fraction, "churn.fraction")?;
            check(
                c.mean_online_s > 0.0 && c.mean_offline_s > 0.0,
                "churn.mean_online_s",
                "mean times must be positive",
            )?;
            check(
                c.end_s > c.start_s,
                "churn.end_s",
                "must come after start_s",
            )?;
        }
        let a = &self.adversaries;
        for (value, field) in [
            (a.forgers, "adversaries.forgers"),
            (a.forkers, "adversaries.forkers"),
            (a.rule_breakers, "adversaries.rule_breakers"),
            (a.vote_stuffers, "adversaries.vote_stuffers"),
            (a.spammers, "adversaries.spammers"),
        ] {
            share(value, field)?;
        }
        check(
            a.forgers + a.forkers + a.rule_breakers + a.vote_stuffers + a.spammers < 1.0,
            "adversaries",
            "the shares of bad actors must add up to less than 1",
        )?;
        check(
            a.spam_per_s >= 0.0 && a.rate_per_s >= 0.0,
            "adversaries.rate_per_s",
            "rates must not be negative",
        )?;
        if let Some(r) = &self.registry {
            check(r.k >= 1, "registry.k", "must be at least 1")?;
            check(r.alpha >= 1, "registry.alpha", "must be at least 1")?;
            share(r.churn, "registry.churn")?;
            check(r.epochs >= 1, "registry.epochs", "must be at least 1")?;
            check(
                r.nodes >= 2 || (r.nodes == 0 && p.count * p.members >= 2),
                "registry.nodes",
                "needs at least 2 DHT nodes (set it, or give the pods members)",
            )?;
        }
        check(
            p.count > 0 || self.registry.is_some(),
            "pods.count",
            "a scenario with no pods needs a [registry] section",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_out_of_range_loss_names_its_field() {
        let err = Scenario::from_toml("name = \"x\"\nduration_s = 1\n[link]\nloss = 1.5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("link.loss"), "{err}");
    }

    #[test]
    fn an_unknown_field_is_refused_by_name() {
        let err = Scenario::from_toml("name = \"x\"\nduration_s = 1\n[link]\nlatncy_ms = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("latncy_ms"), "{err}");
    }
}
