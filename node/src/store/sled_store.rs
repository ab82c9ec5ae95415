//! The on-disk store, on sled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use myco_dna::chain::check_record_shape;
use myco_dna::{ActionHash, DnaHash, KeyHash, Record, Warrant};

use super::integrity::{quick_check, ChainRead, IntegrityReport};
use super::keys::{
    chain_key, head_key, head_value, parse_head_key, parse_head_value, purged_key, record_key,
    type_tag, typed_key, warrant_key, HEAD, RECORD,
};
use super::{plan_appends, ChainHead, ChainId, Store, StoreError, ValidRecord};

/// How many records at the tail of each chain the open-time check verifies in full. A torn
/// write can only damage the newest records, and checking a fixed number keeps start-up
/// time independent of how much is stored.
pub const OPEN_CHECK_TAIL: u64 = 16;

/// How long [`open_sled`] waits out a file lock still held by a handle this process just
/// dropped. sled 0.34 releases its lock only when its flusher thread exits, a moment after the
/// last handle is dropped, so a reopen right after a close can find it held. A lock held by
/// another process lasts as long as that process, far longer than this.
const LOCK_RELEASE_WAIT: Duration = Duration::from_secs(2);

/// Opens a sled database, waiting up to [`LOCK_RELEASE_WAIT`] for a lock that is being
/// released. Any other error, and a lock still held after the wait, is returned at once.
pub(crate) fn open_sled(config: &sled::Config) -> sled::Result<sled::Db> {
    let started = Instant::now();
    loop {
        match config.open() {
            // sled reports the conflict as an `Other` I/O error with this text; it has no
            // error kind of its own.
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock")
                    && started.elapsed() < LOCK_RELEASE_WAIT =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

/// Source chains in a sled database.
pub struct SledStore {
    db: sled::Db,
    quarantined: BTreeSet<ChainId>,
    report: IntegrityReport,
}

impl SledStore {
    /// Opens (or creates) the store at `path`, then checks the tail of every chain. Chains
    /// that fail are quarantined: reads of them fail with [`StoreError::Quarantined`].
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = open_sled(&sled::Config::new().path(path))?;
        let mut store = SledStore {
            db,
            quarantined: BTreeSet::new(),
            report: IntegrityReport::default(),
        };
        let report = quick_check(&store, OPEN_CHECK_TAIL)?;
        for fault in &report.faults {
            tracing::error!(pod = %fault.chain.pod, author = %fault.chain.author, seq = fault.seq, problem = %fault.problem, "chain failed its integrity check; quarantined");
        }
        store.quarantined = report.faults.iter().map(|f| f.chain).collect();
        store.report = report;
        Ok(store)
    }

    /// What the open-time check found.
    pub fn integrity_report(&self) -> &IntegrityReport {
        &self.report
    }

    /// Cuts a chain back to `keep_through_seq` (inclusive), or removes it entirely when
    /// `None`, and lifts its quarantine. Used by repair after a full verification.
    pub fn truncate_chain(
        &mut self,
        chain: &ChainId,
        keep_through_seq: Option<u64>,
    ) -> Result<usize, StoreError> {
        let first_dropped = keep_through_seq.map_or(0, |s| s + 1);
        let mut batch = sled::Batch::default();
        let mut dropped = 0;
        for item in self
            .db
            .range(chain_key(chain, first_dropped)..=chain_key(chain, u64::MAX))
        {
            let (key, hash) = item?;
            batch.remove(key);
            if let Some(hash) = ActionHash::from_slice(&hash) {
                // A damaged record may not decode; its index entry then dangles harmlessly,
                // because index reads skip hashes with no record.
                if let Ok(Some(record)) = self.read_record(&hash) {
                    if let Some(entry) = record.action().body.entry_ref() {
                        let tag = type_tag(&entry.zome, &entry.entry_type);
                        batch.remove(&typed_key(chain, &tag, record.action().seq)[..]);
                    }
                }
                batch.remove(&record_key(&hash)[..]);
            }
            dropped += 1;
        }
        match keep_through_seq {
            Some(seq) => {
                let hash = self.db.get(chain_key(chain, seq))?;
                match hash.and_then(|h| ActionHash::from_slice(&h)) {
                    Some(hash) => batch.insert(
                        &head_key(chain)[..],
                        &head_value(&ChainHead { seq, hash })[..],
                    ),
                    None => batch.remove(&head_key(chain)[..]),
                }
            }
            None => batch.remove(&head_key(chain)[..]),
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        self.quarantined.remove(chain);
        Ok(dropped)
    }

    /// Checks every record of every chain, quarantined ones included.
    pub fn full_check(&self) -> Result<IntegrityReport, StoreError> {
        super::integrity::full_check(self)
    }

    fn check_served(&self, chain: &ChainId) -> Result<(), StoreError> {
        if self.quarantined.contains(chain) {
            return Err(StoreError::Quarantined {
                pod: chain.pod,
                author: chain.author,
            });
        }
        Ok(())
    }

    fn read_record(&self, hash: &ActionHash) -> Result<Option<Record>, StoreError> {
        let key = record_key(hash);
        let Some(bytes) = self.db.get(key)? else {
            return Ok(None);
        };
        let record = Record::from_bytes(&bytes).map_err(|source| StoreError::Corrupt {
            key: hex_key(&key),
            source,
        })?;
        // A record whose content no longer matches its key is damage, not data.
        if record.hash() != *hash || check_record_shape(&record).is_err() {
            return Err(StoreError::Corrupt {
                key: hex_key(&key),
                source: myco_dna::DecodeError::Malformed {
                    what: "stored record",
                    detail: "content does not match its hash".into(),
                },
            });
        }
        Ok(Some(record))
    }

    fn read_by_seq(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        match self.db.get(chain_key(chain, seq))? {
            None => Ok(None),
            Some(hash) => match ActionHash::from_slice(&hash) {
                Some(hash) => self.read_record(&hash),
                None => Err(StoreError::Corrupt {
                    key: hex_key(&chain_key(chain, seq)),
                    source: myco_dna::DecodeError::Malformed {
                        what: "chain index",
                        detail: format!("{} bytes instead of 32", hash.len()),
                    },
                }),
            },
        }
    }

    fn read_range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .db
            .range(chain_key(chain, from_seq)..=chain_key(chain, u64::MAX))
            .take(limit)
        {
            let (key, hash) = item?;
            let hash = ActionHash::from_slice(&hash).ok_or_else(|| StoreError::Corrupt {
                key: hex_key(&key),
                source: myco_dna::DecodeError::Malformed {
                    what: "chain index",
                    detail: "wrong length".into(),
                },
            })?;
            if let Some(record) = self.read_record(&hash)? {
                out.push(record);
            }
        }
        Ok(out)
    }

    fn read_heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        let mut out = BTreeMap::new();
        for item in self.db.scan_prefix([HEAD]) {
            let (key, value) = item?;
            let corrupt = || StoreError::Corrupt {
                key: hex_key(&key),
                source: myco_dna::DecodeError::Malformed {
                    what: "chain head",
                    detail: "wrong length".into(),
                },
            };
            let chain = parse_head_key(&key).ok_or_else(corrupt)?;
            let head = parse_head_value(&value).ok_or_else(corrupt)?;
            out.insert(chain, head);
        }
        Ok(out)
    }

    fn read_head(&self, chain: &ChainId) -> Result<Option<ChainHead>, StoreError> {
        let key = head_key(chain);
        match self.db.get(key)? {
            None => Ok(None),
            Some(value) => parse_head_value(&value)
                .map(Some)
                .ok_or(StoreError::Corrupt {
                    key: hex_key(&key),
                    source: myco_dna::DecodeError::Malformed {
                        what: "chain head",
                        detail: format!("{} bytes instead of 40", value.len()),
                    },
                }),
        }
    }
}

fn hex_key(key: &[u8]) -> String {
    hex::encode(key)
}

impl ChainRead for SledStore {
    fn chain_heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        self.heads()
    }

    fn chain_range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.read_range(chain, from_seq, limit)
    }

    fn chain_get(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        self.read_by_seq(chain, seq)
    }
}

impl Store for SledStore {
    fn append_batch(&mut self, records: &[ValidRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        for record in records {
            self.check_served(&ChainId::of(record))?;
        }
        let new_heads = plan_appends(records, |chain| self.read_head(chain))?;
        let mut batch = sled::Batch::default();
        for record in records {
            let hash = record.hash();
            let chain = ChainId::of(record);
            batch.insert(&record_key(&hash)[..], record.to_bytes());
            batch.insert(
                &chain_key(&chain, record.action().seq)[..],
                &hash.as_bytes()[..],
            );
            if let Some(entry) = record.action().body.entry_ref() {
                let tag = type_tag(&entry.zome, &entry.entry_type);
                batch.insert(
                    &typed_key(&chain, &tag, record.action().seq)[..],
                    &hash.as_bytes()[..],
                );
            }
        }
        for (chain, head) in &new_heads {
            batch.insert(&head_key(chain)[..], &head_value(head)[..]);
        }
        self.db.apply_batch(batch)?;
        // Group commit: one flush makes the whole batch durable.
        self.db.flush()?;
        Ok(())
    }

    fn get(&self, hash: &ActionHash) -> Result<Option<Record>, StoreError> {
        let record = self.read_record(hash)?;
        if let Some(record) = &record {
            self.check_served(&ChainId::of(record))?;
        }
        Ok(record)
    }

    fn get_by_seq(&self, chain: &ChainId, seq: u64) -> Result<Option<Record>, StoreError> {
        self.check_served(chain)?;
        self.read_by_seq(chain, seq)
    }

    fn range(
        &self,
        chain: &ChainId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.check_served(chain)?;
        self.read_range(chain, from_seq, limit)
    }

    fn head(&self, chain: &ChainId) -> Result<Option<ChainHead>, StoreError> {
        self.check_served(chain)?;
        self.read_head(chain)
    }

    fn heads(&self) -> Result<BTreeMap<ChainId, ChainHead>, StoreError> {
        self.read_heads()
    }

    fn typed_records(
        &self,
        chain: &ChainId,
        zome: &str,
        entry_type: &str,
    ) -> Result<Vec<Record>, StoreError> {
        self.check_served(chain)?;
        let tag = type_tag(zome, entry_type);
        let mut out = Vec::new();
        for item in self
            .db
            .range(typed_key(chain, &tag, 0)..=typed_key(chain, &tag, u64::MAX))
        {
            let (_, hash) = item?;
            if let Some(record) = ActionHash::from_slice(&hash)
                .map(|h| self.read_record(&h))
                .transpose()?
                .flatten()
            {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// sled keeps no reference index (it is kept only to move old stores over, and to
    /// measure against): this scans every record.
    fn referring(
        &self,
        target: &ActionHash,
        relation: super::Relation,
        after: Option<&ActionHash>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let mut records = Vec::new();
        for item in self.db.scan_prefix([RECORD]) {
            let (key, _) = item?;
            let Ok(hash) = <[u8; 32]>::try_from(&key[1..]) else {
                continue;
            };
            if let Some(record) = self.read_record(&ActionHash(hash))? {
                records.push(record);
            }
        }
        let mut matching = super::references::matching(records, target, relation);
        matching.sort_by_key(|r| (r.action().timestamp, r.hash()));
        Ok(super::references::page_after(matching, after, limit))
    }

    fn purge_entry(&mut self, hash: &ActionHash) -> Result<bool, StoreError> {
        let Some(record) = self.read_record(hash)? else {
            return Ok(false);
        };
        let mut batch = sled::Batch::default();
        batch.insert(&purged_key(hash)[..], &[][..]);
        let had_entry = record.entry.is_some();
        if had_entry {
            batch.insert(&record_key(hash)[..], record.without_entry().to_bytes());
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        Ok(had_entry)
    }

    fn was_purged(&self, hash: &ActionHash) -> Result<bool, StoreError> {
        Ok(self.db.contains_key(purged_key(hash))?)
    }

    fn keep_warrant(&mut self, warrant: &Warrant) -> Result<bool, StoreError> {
        let key = warrant_key(warrant.pod(), &warrant.offender().key_hash());
        let previous =
            self.db
                .compare_and_swap(key, None as Option<&[u8]>, Some(warrant.to_bytes()))?;
        if previous.is_err() {
            return Ok(false);
        }
        self.db.flush()?;
        Ok(true)
    }

    fn warrants(&self, pod: &DnaHash) -> Result<Vec<Warrant>, StoreError> {
        let prefix = &warrant_key(pod, &KeyHash([0; 32]))[..33];
        let mut out = Vec::new();
        for item in self.db.scan_prefix(prefix) {
            let (key, bytes) = item?;
            match Warrant::from_bytes(&bytes) {
                Ok(warrant) => out.push(warrant),
                // One damaged warrant must not cost the others, nor the start: the offender
                // is warranted again when it misbehaves again.
                Err(error) => {
                    tracing::error!(key = %hex_key(&key), %error, "a kept warrant does not decode; skipped")
                }
            }
        }
        Ok(out)
    }

    fn fill_entry(&mut self, record: &Record) -> Result<bool, StoreError> {
        let hash = record.hash();
        if record.entry.is_none() || self.was_purged(&hash)? {
            return Ok(false);
        }
        match self.read_record(&hash)? {
            Some(held) if held.entry.is_none() => {
                let filled = Record {
                    signed: held.signed,
                    entry: record.entry.clone(),
                };
                self.db.insert(record_key(&hash), filled.to_bytes())?;
                self.db.flush()?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
impl SledStore {
    /// Writes raw bytes under a record key, bypassing every check, to simulate disk damage.
    pub(crate) fn overwrite_raw_for_test(&self, hash: &ActionHash, bytes: &[u8]) {
        self.db.insert(record_key(hash), bytes).expect("raw write");
        self.db.flush().expect("flush");
    }
}
