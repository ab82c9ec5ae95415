//! Bounds and intervals of the engine. Every queue, batch and cache it keeps is bounded by one
//! of these, so no peer can make a node use unbounded memory or work.

/// Tunable bounds of one engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Records asked for in one range request, and served in one response. 256 records of
    /// ~400 bytes keep a response near 100 KiB: one round trip moves a lot, and no response
    /// approaches the message bound.
    pub sync_batch: usize,
    /// Requests in flight to one peer. Four keeps a link busy while one response is being
    /// validated, without letting one node flood another.
    pub max_outstanding_per_peer: usize,
    /// Range requests for one chain kept in flight to one peer while catching up (within
    /// `max_outstanding_per_peer`). Two let the peer read and send the next batch while this
    /// node validates and stores the last one, instead of the two taking turns.
    pub sync_ranges_in_flight: usize,
    /// Records waiting for dependencies, across all pods. When full, the oldest is abandoned.
    pub max_limbo: usize,
    /// How long a record may wait for its dependencies before it is abandoned, in µs.
    pub limbo_ttl_micros: u64,
    /// How often the engine starts an anti-entropy round with a peer, in µs.
    pub sync_interval_micros: u64,
    /// How long a request may stay unanswered before it is counted as failed, in µs.
    pub request_timeout_micros: u64,
    /// How long a session binding this node signs stays valid, in µs.
    pub binding_ttl_micros: u64,
    /// Gossip messages waiting for their record to be fetched and validated before the
    /// engine gives gossipsub a verdict on them.
    pub max_pending_gossip: usize,
    /// Sync requests one peer may make per second, on average; beyond this a request is
    /// refused (see `flood.rs`). This node paces its own requests to each peer at half this
    /// (and half the burst), so honest nodes are never refused: catching up at half the
    /// default still moves 100 ranges of up to 256 records a second, about what one core
    /// validates.
    pub peer_requests_per_sec: u32,
    /// Sync requests one peer may make in a burst above the average. A peer that keeps
    /// sending more than twice its allowance is disconnected once its refusals exceed this.
    pub peer_request_burst: u32,
    /// How long a restored node waits for a pod's peers to confirm its agent's newest
    /// records before it says that no member answered, in µs (see `anchor.rs`). Writes wait
    /// in the meantime either way.
    pub anchor_timeout_micros: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            sync_batch: 256,
            max_outstanding_per_peer: 4,
            sync_ranges_in_flight: 2,
            max_limbo: 10_000,
            limbo_ttl_micros: 300_000_000,
            sync_interval_micros: 1_000_000,
            request_timeout_micros: 10_000_000,
            binding_ttl_micros: 3_600_000_000,
            max_pending_gossip: 4_096,
            peer_requests_per_sec: 200,
            peer_request_burst: 400,
            anchor_timeout_micros: 30_000_000,
        }
    }
}
