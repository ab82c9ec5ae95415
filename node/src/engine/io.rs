//! What goes into the engine and what comes out of it.

use myco_dna::{ActionBody, ActionHash, AgentKey, DnaHash, DnaManifest, Entry, Record, Warrant};

use super::messages::{GossipMessage, SyncRequest, SyncResponse};

/// Longest peer id, in bytes (a libp2p peer id is 38 bytes for an ed25519 key).
pub const MAX_PEER_ID_BYTES: usize = 64;

/// An opaque peer identity, as the transport names it (libp2p peer id bytes in the daemon, a
/// node index in the simulator).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(pub Vec<u8>);

impl PeerId {
    /// The peer id's text form: base58 of its bytes (`12D3…` for a libp2p peer), as
    /// decisions naming an archivist's node write it.
    pub fn text(&self) -> String {
        bs58::encode(&self.0).into_string()
    }
}

impl std::fmt::Debug for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "peer:")?;
        for b in self.0.iter().rev().take(6) {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Something that happened, handed to [`super::Engine::handle`].
#[derive(Clone, Debug)]
pub enum Input {
    /// The driver took the pod backup [`Output::TakePodBackup`] asked for: the engine lists
    /// it in the pod, signed.
    PodBackupTaken {
        /// The pod.
        pod: DnaHash,
        /// What the listing says.
        listing: Box<myco_zomes::governance::BackupListing>,
    },
    /// The driver could not take the pod backup asked for.
    PodBackupFailed {
        /// The pod.
        pod: DnaHash,
        /// Why, for the logs.
        reason: String,
    },
    /// The driver opened the backup [`Output::RestorePodBackup`] asked for: its records, to be
    /// validated like a peer's.
    PodBackupOpened {
        /// The pod.
        pod: DnaHash,
        /// The emergency decision authorising the restore.
        decision: ActionHash,
        /// The backup's records.
        records: Vec<Record>,
    },
    /// The driver could not open the backup asked for.
    PodBackupUnopened {
        /// The pod.
        pod: DnaHash,
        /// The emergency decision authorising the restore.
        decision: ActionHash,
        /// Why, for the logs.
        reason: String,
    },
    /// Start hosting a pod (creating or joining it), with this node's agent writing its
    /// Genesis with `membrane_proof`.
    JoinPod {
        /// The pod's DNA.
        dna: Box<DnaManifest>,
        /// The membrane proof for the Genesis (empty for open pods and founders).
        membrane_proof: Vec<u8>,
    },
    /// Start hosting a pod as an archivist: no Genesis until a passed approve_replica
    /// decision names this agent and node (`docs/governance.md`, "Archivists").
    HostAsArchivist {
        /// The pod's DNA.
        dna: Box<DnaManifest>,
    },
    /// A local write by this node's agent.
    Author {
        /// The pod to write in.
        pod: DnaHash,
        /// What to write.
        body: ActionBody,
        /// The entry bytes, for Create and Update.
        entry: Option<Entry>,
    },
    /// A gossip message arrived on a pod's topic.
    Gossip {
        /// Who forwarded it.
        from: PeerId,
        /// The transport's id for it, to report the verdict against.
        message_id: Vec<u8>,
        /// Its bytes, undecoded.
        bytes: Vec<u8>,
    },
    /// A peer asked us something.
    Request {
        /// Who asked.
        from: PeerId,
        /// The transport's id for the request, to answer against.
        request_id: u64,
        /// The request's bytes, undecoded.
        bytes: Vec<u8>,
    },
    /// A peer answered a request we made.
    Response {
        /// Who answered.
        from: PeerId,
        /// The token we gave the request.
        token: u64,
        /// The response's bytes, undecoded.
        bytes: Vec<u8>,
    },
    /// A request we made failed (timeout, disconnect, refused stream).
    RequestFailed {
        /// To whom.
        peer: PeerId,
        /// Its token.
        token: u64,
    },
    /// A peer is reachable for a pod (it subscribed to the pod's topic).
    PeerJoined {
        /// The peer.
        peer: PeerId,
        /// The pod.
        pod: DnaHash,
    },
    /// A peer is gone (disconnected, or left every pod).
    PeerLeft {
        /// The peer.
        peer: PeerId,
    },
    /// A timer the engine asked for has fired.
    Timer(Timer),
}

/// Timers the engine asks its driver for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// Start an anti-entropy round.
    Sync,
    /// Abandon limbo entries and requests that waited too long.
    Sweep,
}

/// What a gossip message deserves, for the transport's peer scoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipVerdict {
    /// Valid: forward it.
    Accept,
    /// Invalid or forbidden: drop it and penalise the sender.
    Reject,
    /// Not useful (duplicate, unknown): drop it without penalty.
    Ignore,
}

/// Something the engine wants done, or wants known.
#[derive(Clone, Debug)]
pub enum Output {
    /// Send a request to a peer; answer with [`Input::Response`] carrying `token`.
    Request {
        /// To whom.
        to: PeerId,
        /// Our token for it.
        token: u64,
        /// The request.
        request: SyncRequest,
    },
    /// Answer a peer's request.
    Respond {
        /// To whom.
        to: PeerId,
        /// The transport's request id.
        request_id: u64,
        /// The answer.
        response: SyncResponse,
    },
    /// Publish on a pod's topic.
    Publish {
        /// The pod.
        pod: DnaHash,
        /// The message.
        message: GossipMessage,
    },
    /// The verdict on a gossip message received earlier.
    GossipVerdict {
        /// Who forwarded it.
        from: PeerId,
        /// The transport's id for it.
        message_id: Vec<u8>,
        /// The verdict.
        verdict: GossipVerdict,
    },
    /// Fire [`Input::Timer`] at `at` (µs).
    SetTimer {
        /// When.
        at: u64,
        /// Which.
        timer: Timer,
    },
    /// Close every connection to a peer and keep it away for a while: it flooded this node
    /// with requests (see the engine's `flood.rs`).
    Disconnect {
        /// Whom.
        peer: PeerId,
        /// Why, for the logs.
        reason: String,
    },
    /// Take an encrypted backup of a pod now, as the passed `schedule` decision asks of this
    /// archivist, and answer with [`Input::PodBackupTaken`] or [`Input::PodBackupFailed`].
    TakePodBackup {
        /// The pod.
        pod: DnaHash,
        /// The approve_backup_schedule decision.
        schedule: ActionHash,
        /// Days the backup is kept.
        retention_days: u32,
    },
    /// Open the pod backup this archivist listed as `listing` (checking its size and hash
    /// against the listing) for the restore `decision` authorises, and answer with
    /// [`Input::PodBackupOpened`] or [`Input::PodBackupUnopened`].
    RestorePodBackup {
        /// The pod.
        pod: DnaHash,
        /// The emergency decision authorising the restore.
        decision: ActionHash,
        /// What the backup's listing says.
        listing: Box<myco_zomes::governance::BackupListing>,
    },
    /// Something for the user, the API or the logs.
    Event(Event),
}

/// What happened, for the user, the API and the logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A record passed validation and is stored.
    Accepted {
        /// The pod.
        pod: DnaHash,
        /// The record.
        hash: ActionHash,
        /// Its author.
        author: AgentKey,
        /// Its seq.
        seq: u64,
    },
    /// A record was refused.
    Rejected {
        /// The pod.
        pod: DnaHash,
        /// The record.
        hash: ActionHash,
        /// Why, for a person to read.
        reason: String,
    },
    /// A local write was refused: nothing was stored or sent.
    AuthorRefused {
        /// The pod.
        pod: DnaHash,
        /// Why.
        reason: WriteRefusal,
    },
    /// A record waited too long for its dependencies and was dropped.
    Abandoned {
        /// The pod.
        pod: DnaHash,
        /// The record.
        hash: ActionHash,
        /// What it waited for.
        reason: String,
    },
    /// A peer's sync request was refused (not a member, no approval, a bad binding, …).
    RequestRefused {
        /// The pod asked about.
        pod: DnaHash,
        /// The peer, in text form.
        peer: String,
        /// What it was told.
        reason: String,
    },
    /// A warrant was issued and its offender blocked in the pod.
    Warrant(Box<Warrant>),
    /// Entry bytes were purged after a Delete or a narrowing Update.
    Purged {
        /// The pod.
        pod: DnaHash,
        /// The record whose entry was purged.
        hash: ActionHash,
    },
    /// A record held without its entry received it: the entry became visible to this node
    /// (content approved after this node synced it).
    EntryFilled {
        /// The pod.
        pod: DnaHash,
        /// The record.
        hash: ActionHash,
    },
    /// The pod's peers confirmed this agent's newest records there: a restored node writes in
    /// the pod again (see `anchor.rs`).
    Anchored {
        /// The pod.
        pod: DnaHash,
        /// The seq of this agent's next record there.
        next_seq: u64,
    },
    /// This node's store failed a read or a write: nothing was decided on it (a record being
    /// judged is tried again later; a batch being written was not kept).
    StoreFailed {
        /// What failed.
        detail: String,
    },
}

/// Why a local write was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteRefusal {
    /// This node does not host the pod.
    NotHosted(DnaHash),
    /// This agent has no Genesis in the pod.
    NotJoined,
    /// A warrant (or an emergency decision) this node holds blocks this agent in the pod:
    /// every member ignores its records, so a write would be stored here and nowhere else.
    Blocked,
    /// The pod would refuse the record, for this reason: the same checks as a record from
    /// the network, size bounds included.
    Refused(super::Refusal),
    /// The record cites records this node does not hold.
    NeedsRecords {
        /// The cited records it does not hold (by hash; a chain's own predecessor is not
        /// listed).
        missing: Vec<myco_dna::ActionHash>,
    },
    /// This node's store failed; nothing was stored.
    Store(String),
    /// The write repeats one already made and would change nothing.
    Repeated(String),
    /// This data dir was restored, and the pod's peers have not yet confirmed this agent's
    /// newest records: a write now could fork its chain.
    Anchoring {
        /// How long it has asked so far, in s.
        waited_secs: u64,
        /// How long it asks before it says no member answered, in s.
        bound_secs: u64,
    },
    /// This data dir was restored, and within the bound no member confirmed this agent's
    /// newest records.
    Unanchored {
        /// Members' peers that answered in full.
        answered: usize,
        /// The seq a peer said this agent's chain reaches, if any did.
        claimed_seq: Option<u64>,
        /// The seq this node's next record would have.
        have: u64,
        /// The bound, in s.
        bound_secs: u64,
    },
}

impl WriteRefusal {
    /// True for a refusal that passes once the pod's peers are heard from: the write is worth
    /// trying again later.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            WriteRefusal::Anchoring { .. } | WriteRefusal::Unanchored { .. }
        )
    }
}

impl std::fmt::Display for WriteRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteRefusal::NotHosted(pod) => {
                write!(f, "this node does not host pod {pod}; join it first")
            }
            WriteRefusal::NotJoined => {
                f.write_str("this node holds no chain of this agent in the pod yet. If the agent was a member before (a lost, wiped or restored data dir), do not join again, which would fork its chain: wait a few seconds for sync to bring the chain back from the pod's peers, or run `myco recover`, which fetches it. Only an agent that was never a member joins, with `myco pod join`")
            }
            WriteRefusal::Blocked => f.write_str("this agent is blocked in the pod by a warrant or an emergency decision (`myco record` on the warrant shows why, for example two different records at one seq after an old copy of the data dir was used): every member ignores its records, so nothing was written. Ask the pod's stewards about the warrant"),
            WriteRefusal::Refused(refusal) => write!(f, "{refusal}"),
            WriteRefusal::NeedsRecords { missing } if missing.is_empty() => f.write_str(
                "the write needs records this node does not hold yet; wait for sync and retry",
            ),
            WriteRefusal::NeedsRecords { missing } => {
                let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "this node holds no record {}: check the hash (a typo?), or, if it was written on another node moments ago, wait for sync and retry",
                    names.join(", ")
                )
            }
            WriteRefusal::Repeated(detail) => f.write_str(detail),
            WriteRefusal::Anchoring { waited_secs, bound_secs } => write!(
                f,
                "this data dir was restored, and the node is asking the pod's peers for your newest records before it writes (so your chain does not fork); asked for {waited_secs} s of up to {bound_secs} s so far: retry in a few seconds"
            ),
            WriteRefusal::Unanchored { answered: 0, bound_secs, .. } => write!(
                f,
                "this data dir was restored, and no member of the pod answered within {bound_secs} s, so the node cannot tell whether your chain there has newer records elsewhere; a write now could fork it and get you warranted. Bring a member's node online (or check this node's bootstrap peers) and retry; only if no other copy of your chain can exist, restart with `myco run --accept-fork-risk`"
            ),
            WriteRefusal::Unanchored { claimed_seq: Some(claimed), have, .. } if *have <= *claimed => {
                let held = match have.checked_sub(1) {
                    Some(last) => format!("only up to seq {last}"),
                    None => "none of it".to_string(),
                };
                write!(
                    f,
                    "this data dir was restored; a peer says your chain in the pod reaches seq {claimed}, but this node holds {held} and has not received the rest, so a write now would fork it. Bring more of the pod's members online and retry; `myco run --accept-fork-risk` writes anyway"
                )
            }
            WriteRefusal::Unanchored { claimed_seq, .. } => write!(
                f,
                "this data dir was restored, and a peer holds a different record of your chain at seq {}: the chain has forked already. Ask the pod's stewards; `myco record` on the warrant shows it", claimed_seq.unwrap_or_default()
            ),
            WriteRefusal::Store(detail) => write!(
                f,
                "this node's store failed and nothing was stored ({detail}); check the disk, then retry"
            ),
        }
    }
}
