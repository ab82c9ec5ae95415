//! Transparency figures, value, the storyteller dashboard, the audit log and JSON output.

use myco_dna::{BasisPoints, Visibility};

use super::{kh, open_consent, pod_consent, secs, story, Pod};
use crate::content::Consent;
use crate::governance::{Choice, ProposalKind, ReplicaTarget};
use crate::membership::{Leave, Profile, LEAVE, PROFILE};
use crate::value::{Distribution, MinorUnits, Payout, ValueEvent, DISTRIBUTION, VALUE_EVENT};
use crate::{ZOME_MEMBERSHIP, ZOME_VALUE};

const DAY: u64 = 24 * 60 * 60;

#[test]
fn figures_count_members_proposals_participation_content_and_consent() {
    let mut pod = Pod::new();
    for who in [1, 2, 3, 4] {
        pod.join(who, u64::from(who));
    }
    pod.create(
        4,
        5,
        (ZOME_MEMBERSHIP, LEAVE),
        Visibility::Pod,
        &Leave { reason: None },
    );
    pod.post(3, 6, Visibility::Public, &story(open_consent(), &[]));
    pod.post(3, 7, Visibility::Pod, &story(pod_consent(), &[]));
    pod.post(1, 8, Visibility::Private, &story(Consent::default(), &[]));
    let gone = pod.post(3, 8, Visibility::Pod, &story(open_consent(), &[]));
    pod.delete(3, 9, gone);
    // Passed with both founders voting: 10000 bp participation.
    pod.pass(
        10,
        ProposalKind::ApproveReplica(ReplicaTarget::Region("EU".into())),
    );
    // Failed with one of two founders voting: 5000 bp.
    let failed = pod.propose(1, 20, ProposalKind::Remove { member: kh(3) }, None);
    pod.vote(1, 21, failed, Choice::No);
    // Still open: not counted in participation.
    let open = pod.propose(2, 150, ProposalKind::Remove { member: kh(3) }, None);
    pod.vote(2, 151, open, Choice::Yes);

    let figures = pod.fold(200).figures;
    assert_eq!(figures.members, 3, "member 4 left");
    assert_eq!(figures.active_members_30d, 3);
    assert_eq!(
        (
            figures.proposals_open,
            figures.proposals_passed,
            figures.proposals_failed
        ),
        (1, 1, 1)
    );
    assert_eq!(figures.mean_vote_participation_bp, BasisPoints(7500));
    assert_eq!(figures.replica_approvals, 1);
    assert_eq!(
        (figures.backup_approvals, figures.emergency_actions),
        (0, 0)
    );
    let by_visibility = &figures.content_by_visibility;
    assert_eq!(
        (
            by_visibility.public,
            by_visibility.pod,
            by_visibility.private
        ),
        (1, 1, 1)
    );
    // Known consent: the public story (everything) and the pod story (community only).
    let rates = &figures.consent_rates_bp;
    assert_eq!(rates.public_sharing, BasisPoints(5000));
    assert_eq!(rates.community_sharing, BasisPoints(10_000));
    assert_eq!(rates.ai_analysis, BasisPoints(5000));
    assert_eq!(rates.commercial_use, BasisPoints(5000));
    assert_eq!(rates.attribution_required, BasisPoints(5000));
    assert_eq!(rates.modification_allowed, BasisPoints(5000));
    assert_eq!(figures.average_creator_share_bp, BasisPoints(10_000));
    assert_eq!(
        figures.creator_share_compliance_bp,
        BasisPoints(10_000),
        "vacuously compliant"
    );
    assert_eq!((figures.deletions, figures.revocations), (1, 0));
    assert_eq!((figures.warrants, figures.blocked_authors), (0, 0));
}

#[test]
fn active_members_are_current_members_with_a_record_in_the_last_30_days() {
    let mut pod = Pod::new();
    pod.join(1, 0);
    pod.join(2, 10);
    pod.join(3, 40 * DAY);
    pod.post(1, 35 * DAY, Visibility::Pod, &story(pod_consent(), &[]));
    pod.join(5, 70 * DAY);
    // The window (now − 30 days, now] leaves out member 1's post at exactly day 35, and
    // member 5's Genesis, which is later than now.
    assert_eq!(pod.fold(65 * DAY).figures.active_members_30d, 1);
    assert_eq!(pod.fold(64 * DAY).figures.active_members_30d, 2);
    assert_eq!(
        pod.fold(65 * DAY).roster[&kh(1)].last_active,
        Some(secs(35 * DAY))
    );
}

#[test]
fn value_totals_and_the_storyteller_dashboard_follow_distributions() {
    let mut pod = Pod::new();
    let work = pod.post(3, 10, Visibility::Pod, &story(pod_consent(), &[]));
    let event = ValueEvent {
        content: work,
        amount: MinorUnits(1000),
        currency: "EUR".into(),
        role: None,
    };
    let event = pod.create(3, 20, (ZOME_VALUE, VALUE_EVENT), Visibility::Pod, &event);
    let small = ValueEvent {
        content: work,
        amount: MinorUnits(50),
        currency: "DKK".into(),
        role: None,
    };
    pod.create(3, 21, (ZOME_VALUE, VALUE_EVENT), Visibility::Pod, &small);
    let mut payouts = vec![
        Payout {
            recipient: kh(3),
            amount: MinorUnits(800),
        },
        Payout {
            recipient: kh(1),
            amount: MinorUnits(100),
        },
        Payout {
            recipient: kh(2),
            amount: MinorUnits(100),
        },
    ];
    payouts.sort();
    let distribution = Distribution {
        event,
        payouts,
        checkpoint: None,
        contributions: Vec::new(),
        role: None,
    };
    pod.create(
        3,
        30,
        (ZOME_VALUE, DISTRIBUTION),
        Visibility::Pod,
        &distribution,
    );
    // A second distribution of the same event is a duplicate: the event is paid out once.
    pod.create(
        3,
        31,
        (ZOME_VALUE, DISTRIBUTION),
        Visibility::Pod,
        &distribution,
    );

    let state = pod.fold(40);
    assert_eq!((state.value.events, state.value.distributions), (2, 1));
    assert_eq!(state.value.totals.get("EUR"), Some(&1000));
    assert_eq!(state.value.totals.get("DKK"), Some(&50));
    assert_eq!(state.value.distributed.get("EUR"), Some(&1000));
    assert_eq!(state.value.distributed.get("DKK"), None);
    let dashboard = state.storyteller(&kh(3));
    assert_eq!(dashboard.storyteller, kh(3));
    assert_eq!((dashboard.content, dashboard.visible), (1, 1));
    assert_eq!(dashboard.received.get("EUR"), Some(&800));
    assert_eq!(
        state.storyteller(&kh(9)).content,
        0,
        "a stranger has an empty dashboard"
    );
}

#[test]
fn the_audit_log_is_sorted_and_names_actors_by_key_hash_only() {
    let mut pod = Pod::new();
    pod.join(3, 1);
    let profile = Profile {
        username: "aroha-r".into(),
        display_name: "Aroha Rangi".into(),
        bio: "Weaver".into(),
        avatar: None,
        profile_public: true,
        contact: None,
    };
    pod.create(
        3,
        2,
        (ZOME_MEMBERSHIP, PROFILE),
        Visibility::Public,
        &profile,
    );
    let proposal = pod.propose(2, 3, ProposalKind::Remove { member: kh(3) }, None);
    pod.vote(1, 3, proposal, Choice::No);
    pod.create(
        3,
        4,
        (ZOME_MEMBERSHIP, LEAVE),
        Visibility::Pod,
        &Leave {
            reason: Some("moving to the coast".into()),
        },
    );
    let state = pod.fold(10);

    let log = &state.audit_log;
    assert!(log
        .windows(2)
        .all(|w| (w[0].at, w[0].record) <= (w[1].at, w[1].record)));
    let events: Vec<&str> = log.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events.iter().filter(|e| **e == "join").count(), 1);
    assert!(
        events.contains(&"proposal:remove")
            && events.contains(&"vote")
            && events.contains(&"leave")
    );
    assert!(
        !events.iter().any(|e| e.contains("profile")),
        "profiles are not governance"
    );
    assert!(log.iter().all(|e| [kh(1), kh(2), kh(3)].contains(&e.actor)));

    let json = serde_json::to_string(&state).expect("pod state serializes");
    for private in ["aroha", "Aroha", "Weaver", "coast", "Please decide"] {
        assert!(!json.contains(private), "pod state leaks `{private}`");
    }
}

#[test]
fn pod_state_serializes_to_json_with_text_identifiers() {
    let mut pod = Pod::new();
    pod.join(3, 1);
    let (proposal, decision) = pod.pass(
        10,
        ProposalKind::GrantRole {
            member: kh(3),
            role: crate::governance::Role::Manager,
        },
    );
    let state = pod.fold(20);
    let json = serde_json::to_value(&state).expect("pod state serializes");
    let roster = json["roster"].as_object().expect("the roster is an object");
    assert!(roster.contains_key(&kh(3).to_string()));
    assert_eq!(
        json["roster"][kh(3).to_string()]["roles"],
        serde_json::json!(["Manager"])
    );
    let passed = &json["proposals"][proposal.to_string()];
    assert_eq!(passed["decision"], serde_json::json!(decision.to_string()));
    assert_eq!(passed["author"], serde_json::json!(kh(1).to_string()));
    assert_eq!(passed["status"], serde_json::json!("Passed"));
    assert!(json["audit_log"][0]["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("kh_")));
    assert_eq!(json["figures"]["members"], serde_json::json!(3));
}
