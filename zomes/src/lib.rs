//! # myco-zomes: Myco's governance rules
//!
//! A pod's DNA names the zomes whose rules every member's node enforces. This crate will hold
//! them: membership, governance (roles, proposals, votes, decisions), content and consent, and
//! value distribution. Each implements [`myco_dna::Zome`] and is pure and deterministic.
//!
//! For now it names the zomes a manifest may list:
//!
//! ```
//! assert!(myco_zomes::ZOME_NAMES.contains(&"governance"));
//! ```

/// The zomes a DNA manifest may name.
pub const ZOME_NAMES: [&str; 4] = ["membership", "governance", "content", "value"];
