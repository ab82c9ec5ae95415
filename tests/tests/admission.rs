//! Admission by invitation between real daemons: a steward signs an invitation through the
//! API (`myco pod invite`), the invitee joins with it, is taken in by the pod and votes on the
//! next proposal, and never hands its Genesis — with the invitation in it — to a node that
//! only claims to be a member. Every process is stopped when its handle drops.
#![cfg(unix)]

use libp2p::identity::Keypair;
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use myco_dna::{DnaHash, SigningKey};
use myco_node::api::client::ApiClient;
use myco_node::api::types::{
    InvitationView, InviteRequest, JoinRequest, PodSummary, ProposeRequest, VoteRequest, Written,
};
use myco_node::devnet::{dna_with_founders, TEMPLATES};
use myco_node::engine::{SyncRequest, SyncResponse, MAX_SYNC_BYTES};
use myco_tests::loopback::{
    found_pod, holds, peer_of, peers_in, publish_affirming, start_two_pods, wait_until, PATIENCE,
    PER_POD, STORYTELLING_PRINCIPLES,
};
use myco_tests::probe::{binding, connect, drive, probe, runtime, ProbeEvent};

/// The daemon that founds the invitation-only pod, and the one it invites (a 7th daemon).
const STEWARD: usize = 0;
const INVITEE: usize = 2 * PER_POD;

fn invite(
    api: &ApiClient,
    pod: &str,
    invitee: &myco_dna::KeyHash,
) -> Result<InvitationView, String> {
    api.post(
        &format!("/pods/{pod}/invitations"),
        &InviteRequest {
            invitee: invitee.to_string(),
            days: None,
            grant: None,
        },
    )
    .map_err(|e| e.to_string())
}

#[test]
fn an_invited_agent_joins_and_never_shows_its_invitation_to_a_node_that_only_claims_membership() {
    let (mut net, open_pods) = start_two_pods("admission");
    let invitee = net.start_daemon(INVITEE);
    net.daemons.push(invitee);
    let steward_key = net.daemons[STEWARD].key_hash;
    let invitee_key = net.daemons[INVITEE].key_hash;

    // An invitation-only pod, founded by the steward alone.
    let manifest = dna_with_founders(TEMPLATES[1].1, &[steward_key], "admission");
    let pod_text = found_pod(&net.daemons[STEWARD].api, &manifest);
    let pod: DnaHash = pod_text.parse().expect("pod id");

    // Only a steward of a pod that admits by invitation may sign one.
    let refused = invite(&net.daemons[1].api, &open_pods[0], &invitee_key)
        .expect_err("an open pod takes no invitations");
    assert!(refused.contains("not by invitation"), "{refused}");
    let invitation =
        invite(&net.daemons[STEWARD].api, &pod_text, &invitee_key).expect("the steward invites");
    assert_eq!(invitation.invitee, invitee_key.to_string());

    // The invitee's node meets a stranger on the pod's topic before anyone else: the
    // stranger answers every request "you are not a member" with its own valid binding, as a
    // member would, hoping to be handed the invitee's Genesis.
    let stranger = SigningKey::from_bytes(&[0x5e; 32]);
    let key = Keypair::generate_ed25519();
    let me = key.public().to_peer_id();
    let claim = binding(&stranger, &me, pod);
    let rt = runtime();
    let mut swarm = rt.block_on(async { probe(&key, MAX_SYNC_BYTES) });
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&myco_node::net::topic(&pod))
        .expect("subscribe");
    let invitee_address = net.daemon_address(INVITEE);
    rt.block_on(connect(
        &mut swarm,
        std::slice::from_ref(&invitee_address),
        None,
    ));

    let joined: PodSummary = net.daemons[INVITEE]
        .api
        .post(
            "/pods/join",
            &JoinRequest {
                manifest: manifest.clone(),
                membrane_proof_hex: invitation.membrane_proof_hex.clone(),
                archivist: false,
            },
        )
        .expect("the invitee joins with its invitation");
    assert_eq!(joined.dna_hash, pod_text);

    let invitee_peer = peer_of(&invitee_address);
    let (mut claims, mut pushes) = (0, 0);
    rt.block_on(drive(&mut swarm, PATIENCE, |swarm, event| {
        if let SwarmEvent::Behaviour(ProbeEvent::Sync(request_response::Event::Message {
            peer,
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        })) = event
        {
            if peer == invitee_peer {
                match SyncRequest::from_bytes(&request) {
                    Ok(SyncRequest::Push { .. }) => pushes += 1,
                    Ok(SyncRequest::Heights { .. }) => claims += 1,
                    _ => {}
                }
            }
            let answer = SyncResponse::NotAMember {
                binding: claim.clone(),
            };
            let _ = swarm
                .behaviour_mut()
                .sync
                .send_response(channel, answer.to_bytes());
        }
        // Several sync rounds' worth of claims, so a push would have had its chances.
        (claims >= 3).then_some(())
    }));
    assert!(
        claims >= 3,
        "the invitee never asked the stranger for heights ({claims} times), so its silence proves nothing"
    );
    assert_eq!(
        pushes, 0,
        "the invitee pushed its Genesis, invitation included, to a node that only claimed to be a member"
    );

    // The real steward takes the invitee in: what the invitee writes reaches the steward.
    wait_until("the invitee to meet the steward in the pod", || {
        peers_in(&net.daemons[INVITEE].api, &pod_text) >= 1
    });
    let story = publish_affirming(
        &net.daemons[INVITEE].api,
        &pod_text,
        "Invited",
        "a story by the invited member",
        "pod",
        STORYTELLING_PRINCIPLES,
    );
    wait_until("the steward to store the invitee's story", || {
        holds(&net.daemons[STEWARD].api, &story)
    });
    // The invitee is in the electorate of the steward's next proposal (the steward's node
    // cites a roster checkpoint that lists it), so its vote counts.
    let proposal: Written = net.daemons[STEWARD]
        .api
        .post(
            &format!("/pods/{pod_text}/proposals"),
            &ProposeRequest {
                kind: "approve_backup_schedule".into(),
                member: None,
                role: None,
                detail: Some("weekly, Sunday 03:00".into()),
                text: "back the circle up every week".into(),
                ..ProposeRequest::default()
            },
        )
        .expect("the steward proposes");
    wait_until("the invitee to hold the proposal", || {
        holds(&net.daemons[INVITEE].api, &proposal.hash)
    });
    let vote: Result<Written, _> = net.daemons[INVITEE].api.post(
        &format!("/pods/{pod_text}/votes"),
        &VoteRequest {
            proposal: proposal.hash.clone(),
            choice: "yes".into(),
        },
    );
    assert!(
        vote.is_ok(),
        "the admitted member's vote was refused: {:?}",
        vote.err()
    );

    // The invitation was for the invitee's key only: nobody else can join with it.
    let thief = net.daemons[1]
        .api
        .post::<_, PodSummary>(
            "/pods/join",
            &JoinRequest {
                manifest,
                membrane_proof_hex: invitation.membrane_proof_hex,
                archivist: false,
            },
        )
        .expect_err("another agent cannot join with someone else's invitation")
        .to_string();
    assert!(thief.contains("invitation"), "{thief}");
    // Its node says so when asked what it hosts: it follows the pod but has not joined it.
    let hosted: Vec<PodSummary> = net.daemons[1].api.get("/pods").expect("pods");
    let followed = hosted.iter().find(|p| p.dna_hash == pod_text);
    assert!(
        followed.is_some_and(|p| !p.joined),
        "a refused join shows as not joined: {hosted:?}"
    );
    let hosted: Vec<PodSummary> = net.daemons[INVITEE].api.get("/pods").expect("pods");
    assert!(hosted.iter().any(|p| p.dna_hash == pod_text && p.joined));

    drop(swarm);
    drop(rt);
}
