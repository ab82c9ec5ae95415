//! Order independence: the same records, in any order, repeated or not, fold to one state.

use myco_dna::{Record, Visibility, Warrant};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::{kh, open_consent, pod_consent, secs, story, Pod};
use crate::content::{Approval, Consent, APPROVAL};
use crate::governance::{
    Checkpoint, Choice, EmergencyMeasure, ProposalKind, Role, RoleProof, CHECKPOINT,
};
use crate::membership::{Leave, LEAVE};
use crate::state::{fold, PodState};
use crate::value::{Distribution, MinorUnits, Payout, ValueEvent, DISTRIBUTION, VALUE_EVENT};
use crate::{ZOME_CONTENT, ZOME_GOVERNANCE, ZOME_MEMBERSHIP, ZOME_VALUE};

/// When the pods below are folded: some proposals have closed, one is still open.
const NOW: u64 = 150;

/// A pod with a bit of everything, with several records sharing a timestamp.
fn everything() -> (Pod, Vec<Warrant>) {
    let mut pod = Pod::new();
    for who in [1, 2, 3, 4, 5, 6] {
        pod.join(who, 1);
    }
    let mut members = vec![kh(1), kh(2), kh(3), kh(4), kh(5), kh(6)];
    members.sort();
    let mut stewards = vec![kh(1), kh(2)];
    stewards.sort();
    let checkpoint = Checkpoint {
        prev: None,
        members,
        stewards,
        changes: Vec::new(),
    };
    let cp = pod.create(
        1,
        2,
        (ZOME_GOVERNANCE, CHECKPOINT),
        Visibility::Pod,
        &checkpoint,
    );

    // Two decisions for one grant; a revocation decided at the same time as another grant.
    let grant = pod.propose(
        1,
        3,
        ProposalKind::GrantRole {
            member: kh(3),
            role: Role::Treasurer,
        },
        Some(cp),
    );
    let votes: Vec<_> = [1, 2, 3, 4]
        .into_iter()
        .map(|w| pod.vote(w, 4, grant, Choice::Yes))
        .collect();
    pod.decide(1, 5, grant, votes.clone());
    pod.decide(2, 5, grant, votes.into_iter().rev().collect());
    let steward = pod.propose(
        2,
        6,
        ProposalKind::GrantRole {
            member: kh(4),
            role: Role::Steward,
        },
        None,
    );
    let revoke = pod.propose(
        1,
        6,
        ProposalKind::RevokeRole {
            member: kh(2),
            role: Role::Steward,
        },
        None,
    );
    let s: Vec<_> = [1, 2]
        .into_iter()
        .map(|w| pod.vote(w, 7, steward, Choice::Yes))
        .collect();
    let r: Vec<_> = [1, 2]
        .into_iter()
        .map(|w| pod.vote(w, 7, revoke, Choice::Yes))
        .collect();
    pod.decide(1, 8, steward, s);
    pod.decide(2, 8, revoke, r);
    pod.pass(
        9,
        ProposalKind::Emergency(EmergencyMeasure::BlockMember(kh(6))),
    );
    pod.pass(20, ProposalKind::Remove { member: kh(5) });
    // A failed proposal with a double vote, and one still open.
    let failed = pod.propose(3, 21, ProposalKind::Remove { member: kh(4) }, Some(cp));
    pod.vote(3, 22, failed, Choice::Yes);
    pod.vote(3, 22, failed, Choice::No);
    pod.vote(4, 22, failed, Choice::No);
    let open = pod.propose(
        4,
        100,
        ProposalKind::ApproveBackupSchedule {
            schedule: "weekly".into(),
            archivist: None,
            retention_days: 0,
        },
        Some(cp),
    );
    pod.vote(5, 101, open, Choice::Abstain);

    // Content: updates, a revocation, a deletion, an approval, a private story.
    let a = pod.post(
        3,
        30,
        Visibility::Public,
        &story(open_consent(), &["seasonal"]),
    );
    let a2 = pod.update(
        3,
        31,
        a,
        Visibility::Public,
        &story(
            Consent {
                commercial_use: false,
                ..open_consent()
            },
            &[],
        ),
    );
    pod.update(3, 31, a2, Visibility::Pod, &story(pod_consent(), &[]));
    let b = pod.post(4, 30, Visibility::Pod, &story(pod_consent(), &["sacred"]));
    let approval = Approval {
        content: b,
        protocol: "sacred".into(),
        role: RoleProof::Founder,
    };
    pod.create(1, 32, (ZOME_CONTENT, APPROVAL), Visibility::Pod, &approval);
    let c = pod.post(4, 33, Visibility::Pod, &story(pod_consent(), &["sacred"]));
    pod.delete(4, 34, c);
    pod.post(5, 30, Visibility::Private, &story(Consent::default(), &[]));
    pod.post(6, 35, Visibility::Pod, &story(pod_consent(), &["sacred"]));

    // Value, paid out twice (the second is a duplicate).
    let event = ValueEvent {
        content: a,
        amount: MinorUnits(999),
        currency: "EUR".into(),
        role: None,
    };
    let event = pod.create(3, 40, (ZOME_VALUE, VALUE_EVENT), Visibility::Pod, &event);
    let payouts = vec![Payout {
        recipient: kh(3),
        amount: MinorUnits(999),
    }];
    let distribution = Distribution {
        event,
        payouts,
        checkpoint: None,
        contributions: Vec::new(),
        role: None,
    };
    pod.create(
        3,
        41,
        (ZOME_VALUE, DISTRIBUTION),
        Visibility::Pod,
        &distribution,
    );
    pod.create(
        3,
        41,
        (ZOME_VALUE, DISTRIBUTION),
        Visibility::Pod,
        &distribution,
    );
    pod.create(
        6,
        50,
        (ZOME_MEMBERSHIP, LEAVE),
        Visibility::Pod,
        &Leave { reason: None },
    );

    let warrants = vec![
        pod.fork_warrant(5, 60),
        pod.fork_warrant(4, 61),
        super::foreign_warrant(7),
    ];
    (pod, warrants)
}

fn fold_all(pod: &Pod, records: &[Record], warrants: &[Warrant]) -> PodState {
    fold(&pod.dna, records, warrants, secs(NOW))
}

#[test]
fn the_rich_pod_folds_as_expected() {
    let (pod, warrants) = everything();
    let state = fold_all(&pod, &pod.records, &warrants);
    assert_eq!(state.roster[&kh(3)].roles, [Role::Treasurer].into());
    assert_eq!(state.roster[&kh(4)].roles, [Role::Steward].into());
    assert_eq!(state.roster[&kh(2)].roles, [].into());
    assert!(state.roster[&kh(5)].removed && state.roster[&kh(6)].left);
    assert_eq!(state.figures.members, 4);
    assert_eq!(
        state.figures.blocked_authors, 3,
        "5 and 4 by warrant, 6 by emergency"
    );
    assert_eq!(
        (
            state.figures.proposals_open,
            state.figures.proposals_passed,
            state.figures.proposals_failed
        ),
        (1, 5, 1)
    );
    assert_eq!(state.figures.revocations, 2);
    assert_eq!(state.figures.deletions, 1);
    assert_eq!(state.value.received[&kh(3)].get("EUR"), Some(&999));
    assert_eq!(state.storyteller(&kh(4)).visible, 1);
    assert_eq!(state.storyteller(&kh(6)).pending_approval, 1);
}

#[test]
fn fold_gives_the_same_state_for_reversed_and_rotated_input() {
    let (pod, warrants) = everything();
    let expected = fold_all(&pod, &pod.records, &warrants);
    let mut reversed = pod.records.clone();
    reversed.reverse();
    let mut reversed_warrants = warrants.clone();
    reversed_warrants.reverse();
    assert_eq!(fold_all(&pod, &reversed, &reversed_warrants), expected);
    for shift in [1, 7, pod.records.len() / 2] {
        let mut rotated = pod.records.clone();
        rotated.rotate_left(shift);
        assert_eq!(
            fold_all(&pod, &rotated, &warrants),
            expected,
            "rotated by {shift}"
        );
    }
}

#[test]
fn fold_is_independent_of_record_order_duplicates_and_purged_copies() {
    let (pod, warrants) = everything();
    let expected = fold_all(&pod, &pod.records, &warrants);
    let n = pod.records.len();
    let strategy = (
        Just(pod.records.clone()).prop_shuffle(),
        vec((0..n, 0..n, any::<bool>()), 0..12),
        Just(warrants.clone()).prop_shuffle(),
        0..warrants.len(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |(mut records, copies, mut warrants, again)| {
        // Extra copies of some records, some purged of their entry, anywhere in the input.
        for (which, at, purged) in copies {
            let copy = &pod.records[which];
            let copy = if purged {
                copy.without_entry()
            } else {
                copy.clone()
            };
            records.insert(at.min(records.len()), copy);
        }
        warrants.push(warrants[again].clone());
        prop_assert_eq!(&fold_all(&pod, &records, &warrants), &expected);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
