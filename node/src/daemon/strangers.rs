//! What the driver tells the strangers bound ([`crate::net::strangers`]) and what it hears
//! back: a stranger's requests and subscriptions are activity, a member binding promotes it,
//! and closes and refusals are logged and counted.

use libp2p::gossipsub::TopicHash;
use libp2p::PeerId;

use super::driver::Driver;
use super::metrics::Metrics;
use crate::net::strangers;

impl Driver {
    /// `peer` made a request (sync, profile or a registry PUT): a stranger doing so is busy.
    pub(super) fn stranger_requested(&mut self, peer: &PeerId) {
        if let Some(book) = self.swarm.behaviour_mut().strangers.as_mut() {
            book.requested(peer);
        }
    }

    /// After the engine served `peer`: if it showed a member binding (`member`), its
    /// connections stop counting as strangers.
    pub(super) fn trust_if_member(&mut self, peer: &PeerId, member: bool) {
        if !member {
            return;
        }
        let connected = self.swarm.is_connected(peer);
        if let Some(book) = self.swarm.behaviour_mut().strangers.as_mut() {
            if connected && !book.book().is_trusted(peer) {
                tracing::debug!(%peer, "a stranger showed a member binding; its slots are a member's now");
                book.trust_member(*peer);
            }
        }
        self.count_strangers();
    }

    /// `peer` subscribed to or left `topic`: a stranger on a hosted pod's topic is busy for as
    /// long as it stays on one.
    pub(super) fn stranger_subscription(&mut self, peer: &PeerId, topic: &TopicHash) {
        if !self.topics.contains_key(topic) {
            return;
        }
        let on_hosted = self
            .swarm
            .behaviour()
            .gossipsub
            .as_ref()
            .is_some_and(|gossip| {
                gossip.all_peers().any(|(p, topics)| {
                    p == peer && topics.into_iter().any(|t| self.topics.contains_key(t))
                })
            });
        if let Some(book) = self.swarm.behaviour_mut().strangers.as_mut() {
            book.subscribed(peer, on_hosted);
        }
    }

    /// Logs and counts what the strangers bound did.
    pub(super) fn on_stranger(&mut self, event: strangers::Event) {
        let m = &self.metrics;
        match event {
            strangers::Event::Evicted { peer } => {
                Metrics::inc(&m.strangers_evicted_total);
                tracing::debug!(%peer, "closed the newest quiet stranger to make room");
            }
            strangers::Event::ClosedIdle { peer } => {
                Metrics::inc(&m.strangers_closed_idle_total);
                tracing::debug!(%peer, "closed a stranger that stayed quiet");
            }
            strangers::Event::Refused { peer, reason } => {
                Metrics::inc(&m.strangers_refused_total);
                tracing::debug!(%peer, %reason, "refused a stranger");
            }
        }
        self.count_strangers();
    }

    /// Updates the strangers gauge.
    pub(super) fn count_strangers(&self) {
        if let Some(book) = self.swarm.behaviour().strangers.as_ref() {
            Metrics::set(&self.metrics.strangers_connected, book.book().len() as u64);
        }
    }
}
