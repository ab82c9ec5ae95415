//! API commands answered on the engine thread: whatever needs the engine or its store (status,
//! pods, joining, writes, snapshots, records, invitations). The swarm loop sends each with
//! what it knows of the network ([`NetView`]); joining a pod goes back to it to subscribe.

use myco_dna::{ActionHash, DnaHash, KeyHash, Timestamp};
use myco_zomes::governance::RoleProof;

use super::engine_thread::EngineSide;
use super::link::{FromEngine, NetView};
use super::residency::residency_warning;
use super::{Command, CommandError, Write};
use crate::api::types::{
    Distributed, InvitationView, PayoutView, PodSummary, RecordView, StatusView,
};
use crate::engine::{Electorate, Event, ForgetError, Input};
use crate::store::{ChainId, Store};

/// Microseconds in a day, for invitation lifetimes.
const MICROS_PER_DAY: u64 = 24 * 3600 * 1_000_000;

impl<S: Store> EngineSide<S> {
    pub(super) fn on_command(&mut self, command: Command, view: NetView) {
        match command {
            Command::Status(reply) => {
                let _ = reply.send(self.status(view));
            }
            Command::ListPods(reply) => {
                let _ = reply.send(self.pod_summaries(&view));
            }
            Command::JoinPod {
                manifest,
                membrane_proof,
                create,
                archivist,
                reply,
            } => match self.join_pod(manifest, membrane_proof, create, archivist) {
                // The swarm loop subscribes to the pod's topic, then answers; it knows the pod
                // is hosted first, so the registry pointer it republishes lists it.
                Ok((pod, summary)) => {
                    self.tell_hosted();
                    self.send(FromEngine::Joined {
                        pod,
                        summary,
                        reply,
                    })
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            Command::ForgetPod { pod, reply } => match self.forget_pod(pod) {
                Ok(()) => {
                    self.tell_hosted();
                    self.send(FromEngine::Forgot { pod, reply });
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            Command::Author { pod, write, reply } => {
                let _ = reply.send(self.author(pod, write));
            }
            Command::HeardHeights { pod, reply } => {
                let _ = reply.send(self.engine.heard_heights(&pod));
            }
            Command::Dna { pod, reply } => {
                let dna = self.engine.pods().find(|d| d.dna_hash() == pod).cloned();
                let _ = reply.send(dna);
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
            Command::Distribute {
                pod,
                event,
                grant,
                reply,
            } => {
                let _ = reply.send(self.distribute(pod, event, grant));
            }
            Command::ValueStatement { pod, member, reply } => {
                let _ = reply.send(self.statement(pod, member));
            }
            Command::Members { pod, reply } => {
                let _ = reply.send(self.members(pod));
            }
            Command::Anchoring(reply) => {
                let now = self.now();
                let me = *self.engine.agent();
                let pods = self
                    .engine
                    .pods()
                    .map(|dna| {
                        let pod = dna.dna_hash();
                        let next_seq = self
                            .engine
                            .store()
                            .head(&ChainId { pod, author: me })
                            .ok()
                            .flatten()
                            .map_or(0, |h| h.seq + 1);
                        super::PodAnchoring {
                            pod,
                            name: dna.name.clone(),
                            waiting: self.engine.anchor_status(now, &pod),
                            next_seq,
                        }
                    })
                    .collect();
                let _ = reply.send(pods);
            }
            Command::ExpectExistingChains {
                data_dir,
                mark,
                reply,
            } => {
                let _ = reply.send(self.expect_existing_chains(data_dir, mark));
            }
            // The swarm loop runs lookups and DNA fetches; dropping the reply answers 503
            // should one get here.
            Command::Lookup { .. } | Command::FetchDnas { .. } | Command::OwnPointer(_) => {}
        }
    }

    fn status(&self, view: NetView) -> StatusView {
        let agent = self.engine.agent();
        StatusView {
            agent_key: agent.to_string(),
            key_hash: agent.key_hash().to_string(),
            pods: self.pod_summaries(&view),
            peer_id: view.peer_id,
            listen: view.listen,
            peers: view.peers,
            limbo: self.engine.limbo_len(),
            warnings: view
                .warnings
                .iter()
                .cloned()
                .chain(
                    self.engine
                        .pods()
                        .filter_map(|dna| residency_warning(dna, self.engine.region())),
                )
                .chain(self.anchoring_warnings())
                .collect(),
            uptime_secs: view.uptime_secs,
            network: view.network,
        }
    }

    /// One line per pod that waits for its peers before this (restored) node writes there.
    fn anchoring_warnings(&self) -> Vec<String> {
        let now = self.now();
        self.engine
            .pods()
            .filter_map(|dna| {
                let status = self.engine.anchor_status(now, &dna.dna_hash())?;
                Some(format!(
                    "pod {} ({}) waits for its peers to confirm your newest records, as this data dir was restored: asked for {} s, {} member(s) answered{}; writes there are refused until then (`myco recover` shows the progress)",
                    dna.name,
                    dna.dna_hash(),
                    status.waited_micros / 1_000_000,
                    status.answered,
                    match status.claimed_seq {
                        Some(seq) => format!(", your chain there reaches seq {seq}"),
                        None => String::new(),
                    }
                ))
            })
            .collect()
    }

    fn pod_summaries(&self, view: &NetView) -> Vec<PodSummary> {
        self.engine
            .pods()
            .map(|dna| {
                let pod = dna.dna_hash();
                PodSummary {
                    dna_hash: pod.to_string(),
                    name: dna.name.clone(),
                    peers: view.pod_peers.get(&pod).copied().unwrap_or(0),
                    joined: self.joined(pod),
                    warning: residency_warning(dna, self.engine.region()),
                    roles: self.my_roles(pod),
                }
            })
            .collect()
    }

    /// True if this node's agent has its Genesis in `pod`.
    fn joined(&self, pod: DnaHash) -> bool {
        let chain = ChainId {
            pod,
            author: *self.engine.agent(),
        };
        matches!(self.engine.store().head(&chain), Ok(Some(_)))
    }

    /// Makes the engine wait for each pod's peers before it writes, unless it already does.
    fn expect_existing_chains(
        &mut self,
        data_dir: std::path::PathBuf,
        mark: crate::restored::RestoredMark,
    ) -> Result<(), CommandError> {
        if self.engine.anchor_required() {
            return Ok(());
        }
        let me = *self.engine.agent();
        let mut mark = mark;
        // Chains this node holds are its own newest: it wrote them, here.
        let held: std::collections::BTreeSet<DnaHash> = self
            .engine
            .pods()
            .map(|d| d.dna_hash())
            .filter(|pod| {
                matches!(
                    self.engine.store().head(&ChainId {
                        pod: *pod,
                        author: me
                    }),
                    Ok(Some(_))
                )
            })
            .collect();
        for pod in &held {
            mark.anchored(*pod);
        }
        mark.save(&data_dir)
            .map_err(|e| CommandError::Store(e.to_string()))?;
        self.engine.require_anchor(self.now(), held);
        self.set_restored(data_dir, mark);
        Ok(())
    }

    fn join_pod(
        &mut self,
        manifest: String,
        membrane_proof: Vec<u8>,
        create: bool,
        archivist: bool,
    ) -> Result<(DnaHash, PodSummary), CommandError> {
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
        let input = if archivist {
            Input::HostAsArchivist {
                dna: Box::new(dna.clone()),
            }
        } else {
            Input::JoinPod {
                dna: Box::new(dna.clone()),
                membrane_proof,
            }
        };
        let events = self.feed(self.now(), input);
        if let Some(error) = events.iter().find_map(|e| match e {
            Event::AuthorRefused { reason, .. } => Some(CommandError::Write(reason.clone())),
            Event::StoreFailed { detail } => Some(CommandError::Store(format!(
                "cannot join pod {pod}: {detail}"
            ))),
            _ => None,
        }) {
            return Err(error);
        }
        self.subscribed.insert(pod);
        tracing::info!(%pod, name = %dna.name, "hosting pod");
        let mut warning = residency_warning(&dna, self.engine.region());
        if !self.joined(pod) && self.engine.anchor_status(self.now(), &pod).is_some() {
            // A restored data dir: the Genesis waits for the pod's peers (`engine::anchor`).
            warning = Some(format!(
                "this data dir was restored, so this agent's Genesis in the pod waits until a member's node says it holds no chain of yours there (if one does, your chain comes back by sync instead). {}For a pod nobody else hosts yet, restart once with `myco run --accept-fork-risk`",
                warning.map(|w| format!("{w}. ")).unwrap_or_default()
            ));
        }
        if archivist && !self.joined(pod) {
            warning = Some(format!(
                "hosting as an archivist: members serve this node the pod once a passed approve_replica decision names agent {me}, node {} and the region this node declares ({}); a member proposes it with `myco propose --pod {pod} --kind approve_replica --member {me} --node {} --detail REGION`",
                self.engine.local_peer().text(),
                self.engine.region().unwrap_or("none: set `region` in myco.toml"),
                self.engine.local_peer().text(),
            ));
        }
        if let Some(warning) = &warning {
            tracing::warn!("{warning}");
        }
        let summary = PodSummary {
            dna_hash: pod.to_string(),
            name: dna.name,
            peers: 0,
            joined: self.joined(pod),
            warning,
            roles: self.my_roles(pod),
        };
        Ok((pod, summary))
    }

    fn forget_pod(&mut self, pod: DnaHash) -> Result<(), CommandError> {
        self.engine.forget_pod(&pod).map_err(|error| match error {
            ForgetError::NotHosted(pod) => CommandError::NotHosted(pod),
            ForgetError::Store(detail) => CommandError::Store(detail),
            member => CommandError::Invalid(member.to_string()),
        })?;
        self.subscribed.remove(&pod);
        self.pods
            .remove(&pod)
            .map_err(|e| CommandError::Store(format!("the pod is forgotten, but {e}")))?;
        tracing::info!(%pod, "pod forgotten");
        Ok(())
    }

    fn invite(
        &self,
        pod: DnaHash,
        invitee: KeyHash,
        days: u32,
        grant: Option<ActionHash>,
    ) -> Result<InvitationView, CommandError> {
        let now = self.now();
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

    pub(super) fn author(
        &mut self,
        pod: DnaHash,
        mut write: Write,
    ) -> Result<ActionHash, CommandError> {
        if let Write::Propose { checkpoint, .. } = &mut write {
            // The electorate is everyone this node can prove is a member: cite a checkpoint
            // that lists them, writing one first if none does.
            *checkpoint = match self.engine.electorate(&pod)? {
                Electorate::Founders => None,
                Electorate::Checkpoint(hash) => Some(hash),
                Electorate::NewCheckpoint(draft) => {
                    Some(self.author(pod, Write::Checkpoint(draft))?)
                }
            };
        }
        let Some(dna) = self.engine.pods().find(|d| d.dna_hash() == pod).cloned() else {
            return Err(CommandError::NotHosted(pod));
        };
        let write = self.prepare(pod, &dna, write)?;
        let now = self.now();
        let engine = &self.engine;
        let decided = match &write {
            Write::Decide { proposal } => Some(*proposal),
            _ => None,
        };
        let (body, entry) = write
            .build(now, &dna, || {
                decided
                    .map(|proposal| engine.records_on_proposal(&proposal))
                    .unwrap_or_default()
            })
            .map_err(|e| CommandError::Invalid(e.to_string()))?;
        let me = *self.engine.agent();
        let events = self.feed(now, Input::Author { pod, body, entry });
        for event in events {
            match event {
                Event::Accepted { hash, author, .. } if author == me => return Ok(hash),
                Event::AuthorRefused { reason, .. } => return Err(reason.into()),
                _ => {}
            }
        }
        Err(CommandError::NotStored)
    }

    fn distribute(
        &mut self,
        pod: DnaHash,
        event: ActionHash,
        grant: Option<ActionHash>,
    ) -> Result<Distributed, CommandError> {
        let Some(dna) = self.engine.pods().find(|d| d.dna_hash() == pod).cloned() else {
            return Err(CommandError::NotHosted(pod));
        };
        let distribution = self.plan_distribution(pod, &dna, event, grant)?;
        let payouts = distribution
            .payouts
            .iter()
            .map(|p| PayoutView {
                recipient: p.recipient.to_string(),
                amount: p.amount.0,
            })
            .collect();
        let currency = self
            .held(&event)
            .ok()
            .and_then(|r| r.entry)
            .and_then(|e| {
                myco_dna::encoding::from_canonical_cbor::<myco_zomes::value::ValueEvent>(
                    "value event",
                    &e.0,
                )
                .ok()
            })
            .map(|e| e.currency)
            .unwrap_or_default();
        let hash = self.author(pod, Write::Distribution(Box::new(distribution)))?;
        tracing::info!(%pod, %event, %hash, "distributed a value event");
        Ok(Distributed {
            pod: pod.to_string(),
            hash: hash.to_string(),
            event: event.to_string(),
            currency,
            payouts,
        })
    }
}
