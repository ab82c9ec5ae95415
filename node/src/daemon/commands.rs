//! API commands: what the local API asks the driver for.

use std::collections::HashSet;

use libp2p::kad::RecordKey;
use myco_dna::{DnaHash, Timestamp};
use myco_zomes::governance::RoleProof;

use super::driver::{now_micros, Driver};
use super::metrics::Metrics;
use super::{Command, PodSnapshot};
use crate::api::types::{InvitationView, PodSummary, RecordView, StatusView};

/// Microseconds in a day, for invitation lifetimes.
const MICROS_PER_DAY: u64 = 24 * 3600 * 1_000_000;
use super::CommandError;
use crate::engine::{Electorate, Event, Input};
use crate::registry::registry_key;
use crate::store::Store;

impl Driver {
    pub(super) fn on_command(&mut self, command: Command) {
        Metrics::inc(&self.metrics.api_requests_total);
        match command {
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::ListPods(reply) => {
                let _ = reply.send(self.pod_summaries());
            }
            Command::JoinPod {
                manifest,
                membrane_proof,
                create,
                reply,
            } => {
                let _ = reply.send(self.join_pod(manifest, membrane_proof, create));
            }
            Command::Author { pod, write, reply } => {
                let _ = reply.send(self.author(pod, write));
            }
            Command::PodRecords { pod, reply } => {
                let _ = reply.send(self.snapshot(&pod));
            }
            Command::Record { hash, reply } => {
                let record = self.engine.store().get(&hash).ok().flatten();
                let _ = reply.send(RecordView {
                    hash: hash.to_string(),
                    stored: record.is_some(),
                    entry: record.is_some_and(|r| r.entry.is_some()),
                });
            }
            Command::Invite {
                pod,
                invitee,
                days,
                grant,
                reply,
            } => {
                let _ = reply.send(self.invite(pod, invitee, days, grant));
            }
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
        }
    }

    fn status(&self) -> StatusView {
        let agent = self.engine.agent();
        StatusView {
            agent_key: agent.to_string(),
            key_hash: agent.key_hash().to_string(),
            peer_id: self.swarm.local_peer_id().to_string(),
            listen: self.listen.iter().map(|a| a.to_string()).collect(),
            peers: self.swarm.connected_peers().count(),
            pods: self.pod_summaries(),
            limbo: self.engine.limbo_len(),
            uptime_secs: self.started.elapsed().as_secs(),
        }
    }

    fn pod_summaries(&self) -> Vec<PodSummary> {
        self.engine
            .pods()
            .map(|dna| {
                let pod = dna.dna_hash();
                PodSummary {
                    dna_hash: pod.to_string(),
                    name: dna.name.clone(),
                    peers: self.pod_peers.get(&pod).map_or(0, HashSet::len),
                    joined: self.joined(pod),
                }
            })
            .collect()
    }

    /// True if this node's agent has its Genesis in `pod`.
    fn joined(&self, pod: DnaHash) -> bool {
        let chain = crate::store::ChainId {
            pod,
            author: *self.engine.agent(),
        };
        matches!(self.engine.store().head(&chain), Ok(Some(_)))
    }

    fn join_pod(
        &mut self,
        manifest: String,
        membrane_proof: Vec<u8>,
        create: bool,
    ) -> Result<PodSummary, CommandError> {
        let dna = myco_zomes::load_dna(&manifest)
            .map_err(|e| CommandError::Invalid(format!("the DNA manifest is invalid: {e}")))?;
        let pod = dna.dna_hash();
        let me = self.engine.agent().key_hash();
        if create && !dna.properties.founders.contains(&me) {
            return Err(CommandError::Invalid(format!("this agent ({me}) is not among the DNA's founders: add its key hash to `founders` to create the pod, or use `myco pod join`")));
        }
        self.pods
            .add(dna.clone(), manifest)
            .map_err(|e| CommandError::Invalid(e.to_string()))?;
        let events = self.feed(Input::JoinPod {
            dna: Box::new(dna.clone()),
            membrane_proof,
        });
        if let Some(error) = events.iter().find_map(|e| match e {
            Event::AuthorRefused { reason, .. } => Some(CommandError::Write(reason.clone())),
            Event::StoreFailed { detail } => Some(CommandError::Store(format!(
                "cannot join pod {pod}: {detail}"
            ))),
            _ => None,
        }) {
            return Err(error);
        }
        self.subscribe(pod);
        tracing::info!(%pod, name = %dna.name, "hosting pod");
        Ok(PodSummary {
            dna_hash: pod.to_string(),
            name: dna.name,
            peers: 0,
            joined: self.joined(pod),
        })
    }

    fn invite(
        &self,
        pod: DnaHash,
        invitee: myco_dna::KeyHash,
        days: u32,
        grant: Option<myco_dna::ActionHash>,
    ) -> Result<InvitationView, CommandError> {
        let now = now_micros();
        let expires = Timestamp(now.saturating_add(u64::from(days) * MICROS_PER_DAY));
        let role = grant.map_or(RoleProof::Founder, RoleProof::Grant);
        let proof = self
            .engine
            .invite(now, &pod, invitee, expires, role)
            .map_err(|e| CommandError::Invalid(e.to_string()))?;
        tracing::info!(%pod, %invitee, days, "signed an invitation");
        Ok(InvitationView {
            pod: pod.to_string(),
            invitee: invitee.to_string(),
            expires_micros: expires.0,
            membrane_proof_hex: hex::encode(proof),
        })
    }

    fn author(
        &mut self,
        pod: DnaHash,
        mut write: super::Write,
    ) -> Result<myco_dna::ActionHash, CommandError> {
        if let super::Write::Propose { checkpoint, .. } = &mut write {
            // The electorate is everyone this node can prove is a member: cite a checkpoint
            // that lists them, writing one first if none does.
            *checkpoint = match self.engine.electorate(&pod)? {
                Electorate::Founders => None,
                Electorate::Checkpoint(hash) => Some(hash),
                Electorate::NewCheckpoint(draft) => {
                    Some(self.author(pod, super::Write::Checkpoint(draft))?)
                }
            };
        }
        let Some(dna) = self.engine.pods().find(|d| d.dna_hash() == pod).cloned() else {
            return Err(CommandError::NotHosted(pod));
        };
        let now = now_micros();
        let engine = &self.engine;
        let (body, entry) = write
            .build(now, &dna, || engine.pod_records(&pod).unwrap_or_default())
            .map_err(|e| CommandError::Invalid(e.to_string()))?;
        let me = *self.engine.agent();
        let events = self.feed_at(now, Input::Author { pod, body, entry });
        for event in events {
            match event {
                Event::Accepted { hash, author, .. } if author == me => return Ok(hash),
                Event::AuthorRefused { reason, .. } => return Err(reason.into()),
                _ => {}
            }
        }
        Err(CommandError::NotStored)
    }

    fn snapshot(&self, pod: &DnaHash) -> Result<PodSnapshot, CommandError> {
        let dna = self
            .engine
            .pods()
            .find(|d| &d.dna_hash() == pod)
            .cloned()
            .ok_or(CommandError::NotHosted(*pod))?;
        let records = self
            .engine
            .pod_records(pod)
            .map_err(|e| CommandError::Store(e.to_string()))?;
        Ok(PodSnapshot {
            dna,
            records,
            warrants: self.warrants.clone(),
            me: self.engine.agent().key_hash(),
        })
    }
}
