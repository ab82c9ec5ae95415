//! What the daemon asks of the engine to let people in and to fix who votes: a steward's
//! invitation (`myco pod invite`) and the electorate of a new proposal (`myco propose`).

mod common;

use common::*;
use myco_dna::{agent_key_of, Timestamp, Visibility};
use myco_node::engine::{Electorate, InviteError};
use myco_zomes::governance::{RoleProof, CHECKPOINT};

fn in_an_hour(net: &Net) -> Timestamp {
    Timestamp(net.now + 3600 * SECOND)
}

#[test]
fn a_founder_invites_and_the_pod_takes_the_invitee_in_but_nobody_else_may_invite() {
    let dna = example("storytelling.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(41, &[1, 5, 9]);
    net.join(1, &dna, vec![]);
    net.run_for(SECOND);
    let invitee = agent_key_of(&key(5)).key_hash();
    let steward = &net.nodes[net.index(1)].engine;
    assert_eq!(
        steward.invite(
            net.now,
            &pod,
            invitee,
            Timestamp(net.now),
            RoleProof::Founder
        ),
        Err(InviteError::Expired)
    );
    let proof = steward
        .invite(net.now, &pod, invitee, in_an_hour(&net), RoleProof::Founder)
        .expect("a founder is a steward and may invite");

    net.join(5, &dna, proof);
    net.connect(pod);
    net.run_for(5 * SECOND);
    assert!(net.refusals(1).is_empty(), "{:?}", net.refusals(1));
    assert_eq!(
        net.holdings(1, &pod).len(),
        2,
        "the founder holds its own Genesis and the invitee's"
    );

    // The invitee is a member, not a steward: it cannot invite anyone.
    let other = agent_key_of(&key(9)).key_hash();
    let refused = net.nodes[net.index(5)]
        .engine
        .invite(net.now, &pod, other, in_an_hour(&net), RoleProof::Founder)
        .expect_err("a member who is no founder cannot claim to be one");
    assert!(matches!(refused, InviteError::NotASteward(_)), "{refused}");

    // A pod that lets anyone in takes no invitations.
    let open = example("territory-dk.toml");
    net.join(1, &open, vec![]);
    let refused = net.nodes[net.index(1)]
        .engine
        .invite(
            net.now,
            &open.dna_hash(),
            other,
            in_an_hour(&net),
            RoleProof::Founder,
        )
        .expect_err("an open pod takes no invitations");
    assert!(
        matches!(refused, InviteError::NotByInvitation { .. }),
        "{refused}"
    );
}

#[test]
fn a_proposal_is_voted_by_the_founders_until_someone_joins_then_by_a_checkpoint_listing_them() {
    let dna = example("storytelling.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(43, &[1, 5]);
    net.join(1, &dna, vec![]);
    net.run_for(SECOND);
    assert_eq!(
        net.nodes[net.index(1)].engine.electorate(&pod),
        Ok(Electorate::Founders)
    );

    let invitee = agent_key_of(&key(5)).key_hash();
    let proof = net.nodes[net.index(1)]
        .engine
        .invite(net.now, &pod, invitee, in_an_hour(&net), RoleProof::Founder)
        .expect("invitation");
    net.join(5, &dna, proof);
    net.connect(pod);
    net.run_for(5 * SECOND);
    let Ok(Electorate::NewCheckpoint(checkpoint)) = net.nodes[net.index(1)].engine.electorate(&pod)
    else {
        panic!("a joined member calls for a checkpoint that lists it");
    };
    assert!(checkpoint.members.contains(&invitee));
    assert!(
        !checkpoint.stewards.contains(&invitee),
        "an invitee is a member, not a steward"
    );
    assert_eq!(checkpoint.prev, None);

    // Once the checkpoint is written, the next proposal cites it instead of writing another.
    net.create(
        1,
        pod,
        "governance",
        CHECKPOINT,
        Visibility::Pod,
        &checkpoint,
    );
    net.run_for(SECOND);
    assert!(net.refusals(1).is_empty(), "{:?}", net.refusals(1));
    assert!(matches!(
        net.nodes[net.index(1)].engine.electorate(&pod),
        Ok(Electorate::Checkpoint(_))
    ));
}
