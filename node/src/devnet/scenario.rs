//! The scenarios `myco devnet` plays across its daemons, after the example communities:
//! pods are created and their members admitted as each DNA says ([`admission`]), members set
//! profiles and publish stories (propagation is measured),
//! vote and decide, look each other up across pods, try what the rules forbid, and delete.

use std::time::{Duration, Instant};

use super::{
    admission, dna_with_founders, DevnetError, Member, Options, Percentiles, Report, TEMPLATES,
};
use crate::api::client::ApiClient;
use crate::api::types::{
    ConsentBody, DecideRequest, DeleteRequest, LookupView, ProfileRequestBody, ProposeRequest,
    PublishRequest, RecordView, StatusView, VoteRequest, Written,
};

/// How long records may take to reach every member before the scenario gives up on them.
pub const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the pods' members may take to find each other.
pub const MESH_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between polls of the members' APIs.
const POLL: Duration = Duration::from_millis(2);

/// Tries a write the pod's rules forbid, as daemon `who`: its refusal, with the daemon's
/// reason, goes in the report; were it accepted, that would be a leak.
fn expect_refused<B: serde::Serialize>(
    members: &[Member],
    who: usize,
    path: &str,
    body: &B,
    what: &str,
    report: &mut Report,
) {
    match members[who].daemon.api.post::<_, Written>(path, body) {
        Err(refusal) => {
            report.refused_as_expected += 1;
            report.happened.push(format!(
                "node{who}'s {what} was refused, as it should be: {refusal}"
            ));
        }
        Ok(_) => report.leaks += 1,
    }
}

/// How a pod began, in words: its name, who founded it, and how the others came in.
fn founding(manifest: &str, who: &[usize], founders: usize, admitted: usize) -> String {
    let dna = myco_zomes::load_dna(manifest).ok();
    let name = dna
        .as_ref()
        .map_or("a pod".to_string(), |d| format!("«{}»", d.name));
    let how = match dna.map(|d| d.properties.admission) {
        Some(myco_dna::manifest::Admission::Invite) => "by a steward's invitation",
        Some(myco_dna::manifest::Admission::Vote) => "by a vote of the members",
        _ => "freely (an open pod)",
    };
    let names = |range: &[usize]| {
        range
            .iter()
            .map(|i| format!("node{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (founded, joined) = who.split_at(founders.min(who.len()));
    if joined.is_empty() {
        format!("{name} was founded by {}", names(founded))
    } else if admitted == 0 {
        format!(
            "{name} was founded by {}; {} joined {how}",
            names(founded),
            names(joined)
        )
    } else {
        format!(
            "{name} was founded by {}; {} came in {how}",
            names(founded),
            names(joined)
        )
    }
}

fn members_of(members: &[Member], pod: usize) -> Vec<usize> {
    (0..members.len())
        .filter(|i| members[*i].pod == pod)
        .collect()
}

fn stored(api: &ApiClient, hash: &str) -> Result<RecordView, DevnetError> {
    Ok(api.get(&format!("/records/{hash}"))?)
}

/// Waits until every daemon in `who` satisfies `done` for `hash`; returns the elapsed time,
/// or the daemons that never did.
fn wait_all(
    members: &[Member],
    who: &[usize],
    hash: &str,
    since: Instant,
    done: impl Fn(&RecordView) -> bool,
) -> Result<Result<Duration, Vec<usize>>, DevnetError> {
    let mut waiting: Vec<usize> = who.to_vec();
    loop {
        let mut still = Vec::new();
        for &i in &waiting {
            if !done(&stored(&members[i].daemon.api, hash)?) {
                still.push(i);
            }
        }
        if still.is_empty() {
            return Ok(Ok(since.elapsed()));
        }
        if since.elapsed() > PROPAGATION_TIMEOUT {
            return Ok(Err(still));
        }
        waiting = still;
        std::thread::sleep(POLL);
    }
}

/// Writes through `member`'s API and waits until every other member of its pod stores it;
/// returns the record's hash and the propagation time.
fn write_and_measure<B: serde::Serialize>(
    members: &[Member],
    from: usize,
    pod_id: &str,
    what: &str,
    body: &B,
    report: &mut Report,
    samples: &mut Vec<f64>,
) -> Result<String, DevnetError> {
    let others: Vec<usize> = members_of(members, members[from].pod)
        .into_iter()
        .filter(|i| *i != from)
        .collect();
    let started = Instant::now();
    let written: Written = members[from]
        .daemon
        .api
        .post(&format!("/pods/{pod_id}/{what}"), body)?;
    report.records += 1;
    match wait_all(members, &others, &written.hash, started, |r| r.stored)? {
        Ok(elapsed) => samples.push(elapsed.as_secs_f64() * 1000.0),
        Err(missing) => {
            return Err(DevnetError::Scenario(format!(
                "record {} did not reach {} members within {PROPAGATION_TIMEOUT:?}",
                written.hash,
                missing.len()
            )))
        }
    }
    Ok(written.hash)
}

fn wait_for_mesh(members: &[Member], pods: &[String], nodes: usize) -> Result<(), DevnetError> {
    let started = Instant::now();
    for member in members {
        loop {
            let status: StatusView = member.daemon.api.get("/status")?;
            let pod = &pods[member.pod];
            let peers = status
                .pods
                .iter()
                .find(|p| &p.dna_hash == pod)
                .map_or(0, |p| p.peers);
            if peers + 1 >= nodes {
                break;
            }
            if started.elapsed() > MESH_TIMEOUT {
                return Err(DevnetError::Timeout(format!(
                    "the members of pod {pod} to find each other"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

/// A story whose author affirms `principles` (the pod's required ones) and consents to
/// the sharing its visibility needs, each stated explicitly: the daemon fills in nothing.
fn story(title: String, visibility: &str, principles: &[String]) -> PublishRequest {
    let consent = if visibility == "public" {
        ConsentBody::public()
    } else {
        ConsentBody::community()
    };
    let principles: Vec<&str> = principles.iter().map(String::as_str).collect();
    PublishRequest::story(
        title,
        "told by the river, written down with consent",
        visibility,
        &principles,
        consent,
    )
}

fn profile(username: &str, public: bool) -> ProfileRequestBody {
    ProfileRequestBody {
        username: username.into(),
        display_name: format!("{username} (devnet)"),
        bio: "a devnet member".into(),
        profile_public: public,
        visibility: None,
    }
}

/// Plays every scenario, filling in `report`.
pub fn play(
    members: &mut [Member],
    options: &Options,
    report: &mut Report,
) -> Result<(), DevnetError> {
    let run_seed = format!("devnet-{}", std::process::id());
    let mut pod_ids = Vec::new();
    let mut pod_principles: Vec<Vec<String>> = Vec::new();
    for pod in 0..options.pods {
        let who = members_of(members, pod);
        let keys: Vec<_> = who.iter().map(|i| members[*i].daemon.key_hash).collect();
        let (_, template) = TEMPLATES[pod % TEMPLATES.len()];
        let founders = admission::founders(template, &keys)?;
        let manifest = dna_with_founders(template, &founders, &format!("{run_seed}-{pod}"));
        pod_principles.push(
            myco_zomes::load_dna(&manifest)
                .map(|d| d.properties.required_principles)
                .unwrap_or_default(),
        );
        let (pod_id, admitted) = admission::bring_in(members, &who, &manifest)?;
        report.admitted += admitted;
        report
            .happened
            .push(founding(&manifest, &who, founders.len(), admitted));
        pod_ids.push(pod_id);
    }
    report.idle_rss_kib_max = members
        .iter()
        .filter_map(|m| m.daemon.process.rss_kib())
        .max()
        .unwrap_or(0);
    wait_for_mesh(members, &pod_ids, options.nodes)?;
    let mut samples = Vec::new();
    let mut private_stories = Vec::new();
    for (pod, id) in pod_ids.iter().enumerate() {
        let who = members_of(members, pod);
        let id = id.clone();
        // Profiles: the first member's is public, the second's stays in the pod.
        for (n, &i) in who.iter().enumerate() {
            let body = profile(&format!("p{pod}n{n}"), n == 0);
            write_and_measure(members, i, &id, "profile", &body, report, &mut samples)?;
        }
        // A profile that claims to be Public without profile_public is refused.
        let bad = ProfileRequestBody {
            visibility: Some("public".into()),
            ..profile("bad", false)
        };
        expect_refused(
            members,
            who[0],
            &format!("/pods/{id}/profile"),
            &bad,
            "Public profile without profile_public",
            report,
        );
        // Stories, each affirming the pod's principles; one that leaves them out is refused.
        let principles = &pod_principles[pod];
        if let Some(required) = principles.first() {
            expect_refused(
                members,
                who[0],
                &format!("/pods/{id}/content"),
                &story(format!("unaffirmed story of pod {pod}"), "pod", &[]),
                &format!("story that does not affirm the principle `{required}`"),
                report,
            );
        }
        for (n, &i) in who.iter().enumerate() {
            for s in 0..options.stories_per_node {
                let body = story(format!("story {s} of p{pod}n{n}"), "public", principles);
                write_and_measure(members, i, &id, "content", &body, report, &mut samples)?;
            }
        }
        let hidden = write_and_measure(
            members,
            who[0],
            &id,
            "content",
            &story(format!("pod-only story of pod {pod}"), "pod", principles),
            report,
            &mut samples,
        )?;
        private_stories.push((pod, hidden));
        // A vote: every member says yes, the proposer records the decision.
        let proposal = ProposeRequest {
            kind: "approve_backup_schedule".into(),
            member: None,
            role: None,
            detail: Some("daily at 03:00".into()),
            text: "back up the pod every night".into(),
            ..ProposeRequest::default()
        };
        let proposal = write_and_measure(
            members,
            who[0],
            &id,
            "proposals",
            &proposal,
            report,
            &mut samples,
        )?;
        for &i in &who {
            let vote = VoteRequest {
                proposal: proposal.clone(),
                choice: "yes".into(),
            };
            write_and_measure(members, i, &id, "votes", &vote, report, &mut samples)?;
        }
        let again = VoteRequest {
            proposal: proposal.clone(),
            choice: "no".into(),
        };
        expect_refused(
            members,
            who[0],
            &format!("/pods/{id}/votes"),
            &again,
            "second vote on one proposal",
            report,
        );
        write_and_measure(
            members,
            who[0],
            &id,
            "decisions",
            &DecideRequest { proposal },
            report,
            &mut samples,
        )?;
        report.decisions += 1;
    }
    report.propagation_ms = Percentiles::of(samples);
    report.baseline_poll_ms = poll_baseline(members, &private_stories)?;
    report.p99_over_baseline =
        (report.propagation_ms.p99 / report.baseline_poll_ms.p50.max(0.001) * 10.0).round() / 10.0;
    lookups(members, options, &pod_ids, report)?;
    privacy_and_deletion(members, options, &pod_ids, &private_stories, report)
}

/// Polls made for the baseline.
const BASELINE_POLLS: usize = 50;

/// The floor of the propagation figure, same run: one `GET /records` round trip to a member's
/// API for a record it already holds, which is what every propagation sample waits on.
fn poll_baseline(
    members: &[Member],
    stories: &[(usize, String)],
) -> Result<Percentiles, DevnetError> {
    let (Some(member), Some((_, hash))) = (members.first(), stories.first()) else {
        return Ok(Percentiles::default());
    };
    let mut samples = Vec::with_capacity(BASELINE_POLLS);
    for _ in 0..BASELINE_POLLS {
        let started = Instant::now();
        stored(&member.daemon.api, hash)?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Percentiles::of(samples))
}

/// Each pod's members are looked up from another pod (or from within, with one pod).
fn lookups(
    members: &[Member],
    options: &Options,
    pod_ids: &[String],
    report: &mut Report,
) -> Result<(), DevnetError> {
    for (pod, pod_id) in pod_ids.iter().enumerate() {
        let who = members_of(members, pod);
        let asker = members_of(members, (pod + 1) % options.pods)
            .last()
            .copied()
            .unwrap_or(who[0]);
        for (n, &target) in who.iter().enumerate().take(2) {
            let key = members[target].daemon.key_hash;
            let expected_public = n == 0;
            let view = lookup_until_settled(
                &members[asker].daemon.api,
                &key.to_string(),
                expected_public,
            )?;
            let right_pods = view.pods.len() == 1 && &view.pods[0].dna_hash == pod_id;
            if !expected_public && view.profile.is_some() {
                report.leaks += 1;
            }
            let ok = view.found
                && right_pods
                && if expected_public {
                    view.profile_status == "public"
                } else {
                    view.profile_status == "not_found_or_not_public"
                };
            if ok {
                report.lookups.ok += 1;
                if !expected_public {
                    report.refused_as_expected += 1;
                }
            } else {
                tracing::warn!(?view, "lookup did not answer as expected");
                report.lookups.failed += 1;
            }
        }
    }
    Ok(())
}

/// Looks up a key, retrying while the registry and the providers have not caught up: a
/// public profile may not have reached the pod's other members yet, so a member expected to
/// be public is asked again until it is (or time runs out).
fn lookup_until_settled(
    api: &ApiClient,
    key: &str,
    expect_public: bool,
) -> Result<LookupView, DevnetError> {
    let started = Instant::now();
    loop {
        let view: LookupView = api.get(&format!("/lookup/{key}"))?;
        let settled = view.found
            && view.profile_status != "unreachable"
            && (!expect_public || view.profile_status == "public");
        if settled || started.elapsed() > PROPAGATION_TIMEOUT {
            return Ok(view);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Pod-only stories never reach other pods; deleted ones are purged from every member.
fn privacy_and_deletion(
    members: &[Member],
    options: &Options,
    pod_ids: &[String],
    hidden: &[(usize, String)],
    report: &mut Report,
) -> Result<(), DevnetError> {
    for (pod, hash) in hidden {
        for (i, member) in members.iter().enumerate() {
            if member.pod != *pod && stored(&member.daemon.api, hash)?.stored {
                tracing::warn!(member = i, %hash, "a non-member holds a pod record");
                report.leaks += 1;
            }
        }
        let who = members_of(members, *pod);
        let started = Instant::now();
        let _: Written = members[who[0]].daemon.api.post(
            &format!("/pods/{}/delete", pod_ids[*pod]),
            &DeleteRequest {
                target: hash.clone(),
            },
        )?;
        report.records += 1;
        if let Err(still) = wait_all(members, &who, hash, started, |r| !r.entry)? {
            tracing::warn!(%hash, holders = still.len(), "deleted entry not purged everywhere");
            report.leaks += still.len();
        }
    }
    let _ = options;
    Ok(())
}
