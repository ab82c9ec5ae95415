//! Key layout of the on-disk store: one sled tree, prefixed keys, so that one `Batch` covers a
//! whole append and is applied atomically.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `r` | action hash | record wire bytes |
//! | `c` | pod, author, seq (big-endian) | action hash |
//! | `h` | pod, author | head seq (big-endian), head hash |

use myco_dna::ActionHash;

use super::{ChainHead, ChainId};

/// Prefix of record keys.
pub(crate) const RECORD: u8 = b'r';
/// Prefix of chain-index keys.
pub(crate) const CHAIN: u8 = b'c';
/// Prefix of chain-head keys.
pub(crate) const HEAD: u8 = b'h';

/// Key of a record.
pub(crate) fn record_key(hash: &ActionHash) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = RECORD;
    key[1..].copy_from_slice(hash.as_bytes());
    key
}

/// Key of a chain's head.
pub(crate) fn head_key(chain: &ChainId) -> [u8; 65] {
    let mut key = [0u8; 65];
    key[0] = HEAD;
    key[1..33].copy_from_slice(chain.pod.as_bytes());
    key[33..65].copy_from_slice(chain.author.as_bytes());
    key
}

/// Key of one seq of a chain.
pub(crate) fn chain_key(chain: &ChainId, seq: u64) -> [u8; 73] {
    let mut key = [0u8; 73];
    key[0] = CHAIN;
    key[1..33].copy_from_slice(chain.pod.as_bytes());
    key[33..65].copy_from_slice(chain.author.as_bytes());
    key[65..73].copy_from_slice(&seq.to_be_bytes());
    key
}

/// Encodes a head value.
pub(crate) fn head_value(head: &ChainHead) -> [u8; 40] {
    let mut value = [0u8; 40];
    value[..8].copy_from_slice(&head.seq.to_be_bytes());
    value[8..].copy_from_slice(head.hash.as_bytes());
    value
}

/// Decodes a head value; `None` if it has the wrong length.
pub(crate) fn parse_head_value(value: &[u8]) -> Option<ChainHead> {
    let seq = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let hash = ActionHash::from_slice(value.get(8..)?)?;
    Some(ChainHead { seq, hash })
}

/// Decodes a head key back into its chain; `None` if it has the wrong shape.
pub(crate) fn parse_head_key(key: &[u8]) -> Option<ChainId> {
    if key.len() != 65 || key[0] != HEAD {
        return None;
    }
    Some(ChainId {
        pod: myco_dna::DnaHash::from_slice(&key[1..33])?,
        author: myco_dna::AgentKey::from_slice(&key[33..65])?,
    })
}
