//! How each devnet pod gets its members, as its DNA's `admission` rule says: in an open pod
//! every member is a founder and creates it; in a pod that admits by invitation the first
//! member founds it alone and signs an invitation for each of the others
//! (`POST /pods/{pod}/invitations`); in a pod that admits by vote the founder proposes to
//! admit each of the others, votes, and records the decision, which each newcomer joins with.

use myco_dna::manifest::Admission;
use myco_dna::{ActionHash, KeyHash};
use myco_zomes::membership::{encode_membrane_proof, MembraneProof};

use std::time::{Duration, Instant};

use super::scenario::MESH_TIMEOUT;
use super::{DevnetError, Member};
use crate::api::client::ApiClient;
use crate::api::types::{
    DecideRequest, InvitationView, InviteRequest, JoinRequest, PodSummary, ProposeRequest,
    VoteRequest, Written,
};

/// Pause between polls of the members' pod state.
const POLL: Duration = Duration::from_millis(20);

/// The founders a pod of `template` gets from `who`: everyone in an open pod, the first
/// member otherwise (the others are admitted as the DNA says).
pub fn founders(template: &str, who: &[KeyHash]) -> Result<Vec<KeyHash>, DevnetError> {
    // The shipped templates are valid as they stand (their founders are example keys).
    let admission = myco_zomes::load_dna(template)
        .map_err(|e| DevnetError::Scenario(format!("a devnet template is invalid: {e}")))?
        .properties
        .admission;
    Ok(match admission {
        Admission::Open => who.to_vec(),
        Admission::Invite | Admission::Vote => who.iter().take(1).copied().collect(),
    })
}

/// Brings `who` (daemons of `members`) into the pod of `manifest`: founders create it, the
/// others join with the membrane proof the pod's admission rule asks for. Returns the pod's
/// id and how many members were admitted by invitation or by vote.
pub fn bring_in(
    members: &[Member],
    who: &[usize],
    manifest: &str,
) -> Result<(String, usize), DevnetError> {
    let dna = myco_zomes::load_dna(manifest)
        .map_err(|e| DevnetError::Scenario(format!("a devnet manifest is invalid: {e}")))?;
    let api = |i: usize| &members[i].daemon.api;
    let key = |i: usize| members[i].daemon.key_hash;
    let (founders, newcomers): (Vec<usize>, Vec<usize>) = who
        .iter()
        .partition(|&&i| dna.properties.founders.contains(&key(i)));
    let mut pod = String::new();
    for &i in &founders {
        pod = join(api(i), manifest, "", "/pods")?.dna_hash;
    }
    let steward = *founders
        .first()
        .ok_or_else(|| DevnetError::Scenario("a devnet pod has no founder".into()))?;
    let proofs: Vec<String> = match dna.properties.admission {
        Admission::Open => vec![String::new(); newcomers.len()],
        Admission::Invite => newcomers
            .iter()
            .map(|&i| invitation(api(steward), &pod, &key(i)))
            .collect::<Result<_, _>>()?,
        Admission::Vote => {
            // Every admission is proposed while the founder is the whole electorate.
            let proposals: Vec<String> = newcomers
                .iter()
                .map(|&i| propose_admit(api(steward), &pod, &key(i)))
                .collect::<Result<_, _>>()?;
            proposals
                .iter()
                .map(|proposal| admit_proof(api(steward), &pod, proposal))
                .collect::<Result<_, _>>()?
        }
    };
    for (&i, proof) in newcomers.iter().zip(&proofs) {
        join(api(i), manifest, proof, "/pods/join")?;
    }
    if !newcomers.is_empty() {
        wait_until_all_admitted(members, who, &pod)?;
    }
    let admitted = match dna.properties.admission {
        Admission::Open => 0,
        Admission::Invite | Admission::Vote => newcomers.len(),
    };
    Ok((pod, admitted))
}

/// Waits until every member of the pod holds every member's Genesis, so the scenarios measure
/// propagation in a pod whose members all know each other (a newcomer's Genesis reaches the
/// members it did not hand it to by their next sync round).
fn wait_until_all_admitted(
    members: &[Member],
    who: &[usize],
    pod: &str,
) -> Result<(), DevnetError> {
    let started = Instant::now();
    for &i in who {
        loop {
            let state: serde_json::Value =
                members[i].daemon.api.get(&format!("/pods/{pod}/state"))?;
            if state["state"]["figures"]["members"].as_u64() >= Some(who.len() as u64) {
                break;
            }
            if started.elapsed() > MESH_TIMEOUT {
                return Err(DevnetError::Timeout(format!(
                    "every member of pod {pod} to hold every other member's Genesis"
                )));
            }
            std::thread::sleep(POLL);
        }
    }
    Ok(())
}

fn join(
    api: &ApiClient,
    manifest: &str,
    proof: &str,
    path: &str,
) -> Result<PodSummary, DevnetError> {
    Ok(api.post(
        path,
        &JoinRequest {
            manifest: manifest.to_string(),
            membrane_proof_hex: proof.to_string(),
            archivist: false,
        },
    )?)
}

fn invitation(api: &ApiClient, pod: &str, invitee: &KeyHash) -> Result<String, DevnetError> {
    let invitation: InvitationView = api.post(
        &format!("/pods/{pod}/invitations"),
        &InviteRequest {
            invitee: invitee.to_string(),
            days: Some(1),
            grant: None,
        },
    )?;
    Ok(invitation.membrane_proof_hex)
}

fn propose_admit(api: &ApiClient, pod: &str, newcomer: &KeyHash) -> Result<String, DevnetError> {
    let written: Written = api.post(
        &format!("/pods/{pod}/proposals"),
        &ProposeRequest {
            kind: "admit".into(),
            member: Some(newcomer.to_string()),
            role: None,
            detail: None,
            text: format!("admit {newcomer}"),
            ..ProposeRequest::default()
        },
    )?;
    Ok(written.hash)
}

/// The founder votes yes on `proposal` and records the decision; returns the Admit proof.
fn admit_proof(api: &ApiClient, pod: &str, proposal: &str) -> Result<String, DevnetError> {
    let _: Written = api.post(
        &format!("/pods/{pod}/votes"),
        &VoteRequest {
            proposal: proposal.to_string(),
            choice: "yes".into(),
        },
    )?;
    let decision: Written = api.post(
        &format!("/pods/{pod}/decisions"),
        &DecideRequest {
            proposal: proposal.to_string(),
        },
    )?;
    let decision: ActionHash = decision.hash.parse().map_err(|_| {
        DevnetError::Scenario(format!(
            "the daemon named a decision {} that does not parse",
            decision.hash
        ))
    })?;
    Ok(hex::encode(encode_membrane_proof(&MembraneProof::Admit {
        decision,
    })))
}
