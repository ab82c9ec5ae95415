//! Content: versions, revocations, deletions, cultural-protocol approvals, creator shares.

use myco_dna::{BasisPoints, Entry, Visibility};

use super::{kh, open_consent, pod_consent, secs, story, Pod};
use crate::content::{Approval, Consent, Recipient, Share, APPROVAL, CONTENT};
use crate::governance::{RoleProof, PROPOSAL};
use crate::state::is_visible_to_pod;
use crate::{ZOME_CONTENT, ZOME_GOVERNANCE};

#[test]
fn the_newest_update_by_time_gives_the_current_version() {
    let mut pod = Pod::new();
    let create = pod.post(3, 10, Visibility::Pod, &story(pod_consent(), &[]));
    let first = pod.update(3, 20, create, Visibility::Pod, &story(open_consent(), &[]));
    let second = pod.update(
        3,
        30,
        first,
        Visibility::Public,
        &story(open_consent(), &[]),
    );
    let state = pod.fold(40);
    assert_eq!(state.content.len(), 1, "updates do not make new content");
    let content = &state.content[&create];
    assert_eq!(content.latest, second);
    assert_eq!(content.author, kh(3));
    assert_eq!(
        (content.created_at, content.updated_at),
        (secs(10), secs(30))
    );
    assert_eq!(content.visibility, Visibility::Public);
    assert_eq!(content.consent, Some(open_consent()));
    assert!(
        !content.revoked,
        "widening consent and visibility is no revocation"
    );
}

#[test]
fn narrowing_consent_or_visibility_is_a_revocation() {
    let mut pod = Pod::new();
    let by_consent = pod.post(3, 10, Visibility::Public, &story(open_consent(), &[]));
    let no_ai = Consent {
        ai_analysis: false,
        ..open_consent()
    };
    let narrowed = pod.update(3, 20, by_consent, Visibility::Public, &story(no_ai, &[]));
    let by_visibility = pod.post(4, 10, Visibility::Public, &story(open_consent(), &[]));
    let pod_only = pod.update(
        4,
        20,
        by_visibility,
        Visibility::Pod,
        &story(open_consent(), &[]),
    );
    let unchanged = pod.post(5, 10, Visibility::Pod, &story(pod_consent(), &[]));
    pod.update(
        5,
        20,
        unchanged,
        Visibility::Pod,
        &story(pod_consent(), &[]),
    );
    let state = pod.fold(30);
    assert!(state.content[&by_consent].revoked);
    assert!(state.content[&by_visibility].revoked);
    assert!(
        !state.content[&unchanged].revoked,
        "an equal update narrows nothing"
    );
    assert_eq!(state.figures.revocations, 2);
    let audited: Vec<_> = state
        .audit_log
        .iter()
        .filter(|e| e.event == "revocation")
        .map(|e| e.record)
        .collect();
    let mut expected = vec![narrowed, pod_only];
    expected.sort();
    assert_eq!(audited, expected);
}

#[test]
fn deleting_any_version_deletes_the_content_and_forgets_its_entry() {
    let mut pod = Pod::new();
    let create = pod.post(
        3,
        10,
        Visibility::Public,
        &story(open_consent(), &["seasonal"]),
    );
    let update = pod.update(
        3,
        20,
        create,
        Visibility::Public,
        &story(open_consent(), &["seasonal"]),
    );
    let kept = pod.post(3, 25, Visibility::Pod, &story(pod_consent(), &[]));
    pod.delete(3, 30, update);
    let state = pod.fold(40);
    let deleted = &state.content[&create];
    assert!(deleted.deleted);
    assert_eq!(
        deleted.consent, None,
        "a node that has not purged yet folds the same state"
    );
    assert!(deleted.protocols.is_empty());
    assert!(!is_visible_to_pod(deleted));
    assert!(is_visible_to_pod(&state.content[&kept]));
    assert_eq!(state.figures.deletions, 1);
    assert_eq!(
        state.figures.content_by_visibility.public, 0,
        "deleted content is not counted"
    );
    assert_eq!(state.figures.content_by_visibility.pod, 1);
    assert_eq!(state.storyteller(&kh(3)).deleted, 1);
}

#[test]
fn a_delete_by_someone_else_deletes_nothing() {
    let mut pod = Pod::new();
    let create = pod.post(3, 10, Visibility::Pod, &story(pod_consent(), &[]));
    pod.delete(4, 20, create);
    let state = pod.fold(30);
    assert!(!state.content[&create].deleted);
}

#[test]
fn protocol_tagged_content_is_not_visible_before_a_steward_approves_it() {
    let mut pod = Pod::new();
    let sacred = pod.post(3, 10, Visibility::Pod, &story(pod_consent(), &["sacred"]));
    let seasonal = pod.post(3, 11, Visibility::Pod, &story(pod_consent(), &["seasonal"]));
    let before = pod.fold(20);
    let waiting = &before.content[&sacred];
    assert!(waiting.needs_approval && !waiting.approved);
    assert!(!is_visible_to_pod(waiting));
    assert!(
        is_visible_to_pod(&before.content[&seasonal]),
        "`seasonal` needs no approval"
    );
    assert_eq!(before.storyteller(&kh(3)).pending_approval, 1);
    assert_eq!(before.storyteller(&kh(3)).visible, 1);

    let approval = Approval {
        content: sacred,
        protocol: "sacred".into(),
        role: RoleProof::Founder,
    };
    pod.create(1, 30, (ZOME_CONTENT, APPROVAL), Visibility::Pod, &approval);
    let after = pod.fold(40);
    assert!(after.content[&sacred].approved);
    assert!(is_visible_to_pod(&after.content[&sacred]));
    assert_eq!(after.storyteller(&kh(3)).pending_approval, 0);
    assert!(after
        .audit_log
        .iter()
        .any(|e| e.event == "approval" && e.actor == kh(1)));
}

#[test]
fn an_approval_under_another_protocol_does_not_release_the_content() {
    let mut pod = Pod::new();
    let sacred = pod.post(
        3,
        10,
        Visibility::Pod,
        &story(pod_consent(), &["sacred", "seasonal"]),
    );
    let approval = Approval {
        content: sacred,
        protocol: "seasonal".into(),
        role: RoleProof::Founder,
    };
    pod.create(1, 30, (ZOME_CONTENT, APPROVAL), Visibility::Pod, &approval);
    assert!(!is_visible_to_pod(&pod.fold(40).content[&sacred]));
}

#[test]
fn private_entries_are_ignored_so_every_node_folds_the_same_state() {
    let mut pod = Pod::new();
    let private = pod.post(3, 10, Visibility::Private, &story(Consent::default(), &[]));
    let authors_node = pod.fold(20);
    let others = Pod {
        records: pod.records.iter().map(|r| r.without_entry()).collect(),
        ..Pod::new()
    };
    assert_eq!(authors_node, others.fold(20));
    let content = &authors_node.content[&private];
    assert_eq!(content.visibility, Visibility::Private);
    assert_eq!(content.consent, None);
    assert!(!is_visible_to_pod(content));
    assert_eq!(authors_node.figures.content_by_visibility.private, 1);
}

#[test]
fn an_entry_that_does_not_decode_is_ignored_without_panicking() {
    let mut pod = Pod::new();
    let garbage = Entry(vec![0xff, 0x00, 0x13]);
    let content = pod.create_raw(
        3,
        10,
        (ZOME_CONTENT, CONTENT),
        Visibility::Pod,
        garbage.clone(),
    );
    let proposal = pod.create_raw(1, 11, (ZOME_GOVERNANCE, PROPOSAL), Visibility::Pod, garbage);
    let state = pod.fold(20);
    assert_eq!(state.content[&content].consent, None);
    assert!(
        state.proposals.is_empty(),
        "an unreadable proposal has no window or kind"
    );
    let audited = state
        .audit_log
        .iter()
        .find(|e| e.record == proposal)
        .map(|e| e.event.as_str());
    assert_eq!(audited, Some("proposal"));
}

#[test]
fn the_creator_share_comes_from_the_revenue_share_or_is_whole_without_one() {
    let mut pod = Pod::new();
    let whole = pod.post(3, 10, Visibility::Pod, &story(pod_consent(), &[]));
    let shared_story = crate::content::Content {
        revenue_share: Some(vec![
            Share {
                recipient: Recipient::Member(kh(3)),
                bp: BasisPoints(8000),
            },
            Share {
                recipient: Recipient::Community,
                bp: BasisPoints(2000),
            },
        ]),
        ..story(pod_consent(), &[])
    };
    let shared = pod.post(3, 11, Visibility::Pod, &shared_story);
    let state = pod.fold(20);
    assert_eq!(
        state.content[&whole].creator_share_bp,
        Some(BasisPoints(10_000))
    );
    assert!(!state.content[&whole].shares_revenue);
    assert_eq!(
        state.content[&shared].creator_share_bp,
        Some(BasisPoints(8000))
    );
    assert!(state.content[&shared].shares_revenue);
    assert_eq!(state.figures.average_creator_share_bp, BasisPoints(9000));
    assert_eq!(
        state.figures.creator_share_compliance_bp,
        BasisPoints(10_000)
    );
}
