//! Store faults are node faults: a record whose judgement a failed store read interrupted gets
//! no verdict, costs its sender nothing, and is judged again at the next sweep.

use std::collections::BTreeMap;

use myco_dna::DnaHash;

use super::ingest::Incoming;
use super::io::{Event, GossipVerdict, Output};
use super::Engine;
use crate::store::Store;

/// How many interrupted records wait for the next sweep. Past it, the record is dropped: sync
/// brings it again (its sender's heights still show it), so nothing is lost but time.
pub const MAX_STORE_RETRIES: usize = 1_024;

impl<S: Store> Engine<S> {
    /// Reports a failure of this node's store: logged by the driver and counted in
    /// `/metrics`, never a verdict on anyone's record.
    pub(crate) fn store_fault(&mut self, detail: String) {
        tracing::warn!(detail, "store fault; no verdict was reached");
        self.event(Event::StoreFailed { detail });
    }

    /// A record whose judgement failed on a store read: no penalty for the sender (its gossip
    /// is ignored, not rejected), and it is judged again at the next sweep.
    pub(crate) fn retry_after_store_fault(
        &mut self,
        pod: DnaHash,
        incoming: Incoming,
        detail: String,
    ) {
        if let Some((from, message_id)) = &incoming.gossip {
            self.emit(Output::GossipVerdict {
                from: from.clone(),
                message_id: message_id.clone(),
                verdict: GossipVerdict::Ignore,
            });
        }
        self.store_fault(format!("judging {}: {detail}", incoming.record.hash()));
        if self.store_retry.len() < MAX_STORE_RETRIES {
            self.store_retry
                .push((pod, Incoming::new(incoming.record, incoming.from)));
        }
    }

    /// Judges again every record a store fault interrupted.
    pub(crate) fn retry_store_faults(&mut self, now: u64) {
        let mut by_pod: BTreeMap<DnaHash, Vec<Incoming>> = BTreeMap::new();
        for (pod, incoming) in std::mem::take(&mut self.store_retry) {
            by_pod.entry(pod).or_default().push(incoming);
        }
        for (pod, batch) in by_pod {
            self.ingest(now, pod, batch);
        }
    }
}
