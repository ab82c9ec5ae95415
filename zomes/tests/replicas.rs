//! Governed replicas: who may be approved as an archivist, what its Genesis gives it (a chain,
//! not membership), how an approval is revoked, and who may sign the replica receipt.

mod common;

use common::*;
use myco_dna::{Timestamp, Verdict, Visibility};
use myco_zomes::governance::{
    ArchivistNode, ProposalKind, ReplicaReceipt, ReplicaTarget, REPLICA_RECEIPT,
};
use myco_zomes::membership::MembraneProof;

/// The media cooperative (admission by vote, regions UK and EU) with its founders 1–3.
fn media() -> Pod {
    let mut pod = Pod::new(example("community-media.toml"));
    for seed in 1..=3 {
        assert_eq!(pod.join(seed, MembraneProof::None).1, Verdict::Valid);
    }
    pod
}

fn archivist(seed: u8, region: &str) -> ProposalKind {
    ProposalKind::ApproveReplica(ReplicaTarget::Archivist(ArchivistNode {
        agent: kh(seed),
        node: format!("12D3KooWnode{seed}"),
        region: region.into(),
    }))
}

fn receipt(pod: &mut Pod, seed: u8, revocation: myco_dna::ActionHash) -> Verdict {
    let at = Timestamp(pod.now);
    pod.create(
        seed,
        "governance",
        REPLICA_RECEIPT,
        Visibility::Pod,
        &ReplicaReceipt {
            revocation,
            purged: 3,
            purged_at: at,
        },
    )
    .1
}

#[test]
fn an_archivist_must_be_no_member_in_an_allowed_region() {
    let mut pod = media();
    assert_refused(
        &pod.propose(1, archivist(9, "US"), None).1,
        "outside the pod's allowed regions",
    );
    assert_refused(&pod.propose(1, archivist(2, "EU"), None).1, "is a member");
    assert_eq!(pod.propose(1, archivist(9, "EU"), None).1, Verdict::Valid);
}

#[test]
fn an_archivists_genesis_gives_a_chain_but_no_membership() {
    let mut pod = media();
    let (_, approval) = pod.pass(1, archivist(9, "EU"), None, &[1, 2], 3);
    let proof = MembraneProof::Replica {
        decision: approval.hash(),
    };
    assert_refused(&pod.join(8, proof.clone()).1, "does not approve");
    let (genesis, verdict) = pod.join(9, proof);
    assert_eq!(verdict, Verdict::Valid);

    // No checkpoint may count it as a join, and it opens no proposal.
    let (_, verdict) = pod.checkpoint(1, None, &[1, 2, 3, 9], &[1, 2, 3], vec![genesis.hash()]);
    assert_refused(&verdict, "archivist's Genesis");
    assert_refused(&pod.propose(9, archivist(10, "EU"), None).1, "not a member");
    let state = myco_zomes::state::fold(&pod.dna, &pod.accepted, &[], Timestamp(pod.now));
    assert_eq!(state.figures.members, 3, "the archivist is no member");
    assert!(!state.roster.contains_key(&kh(9)));
    let listed = &state.replicas[&approval.hash()];
    assert_eq!(listed.archivist, Some(kh(9)));
    assert_eq!(listed.region, "EU");
    assert!(listed.in_force());
}

#[test]
fn a_revocation_names_an_archivists_approval_and_only_that_archivist_signs_the_receipt() {
    let mut pod = media();
    let (_, approval) = pod.pass(1, archivist(9, "EU"), None, &[1, 2], 3);
    let (_, region) = pod.pass(
        1,
        ProposalKind::ApproveReplica(ReplicaTarget::Region("UK".into())),
        None,
        &[1, 2],
        3,
    );
    assert_eq!(
        pod.join(
            9,
            MembraneProof::Replica {
                decision: approval.hash()
            }
        )
        .1,
        Verdict::Valid
    );
    assert_refused(
        &pod.propose(
            1,
            ProposalKind::RevokeReplica {
                approval: region.hash(),
            },
            None,
        )
        .1,
        "not a passed decision approving an archivist",
    );
    // Before a revocation passed, there is nothing to sign a receipt for.
    assert_refused(
        &receipt(&mut pod, 9, approval.hash()),
        "not a passed revoke_replica",
    );
    let (_, revocation) = pod.pass(
        1,
        ProposalKind::RevokeReplica {
            approval: approval.hash(),
        },
        None,
        &[1, 2],
        3,
    );
    assert_refused(
        &receipt(&mut pod, 1, revocation.hash()),
        "only its archivist",
    );
    assert_eq!(receipt(&mut pod, 9, revocation.hash()), Verdict::Valid);

    let state = myco_zomes::state::fold(&pod.dna, &pod.accepted, &[], Timestamp(pod.now));
    let listed = &state.replicas[&approval.hash()];
    assert_eq!(listed.revoked_by, Some(revocation.hash()));
    assert_eq!(listed.purged, Some(3));
    assert!(state.replicas[&region.hash()].in_force());
    assert!(state
        .audit_log
        .iter()
        .any(|e| e.event == "replica_receipt" && e.actor == kh(9)));
}
