//! Anti-entropy: asking peers for chain heights, then fetching the missing ranges in bounded
//! batches. It needs no gossip at all, and resumes wherever it stopped: every round starts
//! from what the store holds.

use myco_dna::{AgentKey, DnaHash, Record};
use serde_bytes::ByteBuf;

use super::ingest::Incoming;
use super::io::{Event, GossipVerdict, Output, PeerId, Timer};
use super::messages::{SyncRequest, SyncResponse, MAX_RESPONSE_RECORD_BYTES};
use super::{Asked, Engine};

/// Most chains remembered per peer to ask for later: one Heights page.
const MAX_DEFERRED_PER_PEER: usize = super::messages::MAX_HEIGHTS;
use crate::store::{ChainId, Store};

impl<S: Store> Engine<S> {
    pub(crate) fn on_peer_joined(&mut self, now: u64, peer: PeerId, pod: DnaHash) {
        let Some(view) = self.pods.get_mut(&pod) else {
            return;
        };
        if view.peers.insert(peer.clone()) {
            // A new peer: catch up with it at once rather than at the next round.
            self.start_round(now, &peer, pod);
        }
    }

    pub(crate) fn on_peer_left(&mut self, peer: &PeerId) {
        for view in self.pods.values_mut() {
            view.peers.remove(peer);
            view.bound.remove(peer);
        }
        self.deferred.remove(peer);
        self.limiter.forget(peer);
        self.pacer.forget(peer);
        self.introduced.retain(|(p, _), _| p != peer);
        let gone: Vec<u64> = self
            .outstanding
            .iter()
            .filter(|(_, o)| &o.peer == peer)
            .map(|(t, _)| *t)
            .collect();
        for token in gone {
            self.outstanding.remove(&token);
        }
    }

    pub(crate) fn on_sync_timer(&mut self, now: u64) {
        self.set_timer(now + self.config.sync_interval_micros, Timer::Sync);
        self.retry_store_faults(now);
        self.ask_for_due_backups(now);
        self.ask_for_authorised_restores(now);
        self.sync_round += 1;
        let pods: Vec<(DnaHash, Vec<PeerId>)> = self
            .pods
            .iter()
            .map(|(pod, view)| (*pod, view.peers.iter().cloned().collect()))
            .collect();
        for (pod, peers) in pods {
            if peers.is_empty() {
                continue;
            }
            // Round-robin over the pod's peers: each round asks one, so load spreads and
            // every peer is heard from within `peers.len()` rounds.
            let peer = &peers[(self.sync_round as usize) % peers.len()];
            self.start_round(now, peer, pod);
            self.ask_for_entries(now, peer, pod);
        }
    }

    fn start_round(&mut self, now: u64, peer: &PeerId, pod: DnaHash) {
        let binding = self.binding(now, &pod);
        self.request(
            now,
            peer,
            Asked::Heights { pod },
            SyncRequest::Heights {
                pod,
                binding,
                after: None,
            },
        );
    }

    pub(crate) fn on_sweep(&mut self, now: u64) {
        self.set_timer(now + self.config.limbo_ttl_micros / 4, Timer::Sweep);
        let cutoff = now.saturating_sub(self.config.limbo_ttl_micros);
        for waiting in self.limbo.expire(cutoff) {
            self.event(Event::Abandoned {
                pod: waiting.pod,
                hash: waiting.record.hash(),
                reason: format!(
                    "its dependencies did not arrive within {} s",
                    self.config.limbo_ttl_micros / 1_000_000
                ),
            });
        }
        let timeout = now.saturating_sub(self.config.request_timeout_micros);
        let stale: Vec<u64> = self
            .outstanding
            .iter()
            .filter(|(_, o)| o.sent_at < timeout)
            .map(|(t, _)| *t)
            .collect();
        for token in stale {
            self.outstanding.remove(&token);
        }
        // Have notices whose record did not come within the request timeout: no verdict to
        // give but Ignore, whatever else is still outstanding.
        for (from, message_id) in self.pending_gossip.expire(timeout) {
            self.emit(Output::GossipVerdict {
                from,
                message_id,
                verdict: GossipVerdict::Ignore,
            });
        }
    }

    pub(crate) fn on_request_failed(&mut self, peer: &PeerId, token: u64) {
        if let Some(outstanding) = self.outstanding.remove(&token) {
            tracing::debug!(?peer, asked = ?outstanding.asked, "request failed");
        }
        self.send_deferred(self.now, peer);
    }

    /// Asks `peer` for one chain of `pod` from `from_seq`, a batch at a time; false if the
    /// peer has no room for another request.
    pub(crate) fn ask_range(
        &mut self,
        now: u64,
        peer: &PeerId,
        pod: DnaHash,
        author: myco_dna::KeyHash,
        from_seq: u64,
    ) -> bool {
        let limit = self.config.sync_batch as u32;
        self.ask_range_of(now, peer, (pod, author), from_seq, limit)
    }

    /// Asks `peer` for up to `limit` records of `author`'s chain in `pod` from `from_seq`;
    /// false if the peer has no room for another request.
    pub(crate) fn ask_range_of(
        &mut self,
        now: u64,
        peer: &PeerId,
        (pod, author): (DnaHash, myco_dna::KeyHash),
        from_seq: u64,
        limit: u32,
    ) -> bool {
        let binding = self.binding(now, &pod);
        let request = SyncRequest::Range {
            pod,
            binding,
            author,
            from_seq,
            limit,
        };
        self.request(now, peer, Asked::Range { pod, author, limit }, request)
    }

    /// Remembers a chain to ask `peer` for once it has room; bounded per peer.
    fn defer(&mut self, peer: &PeerId, pod: DnaHash, author: myco_dna::KeyHash) {
        let queue = self.deferred.entry(peer.clone()).or_default();
        if queue.len() < MAX_DEFERRED_PER_PEER && !queue.contains(&(pod, author)) {
            queue.push_back((pod, author));
        }
    }

    /// Asks `peer` for deferred chains while it has room for more requests.
    fn send_deferred(&mut self, now: u64, peer: &PeerId) {
        while let Some((pod, author)) = self.deferred.get_mut(peer).and_then(|q| q.pop_front()) {
            let Some(agent) = self
                .pods
                .get(&pod)
                .and_then(|v| v.authors.get(&author).copied())
            else {
                // Not a known author yet: ask from the start of the chain.
                if !self.ask_range(now, peer, pod, author, 0) {
                    self.deferred
                        .entry(peer.clone())
                        .or_default()
                        .push_front((pod, author));
                    return;
                }
                continue;
            };
            let from_seq = self
                .store
                .head(&ChainId { pod, author: agent })
                .ok()
                .flatten()
                .map_or(0, |h| h.seq + 1);
            if !self.ask_range(now, peer, pod, author, from_seq) {
                self.deferred
                    .entry(peer.clone())
                    .or_default()
                    .push_front((pod, author));
                return;
            }
        }
    }

    pub(crate) fn on_response(&mut self, now: u64, from: PeerId, token: u64, bytes: &[u8]) {
        self.handle_response(now, &from, token, bytes);
        // An answer frees room for one more request: ask for chains that had to wait.
        self.send_deferred(now, &from);
    }

    fn handle_response(&mut self, now: u64, from: &PeerId, token: u64, bytes: &[u8]) {
        let from = from.clone();
        let Some(outstanding) = self.outstanding.remove(&token) else {
            tracing::debug!(?from, token, "response to no request of ours");
            return;
        };
        if outstanding.peer != from {
            return;
        }
        let response = match SyncResponse::from_bytes(bytes) {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(?from, %error, "undecodable response");
                return;
            }
        };
        match (outstanding.asked, response) {
            (
                Asked::Heights { pod },
                SyncResponse::Heights {
                    pod: answered,
                    heights,
                    more,
                    own_only,
                },
            ) if pod == answered => {
                if let Some(view) = self.pods.get_mut(&pod) {
                    view.hear_heights(now, &from, &heights, own_only);
                }
                for height in &heights {
                    let chain = ChainId {
                        pod,
                        author: height.author,
                    };
                    let local = self.store.head(&chain).ok().flatten();
                    let mut from_seq = local.map_or(0, |l| l.seq.saturating_add(1));
                    if local.is_some_and(|l| l.seq >= height.seq) {
                        // As far as ours: the same record there, or the author forked. Fetch
                        // their version, and the pipeline turns a fork into a warrant.
                        let ours = self.store.get_by_seq(&chain, height.seq).ok().flatten();
                        if ours.is_none_or(|r| r.hash() == height.hash) {
                            continue;
                        }
                        from_seq = height.seq;
                    }
                    let author = height.author.key_hash();
                    if self.ranges_in_flight(&from, &pod, &author) > 0 {
                        // Already being fetched from this peer: that stream of ranges goes
                        // on by itself, and a second would fetch the same records again.
                        continue;
                    }
                    // Ask for the first ranges at once, so the peer serves the next while
                    // this node validates the last.
                    // The height is a peer's number: checked arithmetic only.
                    let batch = self.config.sync_batch.max(1) as u64;
                    let ranges = (height.seq.saturating_sub(from_seq) / batch)
                        .saturating_add(1)
                        .min(self.config.sync_ranges_in_flight.max(1) as u64);
                    for i in 0..ranges {
                        let start = from_seq.saturating_add(i.saturating_mul(batch));
                        if !self.ask_range(now, &from, pod, author, start) {
                            if i == 0 {
                                self.defer(&from, pod, author);
                            }
                            break;
                        }
                    }
                }
                // An archivist's own chain says nothing of this agent's: it never anchors.
                self.anchor_heard_heights(now, &from, pod, &heights, !more && !own_only);
                if more {
                    if let Some(last) = heights.last() {
                        let binding = self.binding(now, &pod);
                        let request = SyncRequest::Heights {
                            pod,
                            binding,
                            after: Some(last.author),
                        };
                        self.request(now, &from, Asked::Heights { pod }, request);
                    }
                }
            }
            (Asked::Heights { pod }, SyncResponse::NotAMember { binding }) => {
                // Not (yet) a member in the peer's eyes: hand it our Genesis to validate, if
                // the peer proves it speaks for a member we can vouch for.
                match self.authentic_binding(now, &from, &pod, &binding) {
                    Ok(member) => {
                        self.anchor_heard_none(now, &from, pod, &member);
                        self.push_own_chain(now, &from, pod, &member)
                    }
                    Err(denied) => {
                        tracing::debug!(?from, %denied, "a \"not a member\" answer with a bad binding; not pushing our Genesis")
                    }
                }
            }
            (Asked::Introduce { pod }, SyncResponse::Pushed) => {
                // The peer has our Genesis now: ask again without waiting for a round.
                self.start_round(now, &from, pod);
            }
            (
                Asked::Range { pod, author, limit },
                SyncResponse::Records {
                    pod: answered,
                    records,
                },
            ) if pod == answered => {
                // Full: as many records as asked, or cut at the server's byte bound.
                let bytes: usize = records.iter().map(|r| r.len()).sum();
                let full = records.len() as u32 >= limit || bytes >= MAX_RESPONSE_RECORD_BYTES;
                let batch = self.decode_records(&from, records);
                let last_seq = batch.iter().map(|i| i.record.action().seq).max();
                let before = self.next_seq_of(&pod, &author);
                self.ingest(now, pod, batch);
                if author == self.agent.key_hash() {
                    self.check_anchor(now, pod);
                }
                // Resume: a full batch means there may be more.
                if let (true, Some(last_seq)) = (full, last_seq) {
                    self.continue_range(now, &from, (pod, author), limit, before, last_seq);
                }
            }
            (
                Asked::Get { pod },
                SyncResponse::Records {
                    pod: answered,
                    records,
                },
            ) if pod == answered => {
                let batch = self.decode_records(&from, records);
                self.ingest(now, pod, batch);
            }
            (_, SyncResponse::Refused { reason }) => {
                tracing::debug!(?from, %reason, "request refused")
            }
            (asked, _) => tracing::debug!(?from, ?asked, "response does not match the request"),
        }
    }

    /// Range requests for `author`'s chain in `pod` in flight to `peer`.
    fn ranges_in_flight(&self, peer: &PeerId, pod: &DnaHash, author: &myco_dna::KeyHash) -> usize {
        self.outstanding
            .values()
            .filter(|o| {
                &o.peer == peer
                    && matches!(&o.asked, Asked::Range { pod: p, author: a, .. } if p == pod && a == author)
            })
            .count()
    }

    /// The seq after the head this node stores of `author`'s chain in `pod` (0 when it holds
    /// none, or does not know the author yet).
    pub(crate) fn next_seq_of(&self, pod: &DnaHash, author: &myco_dna::KeyHash) -> u64 {
        self.pods
            .get(pod)
            .and_then(|view| view.authors.get(author).copied())
            .and_then(|agent| {
                self.store
                    .head(&ChainId {
                        pod: *pod,
                        author: agent,
                    })
                    .ok()
                    .flatten()
            })
            .map_or(0, |h| h.seq + 1)
    }

    /// After a full range of `limit` records up to `last_seq` was ingested (the chain's next
    /// seq was `before`): keeps `sync_ranges_in_flight` ranges of the chain in flight to
    /// `peer`, each following those already asked for (one at a time after a small range, such
    /// as a Have notice's). When the batch did not all land (out of order, waiting, refused),
    /// asks again from the head only if nothing is in flight and the batch made progress, so a
    /// peer serving records this node cannot take yet is not asked for them again and again;
    /// the next anti-entropy round resumes from the head.
    fn continue_range(
        &mut self,
        now: u64,
        peer: &PeerId,
        (pod, author): (DnaHash, myco_dna::KeyHash),
        limit: u32,
        before: u64,
        last_seq: u64,
    ) {
        let next = self.next_seq_of(&pod, &author);
        let ahead = self.ranges_in_flight(peer, &pod, &author);
        if next > last_seq {
            // In order and all stored: the ranges in flight cover the next `ahead` batches.
            let batch = self.config.sync_batch.max(1) as u64;
            let depth = if limit as usize >= self.config.sync_batch {
                self.config.sync_ranges_in_flight.max(1)
            } else {
                1
            };
            for i in ahead..depth {
                if !self.ask_range(now, peer, pod, author, next + i as u64 * batch) {
                    break;
                }
            }
        } else if ahead == 0 && next > before {
            self.ask_range(now, peer, pod, author, next);
        }
    }

    fn decode_records(&mut self, from: &PeerId, records: Vec<ByteBuf>) -> Vec<Incoming> {
        let mut batch = Vec::with_capacity(records.len());
        for bytes in records {
            match Record::from_bytes(&bytes) {
                Ok(record) => batch.push(Incoming::new(record, Some(from.clone()))),
                Err(error) => tracing::debug!(?from, %error, "undecodable record in a response"),
            }
        }
        batch
    }

    /// Offers our Genesis in `pod` to a peer that does not know us yet, so it can validate
    /// our admission and serve us: `peer` showed a binding of `member`. Only the Genesis: it
    /// carries no entry, and the rest of our chain flows by sync once the peer knows us. At
    /// most once per peer and pod per sync interval, and only if this node can vouch that
    /// `member` is in the pod ([`super::view::PodView::may_receive_genesis`]): a membrane
    /// proof is for members.
    fn push_own_chain(&mut self, now: u64, peer: &PeerId, pod: DnaHash, member: &AgentKey) {
        let key = (peer.clone(), pod);
        if let Some(&at) = self.introduced.get(&key) {
            if now < at.saturating_add(self.config.sync_interval_micros) {
                return;
            }
        }
        let chain = ChainId {
            pod,
            author: self.agent,
        };
        let Ok(Some(genesis)) = self.store.get_by_seq(&chain, 0) else {
            return;
        };
        if !self
            .pods
            .get(&pod)
            .is_some_and(|v| v.may_receive_genesis(Some(member), &genesis))
        {
            tracing::debug!(?peer, member = %member.key_hash(), "not pushing our Genesis to a node whose agent this node cannot vouch for as a member");
            return;
        }
        self.introduced.insert(key, now);
        let records = vec![ByteBuf::from(genesis.to_bytes())];
        self.request(
            now,
            peer,
            Asked::Introduce { pod },
            SyncRequest::Push { pod, records },
        );
    }
}
