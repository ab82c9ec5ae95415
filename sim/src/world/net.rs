//! Carrying messages: the links between nodes, and each engine's inputs and outputs.

use myco_node::engine::{Event, Input, Output};

use super::{index_of, peer_id, Ev, NetMsg, Pending, World};
use crate::adversary::Behaviour;
use crate::mesh::{Send, Wire};
use crate::metrics::count_marker;
use crate::workload::MARKER_PREFIX;

impl World<'_> {
    pub(super) fn deliver(&mut self, from: u32, to: u32, msg: NetMsg) {
        if self.nodes[to as usize].role == Behaviour::Reader {
            let leaked = match &msg {
                NetMsg::Topic(Wire::Gossip { bytes, .. }) => count_marker(bytes, MARKER_PREFIX),
                NetMsg::Request { bytes, .. } | NetMsg::Response { bytes, .. } => {
                    count_marker(bytes, MARKER_PREFIX)
                }
                NetMsg::Topic(_) => 0,
            };
            self.metrics.out.leaks += leaked;
            self.metrics.out.reader_bytes += msg.size() as u64;
        }
        match msg {
            NetMsg::Topic(Wire::Gossip { id, bytes }) => {
                self.metrics.gossip_copy(to, &id);
                if self.mesh.receive(to, from, id) {
                    let input = Input::Gossip {
                        from: peer_id(from),
                        message_id: id.to_vec(),
                        bytes: bytes.to_vec(),
                    };
                    self.input(to, input);
                }
            }
            NetMsg::Topic(Wire::IHave(ids)) => {
                if let Some(send) = self.mesh.on_ihave(to, from, &ids) {
                    self.send_all(vec![send]);
                }
            }
            NetMsg::Topic(Wire::IWant(ids)) => {
                let sends = self.mesh.on_iwant(to, from, &ids);
                self.send_all(sends);
            }
            NetMsg::Request { rid, bytes } => {
                let input = Input::Request {
                    from: peer_id(from),
                    request_id: rid,
                    bytes,
                };
                self.input(to, input);
            }
            NetMsg::Response { rid, bytes } => {
                let Some(p) = self.pending.remove(&rid) else {
                    return;
                };
                if let Some(token) = p.token {
                    let input = Input::Response {
                        from: peer_id(from),
                        token,
                        bytes,
                    };
                    self.input(to, input);
                }
            }
        }
    }

    /// Hands `input` to node `n`'s engine and carries out what comes back.
    pub(super) fn input(&mut self, n: u32, input: Input) {
        let outputs = self.nodes[n as usize].engine.handle(self.now, input);
        self.route(n, outputs, false);
    }

    pub(super) fn route(&mut self, n: u32, outputs: Vec<Output>, honest_write: bool) {
        for output in outputs {
            match output {
                Output::Request { to, token, request } => {
                    let Some(j) = index_of(&to) else { continue };
                    self.request(n, j, Some(token), request.to_bytes());
                }
                Output::Respond {
                    to,
                    request_id,
                    response,
                } => {
                    if let Some(j) = index_of(&to) {
                        let msg = NetMsg::Response {
                            rid: request_id,
                            bytes: response.to_bytes(),
                        };
                        self.send(n, j, msg);
                    }
                }
                Output::Publish { message, .. } => {
                    let (id, sends) = self.mesh.publish(n, message.to_bytes());
                    if honest_write {
                        self.metrics.honest_message(id);
                    }
                    self.send_all(sends);
                }
                Output::GossipVerdict {
                    message_id,
                    verdict,
                    ..
                } => {
                    if let Ok(id) = <[u8; 32]>::try_from(message_id.as_slice()) {
                        let sends = self.mesh.verdict(n, id, verdict);
                        self.send_all(sends);
                    }
                }
                Output::SetTimer { at, timer } => {
                    self.queue
                        .push(at.max(self.now), Ev::Timer { node: n, timer });
                }
                Output::Event(event) => self.on_event(n, event),
                // Modelled by the flood scenario's helper work; until then a disconnect is
                // not carried out in the simulator.
                Output::Disconnect { .. } => {}
                // The simulator's agents are members, never archivists: no schedule names
                // them, so the engine never asks them for a pod backup.
                Output::TakePodBackup { .. } | Output::RestorePodBackup { .. } => {}
            }
        }
    }

    pub(super) fn on_event(&mut self, n: u32, event: Event) {
        match event {
            Event::Accepted { hash, author, .. } if author != self.nodes[n as usize].agent => {
                self.metrics.accepted(n, &hash, self.now);
            }
            Event::Warrant(warrant) => {
                let offender = warrant.offender().key_hash();
                let honest = self
                    .by_key
                    .get(&offender)
                    .is_some_and(|&i| self.nodes[i as usize].role == Behaviour::Honest);
                self.metrics.warranted(n, offender, honest);
            }
            Event::AuthorRefused { .. } if self.metrics.is_honest(n) => {
                self.metrics.out.author_refused += 1;
            }
            _ => {}
        }
    }

    pub(super) fn request(&mut self, from: u32, to: u32, token: Option<u64>, bytes: Vec<u8>) {
        let rid = self.next_rid;
        self.next_rid += 1;
        self.pending.insert(
            rid,
            Pending {
                requester: from,
                target: to,
                token,
            },
        );
        let timeout = self.scenario.engine.request_timeout_ms * 1_000;
        self.queue.push(self.now + timeout, Ev::Timeout { rid });
        self.send(from, to, NetMsg::Request { rid, bytes });
    }

    pub(super) fn send_all(&mut self, sends: Vec<Send>) {
        for s in sends {
            self.send(s.from, s.to, NetMsg::Topic(s.wire));
        }
    }

    /// Puts a message on the link from `from` to `to`: the uplink queue, then latency, loss,
    /// duplication and reordering; partitions and offline nodes drop it.
    pub(super) fn send(&mut self, from: u32, to: u32, msg: NetMsg) {
        let (f, t) = (from as usize, to as usize);
        if !self.online[f] || !self.online[t] || self.partitions.blocks(f, t) {
            return;
        }
        let link = &self.scenario.link;
        let size = msg.size();
        let departs = self.now.max(self.uplink[f]) + link.serialisation_micros(size);
        self.uplink[f] = departs;
        let arrivals = link.arrivals(&mut self.rng, departs);
        for at in arrivals {
            self.queue.push(
                at,
                Ev::Net {
                    from,
                    to,
                    msg: msg.clone(),
                },
            );
        }
    }
}

pub(super) fn msg_digest(msg: &NetMsg) -> Vec<u8> {
    match msg {
        NetMsg::Topic(Wire::Gossip { id, .. }) => id.to_vec(),
        NetMsg::Topic(Wire::IHave(ids)) | NetMsg::Topic(Wire::IWant(ids)) => {
            ids.iter().flatten().copied().collect()
        }
        NetMsg::Request { bytes, .. } | NetMsg::Response { bytes, .. } => bytes.clone(),
    }
}
