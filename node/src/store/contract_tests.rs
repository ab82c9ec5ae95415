//! The same behaviour tests run against every `Store` implementation.

use myco_dna::{ChainAuthor, DnaHash, Entry, Record, SigningKey, Timestamp, Visibility, Warrant};

use super::{
    full_check, salvage, ChainId, ChainRead, MemoryStore, SledStore, SqliteStore, Store,
    StoreError, StoreKey, ValidRecord,
};

fn store_key() -> StoreKey {
    StoreKey::derive(&SigningKey::from_bytes(&[42; 32]))
}

fn open_sqlite(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(dir, store_key()).expect("open sqlite")
}

fn chain(seed: u8, len: usize) -> Vec<Record> {
    let mut author = ChainAuthor::new(SigningKey::from_bytes(&[seed; 32]), DnaHash([9; 32]));
    let mut out = vec![author.genesis(Timestamp(1_000), Vec::new())];
    for i in 1..len {
        let entry = Entry(format!("story {i}").into_bytes());
        out.push(author.create(
            Timestamp(1_000 + i as u64),
            "content",
            "story",
            Visibility::Pod,
            entry,
        ));
    }
    out
}

/// The records as the store's caller hands them over. These tests check the store's own
/// defence (it refuses gaps and forks whatever the caller vouched for), so they wrap the
/// records without validating them again.
fn vouched(records: &[Record]) -> Vec<ValidRecord> {
    records.iter().cloned().map(ValidRecord::judged).collect()
}

fn each_store(test: impl Fn(&mut dyn FnMut() -> Box<dyn StoreUnderTest>)) {
    test(&mut || Box::new(MemoryStore::new()));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut n = 0;
    test(&mut || {
        n += 1;
        let store = SledStore::open(&dir.path().join(format!("store-{n}"))).expect("open sled");
        Box::new(store)
    });
    test(&mut || {
        n += 1;
        Box::new(open_sqlite(&dir.path().join(format!("store-{n}"))))
    });
}

trait StoreUnderTest: Store + ChainRead {}
impl<T: Store + ChainRead> StoreUnderTest for T {}

#[test]
fn appended_records_read_back_by_hash_seq_and_range() {
    each_store(|make| {
        let mut store = make();
        let records = chain(1, 10);
        store.append_batch(&vouched(&records[..4])).unwrap();
        for record in vouched(&records[4..]) {
            store.append(&record).unwrap();
        }
        let id = ChainId::of(&records[0]);
        assert_eq!(
            store.get(&records[3].hash()).unwrap().as_ref(),
            Some(&records[3])
        );
        assert_eq!(
            store.get_by_seq(&id, 7).unwrap().as_ref(),
            Some(&records[7])
        );
        assert_eq!(store.range(&id, 2, 3).unwrap(), records[2..5].to_vec());
        let head = store.head(&id).unwrap().unwrap();
        assert_eq!((head.seq, head.hash), (9, records[9].hash()));
        assert_eq!(store.heads().unwrap().len(), 1);
    });
}

#[test]
fn a_record_that_skips_a_seq_is_refused_and_nothing_of_its_batch_is_stored() {
    each_store(|make| {
        let mut store = make();
        let records = chain(2, 5);
        store
            .append(&ValidRecord::judged(records[0].clone()))
            .unwrap();
        let err = store
            .append_batch(&vouched(&[records[1].clone(), records[3].clone()]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NotNextInChain {
                    expected_seq: 2,
                    got_seq: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            store.get(&records[1].hash()).unwrap(),
            None,
            "batch must be all or nothing"
        );
        assert_eq!(
            store.head(&ChainId::of(&records[0])).unwrap().unwrap().seq,
            0
        );
    });
}

#[test]
fn a_chain_must_start_with_seq_zero() {
    each_store(|make| {
        let mut store = make();
        let records = chain(3, 3);
        let err = store
            .append(&ValidRecord::judged(records[1].clone()))
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NotNextInChain {
                    expected_seq: 0,
                    ..
                }
            ),
            "{err}"
        );
    });
}

#[test]
fn purge_removes_entry_bytes_and_keeps_the_signed_action() {
    each_store(|make| {
        let mut store = make();
        let records = chain(4, 3);
        store.append_batch(&vouched(&records)).unwrap();
        assert!(store.purge_entry(&records[2].hash()).unwrap());
        let kept = store.get(&records[2].hash()).unwrap().unwrap();
        assert_eq!(kept.entry, None);
        assert_eq!(kept.signed, records[2].signed);
        assert!(
            !store.purge_entry(&records[2].hash()).unwrap(),
            "second purge has nothing to do"
        );
        assert!(
            full_check(&*store).unwrap().is_sound(),
            "a purged chain still verifies"
        );
    });
}

#[test]
fn a_stripped_record_takes_its_entry_back_unless_the_entry_was_purged() {
    each_store(|make| {
        let mut store = make();
        let records = chain(6, 4);
        let mut stored = records.clone();
        stored[2] = records[2].without_entry();
        stored[3] = records[3].without_entry();
        store.append_batch(&vouched(&stored)).unwrap();
        assert!(
            !store.fill_entry(&records[2].without_entry()).unwrap(),
            "nothing to fill with"
        );
        assert!(store.fill_entry(&records[2]).unwrap());
        assert_eq!(store.get(&records[2].hash()).unwrap().unwrap(), records[2]);
        assert!(
            !store.fill_entry(&records[2]).unwrap(),
            "a held entry is not written twice"
        );
        assert!(
            !store.purge_entry(&records[3].hash()).unwrap(),
            "no bytes to remove, but the purge is remembered"
        );
        assert!(store.was_purged(&records[3].hash()).unwrap());
        assert!(!store.was_purged(&records[1].hash()).unwrap());
        assert!(!store.fill_entry(&records[3]).unwrap());
        assert_eq!(store.get(&records[3].hash()).unwrap().unwrap().entry, None);
        assert!(store.purge_entry(&records[2].hash()).unwrap());
        assert!(!store.fill_entry(&records[2]).unwrap());
        assert_eq!(store.get(&records[2].hash()).unwrap().unwrap().entry, None);
        assert!(full_check(&*store).unwrap().is_sound());
    });
}

#[test]
fn warrants_are_kept_once_per_offender_and_pod() {
    let records = chain(7, 3);
    let mut branch = ChainAuthor::resume(SigningKey::from_bytes(&[7; 32]), &records[1].signed);
    let other = branch.create(
        Timestamp(9_999),
        "content",
        "story",
        Visibility::Pod,
        Entry(b"another story".to_vec()),
    );
    let fork = Warrant::fork(records[2].signed.clone(), other.signed.clone());
    fork.verify().expect("a genuine fork");
    let pod = DnaHash([9; 32]);
    each_store(|make| {
        let mut store = make();
        assert!(store.warrants(&pod).unwrap().is_empty());
        assert!(store.keep_warrant(&fork).unwrap());
        assert!(!store.keep_warrant(&fork).unwrap(), "kept once");
        assert_eq!(store.warrants(&pod).unwrap(), vec![fork.clone()]);
        assert!(store.warrants(&DnaHash([8; 32])).unwrap().is_empty());
    });
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let mut store = SledStore::open(dir.path()).expect("open");
        store.keep_warrant(&fork).unwrap();
    }
    let reopened = SledStore::open(dir.path()).expect("reopen");
    assert_eq!(reopened.warrants(&pod).unwrap(), vec![fork.clone()]);
    let dir = tempfile::tempdir().expect("temp dir");
    open_sqlite(dir.path()).keep_warrant(&fork).unwrap();
    assert_eq!(open_sqlite(dir.path()).warrants(&pod).unwrap(), vec![fork]);
}

#[test]
fn full_check_passes_on_a_sound_store() {
    each_store(|make| {
        let mut store = make();
        store.append_batch(&vouched(&chain(5, 50))).unwrap();
        store.append_batch(&vouched(&chain(6, 5))).unwrap();
        let report = full_check(&*store).unwrap();
        assert!(report.is_sound(), "{report:?}");
        assert_eq!((report.chains, report.records), (2, 55));
    });
}

#[test]
fn typed_records_lists_a_chains_records_of_one_entry_type_in_order() {
    each_store(|make| {
        let mut store = make();
        let records = chain(10, 6);
        store.append_batch(&vouched(&records)).unwrap();
        let id = ChainId::of(&records[0]);
        assert_eq!(
            store.typed_records(&id, "content", "story").unwrap(),
            records[1..].to_vec()
        );
        assert!(store
            .typed_records(&id, "governance", "vote")
            .unwrap()
            .is_empty());
    });
}

#[test]
fn injected_fault_fails_the_append_and_stores_nothing() {
    let mut store = MemoryStore::new();
    let records = chain(7, 3);
    store.fail_appends_after(1);
    store
        .append(&ValidRecord::judged(records[0].clone()))
        .unwrap();
    assert!(matches!(
        store.append(&ValidRecord::judged(records[1].clone())),
        Err(StoreError::Injected(_))
    ));
    assert_eq!(store.get(&records[1].hash()).unwrap(), None);
}

#[test]
fn sled_store_reopens_with_everything_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let records = chain(8, 20);
    {
        let mut store = SledStore::open(dir.path()).unwrap();
        store.append_batch(&vouched(&records)).unwrap();
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.integrity_report().is_sound());
    assert_eq!(
        store.head(&ChainId::of(&records[0])).unwrap().unwrap().hash,
        records[19].hash()
    );
}

#[test]
fn sled_store_quarantines_a_chain_whose_tail_is_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let records = chain(9, 6);
    {
        let mut store = SledStore::open(dir.path()).unwrap();
        store.append_batch(&vouched(&records)).unwrap();
        // Damage the newest record behind the store's back: a tampered signature.
        let mut damaged = records[5].clone();
        damaged.signed.signature.0[3] ^= 0xff;
        store.overwrite_raw_for_test(&records[5].hash(), &damaged.to_bytes());
    }
    let mut store = SledStore::open(dir.path()).unwrap();
    let report = store.integrity_report().clone();
    assert_eq!(report.faults.len(), 1, "{report:?}");
    assert_eq!(report.faults[0].seq, 5);
    assert!(
        report.faults[0].problem.contains("signature"),
        "{}",
        report.faults[0].problem
    );
    let id = ChainId::of(&records[0]);
    assert!(matches!(
        store.head(&id),
        Err(StoreError::Quarantined { .. })
    ));
    store
        .truncate_chain(&id, report.faults[0].last_good)
        .unwrap();
    assert_eq!(store.head(&id).unwrap().unwrap().seq, 4);
    assert!(full_check(&store).unwrap().is_sound());
}

#[test]
fn full_check_names_the_exact_seq_of_unreadable_bytes_even_in_quarantine() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = chain(11, 40);
    {
        let mut store = SledStore::open(dir.path()).expect("open");
        store.append_batch(&vouched(&records)).expect("append");
        // Garbage under the record key of seq 37: inside the open-time check's tail.
        store.overwrite_raw_for_test(&records[37].hash(), b"not a record");
    }
    let store = SledStore::open(dir.path()).expect("reopen");
    assert_eq!(store.integrity_report().faults.len(), 1);
    let report = store.full_check().expect("check");
    assert_eq!(report.faults.len(), 1, "{report:?}");
    assert_eq!(
        (report.faults[0].seq, report.faults[0].last_good),
        (37, Some(36))
    );
}

#[test]
fn sqlite_store_reopens_with_everything_it_acknowledged_and_refuses_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let records = chain(8, 20);
    open_sqlite(dir.path())
        .append_batch(&vouched(&records))
        .unwrap();
    let store = open_sqlite(dir.path());
    assert!(store.integrity_report().is_sound());
    assert_eq!(
        store.range(&ChainId::of(&records[0]), 0, 100).unwrap(),
        records
    );
    drop(store);
    let other = StoreKey::derive(&SigningKey::from_bytes(&[43; 32]));
    assert!(matches!(
        SqliteStore::open(dir.path(), other),
        Err(StoreError::WrongKey)
    ));
}

#[test]
fn sqlite_store_quarantines_a_damaged_tail_and_salvage_keeps_the_sound_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let records = chain(9, 40);
    let other = chain(12, 5);
    {
        let mut store = open_sqlite(dir.path());
        store.append_batch(&vouched(&records)).unwrap();
        store.append_batch(&vouched(&other)).unwrap();
        assert!(store.purge_entry(&records[3].hash()).unwrap());
        // Damage seq 37 behind the store's back: a tampered signature.
        let mut damaged = records[37].clone();
        damaged.entry = None;
        damaged.signed.signature.0[3] ^= 0xff;
        store.overwrite_raw_for_test(&records[37].hash(), &damaged.to_bytes());
    }
    let store = open_sqlite(dir.path());
    let report = store.integrity_report().clone();
    assert_eq!(report.faults.len(), 1, "{report:?}");
    assert_eq!(
        (report.faults[0].seq, report.faults[0].last_good),
        (37, Some(36))
    );
    let id = ChainId::of(&records[0]);
    assert!(matches!(
        store.head(&id),
        Err(StoreError::Quarantined { .. })
    ));
    drop(store);
    let salvaged = salvage(dir.path(), &store_key()).unwrap();
    assert_eq!((salvaged.kept, salvaged.dropped), (37 + 5, 3));
    assert_eq!(salvaged.chains[&id].kept_through, Some(36));
    let mut store = open_sqlite(dir.path());
    assert!(store.integrity_report().is_sound());
    assert!(full_check(&store).unwrap().is_sound());
    assert_eq!(store.head(&id).unwrap().unwrap().seq, 36);
    assert!(
        store.was_purged(&records[3].hash()).unwrap(),
        "purge marks survive a repair"
    );
    assert!(!store.fill_entry(&records[3]).unwrap());
    // Sync then brings back what was cut.
    store.append_batch(&vouched(&records[37..])).unwrap();
    assert!(full_check(&store).unwrap().is_sound());
}

#[test]
fn salvage_refuses_to_replace_a_store_sealed_under_another_key() {
    let dir = tempfile::tempdir().unwrap();
    open_sqlite(dir.path())
        .append_batch(&vouched(&chain(3, 5)))
        .unwrap();
    let other = StoreKey::derive(&SigningKey::from_bytes(&[43; 32]));
    assert!(matches!(
        salvage(dir.path(), &other),
        Err(StoreError::WrongKey)
    ));
    assert_eq!(open_sqlite(dir.path()).full_check().unwrap().records, 5);
}

#[test]
fn a_store_whose_making_was_cut_short_is_made_again_and_a_made_one_is_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        // As a crash between an older Myco's separate steps left it: tables, no meta rows.
        let conn = rusqlite::Connection::open(dir.path().join(super::DB_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;",
        )
        .unwrap();
    }
    let mut store = open_sqlite(dir.path());
    let records = chain(1, 3);
    store.append_batch(&vouched(&records)).unwrap();
    drop(store);
    let store = open_sqlite(dir.path());
    assert_eq!(
        store.heads().unwrap().len(),
        1,
        "the made store keeps its records"
    );
}
