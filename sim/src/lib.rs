//! # myco-sim: Myco's deterministic simulator
//!
//! `myco-sim` will run thousands of agents on `myco_node`'s own engine under virtual time,
//! with a seeded RNG, simulated links (latency, loss, partitions, churn) and adversaries.
//! Until the pod engine exists, this crate only reports the version of the engine it links.
//!
//! ```
//! assert!(!myco_sim::ENGINE_VERSION.is_empty());
//! ```

/// The version of `myco-node` this simulator was built against.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
