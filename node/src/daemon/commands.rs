//! API commands on the swarm loop: lookups run here (they are network queries); everything
//! that needs the engine or its store goes to the engine thread ([`super::engine_commands`])
//! with what the swarm knows, and a joined pod comes back to be subscribed to.

use libp2p::kad::RecordKey;
use myco_dna::DnaHash;
use tokio::sync::oneshot;

use super::driver::Driver;
use super::link::NetView;
use super::metrics::Metrics;
use super::{Command, CommandError};
use crate::api::types::PodSummary;
use crate::registry::registry_key;

impl Driver {
    pub(super) fn on_command(&mut self, command: Command) {
        Metrics::inc(&self.metrics.api_requests_total);
        match command {
            Command::Lookup { key, reply } => {
                if !self.lookups.has_room() {
                    // Dropping the reply answers the API with 503: try again later.
                    return;
                }
                let query = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .get_record(RecordKey::new(&registry_key(&key)));
                self.lookups.start(key, query, reply);
            }
            Command::FetchDnas { pods, reply } => self.fetch_dnas(pods, reply),
            Command::OwnPointer(reply) => {
                let _ = reply.send(self.last_pointer.clone());
            }
            command => {
                let view = self.net_view();
                if !self.link.command(command, view) {
                    // The engine's queue is full: dropping the command answers 503.
                    tracing::debug!("the engine is busy; an API command was turned away");
                }
            }
        }
    }

    /// What an API answer needs to know of the network.
    fn net_view(&self) -> NetView {
        NetView {
            peer_id: self.swarm.local_peer_id().to_string(),
            listen: self.listen.iter().map(|a| a.to_string()).collect(),
            peers: self.swarm.connected_peers().count(),
            pod_peers: self
                .pod_peers
                .iter()
                .map(|(pod, peers)| (*pod, peers.len()))
                .collect(),
            uptime_secs: self.started.elapsed().as_secs(),
            warnings: self.warnings.clone(),
            network: self.reach_view(),
        }
    }

    /// The engine thread joined `pod`: subscribe to its topic, then answer.
    pub(super) fn on_joined(
        &mut self,
        pod: DnaHash,
        summary: PodSummary,
        reply: oneshot::Sender<Result<PodSummary, CommandError>>,
    ) {
        self.subscribe(pod);
        let _ = reply.send(Ok(summary));
    }
}
