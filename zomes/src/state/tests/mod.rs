//! Tests of the pod-state fold, on small pods built record by record.
//!
//! The records need not all pass validation: the fold trusts that they did, and some tests
//! feed it what validation would refuse (a second vote, an undecodable entry) to show that
//! it still gives a deterministic answer without panicking.

mod content;
mod figures;
mod governance;
mod order;

use std::collections::BTreeMap;

use myco_dna::{
    agent_key_of, ActionBody, ActionHash, ChainAuthor, DnaHash, DnaManifest, Entry, EntryRef,
    KeyHash, Record, SigningKey, Timestamp, Visibility, Warrant,
};
use serde::Serialize;

use super::{fold, PodState};
use crate::codec::encode;
use crate::content::{Consent, Content, CONTENT};
use crate::governance::{Choice, Decision, Proposal, ProposalKind, Vote, DECISION, PROPOSAL, VOTE};
use crate::{ZOME_CONTENT, ZOME_GOVERNANCE};

/// Normal vote window of the test pod, in seconds.
const WINDOW: u64 = 100;
/// Emergency vote window of the test pod, in seconds.
const EMERGENCY_WINDOW: u64 = 10;

/// `s` seconds after the epoch.
fn secs(s: u64) -> Timestamp {
    Timestamp(s * 1_000_000)
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// The key hash of test member `n`. Members 1 and 2 are the founders.
fn kh(n: u8) -> KeyHash {
    agent_key_of(&key(n)).key_hash()
}

fn test_dna() -> DnaManifest {
    let toml = format!(
        r#"
name = "State Test Pod"
network_seed = "state-tests"
zomes = ["membership", "governance", "content", "value"]

[territory]
code = "TT"
name = "Testland"

[properties]
founders = ["{}", "{}"]
admission = "open"
min_creator_share_bp = 7000
benefit_model = "contribution"

[properties.voting]
threshold_bp = 5000
window_secs = {WINDOW}

[properties.voting.emergency]
threshold_bp = 10000
window_secs = {EMERGENCY_WINDOW}

[[properties.cultural_protocols]]
name = "sacred"
requires_steward_approval = true
max_visibility = "Pod"

[[properties.cultural_protocols]]
name = "seasonal"
requires_steward_approval = false
max_visibility = "Public"
"#,
        kh(1),
        kh(2)
    );
    crate::load_dna(&toml).expect("the test DNA is valid")
}

/// Consent to everything.
fn open_consent() -> Consent {
    Consent {
        public_sharing: true,
        community_sharing: true,
        ai_analysis: true,
        commercial_use: true,
        attribution_required: true,
        modification_allowed: true,
        distribution_channels: vec!["web".to_string()],
    }
}

/// Consent to community sharing only.
fn pod_consent() -> Consent {
    Consent {
        community_sharing: true,
        ..Consent::default()
    }
}

/// A story with `consent`, tagged with `protocols`, and no revenue share.
fn story(consent: Consent, protocols: &[&str]) -> Content {
    Content {
        title: "The river".to_string(),
        body: "Once, the river ran the other way.".to_string(),
        blob: None,
        kind: "story".to_string(),
        consent,
        revenue_share: None,
        principles: Vec::new(),
        protocols: protocols.iter().map(|p| p.to_string()).collect(),
        attribution: None,
    }
}

/// A test pod: founders 1 and 2, open admission, `sacred` stories need a steward's approval.
struct Pod {
    dna: DnaManifest,
    chains: BTreeMap<u8, ChainAuthor>,
    records: Vec<Record>,
}

impl Pod {
    fn new() -> Self {
        Pod {
            dna: test_dna(),
            chains: BTreeMap::new(),
            records: Vec::new(),
        }
    }

    /// Signs the next record of member `who`'s chain and keeps it.
    fn next(&mut self, who: u8, at: u64, body: ActionBody, entry: Option<Entry>) -> ActionHash {
        let pod = self.dna.dna_hash();
        let chain = self
            .chains
            .entry(who)
            .or_insert_with(|| ChainAuthor::new(key(who), pod));
        let record = chain.next(secs(at), body, entry);
        let hash = record.hash();
        self.records.push(record);
        hash
    }

    fn join(&mut self, who: u8, at: u64) -> ActionHash {
        let body = ActionBody::Genesis {
            membrane_proof: Vec::new(),
        };
        self.next(who, at, body, None)
    }

    fn create_raw(
        &mut self,
        who: u8,
        at: u64,
        (zome, entry_type): (&str, &str),
        visibility: Visibility,
        entry: Entry,
    ) -> ActionHash {
        let entry_ref = EntryRef {
            zome: zome.to_string(),
            entry_type: entry_type.to_string(),
            entry_hash: entry.hash(),
            visibility,
        };
        self.next(who, at, ActionBody::Create(entry_ref), Some(entry))
    }

    fn create<T: Serialize>(
        &mut self,
        who: u8,
        at: u64,
        kind: (&str, &str),
        visibility: Visibility,
        entry: &T,
    ) -> ActionHash {
        self.create_raw(who, at, kind, visibility, encode(entry))
    }

    fn post(&mut self, who: u8, at: u64, visibility: Visibility, content: &Content) -> ActionHash {
        self.create(who, at, (ZOME_CONTENT, CONTENT), visibility, content)
    }

    fn update(
        &mut self,
        who: u8,
        at: u64,
        original: ActionHash,
        visibility: Visibility,
        content: &Content,
    ) -> ActionHash {
        let entry = encode(content);
        let body = ActionBody::Update {
            original,
            entry: EntryRef {
                zome: ZOME_CONTENT.to_string(),
                entry_type: CONTENT.to_string(),
                entry_hash: entry.hash(),
                visibility,
            },
        };
        self.next(who, at, body, Some(entry))
    }

    fn delete(&mut self, who: u8, at: u64, target: ActionHash) -> ActionHash {
        self.next(who, at, ActionBody::Delete { target }, None)
    }

    /// Opens a proposal at `at`, with the window the pod's rule gives it.
    fn propose(
        &mut self,
        who: u8,
        at: u64,
        kind: ProposalKind,
        checkpoint: Option<ActionHash>,
    ) -> ActionHash {
        let window = if kind.is_emergency() {
            EMERGENCY_WINDOW
        } else {
            WINDOW
        };
        let proposal = Proposal {
            kind,
            text: "Please decide.".to_string(),
            opened_at: secs(at),
            closes_at: secs(at + window),
            checkpoint,
        };
        self.create(
            who,
            at,
            (ZOME_GOVERNANCE, PROPOSAL),
            Visibility::Pod,
            &proposal,
        )
    }

    fn vote(&mut self, who: u8, at: u64, proposal: ActionHash, choice: Choice) -> ActionHash {
        let vote = Vote { proposal, choice };
        self.create(who, at, (ZOME_GOVERNANCE, VOTE), Visibility::Pod, &vote)
    }

    fn decide(
        &mut self,
        who: u8,
        at: u64,
        proposal: ActionHash,
        votes: Vec<ActionHash>,
    ) -> ActionHash {
        let decision = Decision { proposal, votes };
        self.create(
            who,
            at,
            (ZOME_GOVERNANCE, DECISION),
            Visibility::Pod,
            &decision,
        )
    }

    /// Passes `kind`: founder 1 opens it at `at`, both founders vote yes, and founder 1
    /// records the decision at `at + 2`. Returns the proposal and the decision.
    fn pass(&mut self, at: u64, kind: ProposalKind) -> (ActionHash, ActionHash) {
        let proposal = self.propose(1, at, kind, None);
        let yes1 = self.vote(1, at + 1, proposal, Choice::Yes);
        let yes2 = self.vote(2, at + 1, proposal, Choice::Yes);
        let decision = self.decide(1, at + 2, proposal, vec![yes1, yes2]);
        (proposal, decision)
    }

    /// A fork warrant against `who`: a second Genesis at `at`, conflicting with the one kept.
    fn fork_warrant(&self, who: u8, at: u64) -> Warrant {
        let first = self
            .records
            .iter()
            .find(|r| r.action().author == agent_key_of(&key(who)) && r.action().seq == 0)
            .expect("the member joined before the fork");
        let second = ChainAuthor::new(key(who), self.dna.dna_hash()).genesis(secs(at), vec![1]);
        Warrant::fork(first.signed.clone(), second.signed)
    }

    fn fold(&self, now: u64) -> PodState {
        fold(&self.dna, &self.records, &[], secs(now))
    }

    fn fold_with(&self, warrants: &[Warrant], now: u64) -> PodState {
        fold(&self.dna, &self.records, warrants, secs(now))
    }
}

/// A fork warrant from another pod, which must not count here.
fn foreign_warrant(who: u8) -> Warrant {
    let other = DnaHash([0xaa; 32]);
    let a = ChainAuthor::new(key(who), other).genesis(secs(1), Vec::new());
    let b = ChainAuthor::new(key(who), other).genesis(secs(2), Vec::new());
    Warrant::fork(a.signed, b.signed)
}
