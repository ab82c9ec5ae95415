//! # myco-dna: Myco's pure data model
//!
//! Everything two Myco nodes must agree on, byte for byte, lives here: keys and typed hashes
//! ([`hash`]), actions and entries ([`action`]), signed records and their wire form
//! ([`record`]), canonical CBOR ([`encoding`]), ed25519 signatures ([`signing`]), system
//! validation of chains ([`chain`]), fork warrants ([`warrant`]), DNA manifests ([`manifest`])
//! and the [`Zome`] trait that governance rules implement.
//!
//! The crate does no IO and reads no clock or RNG: timestamps and keys come in as arguments.
//! That is what lets the daemon and the simulator run the same validation.
//!
//! ```
//! use myco_dna::{Action, ActionBody, DnaHash, Record, SignedAction, SigningKey, Timestamp};
//! use myco_dna::{agent_key_of, chain};
//!
//! let key = SigningKey::from_bytes(&[7; 32]);
//! let genesis = Action {
//!     pod: DnaHash([1; 32]),
//!     author: agent_key_of(&key),
//!     seq: 0,
//!     prev: None,
//!     timestamp: Timestamp(1_700_000_000_000_000),
//!     body: ActionBody::Genesis { membrane_proof: Vec::new() },
//! };
//! let record = Record { signed: SignedAction::sign(genesis, &key), entry: None };
//!
//! // The wire form decodes back and passes every system check.
//! let bytes = record.to_bytes();
//! assert_eq!(chain::decode_and_check(&bytes).unwrap(), record);
//!
//! // A tampered signature is caught, and the error names the check that failed.
//! let mut forged = record.clone();
//! forged.signed.signature.0[0] ^= 0x01;
//! let err = chain::decode_and_check(&forged.to_bytes()).unwrap_err();
//! assert_eq!(err.check(), "signature");
//! ```

// Library code may not unwrap input; tests may.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod action;
pub mod author;
pub mod chain;
pub mod encoding;
pub mod hash;
pub mod limits;
pub mod manifest;
pub mod record;
pub mod signing;
pub mod warrant;
pub mod zome;

pub use action::{Action, ActionBody, Entry, EntryRef, Timestamp, Visibility};
pub use author::ChainAuthor;
pub use chain::SystemError;
pub use encoding::DecodeError;
pub use hash::{blake2b_256, ActionHash, AgentKey, DnaHash, EntryHash, KeyHash, ParseIdError};
pub use manifest::{BasisPoints, DnaManifest, ManifestError};
pub use record::{Record, SignedAction, RECORD_FORMAT_VERSION};
pub use signing::{agent_key_of, Signature, SignatureError, SigningKey};
pub use warrant::{Warrant, WarrantError};
pub use zome::{Breach, ValidationContext, Verdict, Zome};
