//! Each example DNA plays its community's story end to end at the record level: create the
//! pod, admit members by its policy, publish, propose, vote and decide, approve, distribute
//! value, revoke consent, delete. Allowed steps succeed; forbidden ones are refused with their
//! reason.

mod common;

use common::*;
use myco_dna::{ActionBody, ActionHash, KeyHash, Timestamp, Verdict, Visibility};
use myco_zomes::content::{Approval, Consent};
use myco_zomes::governance::{ProposalKind, ReplicaTarget, Role, RoleProof};
use myco_zomes::membership::{
    sign_invitation, Contact, InvitationTerms, Leave, MembraneProof, Profile,
};
use myco_zomes::value::{largest_remainder, Distribution, MinorUnits, Payout, ValueEvent};

#[track_caller]
fn ok(step: (myco_dna::Record, Verdict)) -> myco_dna::Record {
    assert_eq!(step.1, Verdict::Valid, "step should be accepted");
    step.0
}

fn payouts(parts: impl IntoIterator<Item = (KeyHash, u64)>) -> Vec<Payout> {
    let mut merged = std::collections::BTreeMap::new();
    for (k, a) in parts {
        *merged.entry(k).or_insert(0) += a;
    }
    merged
        .into_iter()
        .filter(|(_, a)| *a > 0)
        .map(|(recipient, a)| Payout {
            recipient,
            amount: MinorUnits(a),
        })
        .collect()
}

#[test]
fn community_media_cooperative_plays_its_story() {
    // 1. Create the pod: the three founders join.
    let mut pod = Pod::new(example("community-media.toml"));
    for seed in 1..=3 {
        ok(pod.join(seed, MembraneProof::None));
    }
    // 2. Admit a member by vote; without a decision nobody gets in.
    assert_refused(&pod.join(7, MembraneProof::None).1, "admits by vote");
    let (_, admit) = pod.pass(1, ProposalKind::Admit { member: kh(7) }, None, &[1, 2], 3);
    let genesis = ok(pod.join(
        7,
        MembraneProof::Admit {
            decision: admit.hash(),
        },
    ));
    let roster = ok(pod.checkpoint(2, None, &[1, 2, 3, 7], &[1, 2, 3], vec![genesis.hash()]));
    // 3. Publish: creators keep at least 75%.
    let dna = pod.dna.clone();
    assert_refused(
        &pod.create(
            7,
            "content",
            "content",
            Visibility::Pod,
            &story(&dna, "cheap", 7, Some(7499)),
        )
        .1,
        "below this pod's floor",
    );
    let piece = ok(pod.create(
        7,
        "content",
        "content",
        Visibility::Public,
        &story(&dna, "Harbour lights", 7, Some(8000)),
    ));
    // 4. Propose, vote and decide: a new replica in the EU passes; one in the US cannot be proposed.
    assert_refused(
        &pod.propose(
            1,
            ProposalKind::ApproveReplica(ReplicaTarget::Region("US".into())),
            Some(roster.hash()),
        )
        .1,
        "outside the pod's allowed regions",
    );
    pod.pass(
        1,
        ProposalKind::ApproveReplica(ReplicaTarget::Region("EU".into())),
        Some(roster.hash()),
        &[1, 2, 7],
        7,
    );
    // 5. Approve: a treasurer is granted by vote, not by themselves.
    assert_refused(
        &pod.propose(
            2,
            ProposalKind::GrantRole {
                member: kh(2),
                role: Role::Treasurer,
            },
            Some(roster.hash()),
        )
        .1,
        "for themselves",
    );
    let (_, treasurer) = pod.pass(
        1,
        ProposalKind::GrantRole {
            member: kh(2),
            role: Role::Treasurer,
        },
        Some(roster.hash()),
        &[1, 3],
        1,
    );
    // 6. Distribute value: 80% to the creator, the community's 20% equally among the roster.
    let event = ok(pod.create(
        2,
        "value",
        "value_event",
        Visibility::Pod,
        &ValueEvent {
            content: piece.hash(),
            amount: MinorUnits(10_000),
            currency: "GBP".into(),
            role: Some(RoleProof::Grant(treasurer.hash())),
        },
    ));
    let members: Vec<(KeyHash, u64)> = [1, 2, 3, 7].iter().map(|s| (kh(*s), 1)).collect();
    let fair = payouts(
        largest_remainder(2_000, &members)
            .into_iter()
            .chain([(kh(7), 8_000)]),
    );
    let distribution = |payouts| Distribution {
        event: event.hash(),
        payouts,
        checkpoint: Some(roster.hash()),
        contributions: vec![],
        role: Some(RoleProof::Grant(treasurer.hash())),
    };
    let unfair = payouts([(kh(2), 2_000), (kh(7), 8_000)]);
    assert_refused(
        &pod.create(
            2,
            "value",
            "distribution",
            Visibility::Pod,
            &distribution(unfair),
        )
        .1,
        "do not match",
    );
    ok(pod.create(
        2,
        "value",
        "distribution",
        Visibility::Pod,
        &distribution(fair),
    ));
    // 7. Revoke consent: the creator narrows the piece to the pod; nobody else may.
    let mut narrowed = story(&dna, "Harbour lights", 7, Some(8000));
    narrowed.consent.public_sharing = false;
    assert_refused(
        &pod.update(
            1,
            piece.hash(),
            "content",
            "content",
            Visibility::Pod,
            &narrowed,
        )
        .1,
        "only the author",
    );
    ok(pod.update(
        7,
        piece.hash(),
        "content",
        "content",
        Visibility::Pod,
        &narrowed,
    ));
    // 8. Delete: only the creator.
    assert_refused(
        &pod.write(
            3,
            ActionBody::Delete {
                target: piece.hash(),
            },
            None,
        )
        .1,
        "only the author",
    );
    ok(pod.write(
        7,
        ActionBody::Delete {
            target: piece.hash(),
        },
        None,
    ));
}

#[test]
fn storytelling_circle_plays_its_story() {
    // 1. Create the pod: two founding stewards.
    let mut pod = Pod::new(example("storytelling.toml"));
    ok(pod.join(1, MembraneProof::None));
    ok(pod.join(2, MembraneProof::None));
    // 2. Admit storytellers by a steward's invitation.
    let invite = |pod: &Pod, seed: u8| {
        sign_invitation(
            &key(1),
            InvitationTerms {
                pod: pod.dna.dna_hash(),
                invitee: kh(seed),
                expires: Timestamp(T0 + 30 * DAY),
            },
            RoleProof::Founder,
        )
    };
    let (g5, g6) = (
        ok(pod.join(5, MembraneProof::Invite(invite(&pod, 5)))),
        ok(pod.join(6, MembraneProof::Invite(invite(&pod, 6)))),
    );
    assert_refused(&pod.join(7, MembraneProof::None).1, "steward invitation");
    let forged = sign_invitation(
        &key(5),
        InvitationTerms {
            pod: pod.dna.dna_hash(),
            invitee: kh(7),
            expires: Timestamp(T0 + DAY),
        },
        RoleProof::Founder,
    );
    assert_refused(
        &pod.join(7, MembraneProof::Invite(forged)).1,
        "is not a steward of this pod",
    );
    let roster = ok(pod.checkpoint(1, None, &[1, 2, 5, 6], &[1, 2], vec![g5.hash(), g6.hash()]));
    // 3. Publish: a sacred story stays within the community; a seasonal one may be public.
    let dna = pod.dna.clone();
    let mut sacred = story(&dna, "The first canoe", 5, Some(7000));
    sacred.protocols = vec!["sacred".into()];
    assert_refused(
        &pod.create(5, "content", "content", Visibility::Public, &sacred)
            .1,
        "allows at most Pod",
    );
    let sacred_record = ok(pod.create(5, "content", "content", Visibility::Pod, &sacred));
    let mut seasonal = story(&dna, "Winter fishing", 5, Some(7000));
    seasonal.protocols = vec!["seasonal".into()];
    let seasonal_record = ok(pod.create(5, "content", "content", Visibility::Public, &seasonal));
    let other = ok(pod.create(
        6,
        "content",
        "content",
        Visibility::Pod,
        &story(&dna, "Grandmother's song", 6, None),
    ));
    // 4. Propose, vote, decide: storyteller 6 becomes a steward.
    let (_, grant) = pod.pass(
        1,
        ProposalKind::GrantRole {
            member: kh(6),
            role: Role::Steward,
        },
        Some(roster.hash()),
        &[1, 2],
        2,
    );
    // Until a steward approves it, the sacred story counts as visible to no one but its author.
    let state =
        |pod: &Pod| myco_zomes::state::fold(&pod.dna, &pod.accepted, &[], Timestamp(pod.now));
    let before = state(&pod);
    assert!(!myco_zomes::state::is_visible_to_pod(
        &before.content[&sacred_record.hash()]
    ));
    assert_eq!(before.storyteller(&kh(5)).pending_approval, 1);
    // 5. Approve: only a steward, showing the grant.
    let approval = |role| Approval {
        content: sacred_record.hash(),
        protocol: "sacred".into(),
        role,
    };
    assert_refused(
        &pod.create(
            5,
            "content",
            "approval",
            Visibility::Pod,
            &approval(RoleProof::Founder),
        )
        .1,
        "is not a steward of this pod",
    );
    assert_refused(
        &pod.create(
            5,
            "content",
            "approval",
            Visibility::Pod,
            &approval(RoleProof::Grant(grant.hash())),
        )
        .1,
        "not a decision granting",
    );
    ok(pod.create(
        6,
        "content",
        "approval",
        Visibility::Pod,
        &approval(RoleProof::Grant(grant.hash())),
    ));
    // 6. Distribute value: 70% to the storyteller, 30% by contribution (two stories by 5, one by 6).
    let event = ok(pod.create(
        5,
        "value",
        "value_event",
        Visibility::Pod,
        &ValueEvent {
            content: seasonal_record.hash(),
            amount: MinorUnits(999),
            currency: "NZD".into(),
            role: None,
        },
    ));
    let creator = largest_remainder(
        999,
        &[
            (myco_zomes::content::Recipient::Member(kh(5)), 7000),
            (myco_zomes::content::Recipient::Community, 3000),
        ],
    );
    let (creator_part, community_part) = (creator[0].1, creator[1].1);
    let community = largest_remainder(community_part, &[(kh(5), 2), (kh(6), 1)]);
    let contributions: Vec<ActionHash> =
        vec![sacred_record.hash(), seasonal_record.hash(), other.hash()];
    let fair = payouts(community.into_iter().chain([(kh(5), creator_part)]));
    let distribution = |payouts, contributions| Distribution {
        event: event.hash(),
        payouts,
        checkpoint: None,
        contributions,
        role: None,
    };
    assert_refused(
        &pod.create(
            5,
            "value",
            "distribution",
            Visibility::Pod,
            &distribution(fair.clone(), vec![sacred_record.hash()]),
        )
        .1,
        "do not match",
    );
    ok(pod.create(
        5,
        "value",
        "distribution",
        Visibility::Pod,
        &distribution(fair, contributions),
    ));
    // 7. Revoke consent: the storyteller withdraws community sharing; the story becomes private.
    let mut withdrawn = sacred.clone();
    withdrawn.consent = Consent::default();
    assert_refused(
        &pod.update(
            5,
            sacred_record.hash(),
            "content",
            "content",
            Visibility::Pod,
            &withdrawn,
        )
        .1,
        "community_sharing",
    );
    ok(pod.update(
        5,
        sacred_record.hash(),
        "content",
        "content",
        Visibility::Private,
        &withdrawn,
    ));
    // 8. Delete: the storyteller's right; a steward cannot do it for them.
    assert_refused(
        &pod.write(
            6,
            ActionBody::Delete {
                target: seasonal_record.hash(),
            },
            None,
        )
        .1,
        "only the author",
    );
    ok(pod.write(
        5,
        ActionBody::Delete {
            target: seasonal_record.hash(),
        },
        None,
    ));
}

#[test]
fn territory_dk_plays_its_story() {
    // 1. Create the pod: the territory's founder.
    let mut pod = Pod::new(example("territory-dk.toml"));
    ok(pod.join(1, MembraneProof::None));
    // 2. Admit: anyone may join an open territory.
    let g4 = ok(pod.join(4, MembraneProof::None));
    let g5 = ok(pod.join(5, MembraneProof::None));
    let roster = ok(pod.checkpoint(4, None, &[1, 4, 5], &[1], vec![g4.hash(), g5.hash()]));
    // Profiles: contact data only in private; public only when the owner says so.
    let profile = |public: bool, contact: Option<Contact>| Profile {
        username: "mads".into(),
        display_name: "Mads".into(),
        bio: "fisher".into(),
        avatar: None,
        profile_public: public,
        contact,
    };
    let email = Some(Contact {
        email: Some("mads@example.dk".into()),
        ..Contact::default()
    });
    assert_refused(
        &pod.create(
            4,
            "membership",
            "profile",
            Visibility::Pod,
            &profile(true, email.clone()),
        )
        .1,
        "only in a Private profile",
    );
    ok(pod.create(
        4,
        "membership",
        "profile",
        Visibility::Private,
        &profile(false, email),
    ));
    ok(pod.create(
        4,
        "membership",
        "profile",
        Visibility::Public,
        &profile(true, None),
    ));
    assert_refused(
        &pod.create(
            5,
            "membership",
            "profile",
            Visibility::Public,
            &profile(false, None),
        )
        .1,
        "profile_public = false",
    );
    // 3. Publish.
    let dna = pod.dna.clone();
    let notice = ok(pod.create(
        5,
        "content",
        "content",
        Visibility::Public,
        &story(&dna, "Harbour festival", 5, Some(9000)),
    ));
    // 4. Propose, vote, decide: member 4 becomes a territory manager.
    assert_refused(
        &pod.propose(
            4,
            ProposalKind::GrantRole {
                member: kh(4),
                role: Role::Manager,
            },
            Some(roster.hash()),
        )
        .1,
        "for themselves",
    );
    pod.pass(
        5,
        ProposalKind::GrantRole {
            member: kh(4),
            role: Role::Manager,
        },
        Some(roster.hash()),
        &[1, 5],
        1,
    );
    // 5. Approve a backup schedule by vote.
    pod.pass(
        1,
        ProposalKind::ApproveBackupSchedule {
            schedule: "daily at 02:00".into(),
            archivist: None,
            retention_days: 0,
        },
        Some(roster.hash()),
        &[4, 5],
        4,
    );
    // 6. Distribute value: 90% to the creator, 10% equally among the roster.
    let event = ok(pod.create(
        5,
        "value",
        "value_event",
        Visibility::Pod,
        &ValueEvent {
            content: notice.hash(),
            amount: MinorUnits(100),
            currency: "DKK".into(),
            role: None,
        },
    ));
    let community = largest_remainder(10, &[(kh(1), 1), (kh(4), 1), (kh(5), 1)]);
    let fair = payouts(community.into_iter().chain([(kh(5), 90)]));
    assert_refused(
        &pod.create(
            4,
            "value",
            "value_event",
            Visibility::Pod,
            &ValueEvent {
                content: notice.hash(),
                amount: MinorUnits(5),
                currency: "DKK".into(),
                role: None,
            },
        )
        .1,
        "only the content's creator",
    );
    ok(pod.create(
        5,
        "value",
        "distribution",
        Visibility::Pod,
        &Distribution {
            event: event.hash(),
            payouts: fair,
            checkpoint: Some(roster.hash()),
            contributions: vec![],
            role: None,
        },
    ));
    // 7. Revoke consent: public → pod.
    let mut narrowed = story(&dna, "Harbour festival", 5, Some(9000));
    narrowed.consent.public_sharing = false;
    ok(pod.update(
        5,
        notice.hash(),
        "content",
        "content",
        Visibility::Pod,
        &narrowed,
    ));
    // 8. Delete, then leave; a member who left writes nothing more.
    ok(pod.write(
        5,
        ActionBody::Delete {
            target: notice.hash(),
        },
        None,
    ));
    ok(pod.create(
        5,
        "membership",
        "leave",
        Visibility::Pod,
        &Leave {
            reason: Some("moving".into()),
        },
    ));
    assert_refused(
        &pod.create(
            5,
            "content",
            "content",
            Visibility::Pod,
            &story(&dna, "late", 5, None),
        )
        .1,
        "left this pod",
    );
}
