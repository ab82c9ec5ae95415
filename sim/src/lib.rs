//! # myco-sim: Myco's deterministic simulator
//!
//! `myco-sim` runs thousands of agents in one process under virtual time, each one a real
//! [`myco_node::engine::Engine`] over a [`myco_node::store::MemoryStore`]: the same code the
//! daemon runs, not a model of it. Only the network around the engines is modelled.
//!
//! ```text
//!  scenario.toml ──► run::run(seed) ──► one World per pod (2 threads) ──► report::Report
//!                                         │                               (JSON, SVG)
//!    queue: events by (virtual µs, seq)   │   registry: kademlia::Dht
//!    link: latency, jitter, loss, dup,    │   (k-buckets, α lookups, every PUT
//!          reorder, bandwidth, partitions │    and GET checked by Pointer::validate)
//!    mesh: gossipsub D = 6, IHAVE/IWANT   │
//!    adversary: forgers, forkers, rule-breakers, vote-stuffers, spammers, readers
//! ```
//!
//! Determinism: everything random comes from ChaCha RNGs seeded from the run's seed (one
//! stream per pod, one for the registry), every map that drives a decision is ordered, and
//! nothing reads the wall clock except the measurement of the simulator's own speed. The
//! same seed gives the same `trace_hash`.
//!
//! Modules, each with one job: [`queue`] (the event queue), [`link`] (netem-style links and
//! partitions), [`mesh`] (gossipsub), [`kademlia`] (the registry's DHT), [`lookup`] (the
//! registry workload), [`adversary`] (bad behaviours), [`workload`] (what honest members
//! write), [`setup`] (keys, DNA, roles, warm start), [`world`] (one pod's event loop),
//! [`metrics`], [`report`], [`plot`], [`trace`], [`scenario`] (the TOML format) and [`run`].
//!
//! ```
//! use myco_sim::scenario::Scenario;
//!
//! let scenario = Scenario::from_toml(r#"
//!     name = "doc"
//!     duration_s = 4
//!     [pods]
//!     members = 4
//!     [workload]
//!     records_per_node = 1
//!     spread_s = 1
//! "#).unwrap();
//! let hidden = indicatif::ProgressBar::hidden();
//! let report = myco_sim::run::run(&scenario, 7, None, &hidden).unwrap().report;
//! assert_eq!(report.delivery.ratio, 1.0);
//! assert_eq!(report.invalid_accepted, 0);
//! let again = myco_sim::run::run(&scenario, 7, None, &hidden).unwrap().report;
//! assert_eq!(report.trace_hash, again.trace_hash);
//! ```

pub mod adversary;
pub mod kademlia;
pub mod link;
pub mod lookup;
pub mod mesh;
pub mod metrics;
pub mod plot;
pub mod queue;
pub mod report;
pub mod run;
pub mod scenario;
pub mod setup;
pub mod trace;
pub mod workload;
pub mod world;
