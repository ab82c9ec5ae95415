//! A read-only second connection to the store, for the local API's reads: the feed, one
//! story with what refers to it, the pod's members. It runs beside the engine's connection
//! (SQLite's write-ahead log lets readers and the writer go on at once), so a page load never
//! waits behind a write, nor a write behind a page load. Every read is bounded by the page
//! it returns and answered from the indexes of [`super::index`].

use std::path::Path;

use myco_dna::{ActionHash, AgentKey, DnaHash, KeyHash, Record, Timestamp, Warrant};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::codec::{self, decode_record, tag_value};
use super::{index, sqlite_error, DB_FILE};
use crate::store::keys::type_tag;
use crate::store::sealing::StoreKey;
use crate::store::{Relation, StoreError};

/// Most items one feed page holds.
pub const MAX_FEED_PAGE: usize = 100;
/// Most versions of one story a read lists.
pub const MAX_VERSIONS: usize = 256;
/// Most members a read lists.
pub const MAX_MEMBERS: usize = 10_000;

/// What a feed page asks for.
#[derive(Clone, Debug, Default)]
pub struct FeedQuery {
    /// Only this author's content.
    pub author: Option<KeyHash>,
    /// Only content of this kind ("story", "video"…).
    pub kind: Option<String>,
    /// Only content published before this item (any version of it): the cursor of the page
    /// before.
    pub before: Option<ActionHash>,
    /// Most items (at most [`MAX_FEED_PAGE`]).
    pub limit: usize,
}

/// One story in the feed.
#[derive(Clone, Debug)]
pub struct FeedItem {
    /// Its Create.
    pub root: Record,
    /// Its newest version (the Create itself when it was never edited).
    pub latest: Record,
    /// How many versions it has.
    pub versions: u64,
}

/// Every version of one story, as held here.
#[derive(Clone, Debug)]
pub struct Versions {
    /// The Create.
    pub root: Record,
    /// The Create and each Update, oldest first (at most [`MAX_VERSIONS`]).
    pub versions: Vec<Record>,
    /// True once any version was deleted.
    pub deleted: bool,
}

/// A member of a pod, as this node's copy of it shows.
#[derive(Clone, Debug)]
pub struct PodMember {
    /// The agent.
    pub agent: AgentKey,
    /// When its Genesis says it joined.
    pub joined_at: Timestamp,
    /// True if its chain holds a Leave.
    pub left: bool,
}

/// A read-only connection to a [`super::SqliteStore`]'s file.
pub struct SqliteReader {
    conn: Connection,
    key: StoreKey,
}

impl SqliteReader {
    /// Opens the store in `dir` for reading. The store must exist (the daemon opened it
    /// first).
    pub fn open(dir: &Path, key: StoreKey) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            dir.join(DB_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_error)?;
        for (name, value) in [
            ("query_only", "ON"),
            ("temp_store", "MEMORY"),
            ("mmap_size", "0"),
        ] {
            conn.pragma_update(None, name, value)
                .map_err(sqlite_error)?;
        }
        conn.pragma_update(None, "cache_size", -(super::schema::CACHE_KIB / 4))
            .map_err(sqlite_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite_error)?;
        Ok(SqliteReader { conn, key })
    }

    fn by_id(&self, id: i64) -> Result<Option<Record>, StoreError> {
        let row: Option<(Vec<u8>, Option<Vec<u8>>)> = self
            .conn
            .prepare_cached("SELECT action, entry FROM records WHERE id = ?1")
            .map_err(sqlite_error)?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(sqlite_error)?;
        row.map(|(action, entry)| decode_record(&self.key, id, &action, entry.as_deref()))
            .transpose()
    }

    /// A record by action hash.
    pub fn get(&self, hash: &ActionHash) -> Result<Option<Record>, StoreError> {
        match index::id_of(&self.conn, hash)? {
            Some(id) => self.by_id(id),
            None => Ok(None),
        }
    }

    /// Whether the entry of the record `hash` was purged here.
    pub fn was_purged(&self, hash: &ActionHash) -> Result<bool, StoreError> {
        let Some(id) = index::id_of(&self.conn, hash)? else {
            return Ok(false);
        };
        self.conn
            .prepare_cached("SELECT purged FROM records WHERE id = ?1")
            .map_err(sqlite_error)?
            .query_row([id], |row| row.get::<_, bool>(0))
            .map_err(sqlite_error)
    }

    /// See [`crate::store::Store::referring`].
    pub fn referring(
        &self,
        target: &ActionHash,
        relation: Relation,
        after: Option<&ActionHash>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        index::referring(&self.conn, &self.key, target, relation, after, limit)
    }

    /// How many records make `relation` to `target` (counted in the index; strangers sharing
    /// a tag would be counted too, one in 2^64).
    pub fn count_referring(
        &self,
        target: &ActionHash,
        relation: Relation,
    ) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM refs WHERE target = ?1 AND relation = ?2")
            .map_err(sqlite_error)?
            .query_row(
                params![index::target_tag(&self.key, target), relation.code()],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(sqlite_error)
    }

    /// The chain rows of `pod`, with their authors.
    fn chains_of(&self, pod: &DnaHash) -> Result<Vec<(i64, AgentKey)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, author FROM chains WHERE pod = ?1 ORDER BY id LIMIT ?2")
            .map_err(sqlite_error)?;
        let rows = statement
            .query_map(params![pod.as_bytes(), MAX_MEMBERS as i64], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(sqlite_error)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, author) = row.map_err(sqlite_error)?;
            let author = AgentKey::from_slice(&author)
                .ok_or_else(|| StoreError::Damaged(format!("chain row {id} names no agent key")))?;
            out.push((id, author));
        }
        Ok(out)
    }

    /// One page of the content of `pod` this node may show, newest first.
    pub fn feed(&self, pod: &DnaHash, query: &FeedQuery) -> Result<Vec<FeedItem>, StoreError> {
        let limit = query.limit.clamp(1, MAX_FEED_PAGE) as i64;
        let chain = match &query.author {
            None => None,
            Some(author) => match self
                .chains_of(pod)?
                .into_iter()
                .find(|(_, agent)| agent.key_hash() == *author)
            {
                Some((id, _)) => Some(id),
                None => return Ok(Vec::new()),
            },
        };
        let (before_ts, before_id) = match &query.before {
            None => (i64::MAX, i64::MAX),
            Some(hash) => self.item_position(hash)?.unwrap_or((i64::MAX, i64::MAX)),
        };
        let kind = query.kind.as_deref().map(|k| index::kind_tag(&self.key, k));
        let (sql, filter) = match (chain, kind) {
            (Some(chain), _) => (
                "SELECT record, latest, kind FROM items WHERE chain = ?1 AND pod = ?5 AND visible = 1 AND (ts, record) < (?2, ?3) ORDER BY ts DESC, record DESC LIMIT ?4",
                chain,
            ),
            (None, Some(kind)) => (
                "SELECT record, latest, kind FROM items WHERE pod = ?5 AND kind = ?1 AND visible = 1 AND (ts, record) < (?2, ?3) ORDER BY ts DESC, record DESC LIMIT ?4",
                kind,
            ),
            (None, None) => (
                "SELECT record, latest, kind FROM items WHERE pod = ?5 AND ?1 = ?1 AND visible = 1 AND (ts, record) < (?2, ?3) ORDER BY ts DESC, record DESC LIMIT ?4",
                0,
            ),
        };
        let rows: Vec<(i64, i64, Option<i64>)> = {
            let mut statement = self.conn.prepare_cached(sql).map_err(sqlite_error)?;
            let rows = statement
                .query_map(
                    params![filter, before_ts, before_id, limit, index::pod_value(pod)],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .map_err(sqlite_error)?;
            rows.collect::<Result<_, _>>().map_err(sqlite_error)?
        };
        let mut out = Vec::new();
        for (root, latest, row_kind) in rows {
            if kind.is_some() && row_kind != kind {
                continue;
            }
            let (Some(root_record), Some(latest_record)) = (self.by_id(root)?, self.by_id(latest)?)
            else {
                continue;
            };
            // The pod column is a prefix of the pod id: keep only this pod's items.
            if root_record.action().pod != *pod {
                continue;
            }
            let versions: i64 = self
                .conn
                .prepare_cached("SELECT COUNT(*) FROM versions WHERE item = ?1")
                .map_err(sqlite_error)?
                .query_row([root], |row| row.get(0))
                .map_err(sqlite_error)?;
            out.push(FeedItem {
                root: root_record,
                latest: latest_record,
                versions: versions as u64,
            });
        }
        Ok(out)
    }

    /// The (timestamp, row) of the item that the record `hash` is a version of.
    fn item_position(&self, hash: &ActionHash) -> Result<Option<(i64, i64)>, StoreError> {
        let Some(id) = index::id_of(&self.conn, hash)? else {
            return Ok(None);
        };
        let Some(item) = index::item_of(&self.conn, id)? else {
            return Ok(None);
        };
        self.conn
            .prepare_cached("SELECT ts, record FROM items WHERE record = ?1")
            .map_err(sqlite_error)?
            .query_row([item], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(sqlite_error)
    }

    /// Every version of the story that the record `hash` is a version of, if it is one.
    pub fn versions(&self, hash: &ActionHash) -> Result<Option<Versions>, StoreError> {
        let Some(id) = index::id_of(&self.conn, hash)? else {
            return Ok(None);
        };
        let Some(item) = index::item_of(&self.conn, id)? else {
            return Ok(None);
        };
        let deleted: bool = self
            .conn
            .prepare_cached("SELECT deleted FROM items WHERE record = ?1")
            .map_err(sqlite_error)?
            .query_row([item], |row| row.get(0))
            .map_err(sqlite_error)?;
        let ids: Vec<i64> = {
            let mut statement = self
                .conn
                .prepare_cached(
                    "SELECT record FROM versions WHERE item = ?1 ORDER BY record LIMIT ?2",
                )
                .map_err(sqlite_error)?;
            let rows = statement
                .query_map(params![item, MAX_VERSIONS as i64], |row| row.get(0))
                .map_err(sqlite_error)?;
            rows.collect::<Result<_, _>>().map_err(sqlite_error)?
        };
        let mut versions = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = self.by_id(id)? {
                versions.push(record);
            }
        }
        let Some(root) = versions.first().cloned() else {
            return Ok(None);
        };
        Ok(Some(Versions {
            root,
            versions,
            deleted,
        }))
    }

    /// The newest record of `agent`'s chain in `pod` that writes `zome`'s `entry_type`.
    pub fn newest_typed(
        &self,
        pod: &DnaHash,
        agent: &AgentKey,
        zome: &str,
        entry_type: &str,
    ) -> Result<Option<Record>, StoreError> {
        let chain: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM chains WHERE pod = ?1 AND author = ?2")
            .map_err(sqlite_error)?
            .query_row(params![pod.as_bytes(), agent.as_bytes()], |row| row.get(0))
            .optional()
            .map_err(sqlite_error)?;
        let Some(chain) = chain else {
            return Ok(None);
        };
        Ok(
            codec::typed_records(&self.conn, &self.key, chain, zome, entry_type, Some(8))?
                .into_iter()
                .next(),
        )
    }

    /// A mark that changes whenever the store gains a record or a warrant: the newest
    /// record's id and the number of warrants kept.
    pub fn mark(&self) -> Result<(i64, i64), StoreError> {
        self.conn
            .prepare_cached(
                "SELECT (SELECT IFNULL(MAX(id), 0) FROM records), (SELECT COUNT(*) FROM warrants)",
            )
            .map_err(sqlite_error)?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(sqlite_error)
    }

    /// Every record of `pod` held here that writes `zome`'s `entry_type` (its proposals, say),
    /// newest first: read through the type index, chain by chain, so it costs the records of
    /// that type, not the pod.
    pub fn pod_typed(
        &self,
        pod: &DnaHash,
        zome: &str,
        entry_type: &str,
    ) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for (chain, _) in self.chains_of(pod)? {
            out.extend(codec::typed_records(
                &self.conn, &self.key, chain, zome, entry_type, None,
            )?);
        }
        out.sort_by_key(|record| std::cmp::Reverse((record.action().timestamp, record.hash())));
        Ok(out)
    }

    /// Every record of `pod` held here, chain by chain, for folding the pod's state. It costs
    /// the size of the pod: the transparency figures are folded from it.
    pub fn pod_records(&self, pod: &DnaHash) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        let chains: Vec<i64> = {
            let mut statement = self
                .conn
                .prepare_cached("SELECT id FROM chains WHERE pod = ?1 ORDER BY id")
                .map_err(sqlite_error)?;
            let rows = statement
                .query_map([pod.as_bytes()], |row| row.get(0))
                .map_err(sqlite_error)?;
            rows.collect::<Result<_, _>>().map_err(sqlite_error)?
        };
        for chain in chains {
            out.extend(self.chain_records(chain)?);
        }
        Ok(out)
    }

    /// Every record of the chain with row id `chain`, in seq order.
    fn chain_records(&self, chain: i64) -> Result<Vec<Record>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, action, entry FROM records WHERE chain = ?1 ORDER BY seq")
            .map_err(sqlite_error)?;
        let mut rows = statement.query([chain]).map_err(sqlite_error)?;
        codec::decode_rows(&self.key, &mut rows)
    }

    /// The chain of `author` in `pod`, from Genesis in seq order, with the entries this node
    /// holds (empty if it has no chain there).
    pub fn chain_of(&self, pod: &DnaHash, author: &AgentKey) -> Result<Vec<Record>, StoreError> {
        let chain: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM chains WHERE pod = ?1 AND author = ?2")
            .map_err(sqlite_error)?
            .query_row(params![pod.as_bytes(), author.as_bytes()], |row| row.get(0))
            .optional()
            .map_err(sqlite_error)?;
        match chain {
            Some(chain) => self.chain_records(chain),
            None => Ok(Vec::new()),
        }
    }

    /// The warrants kept for `pod`.
    pub fn warrants(&self, pod: &DnaHash) -> Result<Vec<Warrant>, StoreError> {
        super::read_warrants(&self.conn, &self.key, pod)
    }

    /// The members of `pod` this node holds a chain of (at most [`MAX_MEMBERS`]).
    pub fn members(&self, pod: &DnaHash) -> Result<Vec<PodMember>, StoreError> {
        let leave = tag_value(&type_tag(
            myco_zomes::ZOME_MEMBERSHIP,
            myco_zomes::membership::LEAVE,
        ));
        let mut out = Vec::new();
        for (chain, agent) in self.chains_of(pod)? {
            let genesis: Option<(i64, Vec<u8>)> = self
                .conn
                .prepare_cached("SELECT id, action FROM records WHERE chain = ?1 AND seq = 0")
                .map_err(sqlite_error)?
                .query_row([chain], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .map_err(sqlite_error)?;
            let Some((id, action)) = genesis else {
                continue;
            };
            let joined_at = decode_record(&self.key, id, &action, None)?
                .action()
                .timestamp;
            let left: bool = self
                .conn
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM records WHERE chain = ?1 AND type_tag = ?2)",
                )
                .map_err(sqlite_error)?
                .query_row(params![chain, leave], |row| row.get(0))
                .map_err(sqlite_error)?;
            out.push(PodMember {
                agent,
                joined_at,
                left,
            });
        }
        Ok(out)
    }
}
