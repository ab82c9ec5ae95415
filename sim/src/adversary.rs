//! Bad actors, each an alternative behaviour of a pod member (or, for readers, of an
//! outsider). Each tick an adversary crafts what it sends with [`ChainAuthor`], outside its
//! own engine's checks, and the pod's honest engines must refuse it.

use myco_dna::{
    Action, ActionBody, ActionHash, AgentKey, ChainAuthor, DnaHash, DnaManifest, Entry, Record,
    SignedAction, SigningKey, Timestamp, Visibility,
};
use myco_zomes::governance::Decision;
use myco_zomes::membership::{Contact, Profile};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::workload::{create, story, story_content};

/// How a node behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Follows the protocol.
    Honest,
    /// Sends records whose entry was swapped after signing, and records in others' names.
    Forger,
    /// Signs two different records at the same seq and shows each to different peers.
    Forker,
    /// Signs records the pod's rules forbid (contact data in a Pod profile, public content
    /// without public consent).
    RuleBreaker,
    /// Votes without being in the electorate, and claims decisions on those votes.
    VoteStuffer,
    /// Floods valid records and junk gossip.
    Spammer,
    /// A non-member: subscribes to the topic and asks for sync.
    Reader,
}

impl Behaviour {
    /// True for members who misbehave.
    pub fn is_bad_member(self) -> bool {
        !matches!(self, Behaviour::Honest | Behaviour::Reader)
    }
}

/// One thing an adversary does.
#[derive(Debug)]
pub enum Move {
    /// Sends gossip bytes straight to these peers.
    Gossip {
        /// The message bytes.
        bytes: Vec<u8>,
        /// To whom.
        to: Vec<u32>,
    },
    /// Offers a record with a sync Push request.
    Push {
        /// The record.
        record: Box<Record>,
        /// To whom.
        to: u32,
    },
    /// Writes through its own engine (valid, just too much).
    Author {
        /// What.
        body: ActionBody,
        /// Its entry.
        entry: Entry,
    },
}

/// What an adversary knows and keeps between ticks.
pub struct Adversary {
    /// Its behaviour.
    pub behaviour: Behaviour,
    key: SigningKey,
    /// The head of its own chain as it signs it (ahead of its store after a fork).
    head: Option<SignedAction>,
    ticks: u64,
    votes: Vec<ActionHash>,
}

/// What a tick may look at.
pub struct TickContext<'a> {
    /// The pod.
    pub pod: DnaHash,
    /// Its DNA.
    pub dna: &'a DnaManifest,
    /// Now, µs.
    pub now: u64,
    /// The adversary's head in its own store (its Genesis at least).
    pub head: Option<SignedAction>,
    /// Its mesh peers.
    pub mesh: Vec<u32>,
    /// Every peer it is connected to.
    pub known: Vec<u32>,
    /// An honest member to impersonate.
    pub victim: AgentKey,
    /// An open proposal, if any.
    pub proposal: Option<ActionHash>,
}

/// What a tick produced: moves, and the hashes of the invalid records among them.
#[derive(Debug, Default)]
pub struct Tick {
    /// What to send or write.
    pub moves: Vec<Move>,
    /// Records no honest node may accept.
    pub invalid: Vec<ActionHash>,
}

impl Tick {
    /// Spreads an invalid `record`: gossiped to `mesh` if given, pushed to `push_to` if given.
    fn spread_invalid(&mut self, record: Record, mesh: Option<&[u32]>, push_to: Option<u32>) {
        self.invalid.push(record.hash());
        if let Some(mesh) = mesh {
            self.moves.push(Move::Gossip {
                bytes: gossip_record(&record),
                to: mesh.to_vec(),
            });
        }
        if let Some(to) = push_to {
            self.moves.push(Move::Push {
                record: Box::new(record),
                to,
            });
        }
    }
}

fn gossip_record(record: &Record) -> Vec<u8> {
    myco_node::engine::GossipMessage::Record(serde_bytes::ByteBuf::from(record.to_bytes()))
        .to_bytes()
}

impl Adversary {
    /// An adversary signing with `key`.
    pub fn new(behaviour: Behaviour, key: SigningKey) -> Self {
        Adversary {
            behaviour,
            key,
            head: None,
            ticks: 0,
            votes: Vec::new(),
        }
    }

    /// One tick of misbehaviour.
    pub fn tick(&mut self, cx: &TickContext<'_>, rng: &mut ChaCha8Rng) -> Tick {
        self.ticks += 1;
        if self.head.is_none() {
            self.head = cx.head.clone();
        }
        let now = Timestamp(cx.now);
        let mut tick = Tick::default();
        let peer = |rng: &mut ChaCha8Rng| cx.known.choose(rng).copied();
        let label = format!("{:?} {}", self.behaviour, self.ticks);
        // Invalid records are signed on a copy of the chain: they are never accepted, so the
        // next one takes the same seq without forking.
        let Some(head) = self.head.clone() else {
            return tick;
        };
        let copy = || ChainAuthor::resume(self.key.clone(), &head);
        match self.behaviour {
            Behaviour::Honest | Behaviour::Reader => {}
            Behaviour::Forger => {
                let record = if self.ticks % 2 == 1 {
                    let (body, entry) = story(cx.dna, Visibility::Public, &label);
                    let mut r = copy().next(now, body, Some(entry));
                    let (_, swapped) = story(cx.dna, Visibility::Public, "swapped in");
                    r.entry = Some(swapped);
                    r
                } else {
                    // In the victim's name, signed with the forger's own key.
                    let (body, entry) = story(cx.dna, Visibility::Public, &label);
                    let action = Action {
                        pod: cx.pod,
                        author: cx.victim,
                        seq: 1 + rng.gen_range(0..1_000),
                        prev: Some(ActionHash(myco_dna::blake2b_256(label.as_bytes()))),
                        timestamp: now,
                        body,
                    };
                    Record {
                        signed: SignedAction::sign(action, &self.key),
                        entry: Some(entry),
                    }
                };
                tick.spread_invalid(record, Some(&cx.mesh), peer(rng));
            }
            Behaviour::Forker => {
                let mut other = copy();
                let (body_a, entry_a) = story(cx.dna, Visibility::Public, &format!("{label} A"));
                let (body_b, entry_b) = story(cx.dna, Visibility::Public, &format!("{label} B"));
                let a = copy().next(now, body_a, Some(entry_a));
                let b = other.next(now, body_b, Some(entry_b));
                self.head = Some(a.signed.clone());
                let half = cx.mesh.len() / 2;
                tick.moves.push(Move::Gossip {
                    bytes: gossip_record(&a),
                    to: cx.mesh[..half].to_vec(),
                });
                tick.moves.push(Move::Gossip {
                    bytes: gossip_record(&b),
                    to: cx.mesh[half..].to_vec(),
                });
                if let (Some(x), Some(y)) = (peer(rng), peer(rng)) {
                    tick.moves.push(Move::Push {
                        record: Box::new(a),
                        to: x,
                    });
                    tick.moves.push(Move::Push {
                        record: Box::new(b),
                        to: y,
                    });
                }
            }
            Behaviour::RuleBreaker => {
                if self.ticks % 2 == 1 {
                    // Contact data belongs only in a Private profile.
                    let profile = Profile {
                        username: format!("breaker{}", self.ticks),
                        display_name: "Breaker".into(),
                        bio: String::new(),
                        avatar: None,
                        profile_public: false,
                        contact: Some(Contact {
                            phone: Some("+45 0000 0000".into()),
                            ..Contact::default()
                        }),
                    };
                    let (body, entry) = create(
                        myco_zomes::ZOME_MEMBERSHIP,
                        myco_zomes::membership::PROFILE,
                        Visibility::Pod,
                        &profile,
                    );
                    let record = copy().next(now, body, Some(entry));
                    tick.spread_invalid(record, None, peer(rng));
                } else {
                    // Public content without consent to public sharing.
                    let mut content = story_content(cx.dna, Visibility::Public, &label);
                    content.consent.public_sharing = false;
                    let (body, entry) = create(
                        myco_zomes::ZOME_CONTENT,
                        myco_zomes::content::CONTENT,
                        Visibility::Public,
                        &content,
                    );
                    let record = copy().next(now, body, Some(entry));
                    tick.spread_invalid(record, Some(&cx.mesh), None);
                }
            }
            Behaviour::VoteStuffer => {
                let Some(proposal) = cx.proposal else {
                    return tick;
                };
                let record = if self.votes.is_empty() || self.ticks % 2 == 1 {
                    // Not in the electorate: only the founders vote on this proposal.
                    let (body, entry) = crate::workload::vote(proposal);
                    let r = copy().next(now, body, Some(entry));
                    self.votes.push(r.hash());
                    r
                } else {
                    // A forged tally: a decision resting on votes that do not count.
                    let decision = Decision {
                        proposal,
                        votes: self.votes.clone(),
                    };
                    let (body, entry) = create(
                        myco_zomes::ZOME_GOVERNANCE,
                        myco_zomes::governance::DECISION,
                        Visibility::Public,
                        &decision,
                    );
                    copy().next(now, body, Some(entry))
                };
                tick.spread_invalid(record, Some(&cx.mesh), peer(rng));
            }
            Behaviour::Spammer => {
                let (body, entry) = story(cx.dna, Visibility::Public, &label);
                tick.moves.push(Move::Author { body, entry });
                let mut junk = vec![myco_node::engine::MESSAGE_FORMAT_VERSION];
                junk.extend((0..200).map(|_| rng.gen::<u8>()));
                tick.moves.push(Move::Gossip {
                    bytes: junk,
                    to: cx.mesh.clone(),
                });
            }
        }
        tick
    }
}
