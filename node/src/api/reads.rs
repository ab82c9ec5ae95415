//! The API's reads: a pod's feed and one story, answered from the store's indexes on a
//! read-only connection of their own ([`ReadPool`]), never by folding the pod and never on
//! the engine's thread, so a page load costs the page and a write never waits behind one.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /pods/{pod}/feed?author=kh_…&kind=…&limit=N&before=act_…` | one page of content, newest first |
//! | `GET /content/{hash}?comments_after=act_…` | one story: text, consent, share, approval, versions, reactions, comments, receipts |

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::routing::get;
use axum::{Json, Router};
use myco_dna::{
    ActionBody, ActionHash, AgentKey, DnaHash, DnaManifest, KeyHash, Record, Visibility,
};
use myco_zomes::codec::read;
use myco_zomes::content::{Approval, Comment, Content, Reaction, Receipt, Recipient};
use serde::Deserialize;

use super::views::{
    ApprovalView, ApprovedView, CommentView, FeedItemView, FeedView, ReactionsView, ReceiptView,
    ReceiptsView, ShareView, StoryView, VersionView,
};
use super::{ApiError, ApiQuery, AppState};
use crate::daemon::Command;
use crate::store::{FeedQuery, Relation, SqliteReader, StoreError, StoreKey, MAX_FEED_PAGE};

/// Items in a feed page unless the caller asks for another number.
pub const DEFAULT_FEED_PAGE: usize = 20;
/// Comments in one page of a story.
pub const COMMENT_PAGE: usize = 50;
/// Reactions counted by kind (the newest; the total counts all).
pub const MAX_COUNTED_REACTIONS: usize = 1_000;
/// Readers kept open between requests.
const IDLE_READERS: usize = 4;
/// Characters of a body shown in the feed.
const EXCERPT_CHARS: usize = 160;

/// What a receipt is worth, said wherever receipts are shown.
pub const RECEIPT_NOTE: &str = "a receipt is the signing node's claim that it erased its copy, not a proof: a node can keep a copy and still sign one";

/// Read-only connections to the daemon's store, opened as needed and reused.
pub struct ReadPool {
    dir: PathBuf,
    key: StoreKey,
    /// What `GET /backup` encrypts under.
    backup_key: crate::backup::BackupKey,
    agent: myco_dna::AgentKey,
    me: KeyHash,
    idle: Mutex<Vec<SqliteReader>>,
    /// One fold of a whole pod at a time: a fold holds the pod in memory.
    folds: tokio::sync::Semaphore,
    /// How often each story was shown here since the daemon started. Never written to a
    /// chain nor sent: view counts stay local to each node (GOVERNANCE).
    views: Mutex<BTreeMap<ActionHash, u64>>,
}

/// Most stories whose views are counted; past it, counting starts again.
const MAX_COUNTED_STORIES: usize = 100_000;

impl ReadPool {
    /// A pool of readers of the store in `dir`, for the agent of `signing_key` (whose store
    /// key sealed it).
    pub fn new(dir: &Path, signing_key: &myco_dna::SigningKey) -> Self {
        let agent = myco_dna::agent_key_of(signing_key);
        ReadPool {
            dir: dir.to_path_buf(),
            key: StoreKey::derive(signing_key),
            backup_key: crate::backup::BackupKey::derive(signing_key),
            agent,
            me: agent.key_hash(),
            idle: Mutex::new(Vec::new()),
            folds: tokio::sync::Semaphore::new(1),
            views: Mutex::new(BTreeMap::new()),
        }
    }

    /// Counts one more showing of `story` here; returns the count.
    fn viewed(&self, story: ActionHash) -> u64 {
        let Ok(mut views) = self.views.lock() else {
            return 0;
        };
        if views.len() >= MAX_COUNTED_STORIES && !views.contains_key(&story) {
            views.clear();
        }
        let count = views.entry(story).or_default();
        *count += 1;
        *count
    }

    /// Like [`ReadPool::with`], for a read that folds a whole pod: one at a time, so page
    /// loads at once cost the memory of one pod, not of each.
    pub(crate) async fn with_fold<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&SqliteReader) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _turn = self
            .folds
            .acquire()
            .await
            .map_err(|_| ApiError::unavailable())?;
        self.with(read).await
    }

    /// The data dir the store lives in.
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir
            .parent()
            .map_or_else(|| self.dir.clone(), Path::to_path_buf)
    }

    /// The store's folder.
    pub(crate) fn store_dir(&self) -> &Path {
        &self.dir
    }

    /// The agent whose node this is.
    pub(crate) fn agent(&self) -> myco_dna::AgentKey {
        self.agent
    }

    /// The key this agent's backups are encrypted under.
    pub(crate) fn backup_key(&self) -> &crate::backup::BackupKey {
        &self.backup_key
    }

    /// The agent whose node this is.
    pub fn me(&self) -> KeyHash {
        self.me
    }

    /// Runs `read` on a reader, on a blocking thread.
    pub(crate) async fn with<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&SqliteReader) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let reader = pool.reader().map_err(store_error)?;
            let answer = read(&reader);
            pool.give_back(reader);
            answer
        })
        .await
        .map_err(|_| ApiError::unavailable())?
    }

    /// Runs `read` on a reader on this thread, for work already off the async runtime.
    pub(crate) fn read_blocking<T>(
        &self,
        read: impl FnOnce(&SqliteReader) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let reader = self.reader()?;
        let answer = read(&reader);
        self.give_back(reader);
        answer
    }

    fn reader(&self) -> Result<SqliteReader, StoreError> {
        match self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            Some(reader) => Ok(reader),
            None => SqliteReader::open(&self.dir, self.key.clone()),
        }
    }

    fn give_back(&self, reader: SqliteReader) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_READERS {
                idle.push(reader);
            }
        }
    }
}

pub(crate) fn store_error(error: StoreError) -> ApiError {
    ApiError {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("reading the store failed: {error}"),
    }
}

pub(crate) fn not_found(message: String) -> ApiError {
    ApiError {
        status: axum::http::StatusCode::NOT_FOUND,
        message,
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/pods/{pod}/feed", get(feed))
        .route("/content/{hash}", get(story))
}

pub(crate) fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("`{text}` is not a valid {what}")))
}

/// The DNA of a hosted pod.
pub(crate) async fn dna_of(state: &AppState, pod: DnaHash) -> Result<DnaManifest, ApiError> {
    state
        .ask(|reply| Command::Dna { pod, reply })
        .await?
        .ok_or_else(|| {
            not_found(format!(
                "this node does not host pod {pod}; `myco pod list` shows the pods it hosts"
            ))
        })
}

/// The query of `GET /pods/{pod}/feed`.
#[derive(Debug, Default, Deserialize)]
pub struct FeedParams {
    /// Only this author (`kh_…`).
    author: Option<String>,
    /// Only this kind of work.
    kind: Option<String>,
    /// Items per page (at most [`MAX_FEED_PAGE`]).
    limit: Option<usize>,
    /// The `next_before` of the page before.
    before: Option<String>,
}

async fn feed(
    State(state): State<AppState>,
    UrlPath(pod): UrlPath<String>,
    ApiQuery(params): ApiQuery<FeedParams>,
) -> Result<Json<FeedView>, ApiError> {
    let pod: DnaHash = parse(&pod, "pod id (dna_…)")?;
    let limit = params.limit.unwrap_or(DEFAULT_FEED_PAGE);
    if limit == 0 || limit > MAX_FEED_PAGE {
        return Err(ApiError::bad_request(format!(
            "limit is {limit}; a page holds 1 to {MAX_FEED_PAGE} items"
        )));
    }
    let query = FeedQuery {
        author: params
            .author
            .as_deref()
            .map(|a| parse::<KeyHash>(a, "key hash (kh_…)"))
            .transpose()?,
        kind: params.kind.filter(|k| !k.trim().is_empty()),
        before: params
            .before
            .as_deref()
            .map(|b| parse::<ActionHash>(b, "record hash (act_…)"))
            .transpose()?,
        limit,
    };
    dna_of(&state, pod).await?;
    let view = state
        .reads
        .with(move |reader| feed_page(reader, pod, &query).map_err(store_error))
        .await?;
    Ok(Json(view))
}

/// One page of the feed, as the API answers it.
pub fn feed_page(
    reader: &SqliteReader,
    pod: DnaHash,
    query: &FeedQuery,
) -> Result<FeedView, StoreError> {
    let items = reader.feed(&pod, query)?;
    let mut names = Names::default();
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        let content = content_of(&item.latest);
        let author = item.root.action().author;
        let root = item.root.hash();
        out.push(FeedItemView {
            hash: root.to_string(),
            latest: item.latest.hash().to_string(),
            author: author.key_hash().to_string(),
            author_name: names.of(reader, &pod, &author)?,
            kind: content.as_ref().map(|c| c.kind.clone()).unwrap_or_default(),
            title: content
                .as_ref()
                .map(|c| c.title.clone())
                .unwrap_or_default(),
            excerpt: content
                .as_ref()
                .map(|c| excerpt(&c.body))
                .unwrap_or_default(),
            visibility: visibility_name(&item.latest),
            published_micros: item.root.action().timestamp.0,
            updated_micros: item.latest.action().timestamp.0,
            versions: item.versions,
            comments: reader.count_referring(&root, Relation::Comment)?,
            reactions: reader.count_referring(&root, Relation::Reaction)?,
        });
    }
    let full = items.len() == query.limit.clamp(1, MAX_FEED_PAGE);
    Ok(FeedView {
        pod: pod.to_string(),
        next_before: if full {
            out.last().map(|item| item.hash.clone())
        } else {
            None
        },
        items: out,
    })
}

/// The query of `GET /content/{hash}`.
#[derive(Debug, Default, Deserialize)]
pub struct StoryParams {
    /// The `next_comments_after` of the page before.
    comments_after: Option<String>,
}

async fn story(
    State(state): State<AppState>,
    UrlPath(hash): UrlPath<String>,
    ApiQuery(params): ApiQuery<StoryParams>,
) -> Result<Json<StoryView>, ApiError> {
    let hash: ActionHash = parse(&hash, "record hash (act_…)")?;
    let after = params
        .comments_after
        .as_deref()
        .map(|a| parse::<ActionHash>(a, "record hash (act_…)"))
        .transpose()?;
    Ok(Json(load_story(&state, hash, after).await?))
}

/// The story that `hash` is a version of, with the page of comments after `after`, counting
/// one more showing on this node: what `GET /content/{hash}` and the app's story page show.
pub(crate) async fn load_story(
    state: &AppState,
    hash: ActionHash,
    after: Option<ActionHash>,
) -> Result<StoryView, ApiError> {
    let pod = state
        .reads
        .with(move |reader| {
            let record = reader.get(&hash).map_err(store_error)?.ok_or_else(|| {
                not_found(format!(
                    "this node holds no record {hash}; check the hash, or wait for sync if it was written moments ago"
                ))
            })?;
            Ok(record.action().pod)
        })
        .await?;
    let dna = dna_of(state, pod).await?;
    let view = state
        .reads
        .with(move |reader| {
            story_view(reader, &dna, &hash, after.as_ref())
                .map_err(store_error)?
                .ok_or_else(|| {
                    not_found(format!(
                        "{hash} is not a story (content) this node holds; `myco feed --pod {pod}` lists the stories"
                    ))
                })
        })
        .await?;
    let root: ActionHash = parse(&view.hash, "record hash (act_…)")?;
    Ok(StoryView {
        views_here: state.reads.viewed(root),
        ..view
    })
}

/// One story, as the API answers it; `None` if `hash` is not a version of content held here.
pub fn story_view(
    reader: &SqliteReader,
    dna: &DnaManifest,
    hash: &ActionHash,
    comments_after: Option<&ActionHash>,
) -> Result<Option<StoryView>, StoreError> {
    let Some(versions) = reader.versions(hash)? else {
        return Ok(None);
    };
    let pod = dna.dna_hash();
    let root = versions.root.hash();
    let latest = versions.versions.last().unwrap_or(&versions.root).clone();
    let author = versions.root.action().author;
    let mut names = Names::default();
    let content = content_of(&latest);
    let mut version_views = Vec::with_capacity(versions.versions.len());
    for version in &versions.versions {
        let entry = if version.entry.is_some() {
            "held"
        } else if reader.was_purged(&version.hash())? {
            "purged"
        } else {
            "not held"
        };
        version_views.push(VersionView {
            hash: version.hash().to_string(),
            micros: version.action().timestamp.0,
            visibility: visibility_name(version),
            entry: entry.into(),
            title: content_of(version).map(|c| c.title),
        });
    }
    let version_hashes: Vec<ActionHash> = versions.versions.iter().map(Record::hash).collect();
    let comments = reader.referring(&root, Relation::Comment, comments_after, COMMENT_PAGE)?;
    let mut comment_views = Vec::with_capacity(comments.len());
    for comment in &comments {
        let Some(text) = read::<Comment>(comment, "entry") else {
            continue;
        };
        let commenter = comment.action().author;
        comment_views.push(CommentView {
            hash: comment.hash().to_string(),
            author: commenter.key_hash().to_string(),
            author_name: names.of(reader, &pod, &commenter)?,
            micros: comment.action().timestamp.0,
            body: text.text,
        });
    }
    let comments_total = reader.count_referring(&root, Relation::Comment)?;
    let next_comments_after = (comments.len() == COMMENT_PAGE)
        .then(|| comments.last().map(|c| c.hash().to_string()))
        .flatten();
    let view = StoryView {
        pod: pod.to_string(),
        hash: root.to_string(),
        latest: latest.hash().to_string(),
        author: author.key_hash().to_string(),
        author_name: names.of(reader, &pod, &author)?,
        deleted: versions.deleted,
        held: latest.entry.is_some(),
        visibility: visibility_name(&latest),
        kind: content.as_ref().map(|c| c.kind.clone()).unwrap_or_default(),
        title: content
            .as_ref()
            .map(|c| c.title.clone())
            .unwrap_or_default(),
        body: content.as_ref().map(|c| c.body.clone()).unwrap_or_default(),
        consent: content.as_ref().map(|c| c.consent.clone()),
        principles: content
            .as_ref()
            .map(|c| c.principles.clone())
            .unwrap_or_default(),
        protocols: content
            .as_ref()
            .map(|c| c.protocols.clone())
            .unwrap_or_default(),
        attribution: content.as_ref().and_then(|c| c.attribution.clone()),
        revenue_share: content
            .as_ref()
            .map(|c| shares(c, &author.key_hash()))
            .unwrap_or_default(),
        approval: approval(reader, dna, content.as_ref(), &version_hashes)?,
        versions: version_views,
        reactions: reactions(reader, &root)?,
        comments: comment_views,
        comments_total,
        next_comments_after,
        receipts: receipts(reader, &pod, &author, &versions.versions)?,
        views_here: 0,
    };
    Ok(Some(view))
}

fn content_of(record: &Record) -> Option<Content> {
    crate::store::references::is_content(record)
        .then(|| read::<Content>(record, "entry"))
        .flatten()
}

fn excerpt(body: &str) -> String {
    let mut chars = body.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

fn visibility_name(record: &Record) -> String {
    match record.action().body.entry_ref().map(|e| e.visibility) {
        Some(Visibility::Public) => "public",
        Some(Visibility::Pod) => "pod",
        Some(Visibility::Private) => "private",
        None => "none",
    }
    .into()
}

fn shares(content: &Content, creator: &KeyHash) -> Vec<ShareView> {
    match &content.revenue_share {
        None => vec![ShareView {
            recipient: creator.to_string(),
            bp: 10_000,
        }],
        Some(shares) => shares
            .iter()
            .map(|share| ShareView {
                recipient: match share.recipient {
                    Recipient::Member(member) => member.to_string(),
                    Recipient::Community => "community".into(),
                },
                bp: share.bp.0,
            })
            .collect(),
    }
}

fn approval(
    reader: &SqliteReader,
    dna: &DnaManifest,
    content: Option<&Content>,
    versions: &[ActionHash],
) -> Result<ApprovalView, StoreError> {
    let required: Vec<String> = content
        .map(|c| {
            c.protocols
                .iter()
                .filter(|tag| {
                    dna.properties
                        .cultural_protocols
                        .iter()
                        .any(|p| &p.name == *tag && p.requires_steward_approval)
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut approvals = Vec::new();
    for version in versions {
        for record in reader.referring(version, Relation::Approval, None, 64)? {
            if let Some(approval) = read::<Approval>(&record, "entry") {
                approvals.push(ApprovedView {
                    protocol: approval.protocol,
                    steward: record.action().author.key_hash().to_string(),
                    record: record.hash().to_string(),
                });
            }
        }
    }
    let approved: BTreeSet<&str> = approvals.iter().map(|a| a.protocol.as_str()).collect();
    let status = if required.is_empty() {
        "not needed"
    } else if required.iter().all(|p| approved.contains(p.as_str())) {
        "approved"
    } else {
        "awaiting steward approval"
    };
    Ok(ApprovalView {
        status: status.into(),
        required,
        approvals,
    })
}

fn reactions(reader: &SqliteReader, root: &ActionHash) -> Result<ReactionsView, StoreError> {
    let total = reader.count_referring(root, Relation::Reaction)?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    // The newest ones: page from the start, keeping the last MAX_COUNTED_REACTIONS seen.
    let skip = total.saturating_sub(MAX_COUNTED_REACTIONS as u64);
    let mut seen = 0u64;
    let mut after: Option<ActionHash> = None;
    loop {
        let page = reader.referring(root, Relation::Reaction, after.as_ref(), 1_000)?;
        let Some(last) = page.last() else { break };
        after = Some(last.hash());
        for record in &page {
            seen += 1;
            if seen > skip {
                if let Some(reaction) = read::<Reaction>(record, "entry") {
                    *counts.entry(reaction.reaction).or_default() += 1;
                }
            }
        }
        if page.len() < 1_000 {
            break;
        }
    }
    Ok(ReactionsView { total, counts })
}

/// The receipts for the versions of a story that were revoked, and the members that owe one:
/// every member other than the author who joined before the revocation, has not left, and
/// has sent no receipt for it.
fn receipts(
    reader: &SqliteReader,
    pod: &DnaHash,
    author: &AgentKey,
    versions: &[Record],
) -> Result<ReceiptsView, StoreError> {
    let mut revocations: Vec<Record> = Vec::new();
    for version in versions {
        for relation in [Relation::Delete, Relation::Version] {
            for record in reader.referring(&version.hash(), relation, None, 64)? {
                let narrowing = match &record.action().body {
                    ActionBody::Delete { .. } => true,
                    _ => myco_zomes::content::narrows(version, &record),
                };
                if narrowing && !revocations.iter().any(|r| r.hash() == record.hash()) {
                    revocations.push(record);
                }
            }
        }
    }
    if revocations.is_empty() {
        return Ok(ReceiptsView {
            note: RECEIPT_NOTE.into(),
            ..ReceiptsView::default()
        });
    }
    revocations.sort_by_key(|r| std::cmp::Reverse(r.action().timestamp));
    let first_revocation = revocations
        .iter()
        .map(|r| r.action().timestamp)
        .min()
        .unwrap_or(myco_dna::Timestamp(0));
    let mut confirmed = Vec::new();
    let mut confirmed_by: BTreeSet<KeyHash> = BTreeSet::new();
    for version in versions {
        let mut after: Option<ActionHash> = None;
        loop {
            let page =
                reader.referring(&version.hash(), Relation::Receipt, after.as_ref(), 1_000)?;
            let Some(last) = page.last() else { break };
            after = Some(last.hash());
            for record in &page {
                let Some(receipt) = read::<Receipt>(record, "entry") else {
                    continue;
                };
                let member = record.action().author.key_hash();
                confirmed_by.insert(member);
                confirmed.push(ReceiptView {
                    member: member.to_string(),
                    record: receipt.record.to_string(),
                    purged_micros: receipt.purged_at.0,
                    receipt: record.hash().to_string(),
                });
            }
            if page.len() < 1_000 {
                break;
            }
        }
    }
    let owed = reader
        .members(pod)?
        .into_iter()
        .filter(|m| &m.agent != author && !m.left && m.joined_at <= first_revocation)
        .map(|m| m.agent.key_hash())
        .filter(|member| !confirmed_by.contains(member))
        .map(|member| member.to_string())
        .collect();
    Ok(ReceiptsView {
        revocations: revocations.iter().map(|r| r.hash().to_string()).collect(),
        confirmed,
        owed,
        note: RECEIPT_NOTE.into(),
    })
}

/// The usernames this node holds of `pod`'s members (at most
/// [`crate::store::MAX_MEMBERS`]), by key hash.
pub fn usernames(
    reader: &SqliteReader,
    pod: &DnaHash,
) -> Result<BTreeMap<KeyHash, String>, StoreError> {
    let mut names = Names::default();
    let mut out = BTreeMap::new();
    for member in reader.members(pod)? {
        if let Some(name) = names.of(reader, pod, &member.agent)? {
            out.insert(member.agent.key_hash(), name);
        }
    }
    Ok(out)
}

/// Usernames of a pod's members, looked up once per request.
#[derive(Default)]
struct Names(BTreeMap<AgentKey, Option<String>>);

impl Names {
    fn of(
        &mut self,
        reader: &SqliteReader,
        pod: &DnaHash,
        agent: &AgentKey,
    ) -> Result<Option<String>, StoreError> {
        if let Some(name) = self.0.get(agent) {
            return Ok(name.clone());
        }
        let name = reader
            .newest_typed(
                pod,
                agent,
                myco_zomes::ZOME_MEMBERSHIP,
                myco_zomes::membership::PROFILE,
            )?
            .and_then(|record| read::<myco_zomes::membership::Profile>(&record, "entry"))
            .map(|profile| profile.username)
            .filter(|name| !name.is_empty());
        self.0.insert(*agent, name.clone());
        Ok(name)
    }
}
