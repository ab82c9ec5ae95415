//! The registry's Kademlia record store: every value is a signed [`Pointer`], validated before
//! it is stored (PUT) and again when it is read back from the network (GET). Optionally
//! persistent (bootstrap peers), so a restarted peer still answers.
//!
//! Values live in a bounded in-memory [`MemoryStore`]; with a disk, every change is also
//! written to a small sled database and flushed, and reloaded (re-validated) at start.

use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::dates::now_micros;

use libp2p::kad::store::{MemoryStore, MemoryStoreConfig, RecordStore, Result as StoreResult};
use libp2p::kad::{ProviderRecord, Record, RecordKey};
use libp2p::{Multiaddr, PeerId};
use myco_dna::Timestamp;

use crate::registry::{key_hash_of, Pointer, PointerError, MAX_POINTER_BYTES, POD_KEY_PREFIX};

/// Most value records one node holds. A pointer is at most 1 KiB, so this is at most 64 MiB
/// on a bootstrap peer that holds a record for every agent of a large network.
pub const MAX_RECORDS: usize = 65_536;
/// Most keys a node announces itself as a provider of (pods it hosts).
pub const MAX_PROVIDED_KEYS: usize = 1024;
/// Most providers kept per pod key: Kademlia's replication factor.
pub const MAX_PROVIDERS_PER_KEY: usize = 20;
/// Most addresses kept per stored provider.
const MAX_PROVIDER_ADDRESSES: usize = 8;
/// sled page cache of the persistent store: the records are small and rarely read from disk.
const DISK_CACHE_BYTES: u64 = 1024 * 1024;

/// Why a record was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordRefused {
    /// The key is not a registry key.
    #[error("record key is not a Myco registry key")]
    NotARegistryKey,
    /// The pointer is not valid under its key.
    #[error(transparent)]
    Pointer(#[from] PointerError),
    /// A provider record for a key that is not a pod key.
    #[error("provider record key is not a Myco pod key")]
    NotAPodKey,
}

/// Why the persistent store could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the registry store in {path}: {source}")]
pub struct OpenError {
    path: String,
    source: sled::Error,
}

/// Checks a value record against the pointer held under the same key (if any): used on PUT.
pub fn check_put(
    held: Option<&Record>,
    record: &Record,
    now: Timestamp,
) -> Result<Pointer, RecordRefused> {
    let key = key_hash_of(record.key.as_ref()).ok_or(RecordRefused::NotARegistryKey)?;
    let held = held.and_then(|h| Pointer::from_bytes(&h.value).ok());
    Ok(Pointer::validate(&key, &record.value, now, held.as_ref())?)
}

/// Checks a value record found on the network: used on GET.
pub fn check_found(record: &Record, now: Timestamp) -> Result<Pointer, RecordRefused> {
    check_put(None, record, now)
}

/// Checks a provider record: only pod keys are accepted.
pub fn check_provider(record: &ProviderRecord) -> Result<(), RecordRefused> {
    let key = record.key.as_ref();
    match key.strip_prefix(POD_KEY_PREFIX) {
        Some(rest) if rest.len() == 32 => Ok(()),
        _ => Err(RecordRefused::NotAPodKey),
    }
}

/// The registry's Kademlia store: validated pointers and pod providers.
pub struct RegistryStore {
    memory: MemoryStore,
    disk: Option<sled::Db>,
}

impl RegistryStore {
    /// A store kept in memory only.
    pub fn in_memory(local: PeerId) -> Self {
        RegistryStore {
            memory: MemoryStore::with_config(local, config()),
            disk: None,
        }
    }

    /// A store kept on disk under `dir` too, reloading (and re-validating) what is there.
    pub fn persistent(local: PeerId, dir: &Path) -> Result<Self, OpenError> {
        let disk_config = sled::Config::new()
            .path(dir)
            .cache_capacity(DISK_CACHE_BYTES);
        let disk = crate::store::open_sled(&disk_config).map_err(|source| OpenError {
            path: dir.display().to_string(),
            source,
        })?;
        let mut store = RegistryStore {
            memory: MemoryStore::with_config(local, config()),
            disk: None,
        };
        let now = Timestamp(now_micros());
        let (mut kept, mut dropped) = (0usize, 0usize);
        for (key, value) in disk.iter().flatten() {
            let record = Record::new(RecordKey::from(key.to_vec()), value.to_vec());
            match check_found(&record, now) {
                Ok(_) if store.memory.put(record).is_ok() => kept += 1,
                _ => {
                    let _ = disk.remove(&key);
                    dropped += 1;
                }
            }
        }
        if let Ok(providers) = disk.open_tree("providers") {
            for (key, value) in providers.iter().flatten() {
                let added = decode_provider(&key, &value, now.0)
                    .is_some_and(|record| store.memory.add_provider(record).is_ok());
                if !added {
                    let _ = providers.remove(&key);
                }
            }
        }
        tracing::info!(dir = %dir.display(), kept, dropped, "registry records reloaded");
        store.disk = Some(disk);
        Ok(store)
    }

    fn save(&self, f: impl FnOnce(&sled::Db) -> sled::Result<()>) {
        if let Some(disk) = &self.disk {
            if let Err(error) = f(disk).and_then(|()| disk.flush().map(|_| ())) {
                tracing::warn!(%error, "cannot persist a registry record");
            }
        }
    }
}

fn config() -> MemoryStoreConfig {
    MemoryStoreConfig {
        max_records: MAX_RECORDS,
        max_value_bytes: MAX_POINTER_BYTES,
        max_providers_per_key: MAX_PROVIDERS_PER_KEY,
        max_provided_keys: MAX_PROVIDED_KEYS,
    }
}

/// A provider's disk form: expiry (wall clock, µs) and addresses, as CBOR.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredProvider {
    expires_micros: Option<u64>,
    addresses: Vec<serde_bytes::ByteBuf>,
}

fn provider_disk_key(record: &ProviderRecord) -> Vec<u8> {
    let key = record.key.as_ref();
    let mut out = Vec::with_capacity(2 + key.len() + 64);
    out.extend_from_slice(&(key.len() as u16).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&record.provider.to_bytes());
    out
}

fn encode_provider(record: &ProviderRecord) -> Vec<u8> {
    let now = Instant::now();
    let stored = StoredProvider {
        expires_micros: record
            .expires
            .map(|at| now_micros() + at.saturating_duration_since(now).as_micros() as u64),
        addresses: record
            .addresses
            .iter()
            .take(MAX_PROVIDER_ADDRESSES)
            .map(|a| serde_bytes::ByteBuf::from(a.to_vec()))
            .collect(),
    };
    let mut out = Vec::new();
    // Writing CBOR into a Vec cannot fail.
    let _ = ciborium::into_writer(&stored, &mut out);
    out
}

fn decode_provider(disk_key: &[u8], value: &[u8], now: u64) -> Option<ProviderRecord> {
    let len = usize::from(u16::from_be_bytes(disk_key.get(..2)?.try_into().ok()?));
    let key = disk_key.get(2..2 + len)?;
    let provider = PeerId::from_bytes(disk_key.get(2 + len..)?).ok()?;
    let stored: StoredProvider = ciborium::from_reader(value).ok()?;
    let expires = match stored.expires_micros {
        Some(at) if at <= now => return None,
        Some(at) => Some(Instant::now() + Duration::from_micros(at - now)),
        None => None,
    };
    let record = ProviderRecord {
        key: RecordKey::from(key.to_vec()),
        provider,
        expires,
        addresses: stored
            .addresses
            .into_iter()
            .filter_map(|a| Multiaddr::try_from(a.into_vec()).ok())
            .collect(),
    };
    check_provider(&record).ok()?;
    Some(record)
}

impl RecordStore for RegistryStore {
    type RecordsIter<'a> = <MemoryStore as RecordStore>::RecordsIter<'a>;
    type ProvidedIter<'a> = <MemoryStore as RecordStore>::ProvidedIter<'a>;

    fn get(&self, k: &RecordKey) -> Option<Cow<'_, Record>> {
        self.memory.get(k)
    }

    fn put(&mut self, r: Record) -> StoreResult<()> {
        let (key, value) = (r.key.to_vec(), r.value.clone());
        self.memory.put(r)?;
        self.save(|db| db.insert(key, value).map(|_| ()));
        Ok(())
    }

    fn remove(&mut self, k: &RecordKey) {
        self.memory.remove(k);
        self.save(|db| db.remove(k.as_ref()).map(|_| ()));
    }

    fn records(&self) -> Self::RecordsIter<'_> {
        self.memory.records()
    }

    fn add_provider(&mut self, record: ProviderRecord) -> StoreResult<()> {
        let (disk_key, value) = (provider_disk_key(&record), encode_provider(&record));
        self.memory.add_provider(record)?;
        self.save(|db| {
            db.open_tree("providers")?
                .insert(disk_key, value)
                .map(|_| ())
        });
        Ok(())
    }

    fn providers(&self, key: &RecordKey) -> Vec<ProviderRecord> {
        self.memory.providers(key)
    }

    fn provided(&self) -> Self::ProvidedIter<'_> {
        self.memory.provided()
    }

    fn remove_provider(&mut self, k: &RecordKey, p: &PeerId) {
        self.memory.remove_provider(k, p);
        let probe = ProviderRecord::new(k.clone(), *p, Vec::new());
        let disk_key = provider_disk_key(&probe);
        self.save(|db| db.open_tree("providers")?.remove(disk_key).map(|_| ()));
    }
}

#[cfg(test)]
mod tests {
    use myco_dna::{DnaHash, SigningKey};

    use super::*;
    use crate::registry::{pod_key, registry_key};

    fn pointer_record(seed: u8, seq: u64) -> Record {
        let expires = Timestamp(now_micros() + 3_600_000_000);
        let (_, pointer) = crate::registry::tests::pointer(seed, seq, expires);
        Record::new(
            registry_key(&pointer.terms.agent.key_hash()),
            pointer.to_bytes(),
        )
    }

    #[test]
    fn a_pointer_signed_by_the_wrong_key_is_refused_on_put_and_get() {
        let honest = pointer_record(1, 1);
        let thief = SigningKey::from_bytes(&[2; 32]);
        let mut pointer = Pointer::from_bytes(&honest.value).expect("decodes");
        pointer = Pointer::sign(&thief, pointer.terms);
        let hijack = Record::new(honest.key.clone(), pointer.to_bytes());
        let now = Timestamp(now_micros());
        assert!(check_put(None, &hijack, now).is_err());
        assert!(check_found(&hijack, now).is_err());
        assert!(check_put(None, &honest, now).is_ok());
    }

    #[test]
    fn records_and_providers_survive_a_restart_of_a_persistent_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let local = PeerId::random();
        let provider = PeerId::random();
        let record = pointer_record(3, 1);
        let pod = RecordKey::from(pod_key(&DnaHash([7; 32])));
        {
            let mut store = RegistryStore::persistent(local, dir.path()).expect("open");
            store.put(record.clone()).expect("put");
            store
                .add_provider(ProviderRecord::new(pod.clone(), provider, vec![]))
                .expect("provider");
        }
        let store = RegistryStore::persistent(local, dir.path()).expect("reopen");
        assert_eq!(
            store.get(&record.key).map(|r| r.value.clone()),
            Some(record.value)
        );
        assert_eq!(store.providers(&pod).len(), 1);
    }

    #[test]
    fn provider_records_for_other_keys_are_refused() {
        let bad = ProviderRecord::new(RecordKey::new(&b"/ipfs/x"), PeerId::random(), vec![]);
        assert!(check_provider(&bad).is_err());
    }
}
