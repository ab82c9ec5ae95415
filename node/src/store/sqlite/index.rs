//! The read indexes of the SQLite store, kept in the same transactions as the records they
//! describe: what refers to what, and the pod's content as a feed.
//!
//! | table | row | what for |
//! |---|---|---|
//! | `refs` | target tag, relation, timestamp, record id | comments, votes, versions… of a record ([`Store::referring`](crate::store::Store::referring)) |
//! | `items` | the Create's id, pod, chain, timestamp, kind tag, newest version, visible, deleted | the feed, newest first, by pod, author or kind |
//! | `versions` | a version's id, its item's id | from any version of a story to the story |
//!
//! Targets and kinds are filed under [`StoreKey::index_tag`]s: a reader of the raw file sees
//! neither which story a sealed comment answers nor what kind of work a story is. A tag is 8
//! bytes, so a read decodes what it finds and keeps only real matches. An item is `visible`
//! while its newest version's entry is held here and it is not deleted: the feed then costs
//! the page it returns, whatever else the pod holds.

use myco_dna::{ActionBody, ActionHash, Record};
use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{decode_record, hash_prefix};
use super::sqlite_error;
use crate::store::references::{self, Reference, Relation};
use crate::store::sealing::StoreKey;
use crate::store::StoreError;

/// The index tables. Created on every open, so stores made before them gain them.
pub const TABLES: &str = "
CREATE TABLE IF NOT EXISTS refs(
    target INTEGER NOT NULL,
    relation INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    record INTEGER NOT NULL,
    PRIMARY KEY(target, relation, ts, record)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refs_by_record ON refs(record);
CREATE TABLE IF NOT EXISTS items(
    record INTEGER PRIMARY KEY,
    pod INTEGER NOT NULL,
    chain INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    kind INTEGER,
    latest INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS items_feed ON items(pod, ts, record) WHERE visible = 1;
CREATE INDEX IF NOT EXISTS items_by_chain ON items(chain, ts, record) WHERE visible = 1;
CREATE INDEX IF NOT EXISTS items_by_kind ON items(pod, kind, ts, record) WHERE visible = 1;
CREATE TABLE IF NOT EXISTS versions(
    record INTEGER PRIMARY KEY,
    item INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_by_item ON versions(item, record);
";

/// The `meta` row that says the indexes cover every record.
const BUILT: &str = "read_index";

/// The tag a target hash is filed under.
pub fn target_tag(key: &StoreKey, target: &ActionHash) -> i64 {
    key.index_tag(b"target", target.as_bytes())
}

/// The tag a kind of content is filed under.
pub fn kind_tag(key: &StoreKey, kind: &str) -> i64 {
    key.index_tag(b"kind", kind.as_bytes())
}

/// The pod column of a chain's items: the first 8 bytes of the pod id (which is public).
pub fn pod_value(pod: &myco_dna::DnaHash) -> i64 {
    hash_prefix(&ActionHash(*pod.as_bytes()))
}

/// Creates the index tables, and fills them from the records if this store was made before
/// them (once; it reads and decodes every record).
pub fn prepare(conn: &Connection, key: &StoreKey) -> Result<(), StoreError> {
    conn.execute_batch(TABLES).map_err(sqlite_error)?;
    let built: bool = conn
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM meta WHERE name = ?1)",
            [BUILT],
            |row| row.get(0),
        )
        .map_err(sqlite_error)?;
    if built {
        return Ok(());
    }
    let tx = conn.unchecked_transaction().map_err(sqlite_error)?;
    let count: i64 = tx
        .query_row("SELECT COUNT(*) FROM records", [], |row| row.get(0))
        .map_err(sqlite_error)?;
    if count > 0 {
        tracing::info!(
            records = count,
            "indexing the store for reads (once, for a store made by an older Myco)"
        );
    }
    {
        let mut rows = tx
            .prepare("SELECT id, chain, action, entry FROM records ORDER BY id")
            .map_err(sqlite_error)?;
        let mut rows = rows.query([]).map_err(sqlite_error)?;
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            let id: i64 = row.get(0).map_err(sqlite_error)?;
            let chain: i64 = row.get(1).map_err(sqlite_error)?;
            let action: Vec<u8> = row.get(2).map_err(sqlite_error)?;
            let entry: Option<Vec<u8>> = row.get(3).map_err(sqlite_error)?;
            // A row that does not decode is for `chain verify` to report; it has no place
            // in an index.
            if let Ok(record) = decode_record(key, id, &action, entry.as_deref()) {
                on_append(&tx, key, id, chain, &record)?;
            }
        }
    }
    tx.execute("INSERT INTO meta(name, value) VALUES (?1, x'01')", [BUILT])
        .map_err(sqlite_error)?;
    tx.commit().map_err(sqlite_error)
}

/// The row id of the record `hash`, if it is held.
pub fn id_of(conn: &Connection, hash: &ActionHash) -> Result<Option<i64>, StoreError> {
    let mut statement = conn
        .prepare_cached("SELECT id, action FROM records WHERE hash_prefix = ?1")
        .map_err(sqlite_error)?;
    let mut rows = statement.query([hash_prefix(hash)]).map_err(sqlite_error)?;
    while let Some(row) = rows.next().map_err(sqlite_error)? {
        let id: i64 = row.get(0).map_err(sqlite_error)?;
        let action: Vec<u8> = row.get(1).map_err(sqlite_error)?;
        if Record::from_bytes(&action).is_ok_and(|r| r.hash() == *hash) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

fn add_reference(
    conn: &Connection,
    key: &StoreKey,
    id: i64,
    record: &Record,
    reference: Reference,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO refs(target, relation, ts, record) VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(sqlite_error)?
    .execute(params![
        target_tag(key, &reference.target),
        reference.relation.code(),
        record.action().timestamp.0 as i64,
        id
    ])
    .map_err(sqlite_error)?;
    Ok(())
}

/// The item (the Create's row id) the version `version` belongs to.
pub fn item_of(conn: &Connection, version: i64) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT item FROM versions WHERE record = ?1")
        .map_err(sqlite_error)?
        .query_row([version], |row| row.get(0))
        .optional()
        .map_err(sqlite_error)
}

/// Indexes the record just stored as row `id` of chain row `chain`.
pub fn on_append(
    conn: &Connection,
    key: &StoreKey,
    id: i64,
    chain: i64,
    record: &Record,
) -> Result<(), StoreError> {
    for reference in references::references(record) {
        add_reference(conn, key, id, record, reference)?;
    }
    let kind = references::content_kind(record).map(|k| kind_tag(key, &k));
    let held = record.entry.is_some();
    match &record.action().body {
        ActionBody::Create(_) if references::is_content(record) => {
            conn.prepare_cached(
                "INSERT INTO items(record, pod, chain, ts, kind, latest, visible) VALUES (?1, ?2, ?3, ?4, ?5, ?1, ?6)",
            )
            .map_err(sqlite_error)?
            .execute(params![
                id,
                pod_value(&record.action().pod),
                chain,
                record.action().timestamp.0 as i64,
                kind,
                held
            ])
            .map_err(sqlite_error)?;
            add_version(conn, id, id)?;
        }
        ActionBody::Update { original, .. } if references::is_content(record) => {
            let Some(item) = id_of(conn, original)?
                .map(|o| item_of(conn, o))
                .transpose()?
                .flatten()
            else {
                return Ok(());
            };
            add_version(conn, id, item)?;
            conn.prepare_cached(
                "UPDATE items SET latest = ?2, kind = ?3, visible = (?4 AND deleted = 0) WHERE record = ?1",
            )
            .map_err(sqlite_error)?
            .execute(params![item, id, kind, held])
            .map_err(sqlite_error)?;
        }
        ActionBody::Delete { target } => {
            let item = id_of(conn, target)?
                .map(|t| item_of(conn, t))
                .transpose()?
                .flatten();
            if let Some(item) = item {
                conn.prepare_cached("UPDATE items SET deleted = 1, visible = 0 WHERE record = ?1")
                    .map_err(sqlite_error)?
                    .execute([item])
                    .map_err(sqlite_error)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn add_version(conn: &Connection, version: i64, item: i64) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR REPLACE INTO versions(record, item) VALUES (?1, ?2)")
        .map_err(sqlite_error)?
        .execute([version, item])
        .map_err(sqlite_error)?;
    Ok(())
}

/// Indexes what the entry just given to row `id` names.
pub fn on_fill(
    conn: &Connection,
    key: &StoreKey,
    id: i64,
    record: &Record,
) -> Result<(), StoreError> {
    if let Some(reference) = references::entry_reference(record) {
        add_reference(conn, key, id, record, reference)?;
    }
    let kind = references::content_kind(record).map(|k| kind_tag(key, &k));
    conn.prepare_cached("UPDATE items SET kind = ?2, visible = (deleted = 0) WHERE latest = ?1")
        .map_err(sqlite_error)?
        .execute(params![id, kind])
        .map_err(sqlite_error)?;
    Ok(())
}

/// Forgets what the entry of row `id`, now purged, named.
pub fn on_purge(conn: &Connection, id: i64) -> Result<(), StoreError> {
    let in_action: Vec<i64> = Relation::ALL
        .iter()
        .filter(|r| r.is_in_action())
        .map(|r| r.code())
        .collect();
    conn.prepare_cached("DELETE FROM refs WHERE record = ?1 AND relation NOT IN (?2, ?3)")
        .map_err(sqlite_error)?
        .execute(params![id, in_action[0], in_action[1]])
        .map_err(sqlite_error)?;
    conn.prepare_cached("UPDATE items SET kind = NULL, visible = 0 WHERE latest = ?1")
        .map_err(sqlite_error)?
        .execute([id])
        .map_err(sqlite_error)?;
    Ok(())
}

/// The records that make `relation` to `target`, in (timestamp, hash) order, after `after`.
pub fn referring(
    conn: &Connection,
    key: &StoreKey,
    target: &ActionHash,
    relation: Relation,
    after: Option<&ActionHash>,
    limit: usize,
) -> Result<Vec<Record>, StoreError> {
    let tag = target_tag(key, target);
    // Where to start: the cursor record's own timestamp and row (it is one of the answers).
    let start: (i64, i64) = match after {
        None => (i64::MIN, i64::MIN),
        Some(hash) => match id_of(conn, hash)? {
            None => (i64::MIN, i64::MIN),
            Some(id) => conn
                .prepare_cached("SELECT ts, record FROM refs WHERE record = ?1 LIMIT 1")
                .map_err(sqlite_error)?
                .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .map_err(sqlite_error)?
                .unwrap_or((i64::MIN, i64::MIN)),
        },
    };
    let mut statement = conn
        .prepare_cached(
            "SELECT records.id, records.action, records.entry FROM refs JOIN records ON records.id = refs.record
             WHERE refs.target = ?1 AND refs.relation = ?2 AND (refs.ts, refs.record) > (?3, ?4)
             ORDER BY refs.ts, refs.record LIMIT ?5",
        )
        .map_err(sqlite_error)?;
    let mut rows = statement
        .query(params![
            tag,
            relation.code(),
            start.0,
            start.1,
            limit as i64
        ])
        .map_err(sqlite_error)?;
    let found = super::codec::decode_rows(key, &mut rows)?;
    Ok(references::matching(found, target, relation))
}
