//! Roster and proposals: joins, leaves, removals, roles, blocks, votes and decisions.

use std::collections::BTreeSet;

use myco_dna::{ActionHash, Visibility};

use super::{foreign_warrant, kh, secs, Pod};
use crate::governance::{Checkpoint, Choice, EmergencyMeasure, ProposalKind, Role, CHECKPOINT};
use crate::membership::{Leave, LEAVE};
use crate::state::ProposalStatus;
use crate::{ZOME_GOVERNANCE, ZOME_MEMBERSHIP};

#[test]
fn founders_are_stewards_and_listed_even_before_their_genesis_appears() {
    let mut pod = Pod::new();
    pod.join(1, 5);
    let state = pod.fold(10);
    let first = &state.roster[&kh(1)];
    let second = &state.roster[&kh(2)];
    assert_eq!(first.joined_at, Some(secs(5)));
    assert_eq!(second.joined_at, None, "founder 2 has written nothing yet");
    for founder in [first, second] {
        assert!(founder.founder);
        assert_eq!(founder.roles, BTreeSet::from([Role::Steward]));
    }
    assert_eq!(state.roster.len(), 2);
    assert_eq!(state.figures.members, 2);
}

#[test]
fn leave_and_a_passed_remove_take_members_off_the_current_roster() {
    let mut pod = Pod::new();
    for who in [1, 2, 3, 4, 5] {
        pod.join(who, u64::from(who));
    }
    let leave = Leave { reason: None };
    pod.create(3, 10, (ZOME_MEMBERSHIP, LEAVE), Visibility::Pod, &leave);
    pod.pass(20, ProposalKind::Remove { member: kh(4) });
    let state = pod.fold(30);
    assert!(state.roster[&kh(3)].left && !state.roster[&kh(3)].removed);
    assert!(state.roster[&kh(4)].removed && !state.roster[&kh(4)].left);
    assert!(state.roster[&kh(5)].is_current());
    assert_eq!(
        state.roster[&kh(5)].roles,
        BTreeSet::new(),
        "joiners hold no role"
    );
    assert_eq!(state.figures.members, 3, "founders 1 and 2, and member 5");
}

#[test]
fn role_grants_and_revocations_apply_in_the_order_of_their_decisions() {
    let mut pod = Pod::new();
    for who in [1, 2, 3] {
        pod.join(who, u64::from(who));
    }
    let treasurer = Role::Treasurer;
    let grant = pod.propose(
        1,
        10,
        ProposalKind::GrantRole {
            member: kh(3),
            role: treasurer,
        },
        None,
    );
    let revoke = pod.propose(
        1,
        11,
        ProposalKind::RevokeRole {
            member: kh(3),
            role: treasurer,
        },
        None,
    );
    // The revocation is decided first and the grant later, so member 3 ends up a treasurer.
    let r1 = pod.vote(1, 12, revoke, Choice::Yes);
    let r2 = pod.vote(2, 12, revoke, Choice::Yes);
    pod.decide(1, 30, revoke, vec![r1, r2]);
    let g1 = pod.vote(1, 31, grant, Choice::Yes);
    let g2 = pod.vote(2, 31, grant, Choice::Yes);
    pod.decide(2, 40, grant, vec![g1, g2]);
    pod.pass(
        50,
        ProposalKind::RevokeRole {
            member: kh(1),
            role: Role::Steward,
        },
    );
    let state = pod.fold(60);
    assert_eq!(
        state.roster[&kh(3)].roles,
        BTreeSet::from([Role::Treasurer])
    );
    assert_eq!(
        state.roster[&kh(1)].roles,
        BTreeSet::new(),
        "a founder can lose the steward role"
    );
    assert_eq!(state.roster[&kh(2)].roles, BTreeSet::from([Role::Steward]));
}

#[test]
fn a_proposal_is_open_before_its_close_and_failed_after_it_without_a_decision() {
    let mut pod = Pod::new();
    pod.join(1, 1);
    let proposal = pod.propose(1, 10, ProposalKind::Remove { member: kh(2) }, None);
    pod.vote(1, 11, proposal, Choice::Yes);
    let status = |now| pod.fold(now).proposals[&proposal].status;
    assert_eq!(status(50), ProposalStatus::Open);
    assert_eq!(status(10 + super::WINDOW - 1), ProposalStatus::Open);
    assert_eq!(
        status(10 + super::WINDOW),
        ProposalStatus::Failed,
        "closes_at is exclusive"
    );
    let state = pod.fold(500);
    let failed = &state.proposals[&proposal];
    assert_eq!((failed.yes, failed.no, failed.abstain), (1, 0, 0));
    assert_eq!(failed.decision, None);
    assert_eq!(failed.kind, "remove");
    assert_eq!(failed.author, kh(1));
    assert_eq!(
        (state.figures.proposals_open, state.figures.proposals_failed),
        (0, 1)
    );
}

#[test]
fn a_proposal_with_a_decision_is_passed_even_before_it_closes() {
    let mut pod = Pod::new();
    let (proposal, decision) = pod.pass(
        10,
        ProposalKind::ApproveBackupSchedule {
            schedule: "daily".into(),
            archivist: None,
            retention_days: 0,
        },
    );
    let state = pod.fold(13);
    let passed = &state.proposals[&proposal];
    assert_eq!(passed.status, ProposalStatus::Passed);
    assert_eq!(passed.decision, Some(decision));
    assert_eq!(
        passed.electorate_size, 2,
        "no checkpoint: the founders vote"
    );
    assert_eq!(state.figures.proposals_passed, 1);
    assert_eq!(state.figures.backup_approvals, 1);
}

#[test]
fn the_decision_with_the_lowest_hash_is_canonical_and_takes_effect_once() {
    let mut pod = Pod::new();
    pod.join(3, 1);
    let proposal = pod.propose(
        1,
        10,
        ProposalKind::GrantRole {
            member: kh(3),
            role: Role::Archivist,
        },
        None,
    );
    let yes1 = pod.vote(1, 11, proposal, Choice::Yes);
    let yes2 = pod.vote(2, 11, proposal, Choice::Yes);
    let d1 = pod.decide(1, 20, proposal, vec![yes1, yes2]);
    let d2 = pod.decide(2, 21, proposal, vec![yes2, yes1]);
    let state = pod.fold(30);
    assert_eq!(state.proposals[&proposal].decision, Some(d1.min(d2)));
    assert_eq!(
        state.roster[&kh(3)].roles,
        BTreeSet::from([Role::Archivist])
    );
    let decisions = state
        .audit_log
        .iter()
        .filter(|e| e.event == "decision:grant_role")
        .count();
    assert_eq!(decisions, 2, "both decisions are audited; one takes effect");
    assert_eq!(state.figures.proposals_passed, 1);
}

#[test]
fn each_voter_counts_once_with_their_first_vote() {
    let mut pod = Pod::new();
    let proposal = pod.propose(1, 10, ProposalKind::Remove { member: kh(9) }, None);
    pod.vote(1, 20, proposal, Choice::Yes);
    // Validation refuses a second vote; if one reaches the fold anyway, the first counts.
    pod.vote(1, 30, proposal, Choice::No);
    pod.vote(2, 25, proposal, Choice::Abstain);
    let state = pod.fold(40);
    let p = &state.proposals[&proposal];
    assert_eq!((p.yes, p.no, p.abstain), (1, 0, 1));
    assert_eq!(p.voters(), 2);
}

#[test]
fn the_electorate_comes_from_the_checkpoint_or_is_zero_when_the_checkpoint_is_missing() {
    let mut pod = Pod::new();
    let mut members = vec![kh(1), kh(2), kh(3), kh(4)];
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
        5,
        (ZOME_GOVERNANCE, CHECKPOINT),
        Visibility::Pod,
        &checkpoint,
    );
    let normal = pod.propose(1, 10, ProposalKind::Remove { member: kh(4) }, Some(cp));
    let emergency = pod.propose(
        1,
        11,
        ProposalKind::Emergency(EmergencyMeasure::AuthoriseRestore {
            backup: "b1".into(),
        }),
        Some(cp),
    );
    let unknown = pod.propose(
        2,
        12,
        ProposalKind::Remove { member: kh(3) },
        Some(ActionHash([9; 32])),
    );
    let founders = pod.propose(2, 13, ProposalKind::Remove { member: kh(3) }, None);
    let state = pod.fold(20);
    let size = |p: &ActionHash| state.proposals[p].electorate_size;
    assert_eq!(size(&normal), 4);
    assert_eq!(size(&emergency), 2, "only stewards vote in emergencies");
    assert!(state.proposals[&emergency].emergency);
    assert_eq!(size(&unknown), 0);
    assert_eq!(size(&founders), 2);
}

#[test]
fn warrant_offenders_and_emergency_block_targets_are_blocked() {
    let mut pod = Pod::new();
    for who in [1, 2, 3, 4] {
        pod.join(who, u64::from(who));
    }
    let warrant = pod.fork_warrant(3, 7);
    pod.pass(
        10,
        ProposalKind::Emergency(EmergencyMeasure::BlockMember(kh(4))),
    );
    let warrants = vec![warrant.clone(), warrant, foreign_warrant(5)];
    let state = pod.fold_with(&warrants, 20);
    assert!(state.roster[&kh(3)].blocked);
    assert!(state.roster[&kh(4)].blocked);
    assert!(!state.roster[&kh(1)].blocked);
    assert!(
        state.roster[&kh(3)].is_current(),
        "blocked members are still members"
    );
    assert_eq!(
        state.figures.warrants, 1,
        "duplicates and other pods' warrants do not count"
    );
    assert_eq!(state.figures.blocked_authors, 2);
    assert_eq!(state.figures.emergency_actions, 1);
    let audited = state
        .audit_log
        .iter()
        .find(|e| e.event == "warrant")
        .map(|e| (e.actor, e.at));
    assert_eq!(audited, Some((kh(3), secs(7))));
}
