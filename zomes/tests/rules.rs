//! Every rule in the governance contract: the allowed case is accepted, each forbidden case is
//! refused with a reason a person can act on.

mod common;

use common::*;
use myco_dna::{BasisPoints, Verdict, Visibility};
use myco_zomes::content::{Approval, Consent, Recipient, Share};
use myco_zomes::governance::{Choice, PolicyChange, ProposalKind, Role, RoleProof};
use myco_zomes::membership::{Contact, MembraneProof, Profile};
use myco_zomes::value::{Distribution, MinorUnits, Payout, ValueEvent};

/// The media cooperative with its three founders (seeds 1–3) joined.
fn media() -> Pod {
    let mut pod = Pod::new(example("community-media.toml"));
    for seed in 1..=3 {
        assert_eq!(pod.join(seed, MembraneProof::None).1, Verdict::Valid);
    }
    pod
}

#[test]
fn founders_join_without_proof_and_others_need_a_passed_admit_decision() {
    let mut pod = media();
    assert_refused(&pod.join(7, MembraneProof::None).1, "admits by vote");
    let (_, decision) = pod.pass(1, ProposalKind::Admit { member: kh(7) }, None, &[1, 2], 3);
    assert_eq!(
        pod.join(
            7,
            MembraneProof::Admit {
                decision: decision.hash()
            }
        )
        .1,
        Verdict::Valid
    );
    // A decision that admits someone else is no proof.
    assert_refused(
        &pod.join(
            8,
            MembraneProof::Admit {
                decision: decision.hash(),
            },
        )
        .1,
        "does not admit",
    );
}

#[test]
fn a_vote_by_a_non_member_is_refused() {
    let mut pod = Pod::new(example("territory-dk.toml"));
    pod.join(1, MembraneProof::None);
    let (proposal, v) = pod.propose(
        1,
        ProposalKind::ApproveBackupSchedule {
            schedule: "weekly".into(),
            archivist: None,
            retention_days: 0,
        },
        None,
    );
    assert_eq!(v, Verdict::Valid);
    // Seed 9 joined the open pod, but is not in the electorate the proposal fixed.
    pod.join(9, MembraneProof::None);
    assert_refused(
        &pod.vote(9, proposal.hash(), Choice::Yes).1,
        "not in this proposal's electorate",
    );
    assert_eq!(pod.vote(1, proposal.hash(), Choice::Yes).1, Verdict::Valid);
}

#[test]
fn a_double_vote_is_refused() {
    let mut pod = media();
    let (proposal, _) = pod.propose(
        1,
        ProposalKind::ApproveBackupSchedule {
            schedule: "nightly".into(),
            archivist: None,
            retention_days: 0,
        },
        None,
    );
    assert_eq!(pod.vote(2, proposal.hash(), Choice::No).1, Verdict::Valid);
    assert_refused(&pod.vote(2, proposal.hash(), Choice::Yes).1, "double vote");
}

#[test]
fn a_late_vote_is_refused() {
    let mut pod = media();
    let (proposal, _) = pod.propose(
        1,
        ProposalKind::ApproveBackupSchedule {
            schedule: "nightly".into(),
            archivist: None,
            retention_days: 0,
        },
        None,
    );
    pod.tick(8 * DAY);
    assert_refused(
        &pod.vote(2, proposal.hash(), Choice::Yes).1,
        "outside the proposal's window",
    );
}

#[test]
fn a_decision_with_too_few_yes_votes_is_refused() {
    let mut pod = media();
    let (proposal, _) = pod.propose(
        1,
        ProposalKind::ApproveBackupSchedule {
            schedule: "nightly".into(),
            archivist: None,
            retention_days: 0,
        },
        None,
    );
    let (yes, _) = pod.vote(1, proposal.hash(), Choice::Yes);
    // 5000 bp of 3 needs 2 yes votes.
    assert_refused(
        &pod.decide(1, proposal.hash(), vec![yes.hash()]).1,
        "too few yes votes: 1 of an electorate of 3",
    );
}

#[test]
fn leaving_out_no_votes_cannot_pass_a_failing_proposal() {
    let mut pod = media();
    let (proposal, _) = pod.propose(
        1,
        ProposalKind::ApproveBackupSchedule {
            schedule: "nightly".into(),
            archivist: None,
            retention_days: 0,
        },
        None,
    );
    let (yes, _) = pod.vote(1, proposal.hash(), Choice::Yes);
    let (no_a, _) = pod.vote(2, proposal.hash(), Choice::No);
    let (no_b, _) = pod.vote(3, proposal.hash(), Choice::No);
    // Cherry-picking only the yes vote fails: the count is against the whole electorate.
    assert_refused(
        &pod.decide(1, proposal.hash(), vec![yes.hash()]).1,
        "too few yes votes",
    );
    // Listing the no votes as if they were support fails too.
    assert_refused(
        &pod.decide(
            1,
            proposal.hash(),
            vec![yes.hash(), no_a.hash(), no_b.hash()],
        )
        .1,
        "not a yes vote",
    );
}

#[test]
fn a_vote_listed_twice_is_counted_once() {
    let mut pod = media();
    let (proposal, _) = pod.propose(
        1,
        ProposalKind::ApproveBackupSchedule {
            schedule: "nightly".into(),
            archivist: None,
            retention_days: 0,
        },
        None,
    );
    let (yes, _) = pod.vote(1, proposal.hash(), Choice::Yes);
    assert_refused(
        &pod.decide(1, proposal.hash(), vec![yes.hash(), yes.hash()])
            .1,
        "counted twice",
    );
}

#[test]
fn a_role_granted_to_oneself_is_refused() {
    let mut pod = media();
    assert_refused(
        &pod.propose(
            1,
            ProposalKind::GrantRole {
                member: kh(1),
                role: Role::Treasurer,
            },
            None,
        )
        .1,
        "for themselves",
    );
    assert_eq!(
        pod.propose(
            1,
            ProposalKind::GrantRole {
                member: kh(2),
                role: Role::Treasurer
            },
            None
        )
        .1,
        Verdict::Valid
    );
}

#[test]
fn a_policy_change_that_lowers_a_floor_the_dna_sets_is_refused() {
    let mut pod = media();
    let lower = PolicyChange {
        min_creator_share_bp: Some(BasisPoints(7000)),
        ..PolicyChange::default()
    };
    assert_refused(
        &pod.propose(1, ProposalKind::ChangePolicy(lower), None).1,
        "may only be raised",
    );
    let outside = PolicyChange {
        restrict_regions: Some(vec!["US".into()]),
        ..PolicyChange::default()
    };
    assert_refused(
        &pod.propose(1, ProposalKind::ChangePolicy(outside), None).1,
        "may only narrow",
    );
    let raise = PolicyChange {
        min_creator_share_bp: Some(BasisPoints(8000)),
        ..PolicyChange::default()
    };
    assert_eq!(
        pod.propose(1, ProposalKind::ChangePolicy(raise), None).1,
        Verdict::Valid
    );
}

#[test]
fn a_replica_outside_the_allowed_regions_is_refused() {
    let mut pod = media();
    let kind = |r: &str| {
        ProposalKind::ApproveReplica(myco_zomes::governance::ReplicaTarget::Region(r.into()))
    };
    assert_refused(
        &pod.propose(1, kind("US"), None).1,
        "outside the pod's allowed regions",
    );
    assert_eq!(pod.propose(1, kind("EU"), None).1, Verdict::Valid);
}

#[test]
fn only_stewards_open_and_vote_on_emergencies() {
    let mut pod = media();
    let (_, decision) = pod.pass(1, ProposalKind::Admit { member: kh(7) }, None, &[1, 2], 3);
    let (genesis, _) = pod.join(
        7,
        MembraneProof::Admit {
            decision: decision.hash(),
        },
    );
    let (checkpoint, v) = pod.checkpoint(1, None, &[1, 2, 3, 7], &[1, 2, 3], vec![genesis.hash()]);
    assert_eq!(v, Verdict::Valid);
    let block =
        ProposalKind::Emergency(myco_zomes::governance::EmergencyMeasure::BlockMember(kh(3)));
    assert_refused(
        &pod.propose(7, block.clone(), Some(checkpoint.hash())).1,
        "only stewards",
    );
    let (proposal, v) = pod.propose(1, block, Some(checkpoint.hash()));
    assert_eq!(v, Verdict::Valid);
    assert_refused(
        &pod.vote(7, proposal.hash(), Choice::Yes).1,
        "only stewards vote in emergencies",
    );
    let (a, _) = pod.vote(1, proposal.hash(), Choice::Yes);
    let (b, _) = pod.vote(2, proposal.hash(), Choice::Yes);
    // 6667 bp of 3 stewards needs 3.
    assert_refused(
        &pod.decide(1, proposal.hash(), vec![a.hash(), b.hash()]).1,
        "needs 3",
    );
}

#[test]
fn a_checkpoint_that_drops_a_member_without_proof_is_refused() {
    let mut pod = media();
    assert_refused(
        &pod.checkpoint(1, None, &[1, 2], &[1, 2], vec![]).1,
        "previous roster and changes give 3",
    );
    assert_eq!(
        pod.checkpoint(1, None, &[1, 2, 3], &[1, 2, 3], vec![]).1,
        Verdict::Valid
    );
}

#[test]
fn a_creator_share_below_the_floor_is_refused() {
    let mut pod = media();
    let dna = pod.dna.clone();
    assert_refused(
        &pod.create(
            1,
            "content",
            "content",
            Visibility::Pod,
            &story(&dna, "low", 1, Some(7499)),
        )
        .1,
        "below this pod's floor of 7500",
    );
    assert_eq!(
        pod.create(
            1,
            "content",
            "content",
            Visibility::Pod,
            &story(&dna, "fair", 1, Some(7500))
        )
        .1,
        Verdict::Valid
    );
}

#[test]
fn shares_that_do_not_sum_to_10000_are_refused() {
    let mut pod = media();
    let mut content = story(&pod.dna, "short", 1, Some(8000));
    content.revenue_share.as_mut().unwrap()[1].bp = BasisPoints(1999);
    assert_refused(
        &pod.create(1, "content", "content", Visibility::Pod, &content)
            .1,
        "sum to 9999 bp",
    );
}

#[test]
fn duplicate_share_recipients_are_refused() {
    let mut pod = media();
    let content = myco_zomes::content::Content {
        revenue_share: Some(vec![
            Share {
                recipient: Recipient::Member(kh(1)),
                bp: BasisPoints(5000),
            },
            Share {
                recipient: Recipient::Member(kh(1)),
                bp: BasisPoints(5000),
            },
        ]),
        ..story(&pod.dna, "twice", 1, None)
    };
    assert_refused(
        &pod.create(1, "content", "content", Visibility::Pod, &content)
            .1,
        "distinct",
    );
}

#[test]
fn a_missing_required_principle_is_refused() {
    let mut pod = media();
    let mut content = story(&pod.dna, "unprincipled", 1, None);
    content.principles.retain(|p| p != "transparency");
    assert_refused(
        &pod.create(1, "content", "content", Visibility::Pod, &content)
            .1,
        "required principle `transparency`",
    );
}

#[test]
fn public_visibility_without_public_sharing_consent_is_refused() {
    let mut pod = media();
    let mut content = story(&pod.dna, "quiet", 1, None);
    content.consent.public_sharing = false;
    assert_refused(
        &pod.create(1, "content", "content", Visibility::Public, &content)
            .1,
        "public_sharing",
    );
    assert_eq!(
        pod.create(1, "content", "content", Visibility::Pod, &content)
            .1,
        Verdict::Valid
    );
    content.consent = Consent::default();
    assert_refused(
        &pod.create(1, "content", "content", Visibility::Pod, &content)
            .1,
        "community_sharing",
    );
}

#[test]
fn contact_data_in_a_pod_profile_is_refused() {
    let mut pod = Pod::new(example("territory-dk.toml"));
    pod.join(4, MembraneProof::None);
    let profile = Profile {
        username: "ane".into(),
        display_name: "Ane".into(),
        bio: "".into(),
        avatar: None,
        profile_public: false,
        contact: Some(Contact {
            email: Some("ane@example.org".into()),
            ..Contact::default()
        }),
    };
    assert_refused(
        &pod.create(4, "membership", "profile", Visibility::Pod, &profile)
            .1,
        "only in a Private profile",
    );
    assert_eq!(
        pod.create(4, "membership", "profile", Visibility::Private, &profile)
            .1,
        Verdict::Valid
    );
    let hidden = Profile {
        contact: None,
        ..profile
    };
    assert_refused(
        &pod.create(4, "membership", "profile", Visibility::Public, &hidden)
            .1,
        "profile_public = false cannot be Public",
    );
    let public = Profile {
        profile_public: true,
        ..hidden
    };
    assert_eq!(
        pod.create(4, "membership", "profile", Visibility::Public, &public)
            .1,
        Verdict::Valid
    );
}

#[test]
fn an_update_by_someone_other_than_the_author_is_refused() {
    let mut pod = media();
    let dna = pod.dna.clone();
    let (original, _) = pod.create(
        1,
        "content",
        "content",
        Visibility::Pod,
        &story(&dna, "mine", 1, None),
    );
    assert_refused(
        &pod.update(
            2,
            original.hash(),
            "content",
            "content",
            Visibility::Pod,
            &story(&dna, "yours", 2, None),
        )
        .1,
        "only the author",
    );
    let delete = myco_dna::ActionBody::Delete {
        target: original.hash(),
    };
    assert_refused(&pod.write(2, delete.clone(), None).1, "only the author");
    assert_eq!(pod.write(1, delete, None).1, Verdict::Valid);
}

#[test]
fn a_steward_approval_that_does_not_reference_a_role_grant_is_refused() {
    let mut pod = Pod::new(example("storytelling.toml"));
    pod.join(1, MembraneProof::None);
    let invitation = myco_zomes::membership::sign_invitation(
        &key(1),
        myco_zomes::membership::InvitationTerms {
            pod: pod.dna.dna_hash(),
            invitee: kh(5),
            expires: myco_dna::Timestamp(T0 + 30 * DAY),
        },
        RoleProof::Founder,
    );
    assert_eq!(
        pod.join(5, MembraneProof::Invite(invitation)).1,
        Verdict::Valid
    );
    let mut content = story(&pod.dna, "sacred", 5, None);
    content.protocols = vec!["sacred".into()];
    let (story_record, v) = pod.create(5, "content", "content", Visibility::Pod, &content);
    assert_eq!(v, Verdict::Valid);
    // Seed 5 is a member but holds no steward grant; pointing at some other decision is no proof.
    let (fake, _) = pod.create(
        5,
        "content",
        "comment",
        Visibility::Pod,
        &myco_zomes::content::Comment {
            content: story_record.hash(),
            text: "lovely".into(),
        },
    );
    let approval = |role| Approval {
        content: story_record.hash(),
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
            &approval(RoleProof::Grant(fake.hash())),
        )
        .1,
        "not a governance decision",
    );
    assert_eq!(
        pod.create(
            1,
            "content",
            "approval",
            Visibility::Pod,
            &approval(RoleProof::Founder)
        )
        .1,
        Verdict::Valid
    );
}

#[test]
fn a_protocol_story_wider_than_the_protocol_allows_is_refused() {
    let mut pod = Pod::new(example("storytelling.toml"));
    pod.join(1, MembraneProof::None);
    let mut content = story(&pod.dna, "sacred", 1, None);
    content.protocols = vec!["sacred".into()];
    assert_refused(
        &pod.create(1, "content", "content", Visibility::Public, &content)
            .1,
        "allows at most Pod",
    );
}

#[test]
fn an_expired_or_misaddressed_invitation_is_refused() {
    let mut pod = Pod::new(example("storytelling.toml"));
    pod.join(1, MembraneProof::None);
    let invite = |invitee, expires| {
        myco_zomes::membership::sign_invitation(
            &key(1),
            myco_zomes::membership::InvitationTerms {
                pod: pod.dna.dna_hash(),
                invitee,
                expires: myco_dna::Timestamp(expires),
            },
            RoleProof::Founder,
        )
    };
    let expired = invite(kh(5), T0);
    let for_other = invite(kh(6), T0 + DAY);
    assert_refused(&pod.join(5, MembraneProof::Invite(expired)).1, "expired");
    assert_refused(
        &pod.join(5, MembraneProof::Invite(for_other)).1,
        "not for the joining key",
    );
    assert_refused(&pod.join(5, MembraneProof::None).1, "steward invitation");
}

#[test]
fn a_distribution_that_does_not_match_the_revenue_share_is_refused() {
    let mut pod = media();
    let dna = pod.dna.clone();
    let (content, _) = pod.create(
        1,
        "content",
        "content",
        Visibility::Pod,
        &story(&dna, "paid", 1, Some(7500)),
    );
    let (event, v) = pod.create(
        1,
        "value",
        "value_event",
        Visibility::Pod,
        &ValueEvent {
            content: content.hash(),
            amount: MinorUnits(1001),
            currency: "GBP".into(),
            role: None,
        },
    );
    assert_eq!(v, Verdict::Valid);
    // 7500 bp of 1001 = 750.75 → 751 to the creator; the community's 250 split equally by 3 founders.
    let community: Vec<(myco_dna::KeyHash, u64)> =
        myco_zomes::value::largest_remainder(250, &[(kh(1), 1), (kh(2), 1), (kh(3), 1)]);
    let mut payouts: Vec<Payout> = community
        .iter()
        .map(|(k, a)| Payout {
            recipient: *k,
            amount: MinorUnits(*a + if *k == kh(1) { 751 } else { 0 }),
        })
        .collect();
    payouts.sort();
    let distribution = |payouts: Vec<Payout>| Distribution {
        event: event.hash(),
        payouts,
        checkpoint: None,
        contributions: vec![],
        role: None,
    };
    let mut skimmed = payouts.clone();
    let creator = skimmed.iter_mut().find(|p| p.recipient == kh(1)).unwrap();
    creator.amount = MinorUnits(creator.amount.0 - 10);
    assert_refused(
        &pod.create(
            1,
            "value",
            "distribution",
            Visibility::Pod,
            &distribution(skimmed),
        )
        .1,
        "do not match the revenue share",
    );
    assert_refused(
        &pod.create(
            2,
            "value",
            "distribution",
            Visibility::Pod,
            &distribution(payouts.clone()),
        )
        .1,
        "only the content's creator",
    );
    assert_eq!(
        pod.create(
            1,
            "value",
            "distribution",
            Visibility::Pod,
            &distribution(payouts)
        )
        .1,
        Verdict::Valid
    );
}

#[test]
fn writing_after_leaving_is_refused() {
    let mut pod = Pod::new(example("territory-dk.toml"));
    pod.join(4, MembraneProof::None);
    assert_eq!(
        pod.create(
            4,
            "membership",
            "leave",
            Visibility::Pod,
            &myco_zomes::membership::Leave { reason: None }
        )
        .1,
        Verdict::Valid
    );
    let dna = pod.dna.clone();
    assert_refused(
        &pod.create(
            4,
            "content",
            "content",
            Visibility::Pod,
            &story(&dna, "after", 4, None),
        )
        .1,
        "left this pod",
    );
}

#[test]
fn an_entry_that_does_not_decode_is_refused_not_panicked() {
    let mut pod = media();
    let entry = myco_dna::Entry(vec![0xff, 0x00, 0x13]);
    let entry_ref = myco_dna::EntryRef {
        zome: "governance".into(),
        entry_type: "vote".into(),
        entry_hash: entry.hash(),
        visibility: Visibility::Pod,
    };
    assert_refused(
        &pod.write(1, myco_dna::ActionBody::Create(entry_ref), Some(entry))
            .1,
        "does not decode",
    );
    let unknown = myco_dna::Entry(vec![]);
    let entry_ref = myco_dna::EntryRef {
        zome: "payments".into(),
        entry_type: "invoice".into(),
        entry_hash: unknown.hash(),
        visibility: Visibility::Pod,
    };
    assert_refused(
        &pod.write(1, myco_dna::ActionBody::Create(entry_ref), Some(unknown))
            .1,
        "does not use the `payments` zome",
    );
}

#[test]
fn an_update_that_drops_an_approval_protocol_tag_is_refused() {
    let mut pod = Pod::new(example("storytelling.toml"));
    pod.join(1, MembraneProof::None);
    let mut sacred = story(&pod.dna, "sacred", 1, None);
    sacred.protocols = vec!["sacred".into()];
    let (original, v) = pod.create(1, "content", "content", Visibility::Pod, &sacred);
    assert_eq!(v, Verdict::Valid);
    let mut untagged = sacred.clone();
    untagged.protocols.clear();
    assert_refused(
        &pod.update(
            1,
            original.hash(),
            "content",
            "content",
            Visibility::Pod,
            &untagged,
        )
        .1,
        "cannot drop the `sacred` protocol tag",
    );
    sacred.protocols.push("seasonal".into());
    assert_eq!(
        pod.update(
            1,
            original.hash(),
            "content",
            "content",
            Visibility::Pod,
            &sacred
        )
        .1,
        Verdict::Valid
    );
}

#[test]
fn a_story_without_a_title_and_a_profile_without_a_username_are_refused() {
    let mut pod = Pod::new(example("territory-dk.toml"));
    pod.join(4, MembraneProof::None);
    let untitled = story(&pod.dna, "   ", 4, None);
    assert_refused(
        &pod.create(4, "content", "content", Visibility::Pod, &untitled)
            .1,
        "the title is empty",
    );
    let nameless = Profile {
        username: "".into(),
        display_name: "Ane".into(),
        bio: "".into(),
        avatar: None,
        profile_public: false,
        contact: None,
    };
    assert_refused(
        &pod.create(4, "membership", "profile", Visibility::Pod, &nameless)
            .1,
        "the username is empty",
    );
}

#[test]
fn a_private_comment_held_without_its_entry_is_judged_by_its_action_alone() {
    let mut pod = media();
    let content = story(&pod.dna, "mine alone", 1, None);
    let (story_record, v) = pod.create(1, "content", "content", Visibility::Private, &content);
    assert_eq!(v, Verdict::Valid);
    let comment = myco_zomes::content::Comment {
        content: story_record.hash(),
        text: "a note to myself".into(),
    };
    let (_, v) = pod.create(1, "content", "comment", Visibility::Private, &comment);
    assert_eq!(v, Verdict::Valid);
    // Another member's node gets the Private records without their entries: still valid.
    let mut other = Pod::new(pod.dna.clone());
    for record in &pod.accepted {
        let mut held = record.clone();
        let private = record
            .action()
            .body
            .entry_ref()
            .is_some_and(|e| e.visibility == Visibility::Private);
        if private {
            held.entry = None;
        }
        assert_eq!(other.submit(&held), Verdict::Valid, "{}", record.hash());
    }
}

#[test]
fn a_distribution_on_a_story_whose_text_was_erased_here_is_judged_by_what_the_records_show() {
    let mut pod = media();
    let dna = pod.dna.clone();
    let (content, _) = pod.create(
        1,
        "content",
        "content",
        Visibility::Pod,
        &story(&dna, "paid", 1, Some(7500)),
    );
    let (event, v) = pod.create(
        1,
        "value",
        "value_event",
        Visibility::Pod,
        &ValueEvent {
            content: content.hash(),
            amount: MinorUnits(1000),
            currency: "GBP".into(),
            role: None,
        },
    );
    assert_eq!(v, Verdict::Valid);
    // As on a member's node after the story was narrowed: the action stays, the text is gone.
    pod.validated
        .insert(content.hash(), content.without_entry());
    let distribution = |amounts: [u64; 2]| Distribution {
        event: event.hash(),
        payouts: {
            let mut payouts = vec![
                Payout {
                    recipient: kh(1),
                    amount: MinorUnits(amounts[0]),
                },
                Payout {
                    recipient: kh(2),
                    amount: MinorUnits(amounts[1]),
                },
            ];
            payouts.sort();
            payouts
        },
        checkpoint: None,
        contributions: vec![],
        role: None,
    };
    assert_refused(
        &pod.create(
            1,
            "value",
            "distribution",
            Visibility::Pod,
            &distribution([800, 100]),
        )
        .1,
        "sum to 900",
    );
    assert_refused(
        &pod.create(
            2,
            "value",
            "distribution",
            Visibility::Pod,
            &distribution([800, 200]),
        )
        .1,
        "only the content's creator",
    );
    assert_eq!(
        pod.create(
            1,
            "value",
            "distribution",
            Visibility::Pod,
            &distribution([800, 200])
        )
        .1,
        Verdict::Valid,
        "the split cannot be read here, so it is left to the nodes that hold the share"
    );
}

#[test]
fn a_forged_or_misplaced_deletion_receipt_is_refused() {
    use myco_dna::{ActionBody, Timestamp};
    use myco_zomes::content::Receipt;
    let mut pod = media();
    let dna = pod.dna.clone();
    let (story_1, _) = pod.create(
        1,
        "content",
        "content",
        Visibility::Pod,
        &story(&dna, "one", 1, None),
    );
    let (story_2, _) = pod.create(
        2,
        "content",
        "content",
        Visibility::Pod,
        &story(&dna, "two", 2, None),
    );
    let (deletion, v) = pod.write(
        1,
        ActionBody::Delete {
            target: story_1.hash(),
        },
        None,
    );
    assert_eq!(v, Verdict::Valid);
    let receipt =
        |revocation: &myco_dna::Record, record: &myco_dna::Record, purged_at: u64| Receipt {
            revocation: revocation.hash(),
            record: record.hash(),
            purged_at: Timestamp(purged_at),
        };
    let at = deletion.action().timestamp.0;
    let mut write = |seed: u8, visibility: Visibility, r: Receipt| {
        pod.create(seed, "content", "receipt", visibility, &r).1
    };
    assert_refused(
        &write(2, Visibility::Private, receipt(&deletion, &story_1, at)),
        "Pod visibility",
    );
    assert_refused(
        &write(1, Visibility::Pod, receipt(&deletion, &story_1, at)),
        "own revocations",
    );
    assert_refused(
        &write(2, Visibility::Pod, receipt(&story_1, &story_1, at)),
        "neither a Delete nor an Update",
    );
    assert_refused(
        &write(3, Visibility::Pod, receipt(&deletion, &story_2, at)),
        "not written by the author",
    );
    assert_refused(
        &write(2, Visibility::Pod, receipt(&deletion, &story_1, u64::MAX)),
        "dated after",
    );
    assert_eq!(
        write(2, Visibility::Pod, receipt(&deletion, &story_1, at)),
        Verdict::Valid
    );
}
