//! Order does not matter: any permutation of the same records gives the same verdicts, the same
//! chains, and the same pod state and figures on every node.

mod common;

use common::*;
use myco_dna::{Record, Visibility};
use myco_zomes::governance::{Choice, ProposalKind};
use myco_zomes::membership::MembraneProof;
use proptest::prelude::*;

/// A busy media cooperative: admissions, a checkpoint, content, votes and decisions.
fn history() -> (myco_dna::DnaManifest, Vec<Record>) {
    let mut pod = Pod::new(example("community-media.toml"));
    for seed in 1..=3 {
        pod.join(seed, MembraneProof::None);
    }
    let (_, admit) = pod.pass(
        1,
        ProposalKind::Admit {
            member: common::kh(7),
        },
        None,
        &[1, 2],
        3,
    );
    let (genesis, _) = pod.join(
        7,
        MembraneProof::Admit {
            decision: admit.hash(),
        },
    );
    let (roster, _) = pod.checkpoint(2, None, &[1, 2, 3, 7], &[1, 2, 3], vec![genesis.hash()]);
    let dna = pod.dna.clone();
    for (i, seed) in [1u8, 7, 2, 7].iter().enumerate() {
        pod.create(
            *seed,
            "content",
            "content",
            Visibility::Pod,
            &story(&dna, &format!("piece {i}"), *seed, Some(8000)),
        );
    }
    let (proposal, _) = pod.propose(
        7,
        ProposalKind::ApproveBackupSchedule {
            schedule: "weekly".into(),
            archivist: None,
            retention_days: 0,
        },
        Some(roster.hash()),
    );
    let votes: Vec<_> = [1u8, 2, 7]
        .iter()
        .map(|s| pod.vote(*s, proposal.hash(), Choice::Yes).0.hash())
        .collect();
    pod.vote(3, proposal.hash(), Choice::No);
    // Two equivalent decisions on the same proposal: both valid; the lowest hash is canonical.
    pod.decide(3, proposal.hash(), votes.clone());
    pod.decide(1, proposal.hash(), votes[..2].to_vec());
    assert!(pod.accepted.len() >= 20, "{}", pod.accepted.len());
    (dna, pod.accepted.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_delivery_order_gives_the_same_verdicts_and_chains(order in Just(()).prop_perturb(|_, mut rng| {
        let (_, records) = history();
        let mut indices: Vec<usize> = (0..records.len()).collect();
        // Fisher–Yates with proptest's RNG, so a failing order shrinks and replays from its seed.
        for i in (1..indices.len()).rev() {
            let j = (rng.next_u32() as usize) % (i + 1);
            indices.swap(i, j);
        }
        indices
    })) {
        let (dna, records) = history();
        let (reference, reference_verdicts) = settle(&dna, &records);
        let shuffled: Vec<Record> = order.iter().map(|&i| records[i].clone()).collect();
        let (node, verdicts) = settle(&dna, &shuffled);
        prop_assert_eq!(&verdicts, &reference_verdicts);
        prop_assert!(verdicts.values().all(|v| *v == "valid"));
        prop_assert_eq!(&node.chains, &reference.chains);
        // The pod state and its transparency figures do not depend on arrival order either.
        let now = myco_dna::Timestamp(common::T0 + 30 * common::DAY);
        let folded = myco_zomes::state::fold(&dna, &node.accepted, &[], now);
        prop_assert_eq!(&folded, &myco_zomes::state::fold(&dna, &reference.accepted, &[], now));
        prop_assert_eq!(folded.figures.proposals_passed, 2);
    }
}

#[test]
fn a_record_whose_dependency_never_arrives_waits_rather_than_failing() {
    let (dna, records) = history();
    // Leave out the Admit decision: member 7's genesis, and all that builds on it, must wait.
    let admit_decision = records
        .iter()
        .position(|r| myco_zomes::codec::is_entry(r, "governance", "decision"))
        .expect("the history has a decision");
    let without: Vec<Record> = records
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != admit_decision)
        .map(|(_, r)| r.clone())
        .collect();
    let (_, verdicts) = settle(&dna, &without);
    assert!(
        verdicts.values().any(|v| *v == "missing"),
        "something must wait for the missing record"
    );
    assert!(
        verdicts.values().all(|v| *v != "invalid"),
        "waiting is not refusing: {verdicts:?}"
    );
}
