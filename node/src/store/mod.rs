//! Durable storage of source chains, behind the [`Store`] trait.
//!
//! Implementations: [`SqliteStore`] (the daemon's, on disk: entries sealed, purges erased,
//! every commit fsynced; [`SqliteReader`] reads it beside the engine), [`MemoryStore`] (tests
//! and the simulator) and [`SledStore`] (kept to move old stores over, and to measure
//! against). All enforce the same rule on append: a record must extend its chain's head
//! (seq + 1, prev = head hash), so a store never holds a gapped or forked chain. A batch is
//! applied atomically and made durable once (group commit) before [`Store::append_batch`]
//! returns. Each keeps the reference index of [`Store::referring`] ([`references`]).

mod files;
pub use files::sync_dir;
mod integrity;
mod keys;
mod memory;
mod migrate;
pub mod references;
mod sealing;
mod sled_store;
mod sqlite;
mod valid;

pub use integrity::{full_check, ChainFault, ChainRead, IntegrityReport};
pub use memory::{FaultSwitch, MemoryStore};
pub use migrate::{holds_sled_store, migrate_sled_store, Migration};
pub use references::{Reference, Relation};
pub use sealing::{StoreKey, UnsealError};
pub(crate) use sled_store::open_sled;
pub use sled_store::SledStore;
pub use sqlite::{
    salvage, snapshot_into, ChainSalvage, FeedItem, FeedQuery, PodMember, SalvageReport,
    SqliteReader, SqliteStore, Versions, DB_FILE, MAX_FEED_PAGE, MAX_MEMBERS, MAX_VERSIONS,
};
pub use valid::{Heads, ValidRecord};

/// The store a daemon runs on.
pub type DaemonStore = SqliteStore;

use std::collections::BTreeMap;

use myco_dna::{ActionHash, AgentKey, DecodeError, DnaHash, Record, Warrant};

/// The newest action of one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainHead {
    /// Its seq.
    pub seq: u64,
    /// Its hash.
    pub hash: ActionHash,
}

/// One chain: a pod and an author.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChainId {
    /// The pod.
    pub pod: DnaHash,
    /// The author.
    pub author: AgentKey,
}

impl ChainId {
    /// The chain a record belongs to.
    pub fn of(record: &Record) -> Self {
        ChainId {
            pod: record.action().pod,
            author: record.action().author,
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not extend its chain's head.
    #[error("record {hash} does not extend its chain: expected seq {expected_seq} after head {head:?}, got seq {got_seq}")]
    NotNextInChain {
        /// The refused record.
        hash: ActionHash,
        /// The seq that would extend the chain.
        expected_seq: u64,
        /// The record's seq.
        got_seq: u64,
        /// The current head's hash, if any.
        head: Option<ActionHash>,
    },
    /// Stored bytes do not decode: the store is damaged.
    #[error("stored record under key {key} does not decode ({source}); run `myco chain verify` and restore from a backup or pod peers")]
    Corrupt {
        /// The key, in hex.
        key: String,
        /// The decode error.
        source: DecodeError,
    },
    /// The chain failed the integrity check at open and is not served until repaired.
    #[error("chain of {author} in pod {pod} failed its integrity check and is quarantined; run `myco chain verify --repair`")]
    Quarantined {
        /// The pod.
        pod: DnaHash,
        /// The author.
        author: AgentKey,
    },
    /// The underlying database failed.
    #[error("storage engine error: {0}")]
    Engine(#[from] sled::Error),
    /// SQLite failed in a way not named below.
    #[error("storage engine error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The disk holding the store is full. Nothing of the failed write was stored; reads go
    /// on, and writes succeed again once there is room.
    #[error("the disk holding {} is full: free at least {} there, then retry (reads and sync go on meanwhile)", dir.display(), human_bytes(*needed_bytes))]
    DiskFull {
        /// The store's folder.
        dir: std::path::PathBuf,
        /// About how much room the write needed.
        needed_bytes: u64,
    },
    /// The store's files are damaged below the level of records.
    #[error("the store is damaged: {0}; run `myco chain verify --repair`, which keeps every record it can prove sound")]
    Damaged(String),
    /// A file or folder of the store could not be handled.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// To what.
        path: std::path::PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The store was sealed under another agent's key.
    #[error("the store was sealed under another agent's key: this data dir's agent.key is not the one that wrote it; put back the right agent.key, or move the store aside")]
    WrongKey,
    /// An injected fault (memory store only).
    #[error("injected fault: {0}")]
    Injected(&'static str),
}

/// `bytes` in the unit a person reads best.
pub fn human_bytes(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{} MiB", bytes.div_ceil(MIB))
    } else {
        format!("{} KiB", bytes.div_ceil(1024).max(1))
    }
}

/// Storage of source chains.
pub trait Store {
    /// Appends records atomically: either all are stored, or none is. Each must extend its
    /// chain's head, counting earlier records of the same batch. Returns once the batch is
    /// durable.
    /// Only a [`ValidRecord`] may be appended: a store never holds what validation did not
    /// pass.
    fn append_batch(&mut self, records: &[ValidRecord]) -> Result<(), StoreError>;

    /// Appends one record durably.
    fn append(&mut self, record: &ValidRecord) -> Result<(), StoreError> {
        self.append_batch(std::slice::from_ref(record))
    }

    /// A record by action hash.
    fn get(&self, hash: &ActionHash) -> Result<Option<Record>, StoreError>;

    /// A record by chain and seq.
    fn get_by_seq(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError>;

    /// Up to `limit` records of a chain, from `from_seq` upwards, in seq order.
    fn range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError>;

    /// The head of a chain, if the chain exists.
    fn head(&self, chain: &ChainId) -> Result<Option<ChainHead>, StoreError>;

    /// Every chain and its head, in order.
    fn heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError>;

    /// The records of `chain` that write `zome`'s `entry_type` (Creates and Updates), in seq
    /// order. Backed by an index, so zomes can ask "has this author voted before?" without
    /// reading the whole chain.
    fn typed_records(
        &self,
        chain: &ChainId,
        zome: &str,
        entry_type: &str,
    ) -> Result<Vec<Record>, StoreError>;

    /// The records held here that make `relation` to `target` (see [`references`]), oldest
    /// first (by timestamp; records of one timestamp in an order of the store's own): at most
    /// `limit`, starting after the record `after` when it is given. Backed by an index, so "the comments on this story" or "the votes on this
    /// proposal" cost what they return, not the size of the pod. A reference made inside an
    /// entry is forgotten when the entry is purged.
    fn referring(
        &self,
        target: &ActionHash,
        relation: Relation,
        after: Option<&ActionHash>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError>;

    /// Removes the entry bytes of a record, keeping its signed action, and remembers that
    /// they were purged so [`Store::fill_entry`] never brings them back. Returns whether
    /// there were bytes to remove.
    fn purge_entry(&mut self, hash: &ActionHash) -> Result<bool, StoreError>;

    /// Gives a record held without its entry (it was stripped when it was served) the entry
    /// of `record`, which must be the same action. The caller checks that the entry matches
    /// the action's entry hash. Returns whether the entry was stored: not when the record is
    /// not held, already has its entry, or its entry was purged.
    fn fill_entry(&mut self, record: &Record) -> Result<bool, StoreError>;

    /// Whether the entry of the record `hash` was purged here.
    fn was_purged(&self, hash: &ActionHash) -> Result<bool, StoreError>;

    /// Keeps, durably, a warrant this node issued or confirmed: one per offender and pod, so
    /// the offender stays blocked after a restart. Returns whether it was new.
    fn keep_warrant(&mut self, warrant: &Warrant) -> Result<bool, StoreError>;

    /// The warrants kept for `pod`, in offender order.
    fn warrants(&self, pod: &DnaHash) -> Result<Vec<Warrant>, StoreError>;
}

/// Checks that `records` extend their chains' heads in order, and returns the new heads.
/// `head_of` reads a chain's current head from the store.
pub(crate) fn plan_appends(
    records: &[ValidRecord],
    mut head_of: impl FnMut(&ChainId) -> Result<Option<ChainHead>, StoreError>,
) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
    let mut new_heads: BTreeMap<ChainId, ChainHead> = BTreeMap::new();
    for record in records {
        let chain = ChainId::of(record);
        let head = match new_heads.get(&chain) {
            Some(head) => Some(*head),
            None => head_of(&chain)?,
        };
        let action = record.action();
        let (expected_seq, expected_prev) = match head {
            Some(head) => (head.seq + 1, Some(head.hash)),
            None => (0, None),
        };
        if action.seq != expected_seq || action.prev != expected_prev {
            return Err(StoreError::NotNextInChain {
                hash: record.hash(),
                expected_seq,
                got_seq: action.seq,
                head: head.map(|h| h.hash),
            });
        }
        new_heads.insert(
            chain,
            ChainHead {
                seq: action.seq,
                hash: record.hash(),
            },
        );
    }
    Ok(new_heads)
}

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod index_tests;
