//! What honest members write: stories at Public, Pod or Private visibility (the last two
//! carrying marker strings, so a non-member's received bytes can be scanned for them),
//! proposals and votes.

use myco_dna::{ActionBody, ActionHash, DnaManifest, Entry, EntryRef, Timestamp, Visibility};
use myco_zomes::content::{Consent, Content};
use myco_zomes::governance::{Choice, Proposal, ProposalKind, Vote};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::scenario::Workload;

/// Marker in every Pod entry.
pub const POD_MARKER: &str = "MYCO-SIM-SECRET-POD";
/// Marker in every Private entry.
pub const PRIVATE_MARKER: &str = "MYCO-SIM-SECRET-PRIVATE";
/// What both markers start with: the bytes a non-member must never receive.
pub const MARKER_PREFIX: &[u8] = b"MYCO-SIM-SECRET";

/// Draws a visibility with the workload's shares.
pub fn visibility(workload: &Workload, rng: &mut ChaCha8Rng) -> Visibility {
    let x: f64 = rng.gen();
    if x < workload.public {
        Visibility::Public
    } else if x < workload.public + workload.pod {
        Visibility::Pod
    } else {
        Visibility::Private
    }
}

/// A story, consenting to what its visibility needs.
pub fn story_content(dna: &DnaManifest, visibility: Visibility, label: &str) -> Content {
    let (marker, consent) = match visibility {
        Visibility::Public => (
            "open",
            Consent {
                public_sharing: true,
                community_sharing: true,
                ..Consent::default()
            },
        ),
        Visibility::Pod => (
            POD_MARKER,
            Consent {
                community_sharing: true,
                ..Consent::default()
            },
        ),
        Visibility::Private => (PRIVATE_MARKER, Consent::default()),
    };
    Content {
        title: format!("{marker} {label}"),
        body: format!("{marker} story {label}: a few words about the river in spring."),
        blob: None,
        kind: "story".into(),
        consent,
        revenue_share: None,
        principles: dna.properties.required_principles.clone(),
        protocols: vec![],
        attribution: None,
    }
}

/// An entry and the Create that carries it.
pub fn create<T: serde::Serialize>(
    zome: &str,
    entry_type: &str,
    visibility: Visibility,
    value: &T,
) -> (ActionBody, Entry) {
    let entry = myco_zomes::codec::encode(value);
    let body = ActionBody::Create(EntryRef {
        zome: zome.into(),
        entry_type: entry_type.into(),
        entry_hash: entry.hash(),
        visibility,
    });
    (body, entry)
}

/// A story write.
pub fn story(dna: &DnaManifest, visibility: Visibility, label: &str) -> (ActionBody, Entry) {
    create(
        myco_zomes::ZOME_CONTENT,
        myco_zomes::content::CONTENT,
        visibility,
        &story_content(dna, visibility, label),
    )
}

/// A proposal opened at `now` under the founders' electorate.
pub fn proposal(dna: &DnaManifest, now: u64, label: &str) -> (ActionBody, Entry) {
    let opened_at = Timestamp(now);
    let window = dna.properties.voting.rule.window_secs;
    let value = Proposal {
        kind: ProposalKind::ApproveBackupSchedule {
            schedule: format!("daily at 03:00 ({label})"),
            archivist: None,
            retention_days: 0,
        },
        text: format!("Back up the pod every night ({label})."),
        opened_at,
        closes_at: opened_at.plus_micros(window.saturating_mul(1_000_000)),
        checkpoint: None,
    };
    create(
        myco_zomes::ZOME_GOVERNANCE,
        myco_zomes::governance::PROPOSAL,
        Visibility::Public,
        &value,
    )
}

/// A yes vote on `proposal`.
pub fn vote(proposal: ActionHash) -> (ActionBody, Entry) {
    create(
        myco_zomes::ZOME_GOVERNANCE,
        myco_zomes::governance::VOTE,
        Visibility::Public,
        &Vote {
            proposal,
            choice: Choice::Yes,
        },
    )
}
