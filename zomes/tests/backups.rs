//! Governed backups: what a schedule proposal must name, who may list a backup taken under a
//! passed schedule, what a listing must add up to, and what an emergency restore names and
//! who signs its receipt.

mod common;

use std::collections::BTreeMap;

use common::*;
use myco_dna::{ActionHash, Record, Timestamp, Verdict, Visibility};
use myco_zomes::governance::{
    ArchivistNode, BackupListing, EmergencyMeasure, ListedHead, ProposalKind, ReplicaTarget,
    RestoreReceipt, BACKUP_LISTING, DAY_MICROS, RESTORE_RECEIPT,
};
use myco_zomes::membership::MembraneProof;

/// The media cooperative (regions UK and EU) with founders 1–3 and archivist 9 approved and
/// joined; returns the pod and the approve_replica decision.
fn media_with_archivist() -> (Pod, ActionHash) {
    let mut pod = Pod::new(example("community-media.toml"));
    for seed in 1..=3 {
        assert_eq!(pod.join(seed, MembraneProof::None).1, Verdict::Valid);
    }
    let kind = ProposalKind::ApproveReplica(ReplicaTarget::Archivist(ArchivistNode {
        agent: kh(9),
        node: "12D3KooWnode9".into(),
        region: "EU".into(),
    }));
    let (_, approval) = pod.pass(1, kind, None, &[1, 2], 3);
    let proof = MembraneProof::Replica {
        decision: approval.hash(),
    };
    assert_eq!(pod.join(9, proof).1, Verdict::Valid);
    (pod, approval.hash())
}

fn schedule(text: &str, archivist: Option<ActionHash>, retention_days: u32) -> ProposalKind {
    ProposalKind::ApproveBackupSchedule {
        schedule: text.into(),
        archivist,
        retention_days,
    }
}

/// A listing of the founders' three Genesis records, taken now under `decision`.
fn listing(pod: &Pod, decision: &Record, retention_days: u32) -> BackupListing {
    let taken_at = Timestamp(pod.now);
    let mut heads: Vec<ListedHead> = pod
        .accepted
        .iter()
        .filter(|r| {
            r.action().seq == 0 && [kh(1), kh(2), kh(3)].contains(&r.action().author.key_hash())
        })
        .map(|r| ListedHead {
            author: r.action().author,
            seq: 0,
            head: r.hash(),
        })
        .collect();
    heads.sort();
    BackupListing {
        schedule: decision.hash(),
        taken_at,
        expires_at: taken_at.plus_micros(u64::from(retention_days) * DAY_MICROS),
        bytes: 4096,
        blake2b: [7; 32],
        counts: BTreeMap::from([("genesis".to_string(), heads.len() as u64)]),
        heads,
    }
}

/// [`media_with_archivist`] with a passed daily schedule (kept 30 days) for archivist 9,
/// a minute later; returns the pod, the approval and the schedule decision.
fn with_daily_schedule() -> (Pod, ActionHash, Record) {
    let (mut pod, approval) = media_with_archivist();
    let kind = schedule("0 3 * * *", Some(approval), 30);
    let (_, decision) = pod.pass(1, kind, None, &[1, 2], 3);
    pod.tick(60_000_000);
    (pod, approval, decision)
}

fn list(pod: &mut Pod, seed: u8, listing: &BackupListing) -> Verdict {
    pod.create(seed, "governance", BACKUP_LISTING, Visibility::Pod, listing)
        .1
}

#[test]
fn a_schedule_that_names_an_archivist_needs_its_approval_a_cron_form_and_a_retention() {
    let (mut pod, approval) = media_with_archivist();
    assert_refused(
        &pod.propose(1, schedule("daily at three", Some(approval), 30), None)
            .1,
        "not a cron schedule",
    );
    assert_refused(
        &pod.propose(1, schedule("0 3 * * *", Some(approval), 0), None)
            .1,
        "retention is 1 to",
    );
    assert_refused(
        &pod.propose(1, schedule("0 3 * * *", None, 30), None).1,
        "needs an archivist",
    );
    let (_, region) = pod.pass(
        1,
        ProposalKind::ApproveReplica(ReplicaTarget::Region("UK".into())),
        None,
        &[1, 2],
        3,
    );
    assert_refused(
        &pod.propose(1, schedule("0 3 * * *", Some(region.hash()), 30), None)
            .1,
        "not a passed decision approving an archivist",
    );
    assert_eq!(
        pod.propose(1, schedule("0 3 * * *", Some(approval), 30), None)
            .1,
        Verdict::Valid
    );
    // A schedule in words alone stays a record of intent, as before.
    assert_eq!(
        pod.propose(1, schedule("weekly, on Sundays", None, 0), None)
            .1,
        Verdict::Valid
    );
}

#[test]
fn only_the_schedules_archivist_lists_a_backup_and_its_figures_must_add_up() {
    let (mut pod, approval, decision) = with_daily_schedule();

    let good = listing(&pod, &decision, 30);
    assert_refused(&list(&mut pod, 2, &good), "only it lists backups");

    let mut wrong_expiry = good.clone();
    wrong_expiry.expires_at = wrong_expiry.taken_at.plus_micros(DAY_MICROS);
    assert_refused(&list(&mut pod, 9, &wrong_expiry), "expires 30 days after");

    let mut miscounted = good.clone();
    miscounted.counts.insert("content/story".into(), 1);
    assert_refused(&list(&mut pod, 9, &miscounted), "must add up");

    let mut unordered = good.clone();
    unordered.heads.reverse();
    assert_refused(&list(&mut pod, 9, &unordered), "once, in order of author");

    let mut future = good.clone();
    future.taken_at = Timestamp(pod.now + 3_600_000_000);
    future.expires_at = future.taken_at.plus_micros(30 * DAY_MICROS);
    assert_refused(
        &list(&mut pod, 9, &future),
        "cannot be dated after the record",
    );

    let mut not_a_schedule = good.clone();
    not_a_schedule.schedule = approval;
    assert_refused(
        &list(&mut pod, 9, &not_a_schedule),
        "not a passed approve_backup_schedule",
    );

    assert_eq!(list(&mut pod, 9, &good), Verdict::Valid);
    let state = myco_zomes::state::fold(&pod.dna, &pod.accepted, &[], Timestamp(pod.now));
    let plan = &state.backup_schedules[&decision.hash()];
    assert_eq!(
        (plan.schedule.as_str(), plan.retention_days),
        ("0 3 * * *", 30)
    );
    let [listed] = state.backups.as_slice() else {
        panic!("one backup listed: {:?}", state.backups);
    };
    assert_eq!(listed.archivist, kh(9));
    assert_eq!((listed.records, listed.chains, listed.bytes), (3, 3, 4096));
    assert_eq!(listed.blake2b, "07".repeat(32));
}

fn authorise(listing: String) -> ProposalKind {
    ProposalKind::Emergency(EmergencyMeasure::AuthoriseRestore { backup: listing })
}

#[test]
fn a_restore_names_a_listed_backup_and_only_its_archivist_signs_the_receipt() {
    let (mut pod, approval, decision) = with_daily_schedule();
    let good = listing(&pod, &decision, 30);
    let (listed, verdict) = pod.create(9, "governance", BACKUP_LISTING, Visibility::Pod, &good);
    assert_eq!(verdict, Verdict::Valid);

    assert_refused(
        &pod.propose(1, authorise("last tuesday's backup".into()), None)
            .1,
        "does not name a backup",
    );
    assert_refused(
        &pod.propose(1, authorise(approval.to_string()), None).1,
        "is not a backup listing",
    );
    let (_, restore) = pod.pass(1, authorise(listed.hash().to_string()), None, &[1, 2, 3], 1);
    let state = myco_zomes::state::fold(&pod.dna, &pod.accepted, &[], Timestamp(pod.now));
    let [authorised] = state.restores.as_slice() else {
        panic!("one restore: {:?}", state.restores);
    };
    assert_eq!(authorised.listing, listed.hash());
    assert!(authorised.receipt.is_none());

    let at = Timestamp(pod.now);
    let receipt = |records: u64, filled: u64| RestoreReceipt {
        decision: restore.hash(),
        listing: listed.hash(),
        records,
        filled,
        restored_at: at,
    };
    let sign = |pod: &mut Pod, seed: u8, r: &RestoreReceipt| {
        pod.create(seed, "governance", RESTORE_RECEIPT, Visibility::Pod, r)
            .1
    };
    assert_refused(&sign(&mut pod, 2, &receipt(3, 0)), "only the archivist");
    assert_refused(
        &sign(&mut pod, 9, &receipt(5, 0)),
        "the backup held 3 records",
    );
    assert_refused(&sign(&mut pod, 9, &receipt(3, 4)), "fills at most");
    let mut other = receipt(3, 1);
    other.decision = decision.hash();
    assert_refused(
        &sign(&mut pod, 9, &other),
        "not a passed emergency decision authorising a restore",
    );
    assert_eq!(sign(&mut pod, 9, &receipt(3, 1)), Verdict::Valid);
    let state = myco_zomes::state::fold(&pod.dna, &pod.accepted, &[], Timestamp(pod.now));
    let done = state.restores[0].receipt.as_ref().expect("the receipt");
    assert_eq!((done.archivist, done.records, done.filled), (kh(9), 3, 1));
}
