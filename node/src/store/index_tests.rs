//! The read indexes: references on every store, and the SQLite store's feed and versions as
//! its read-only connection answers them.

use myco_dna::{
    ActionBody, ActionHash, ChainAuthor, DnaHash, Entry, EntryRef, Record, SigningKey, Timestamp,
    Visibility,
};
use myco_zomes::content::{Comment, Consent, Content, COMMENT, CONTENT};
use myco_zomes::ZOME_CONTENT;

use super::{
    FeedQuery, MemoryStore, Relation, SledStore, SqliteReader, SqliteStore, Store, StoreKey,
    ValidRecord,
};

const POD: DnaHash = DnaHash([9; 32]);

fn store_key() -> StoreKey {
    StoreKey::derive(&SigningKey::from_bytes(&[42; 32]))
}

fn story(title: &str, kind: &str) -> Entry {
    myco_zomes::codec::encode(&Content {
        title: title.into(),
        body: format!("the body of {title}"),
        blob: None,
        kind: kind.into(),
        consent: Consent {
            community_sharing: true,
            ..Consent::default()
        },
        revenue_share: None,
        principles: Vec::new(),
        protocols: Vec::new(),
        attribution: None,
    })
}

fn entry_ref(entry_type: &str, entry: &Entry, visibility: Visibility) -> EntryRef {
    EntryRef {
        zome: ZOME_CONTENT.into(),
        entry_type: entry_type.into(),
        entry_hash: entry.hash(),
        visibility,
    }
}

/// An author writing in [`POD`], one microsecond apart.
struct Writer {
    author: ChainAuthor,
    clock: u64,
}

impl Writer {
    fn new(seed: u8, pod: DnaHash) -> (Self, Record) {
        let mut author = ChainAuthor::new(SigningKey::from_bytes(&[seed; 32]), pod);
        let genesis = author.genesis(Timestamp(1_000), Vec::new());
        (
            Writer {
                author,
                clock: 1_000 + u64::from(seed) * 10_000,
            },
            genesis,
        )
    }

    fn tick(&mut self) -> Timestamp {
        self.clock += 1;
        Timestamp(self.clock)
    }

    fn publish(&mut self, title: &str, kind: &str) -> Record {
        let entry = story(title, kind);
        let now = self.tick();
        let body = ActionBody::Create(entry_ref(CONTENT, &entry, Visibility::Pod));
        self.author.next(now, body, Some(entry))
    }

    fn edit(&mut self, original: &Record, title: &str) -> Record {
        let entry = story(title, "story");
        let now = self.tick();
        let body = ActionBody::Update {
            original: original.hash(),
            entry: entry_ref(CONTENT, &entry, Visibility::Pod),
        };
        self.author.next(now, body, Some(entry))
    }

    fn delete(&mut self, target: &Record) -> Record {
        let now = self.tick();
        self.author.next(
            now,
            ActionBody::Delete {
                target: target.hash(),
            },
            None,
        )
    }

    fn comment(&mut self, on: &Record, text: &str) -> Record {
        let entry = myco_zomes::codec::encode(&Comment {
            content: on.hash(),
            text: text.into(),
        });
        let now = self.tick();
        let body = ActionBody::Create(entry_ref(COMMENT, &entry, Visibility::Pod));
        self.author.next(now, body, Some(entry))
    }
}

fn append(store: &mut dyn Store, records: &[Record]) {
    let valid: Vec<ValidRecord> = records.iter().cloned().map(ValidRecord::judged).collect();
    store.append_batch(&valid).expect("append");
}

fn hashes(records: &[Record]) -> Vec<ActionHash> {
    records.iter().map(Record::hash).collect()
}

fn each_store(test: impl Fn(&mut dyn Store)) {
    test(&mut MemoryStore::new());
    let dir = tempfile::tempdir().expect("temp dir");
    test(&mut SledStore::open(&dir.path().join("sled")).expect("open sled"));
    test(&mut SqliteStore::open(&dir.path().join("sqlite"), store_key()).expect("open sqlite"));
}

#[test]
fn comments_are_found_by_their_story_in_pages_and_forgotten_when_purged() {
    each_store(|store| {
        let (mut ana, ana_genesis) = Writer::new(1, POD);
        let (mut ben, ben_genesis) = Writer::new(2, POD);
        let river = ana.publish("River", "story");
        let other = ana.publish("Other", "story");
        append(store, &[ana_genesis.clone(), river.clone(), other.clone()]);
        append(store, std::slice::from_ref(&ben_genesis));
        let comments: Vec<Record> = (0..5)
            .map(|i| ben.comment(&river, &format!("c{i}")))
            .collect();
        let elsewhere = ben.comment(&other, "elsewhere");
        append(store, &comments);
        append(store, std::slice::from_ref(&elsewhere));

        let all = store
            .referring(&river.hash(), Relation::Comment, None, 100)
            .unwrap();
        assert_eq!(
            hashes(&all),
            hashes(&comments),
            "every comment, oldest first"
        );
        let first = store
            .referring(&river.hash(), Relation::Comment, None, 2)
            .unwrap();
        let rest = store
            .referring(
                &river.hash(),
                Relation::Comment,
                Some(&first[1].hash()),
                100,
            )
            .unwrap();
        assert_eq!(hashes(&first), hashes(&comments[..2]));
        assert_eq!(hashes(&rest), hashes(&comments[2..]), "the next page");
        assert!(store
            .referring(&river.hash(), Relation::Reaction, None, 100)
            .unwrap()
            .is_empty());

        store.purge_entry(&comments[0].hash()).unwrap();
        let left = store
            .referring(&river.hash(), Relation::Comment, None, 100)
            .unwrap();
        assert_eq!(
            hashes(&left),
            hashes(&comments[1..]),
            "a purged comment no longer links to its story"
        );

        let edit = ana.edit(&river, "River, again");
        let delete = ana.delete(&edit);
        append(store, &[edit.clone(), delete.clone()]);
        store.purge_entry(&edit.hash()).unwrap();
        assert_eq!(
            hashes(
                &store
                    .referring(&river.hash(), Relation::Version, None, 10)
                    .unwrap()
            ),
            vec![edit.hash()],
            "a version stays linked: the link is in the signed action"
        );
        assert_eq!(
            hashes(
                &store
                    .referring(&edit.hash(), Relation::Delete, None, 10)
                    .unwrap()
            ),
            vec![delete.hash()]
        );
    });
}

fn sqlite_with_reader() -> (tempfile::TempDir, SqliteStore, SqliteReader) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path(), store_key()).expect("open");
    let reader = SqliteReader::open(dir.path(), store_key()).expect("open reader");
    (dir, store, reader)
}

fn titles(reader: &SqliteReader, query: &FeedQuery) -> Vec<String> {
    reader
        .feed(&POD, query)
        .unwrap()
        .iter()
        .map(|item| {
            let entry = item
                .latest
                .entry
                .as_ref()
                .expect("a visible item has its text");
            myco_dna::encoding::from_canonical_cbor::<Content>("content", &entry.0)
                .unwrap()
                .title
        })
        .collect()
}

#[test]
fn the_feed_lists_the_newest_version_of_each_visible_story_newest_first_in_pages() {
    let (_dir, mut store, reader) = sqlite_with_reader();
    let (mut ana, ana_genesis) = Writer::new(1, POD);
    let (mut ben, ben_genesis) = Writer::new(2, POD);
    let (mut elsewhere, elsewhere_genesis) = Writer::new(3, DnaHash([8; 32]));
    let mut ana_records = vec![ana_genesis];
    let stories: Vec<Record> = (0..6)
        .map(|i| {
            ana.publish(
                &format!("ana {i}"),
                if i % 2 == 0 { "story" } else { "song" },
            )
        })
        .collect();
    ana_records.extend(stories.iter().cloned());
    ana_records.push(ana.edit(&stories[1], "ana 1, edited"));
    ana_records.push(ana.delete(&stories[2]));
    append(&mut store, &ana_records);
    let mut ben_records = vec![ben_genesis];
    ben_records.extend((0..3).map(|i| ben.publish(&format!("ben {i}"), "story")));
    append(&mut store, &ben_records);
    append(
        &mut store,
        &[elsewhere_genesis, elsewhere.publish("another pod", "story")],
    );

    let all = FeedQuery {
        limit: 100,
        ..FeedQuery::default()
    };
    assert_eq!(
        titles(&reader, &all),
        ["ben 2", "ben 1", "ben 0", "ana 5", "ana 4", "ana 3", "ana 1, edited", "ana 0"],
        "newest first; the edit shows its newest version; the deleted story and the other pod's are not listed"
    );
    let page = |before: Option<ActionHash>| FeedQuery {
        limit: 3,
        before,
        ..FeedQuery::default()
    };
    let first = reader.feed(&POD, &page(None)).unwrap();
    let second = reader
        .feed(&POD, &page(Some(first[2].root.hash())))
        .unwrap();
    assert_eq!(
        titles(&reader, &page(Some(first[2].root.hash()))),
        ["ana 5", "ana 4", "ana 3"]
    );
    assert_eq!(second.len(), 3);
    let ana_only = FeedQuery {
        author: Some(ana.author.agent().key_hash()),
        limit: 100,
        ..FeedQuery::default()
    };
    assert_eq!(
        titles(&reader, &ana_only),
        ["ana 5", "ana 4", "ana 3", "ana 1, edited", "ana 0"]
    );
    let songs = FeedQuery {
        kind: Some("song".into()),
        limit: 100,
        ..FeedQuery::default()
    };
    assert_eq!(titles(&reader, &songs), ["ana 5", "ana 3"]);

    let versions = reader.versions(&ana_records[7].hash()).unwrap().unwrap();
    assert_eq!(
        hashes(&versions.versions),
        vec![stories[1].hash(), ana_records[7].hash()],
        "any version leads to the story and every version of it"
    );
    assert!(!versions.deleted);
    assert!(
        reader
            .versions(&stories[2].hash())
            .unwrap()
            .unwrap()
            .deleted
    );
}

#[test]
fn a_story_leaves_the_feed_when_its_text_is_purged_and_comes_back_when_filled() {
    let (_dir, mut store, reader) = sqlite_with_reader();
    let (mut ana, genesis) = Writer::new(1, POD);
    let river = ana.publish("River", "story");
    append(&mut store, &[genesis, river.without_entry()]);
    let all = FeedQuery {
        limit: 10,
        ..FeedQuery::default()
    };
    assert!(
        reader.feed(&POD, &all).unwrap().is_empty(),
        "a story held without its text is not listed"
    );
    assert!(store.fill_entry(&river).unwrap());
    assert_eq!(titles(&reader, &all), ["River"]);
    store.purge_entry(&river.hash()).unwrap();
    assert!(reader.feed(&POD, &all).unwrap().is_empty());
}

#[test]
fn a_store_made_before_the_indexes_is_indexed_when_it_is_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut ana, genesis) = Writer::new(1, POD);
    let (mut ben, ben_genesis) = Writer::new(2, POD);
    let river = ana.publish("River", "story");
    let comment = ben.comment(&river, "lovely");
    {
        let mut store = SqliteStore::open(dir.path(), store_key()).unwrap();
        append(&mut store, &[genesis, river.clone()]);
        append(&mut store, &[ben_genesis, comment.clone()]);
    }
    {
        // As an older Myco left it: records, and no read indexes.
        let conn = rusqlite::Connection::open(dir.path().join(super::DB_FILE)).unwrap();
        conn.execute_batch(
            "DROP TABLE refs; DROP TABLE items; DROP TABLE versions; DELETE FROM meta WHERE name = 'read_index';",
        )
        .unwrap();
    }
    let store = SqliteStore::open(dir.path(), store_key()).unwrap();
    let reader = SqliteReader::open(dir.path(), store_key()).unwrap();
    let all = FeedQuery {
        limit: 10,
        ..FeedQuery::default()
    };
    assert_eq!(titles(&reader, &all), ["River"]);
    assert_eq!(
        hashes(
            &store
                .referring(&river.hash(), Relation::Comment, None, 10)
                .unwrap()
        ),
        vec![comment.hash()]
    );
}
