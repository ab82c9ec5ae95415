//! # myco-node: the Myco agent runtime
//!
//! This crate holds what runs on a person's machine: the durable [`store`] of source chains,
//! the encrypted [`keystore`] of the agent's key, the [`datadir`] that holds both, and the
//! `myco` command line ([`cli`]).
//!
//! ```
//! use myco_dna::{ChainAuthor, DnaHash, SigningKey, Timestamp};
//! use myco_node::store::{ChainId, MemoryStore, Store, ValidRecord};
//!
//! let mut author = ChainAuthor::new(SigningKey::from_bytes(&[3; 32]), DnaHash([0; 32]));
//! let genesis = author.genesis(Timestamp(1), Vec::new());
//! let mut store = MemoryStore::new();
//! // A store appends only what validation passed.
//! store.append(&ValidRecord::checked(None, genesis.clone()).unwrap()).unwrap();
//! let head = store.head(&ChainId::of(&genesis)).unwrap().unwrap();
//! assert_eq!(head.hash, genesis.hash());
//! ```

// Library code may not unwrap input; tests may.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

#[cfg(feature = "net")]
pub mod api;
pub mod backup;
pub mod cli;
#[cfg(feature = "net")]
pub mod daemon;
pub mod datadir;
pub mod dates;
#[cfg(feature = "net")]
pub mod devnet;
pub mod engine;
pub mod export;
#[cfg(feature = "net")]
pub mod import;
pub mod keystore;
#[cfg(feature = "net")]
pub mod net;
pub mod phrase;
pub mod registry;
pub mod restored;
pub mod store;
