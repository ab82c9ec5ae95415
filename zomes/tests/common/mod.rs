//! A small validating ledger for zome tests: it runs system validation and the zomes exactly
//! as a node would, keeps what is valid, and lets tests act as members of a pod.

#![allow(dead_code)]

use std::collections::BTreeMap;

use myco_dna::chain::{check_record, check_successor};
use myco_dna::{
    ActionBody, ActionHash, ChainAuthor, DnaManifest, Entry, KeyHash, Record, SigningKey,
    Timestamp, ValidationContext, Verdict, Visibility,
};
use myco_zomes::codec::encode;
use myco_zomes::content::{Consent, Content, Recipient, Share};
use myco_zomes::governance::{Checkpoint, Choice, Decision, Proposal, ProposalKind, Vote};
use myco_zomes::membership::{encode_membrane_proof, MembraneProof};
use serde::Serialize;

/// One day in microseconds.
pub const DAY: u64 = 86_400_000_000;
/// The scenario's start time.
pub const T0: u64 = 1_780_000_000_000_000;

/// Loads an example DNA by file name.
pub fn example(name: &str) -> DnaManifest {
    let path = format!("{}/../dna/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("example DNA exists");
    myco_zomes::load_dna(&text).expect("example DNA is valid")
}

/// A deterministic key.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The key hash of seed's key.
pub fn kh(seed: u8) -> KeyHash {
    myco_dna::agent_key_of(&key(seed)).key_hash()
}

/// What the validator may read: validated records and the author's chain before the record.
pub struct Context<'a> {
    pub validated: &'a BTreeMap<ActionHash, Record>,
    pub chain: Vec<Record>,
}

impl ValidationContext for Context<'_> {
    fn get(&self, hash: &ActionHash) -> Option<Record> {
        self.validated.get(hash).cloned()
    }
    fn author_records(&self, zome: &str, entry_type: &str) -> Vec<Record> {
        self.chain
            .iter()
            .filter(|r| myco_zomes::codec::is_entry(r, zome, entry_type))
            .cloned()
            .collect()
    }
}

/// The full verdict a node reaches on a record, given what it has validated.
pub fn judge(
    dna: &DnaManifest,
    validated: &BTreeMap<ActionHash, Record>,
    chains: &BTreeMap<KeyHash, Vec<Record>>,
    record: &Record,
) -> Verdict {
    if let Err(e) = check_record(record) {
        return Verdict::invalid(e.to_string());
    }
    let author = record.action().author.key_hash();
    let chain = chains.get(&author).cloned().unwrap_or_default();
    let seq = record.action().seq as usize;
    if seq > chain.len() {
        // The predecessor has not been validated yet.
        return Verdict::MissingDeps(vec![record.action().prev.expect("seq > 0 has a prev")]);
    }
    if seq < chain.len() {
        return Verdict::invalid("fork: another action already holds this seq");
    }
    if let Some(prev) = chain.last() {
        if let Err(e) = check_successor(&prev.signed, record.action()) {
            return Verdict::invalid(e.to_string());
        }
    }
    let ctx = Context { validated, chain };
    myco_zomes::validate(record, dna, &ctx)
}

/// A pod seen by one honest validator, with members the test acts as.
pub struct Pod {
    pub dna: DnaManifest,
    pub validated: BTreeMap<ActionHash, Record>,
    pub chains: BTreeMap<KeyHash, Vec<Record>>,
    authors: BTreeMap<u8, ChainAuthor>,
    pub now: u64,
    pub accepted: Vec<Record>,
}

impl Pod {
    pub fn new(dna: DnaManifest) -> Self {
        Pod {
            dna,
            validated: BTreeMap::new(),
            chains: BTreeMap::new(),
            authors: BTreeMap::new(),
            now: T0,
            accepted: Vec::new(),
        }
    }

    /// Advances the clock.
    pub fn tick(&mut self, micros: u64) -> Timestamp {
        self.now += micros;
        Timestamp(self.now)
    }

    fn author(&mut self, seed: u8) -> &mut ChainAuthor {
        let pod = self.dna.dna_hash();
        self.authors
            .entry(seed)
            .or_insert_with(|| ChainAuthor::new(key(seed), pod))
    }

    /// Signs the next record of `seed`'s chain and submits it; only a valid record advances
    /// the chain.
    pub fn write(&mut self, seed: u8, body: ActionBody, entry: Option<Entry>) -> (Record, Verdict) {
        let now = self.tick(1_000_000);
        let record = self.author(seed).next(now, body, entry);
        let verdict = self.submit(&record);
        if verdict != Verdict::Valid {
            // Roll the author back to its last accepted record.
            let author = match self.chains.get(&kh(seed)).and_then(|c| c.last()) {
                Some(last) => ChainAuthor::resume(key(seed), &last.signed),
                None => ChainAuthor::new(key(seed), self.dna.dna_hash()),
            };
            self.authors.insert(seed, author);
        }
        (record, verdict)
    }

    /// Validates a record from anyone; keeps it if valid.
    pub fn submit(&mut self, record: &Record) -> Verdict {
        let verdict = judge(&self.dna, &self.validated, &self.chains, record);
        if verdict == Verdict::Valid {
            self.validated.insert(record.hash(), record.clone());
            self.chains
                .entry(record.action().author.key_hash())
                .or_default()
                .push(record.clone());
            self.accepted.push(record.clone());
        }
        verdict
    }

    pub fn create<T: Serialize>(
        &mut self,
        seed: u8,
        zome: &str,
        entry_type: &str,
        visibility: Visibility,
        value: &T,
    ) -> (Record, Verdict) {
        let entry = encode(value);
        let entry_ref = myco_dna::EntryRef {
            zome: zome.into(),
            entry_type: entry_type.into(),
            entry_hash: entry.hash(),
            visibility,
        };
        self.write(seed, ActionBody::Create(entry_ref), Some(entry))
    }

    pub fn update<T: Serialize>(
        &mut self,
        seed: u8,
        original: ActionHash,
        zome: &str,
        entry_type: &str,
        visibility: Visibility,
        value: &T,
    ) -> (Record, Verdict) {
        let entry = encode(value);
        let entry_ref = myco_dna::EntryRef {
            zome: zome.into(),
            entry_type: entry_type.into(),
            entry_hash: entry.hash(),
            visibility,
        };
        self.write(
            seed,
            ActionBody::Update {
                original,
                entry: entry_ref,
            },
            Some(entry),
        )
    }

    pub fn join(&mut self, seed: u8, proof: MembraneProof) -> (Record, Verdict) {
        self.write(
            seed,
            ActionBody::Genesis {
                membrane_proof: encode_membrane_proof(&proof),
            },
            None,
        )
    }

    pub fn propose(
        &mut self,
        seed: u8,
        kind: ProposalKind,
        checkpoint: Option<ActionHash>,
    ) -> (Record, Verdict) {
        let opened_at = Timestamp(self.now + 1_000_000);
        let rule = if kind.is_emergency() {
            self.dna
                .properties
                .voting
                .emergency
                .expect("emergency rule")
        } else {
            self.dna.properties.voting.rule
        };
        let proposal = Proposal {
            kind,
            text: "for the community".into(),
            opened_at,
            closes_at: opened_at.plus_micros(rule.window_secs * 1_000_000),
            checkpoint,
        };
        self.create(seed, "governance", "proposal", Visibility::Pod, &proposal)
    }

    pub fn vote(&mut self, seed: u8, proposal: ActionHash, choice: Choice) -> (Record, Verdict) {
        self.create(
            seed,
            "governance",
            "vote",
            Visibility::Pod,
            &Vote { proposal, choice },
        )
    }

    pub fn decide(
        &mut self,
        seed: u8,
        proposal: ActionHash,
        votes: Vec<ActionHash>,
    ) -> (Record, Verdict) {
        self.create(
            seed,
            "governance",
            "decision",
            Visibility::Pod,
            &Decision { proposal, votes },
        )
    }

    /// Writes the checkpoint that `changes` give from `prev`, computing the roster itself.
    pub fn checkpoint(
        &mut self,
        seed: u8,
        prev: Option<ActionHash>,
        members: &[u8],
        stewards: &[u8],
        changes: Vec<ActionHash>,
    ) -> (Record, Verdict) {
        let mut members: Vec<KeyHash> = members.iter().map(|s| kh(*s)).collect();
        members.sort();
        let mut stewards: Vec<KeyHash> = stewards.iter().map(|s| kh(*s)).collect();
        stewards.sort();
        self.create(
            seed,
            "governance",
            "checkpoint",
            Visibility::Pod,
            &Checkpoint {
                prev,
                members,
                stewards,
                changes,
            },
        )
    }

    /// Passes a proposal: every listed seed votes yes, then `decider` records the decision.
    pub fn pass(
        &mut self,
        proposer: u8,
        kind: ProposalKind,
        checkpoint: Option<ActionHash>,
        voters: &[u8],
        decider: u8,
    ) -> (ActionHash, Record) {
        let (proposal, v) = self.propose(proposer, kind, checkpoint);
        assert_eq!(v, Verdict::Valid, "proposal");
        let votes: Vec<ActionHash> = voters
            .iter()
            .map(|s| {
                let (vote, v) = self.vote(*s, proposal.hash(), Choice::Yes);
                assert_eq!(v, Verdict::Valid, "vote by {s}");
                vote.hash()
            })
            .collect();
        let (decision, v) = self.decide(decider, proposal.hash(), votes);
        assert_eq!(v, Verdict::Valid, "decision");
        (proposal.hash(), decision)
    }
}

/// Content with every consent and the required principles of `dna`.
pub fn story(dna: &DnaManifest, title: &str, creator: u8, share_bp: Option<u16>) -> Content {
    Content {
        title: title.into(),
        body: format!("{title}: a story told for the community"),
        blob: None,
        kind: "story".into(),
        consent: Consent {
            public_sharing: true,
            community_sharing: true,
            attribution_required: true,
            ..Consent::default()
        },
        revenue_share: share_bp.map(|bp| {
            let mut shares = vec![Share {
                recipient: Recipient::Member(kh(creator)),
                bp: myco_dna::BasisPoints(bp),
            }];
            if bp < 10_000 {
                shares.push(Share {
                    recipient: Recipient::Community,
                    bp: myco_dna::BasisPoints(10_000 - bp),
                });
            }
            shares
        }),
        principles: dna.properties.required_principles.clone(),
        protocols: Vec::new(),
        attribution: Some(format!("told by member {creator}")),
    }
}

/// Asserts a verdict is Invalid with a reason containing `needle`.
#[track_caller]
pub fn assert_refused(verdict: &Verdict, needle: &str) {
    match verdict {
        Verdict::Invalid(reason) => assert!(
            reason.detail.contains(needle),
            "reason `{reason}` does not mention `{needle}`"
        ),
        other => panic!("expected a refusal mentioning `{needle}`, got {other:?}"),
    }
}

/// Delivers `records` in the given order to a fresh validator, retrying records that wait
/// for dependencies until nothing more changes. Returns the validator and each record's final
/// verdict kind ("valid", "invalid" or "missing").
pub fn settle(dna: &DnaManifest, records: &[Record]) -> (Pod, BTreeMap<ActionHash, &'static str>) {
    let mut pod = Pod::new(dna.clone());
    let mut verdicts = BTreeMap::new();
    let mut pending: Vec<&Record> = records.iter().collect();
    loop {
        let before = pending.len();
        let mut waiting = Vec::new();
        for record in pending {
            match pod.submit(record) {
                Verdict::Valid => {
                    verdicts.insert(record.hash(), "valid");
                }
                Verdict::Invalid(_) => {
                    verdicts.insert(record.hash(), "invalid");
                }
                Verdict::MissingDeps(_) => waiting.push(record),
            }
        }
        let progressed = waiting.len() < before;
        pending = waiting;
        if !progressed || pending.is_empty() {
            break;
        }
    }
    for record in pending {
        verdicts.insert(record.hash(), "missing");
    }
    (pod, verdicts)
}
