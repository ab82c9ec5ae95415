//! Key layout of the on-disk store: one sled tree, prefixed keys, so that one `Batch` covers a
//! whole append and is applied atomically.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `r` | action hash | record wire bytes |
//! | `c` | pod, author, seq (big-endian) | action hash |
//! | `h` | pod, author | head seq (big-endian), head hash |
//! | `t` | pod, author, type tag, seq (big-endian) | action hash |
//! | `p` | action hash | empty: the record's entry was purged and may never be filled again |
//! | `w` | pod, offender's key hash | the warrant's canonical bytes |
//!
//! The type tag is the first 8 bytes of blake2b-256 of `zome/entry_type`.

use myco_dna::{ActionHash, DnaHash, KeyHash};

use super::{ChainHead, ChainId};

/// Prefix of record keys.
pub(crate) const RECORD: u8 = b'r';
/// Prefix of chain-index keys.
pub(crate) const CHAIN: u8 = b'c';
/// Prefix of chain-head keys.
pub(crate) const HEAD: u8 = b'h';
/// Prefix of typed-record index keys.
pub(crate) const TYPED: u8 = b't';
/// Prefix of purge markers.
pub(crate) const PURGED: u8 = b'p';
/// Prefix of kept warrants.
pub(crate) const WARRANT: u8 = b'w';

/// Key of a record.
pub(crate) fn record_key(hash: &ActionHash) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = RECORD;
    key[1..].copy_from_slice(hash.as_bytes());
    key
}

/// Key of the marker left by purging a record's entry.
pub(crate) fn purged_key(hash: &ActionHash) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = PURGED;
    key[1..].copy_from_slice(hash.as_bytes());
    key
}

/// Key of the warrant against `offender` in `pod`; its first 33 bytes are the pod's prefix.
pub(crate) fn warrant_key(pod: &DnaHash, offender: &KeyHash) -> [u8; 65] {
    let mut key = [0u8; 65];
    key[0] = WARRANT;
    key[1..33].copy_from_slice(pod.as_bytes());
    key[33..65].copy_from_slice(offender.as_bytes());
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

/// The 8-byte tag of an entry type in the typed index.
pub(crate) fn type_tag(zome: &str, entry_type: &str) -> [u8; 8] {
    let digest = myco_dna::blake2b_256(format!("{zome}/{entry_type}").as_bytes());
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&digest[..8]);
    tag
}

/// Key of one typed record of a chain.
pub(crate) fn typed_key(chain: &ChainId, tag: &[u8; 8], seq: u64) -> [u8; 81] {
    let mut key = [0u8; 81];
    key[0] = TYPED;
    key[1..33].copy_from_slice(chain.pod.as_bytes());
    key[33..65].copy_from_slice(chain.author.as_bytes());
    key[65..73].copy_from_slice(tag);
    key[73..81].copy_from_slice(&seq.to_be_bytes());
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
