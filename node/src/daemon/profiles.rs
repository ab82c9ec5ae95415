//! Profile requests waiting for the engine thread: the store answers them, so each waits here,
//! on the swarm loop, with whoever asked (a peer's response channel, or a lookup's own ask of
//! this node) until the answer comes back.

use std::collections::HashMap;

use libp2p::request_response::ResponseChannel;

use super::lookup::Ask;

/// Profile requests waiting for the store's answer at once; more are dropped (a peer's
/// request fails, a lookup's own ask counts as unanswered).
pub const MAX_PROFILE_REQUESTS: usize = 256;

/// Who asked for a profile.
pub enum Asker {
    /// A peer, answered over its response channel.
    Peer(ResponseChannel<Vec<u8>>),
    /// One of this node's lookups, asking its own store.
    Lookup(Ask),
}

/// The profile requests waiting for the engine thread.
#[derive(Default)]
pub struct Profiles {
    next: u64,
    waiting: HashMap<u64, Asker>,
}

impl Profiles {
    /// True if another request may wait.
    pub fn has_room(&self) -> bool {
        self.waiting.len() < MAX_PROFILE_REQUESTS
    }

    /// Keeps `asker` until its answer comes; returns the id the answer comes with.
    pub fn wait(&mut self, asker: Asker) -> u64 {
        let id = self.next;
        self.next += 1;
        self.waiting.insert(id, asker);
        id
    }

    /// The asker of the request `id`, answered or given up.
    pub fn take(&mut self, id: u64) -> Option<Asker> {
        self.waiting.remove(&id)
    }
}
