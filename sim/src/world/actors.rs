//! What happens to nodes over a run: honest writes, attacks, churn, partitions.

use myco_node::engine::{Event, Input, Output};
use myco_node::store::{ChainId, Store};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{peer_id, Ev, World, Write};
use crate::adversary::{Behaviour, Move, TickContext};
use crate::setup::{micros, SECOND, T0};
use crate::workload;

impl World<'_> {
    pub(super) fn schedule_workload(&mut self) {
        let sc = self.scenario;
        let w = &sc.workload;
        let start = T0 + micros(w.start_s);
        let spread = micros(w.spread_s);
        let mut calm = start;
        let writers: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|&i| self.nodes[i as usize].role == Behaviour::Honest)
            .take(if w.writers == 0 {
                usize::MAX
            } else {
                w.writers
            })
            .collect();
        for &node in &writers {
            for _ in 0..w.records_per_node {
                let at = start + self.rng.gen_range(0..=spread);
                calm = calm.max(at);
                self.queue.push(
                    at,
                    Ev::Write {
                        node,
                        write: Write::Story,
                    },
                );
                self.writes_left += 1;
            }
        }
        for p in 0..w.proposals {
            let at = start + p as u64 * SECOND / 2;
            self.queue.push(
                at,
                Ev::Write {
                    node: 0,
                    write: Write::Proposal,
                },
            );
            for founder in 0..sc.pods.founders.min(sc.pods.members) as u32 {
                let vote_at = at + 3 * SECOND;
                calm = calm.max(vote_at);
                self.queue.push(
                    vote_at,
                    Ev::Write {
                        node: founder,
                        write: Write::Vote(p),
                    },
                );
            }
        }
        for (index, part) in sc.partitions.iter().enumerate() {
            self.queue
                .push(T0 + micros(part.start_s), Ev::PartitionStart { index });
            self.queue.push(T0 + micros(part.end_s), Ev::PartitionEnd);
            calm = calm.max(T0 + micros(part.end_s));
        }
        if let Some(churn) = &sc.churn {
            let end = T0 + micros(churn.end_s);
            calm = calm.max(end);
            for node in 0..self.nodes.len() as u32 {
                if node == 0 || !self.rng.gen_bool(churn.fraction) {
                    continue;
                }
                let mut t = T0 + micros(churn.start_s);
                loop {
                    t += exp_micros(&mut self.rng, churn.mean_online_s);
                    if t >= end {
                        break;
                    }
                    self.queue.push(
                        t,
                        Ev::Churn {
                            node,
                            online: false,
                        },
                    );
                    t = (t + exp_micros(&mut self.rng, churn.mean_offline_s)).min(end);
                    self.queue.push(t, Ev::Churn { node, online: true });
                }
            }
        }
        let a = &sc.adversaries;
        let attack_end = T0
            + micros(if a.end_s > 0.0 {
                a.end_s
            } else {
                sc.duration_s
            });
        for node in 0..self.nodes.len() as u32 {
            let Some(adv) = &self.nodes[node as usize].adversary else {
                continue;
            };
            let rate = if adv.behaviour == Behaviour::Spammer {
                a.spam_per_s
            } else {
                a.rate_per_s
            };
            if rate <= 0.0 {
                continue;
            }
            let period = (SECOND as f64 / rate) as u64;
            let first = T0 + micros(a.start_s) + self.rng.gen_range(0..period.max(1));
            if first < attack_end {
                self.queue.push(first, Ev::Attack { node });
                calm = calm.max(attack_end);
            }
        }
        self.calm_from = calm;
    }

    pub(super) fn write(&mut self, node: u32, write: Write) {
        if !self.online[node as usize] {
            return;
        }
        let label = format!("n{node} t{}", self.now - T0);
        let (body, entry) = match write {
            Write::Story => {
                let visibility = workload::visibility(&self.scenario.workload, &mut self.rng);
                workload::story(&self.dna, visibility, &label)
            }
            Write::Proposal => workload::proposal(&self.dna, self.now, &label),
            Write::Vote(p) => match self.proposals.get(p) {
                Some(proposal) => workload::vote(*proposal),
                None => return,
            },
        };
        let input = Input::Author {
            pod: self.pod,
            body,
            entry: Some(entry),
        };
        let outputs = self.nodes[node as usize].engine.handle(self.now, input);
        let me = self.nodes[node as usize].agent;
        for output in &outputs {
            if let Output::Event(Event::Accepted { hash, author, .. }) = output {
                if *author == me {
                    self.metrics.authored(*hash, self.now);
                    if matches!(write, Write::Proposal) {
                        self.proposals.push(*hash);
                    }
                }
            }
        }
        self.route(node, outputs, true);
    }

    pub(super) fn attack(&mut self, node: u32) {
        let a = &self.scenario.adversaries;
        let i = node as usize;
        let Some(mut adversary) = self.nodes[i].adversary.take() else {
            return;
        };
        let rate = if adversary.behaviour == Behaviour::Spammer {
            a.spam_per_s
        } else {
            a.rate_per_s
        };
        let end = T0
            + micros(if a.end_s > 0.0 {
                a.end_s
            } else {
                self.scenario.duration_s
            });
        let next = self.now + (SECOND as f64 / rate.max(1e-9)) as u64;
        if next < end {
            self.queue.push(next, Ev::Attack { node });
        }
        if self.online[i] {
            let chain = ChainId {
                pod: self.pod,
                author: self.nodes[i].agent,
            };
            let store = self.nodes[i].engine.store();
            let head = store
                .head(&chain)
                .ok()
                .flatten()
                .and_then(|h| store.get_by_seq(&chain, h.seq).ok().flatten())
                .map(|r| r.signed);
            let victim = self
                .nodes
                .iter()
                .find(|n| n.role == Behaviour::Honest)
                .map_or(self.nodes[i].agent, |n| n.agent);
            let cx = TickContext {
                pod: self.pod,
                dna: &self.dna,
                now: self.now,
                head,
                mesh: self.mesh.nodes[i].mesh.iter().copied().collect(),
                known: self.mesh.nodes[i].known.clone(),
                victim,
                proposal: self.proposals.first().copied(),
            };
            let tick = adversary.tick(&cx, &mut self.rng);
            for hash in tick.invalid {
                self.metrics.crafted_invalid(hash);
            }
            for m in tick.moves {
                self.play(node, m);
            }
        }
        self.nodes[i].adversary = Some(adversary);
    }

    pub(super) fn play(&mut self, node: u32, m: Move) {
        match m {
            Move::Gossip { bytes, to } => {
                let sends = self.mesh.inject(node, bytes, &to);
                self.send_all(sends);
            }
            Move::Push { record, to } => {
                let request = myco_node::engine::SyncRequest::Push {
                    pod: self.pod,
                    records: vec![serde_bytes::ByteBuf::from(record.to_bytes())],
                };
                self.request(node, to, None, request.to_bytes());
            }
            Move::Author { body, entry } => {
                let input = Input::Author {
                    pod: self.pod,
                    body,
                    entry: Some(entry),
                };
                self.input(node, input);
            }
        }
    }

    pub(super) fn set_online(&mut self, node: u32, online: bool) {
        if self.online[node as usize] == online {
            return;
        }
        self.online[node as usize] = online;
        let pod = self.pod;
        for p in self.mesh.nodes[node as usize].known.clone() {
            if !self.online[p as usize] {
                continue;
            }
            if online {
                self.input(
                    node,
                    Input::PeerJoined {
                        peer: peer_id(p),
                        pod,
                    },
                );
                self.input(
                    p,
                    Input::PeerJoined {
                        peer: peer_id(node),
                        pod,
                    },
                );
            } else {
                self.input(node, Input::PeerLeft { peer: peer_id(p) });
                self.input(
                    p,
                    Input::PeerLeft {
                        peer: peer_id(node),
                    },
                );
            }
        }
    }
}

fn exp_micros(rng: &mut ChaCha8Rng, mean_s: f64) -> u64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    micros(-u.ln() * mean_s).max(1)
}
