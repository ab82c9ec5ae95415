//! Several engines driven through an in-memory network that loses, duplicates and reorders
//! messages under a seed: convergence, catch-up, privacy, bad authors, purges.

mod common;

use common::*;
use myco_dna::{ChainAuthor, Timestamp, Visibility};
use myco_node::engine::{Engine, Input, Output, SyncRequest, Timer};
use myco_node::store::{ChainId, Store};

/// Every listed node holds the same records of the pod, with the same entries.
fn assert_converged(net: &Net, pod: &myco_dna::DnaHash, seeds: &[u8]) {
    let reference = net.holdings(seeds[0], pod);
    for seed in &seeds[1..] {
        let other = net.holdings(*seed, pod);
        assert_eq!(
            other.len(),
            reference.len(),
            "node {seed} holds {} records, node {} holds {}",
            other.len(),
            seeds[0],
            reference.len()
        );
        assert_eq!(
            &other, &reference,
            "node {seed} differs from node {}",
            seeds[0]
        );
    }
}

#[test]
fn honest_members_converge_despite_loss_duplication_and_reordering() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let seeds = [1u8, 2, 3, 4, 5, 6];
    let mut net = Net::new(7, &seeds);
    net.loss_pm = 100;
    net.dup_pm = 50;
    net.jitter = 80_000;
    net.join_all(&seeds, &dna);
    net.run_for(3 * SECOND);
    for round in 0..10 {
        for seed in seeds {
            let visibility = if (round + seed as usize).is_multiple_of(2) {
                Visibility::Public
            } else {
                Visibility::Pod
            };
            net.create(
                seed,
                pod,
                "content",
                "content",
                visibility,
                &story(&dna, &format!("story {seed}/{round}"), seed),
            );
        }
        net.run_for(SECOND / 2);
    }
    net.run_for(60 * SECOND);
    for seed in seeds {
        assert!(net.refusals(seed).is_empty(), "{:?}", net.refusals(seed));
    }
    assert_converged(&net, &pod, &seeds);
    assert_eq!(
        net.holdings(1, &pod).len(),
        6 * 11,
        "6 geneses and 60 stories"
    );
}

#[test]
fn a_late_joiner_gets_everything_it_may_see() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(11, &[1, 2, 3, 4]);
    net.join_all(&[1, 2, 3], &dna);
    for i in 0..50 {
        for seed in [1u8, 2, 3] {
            net.create(
                seed,
                pod,
                "content",
                "content",
                Visibility::Pod,
                &story(&dna, &format!("early {seed}/{i}"), seed),
            );
        }
        // A private profile: the action is shared, never the entry.
        if i == 0 {
            let profile = myco_zomes::membership::Profile {
                username: "u".into(),
                display_name: "U".into(),
                bio: String::new(),
                avatar: None,
                profile_public: false,
                contact: Some(myco_zomes::membership::Contact {
                    email: Some("private@example.dk".into()),
                    ..Default::default()
                }),
            };
            net.create(
                2,
                pod,
                "membership",
                "profile",
                Visibility::Private,
                &profile,
            );
        }
    }
    net.run_for(5 * SECOND);
    net.join(4, &dna, vec![]);
    net.connect(pod);
    net.run_for(30 * SECOND);
    let late = net.holdings(4, &pod);
    let early = net.holdings(1, &pod);
    assert_eq!(
        late.len(),
        early.len(),
        "the late joiner holds every record"
    );
    assert_eq!(late, early);
    let private_entries = net.nodes[net.index(4)]
        .engine
        .store()
        .records()
        .filter(|r| {
            r.action()
                .body
                .entry_ref()
                .is_some_and(|e| e.visibility == Visibility::Private)
                && r.entry.is_some()
        })
        .count();
    assert_eq!(
        private_entries, 0,
        "a private entry never leaves its author's node"
    );
}

#[test]
fn a_member_that_missed_many_records_catches_up_by_sync_alone() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(5, &[1, 2, 3]);
    net.gossip = false;
    net.join_all(&[1, 2, 3], &dna);
    net.run_for(2 * SECOND);
    let away = net.index(3);
    net.nodes[away].online = false;
    for i in 0..300 {
        for seed in [1u8, 2] {
            net.create(
                seed,
                pod,
                "content",
                "content",
                Visibility::Pod,
                &story(&dna, &format!("while away {seed}/{i}"), seed),
            );
        }
    }
    net.run_for(5 * SECOND);
    assert!(
        net.holdings(3, &pod).len() < 10,
        "the absent member missed the records"
    );
    net.nodes[away].online = true;
    net.run_for(60 * SECOND);
    assert_converged(&net, &pod, &[1, 2, 3]);
    assert_eq!(net.holdings(3, &pod).len(), 603);
}

#[test]
fn a_non_member_receives_no_bytes_of_pod_or_private_entries() {
    let dna = example("storytelling.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(3, &[1, 5, 9]);
    net.join(1, &dna, vec![]);
    let invitation = myco_zomes::membership::sign_invitation(
        &key(1),
        myco_zomes::membership::InvitationTerms {
            pod,
            invitee: myco_dna::agent_key_of(&key(5)).key_hash(),
            expires: Timestamp(T0 + 3600 * SECOND),
        },
        myco_zomes::governance::RoleProof::Founder,
    );
    net.join(
        5,
        &dna,
        myco_zomes::membership::encode_membrane_proof(
            &myco_zomes::membership::MembraneProof::Invite(invitation),
        ),
    );
    // Node 9 has no invitation: its Genesis is refused by the members, but it listens to the
    // pod's topic and asks for sync all the same.
    net.join(9, &dna, vec![]);
    net.connect(pod);
    net.run_for(3 * SECOND);
    for i in 0..20 {
        net.create(
            1,
            pod,
            "content",
            "content",
            Visibility::Pod,
            &story(&dna, &format!("SECRET-POD-{i}"), 1),
        );
        net.create(
            5,
            pod,
            "content",
            "content",
            Visibility::Public,
            &story(&dna, &format!("OPEN-STORY-{i}"), 5),
        );
        let mut private = story(&dna, &format!("SECRET-PRIVATE-{i}"), 5);
        private.consent = Default::default();
        net.create(5, pod, "content", "content", Visibility::Private, &private);
    }
    net.run_for(30 * SECOND);
    // The members converged; the outsider was refused.
    assert_converged(&net, &pod, &[1, 5]);
    assert!(net.holdings(1, &pod).len() >= 62);
    let outsider = &net.nodes[net.index(9)];
    let received: Vec<u8> = outsider.received.concat();
    assert!(
        contains(&received, b"OPEN-STORY-3"),
        "the outsider did get public gossip, so the scan can see bytes"
    );
    assert!(
        !contains(&received, b"SECRET-POD"),
        "a pod entry reached a non-member"
    );
    assert!(
        !contains(&received, b"SECRET-PRIVATE"),
        "a private entry reached a non-member"
    );
    let stored = outsider
        .engine
        .store()
        .records()
        .filter_map(|r| r.entry.as_ref())
        .any(|e| contains(&e.0, b"SECRET"));
    assert!(!stored);
}

#[test]
fn forgers_forkers_and_rule_breakers_are_refused_everywhere_and_warranted() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let honest = [1u8, 2, 3];
    let mut net = Net::new(9, &honest);
    net.join_all(&honest, &dna);
    net.run_for(3 * SECOND);
    // The bad actors join the open pod from outside the test network, pushing records to
    // whichever honest node they like.
    let push = |net: &mut Net, to: u8, records: &[myco_dna::Record]| {
        let bytes = SyncRequest::Push {
            pod,
            records: records
                .iter()
                .map(|r| serde_bytes::ByteBuf::from(r.to_bytes()))
                .collect(),
        }
        .to_bytes();
        let i = net.index(to);
        net.input(
            i,
            Input::Request {
                from: myco_node::engine::PeerId(vec![0xbb]),
                request_id: 1,
                bytes,
            },
        );
    };
    let t = |s: u64| Timestamp(T0 + 4 * SECOND + s);
    let story_entry = |text: &str| myco_zomes::codec::encode(&story(&dna, text, 0));
    let (mut forker, mut breaker, mut forger) = (
        ChainAuthor::new(key(7), pod),
        ChainAuthor::new(key(8), pod),
        ChainAuthor::new(key(6), pod),
    );
    let forker_genesis = forker.genesis(t(0), vec![]);
    let breaker_genesis = breaker.genesis(t(0), vec![]);
    let forger_genesis = forger.genesis(t(0), vec![]);
    for seed in honest {
        push(
            &mut net,
            seed,
            &[
                forker_genesis.clone(),
                breaker_genesis.clone(),
                forger_genesis.clone(),
            ],
        );
    }
    // Forker: two different records at seq 1, shown to different members.
    let mut other_branch = ChainAuthor::resume(key(7), &forker_genesis.signed);
    let fork_a = forker.create(
        t(1),
        "content",
        "content",
        Visibility::Pod,
        story_entry("version A"),
    );
    let fork_b = other_branch.create(
        t(1),
        "content",
        "content",
        Visibility::Pod,
        story_entry("version B"),
    );
    push(&mut net, 1, &[fork_a]);
    push(&mut net, 2, &[fork_b]);
    // Rule-breaker: contact data in a Pod profile, properly signed.
    let profile = myco_zomes::membership::Profile {
        username: "x".into(),
        display_name: "X".into(),
        bio: String::new(),
        avatar: None,
        profile_public: false,
        contact: Some(myco_zomes::membership::Contact {
            phone: Some("+45 0000".into()),
            ..Default::default()
        }),
    };
    let bad_rule = breaker.create(
        t(2),
        "membership",
        "profile",
        Visibility::Pod,
        myco_zomes::codec::encode(&profile),
    );
    push(&mut net, 3, std::slice::from_ref(&bad_rule));
    // Forger: signs a record whose entry does not match the hash it claims.
    let mut forged = forger.create(
        t(3),
        "content",
        "content",
        Visibility::Pod,
        story_entry("claimed"),
    );
    forged.entry = Some(story_entry("swapped in"));
    push(&mut net, 1, std::slice::from_ref(&forged));
    // Tamperer: changes an honest member's record in flight; the signature no longer matches.
    let head = net.nodes[net.index(2)]
        .engine
        .store()
        .records()
        .filter(|r| r.action().author == myco_dna::agent_key_of(&key(2)))
        .max_by_key(|r| r.action().seq)
        .cloned()
        .expect("chain");
    let mut tampered = ChainAuthor::resume(key(2), &head.signed).create(
        t(4),
        "content",
        "content",
        Visibility::Pod,
        story_entry("real"),
    );
    tampered.signed.action.timestamp = t(5);
    tampered.signed.hash = tampered.signed.action.hash();
    push(&mut net, 3, std::slice::from_ref(&tampered));
    net.run_for(30 * SECOND);
    let kh = |seed: u8| myco_dna::agent_key_of(&key(seed)).key_hash();
    for seed in honest {
        let held = net.holdings(seed, &pod);
        assert!(
            !held.contains_key(&bad_rule.hash()),
            "node {seed} accepted the rule-breaking record"
        );
        assert!(
            !held.contains_key(&forged.hash()),
            "node {seed} accepted the forged record"
        );
        assert!(
            !held.contains_key(&tampered.hash()),
            "node {seed} accepted the tampered record"
        );
    }
    // The fork is discovered through sync, so every honest node warrants the forker.
    for seed in honest {
        assert!(
            net.warranted(seed).contains(&kh(7)),
            "node {seed} did not warrant the forker: {:?}",
            net.warranted(seed)
        );
    }
    // Warrants pass from member to member: every honest node blocks every bad author.
    for seed in honest {
        assert!(
            net.warranted(seed).contains(&kh(8)),
            "node {seed} did not warrant the rule-breaker"
        );
        assert!(
            net.warranted(seed).contains(&kh(6)),
            "node {seed} did not warrant the forger"
        );
    }
    // A tampered record proves nothing against the member it names.
    for seed in honest {
        assert!(
            !net.warranted(seed).contains(&kh(2)),
            "node {seed} warranted the tampering's victim"
        );
    }
    // After a restart the warranted authors are still blocked: a new, valid record of the
    // forker is not taken.
    let mut restarted = Engine::new(
        test_config(),
        key(1),
        net.nodes[net.index(1)].peer.clone(),
        None,
        net.nodes[net.index(1)].engine.store().clone(),
    );
    restarted.resume_pod(dna.clone()).unwrap();
    let mut kept: Vec<_> = restarted
        .store()
        .warrants(&pod)
        .unwrap()
        .iter()
        .map(|w| w.offender().key_hash())
        .collect();
    kept.sort();
    let mut expected = vec![kh(6), kh(7), kh(8)];
    expected.sort();
    assert_eq!(kept, expected, "the warrants are kept in the store");
    let later = forker.create(
        t(10),
        "content",
        "content",
        Visibility::Pod,
        story_entry("after the restart"),
    );
    let outputs = restarted.handle(
        net.now,
        Input::Request {
            from: myco_node::engine::PeerId(vec![0xbb]),
            request_id: 9,
            bytes: SyncRequest::Push {
                pod,
                records: vec![serde_bytes::ByteBuf::from(later.to_bytes())],
            }
            .to_bytes(),
        },
    );
    assert!(
        outputs.iter().any(|o| matches!(
            o,
            Output::Event(myco_node::engine::Event::Rejected { reason, .. }) if reason.contains("blocked")
        )),
        "the forker's record was not refused as blocked after the restart: {outputs:?}"
    );
    assert!(Store::get(restarted.store(), &later.hash())
        .unwrap()
        .is_none());
}

#[test]
fn after_a_delete_no_store_holds_the_entry_bytes() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(21, &[1, 2, 3, 4]);
    net.join_all(&[1, 2, 3, 4], &dna);
    net.run_for(2 * SECOND);
    net.create(
        2,
        pod,
        "content",
        "content",
        Visibility::Public,
        &story(&dna, "TO-BE-DELETED", 2),
    );
    net.run_for(10 * SECOND);
    let target = net.written(2, b"TO-BE-DELETED");
    net.assert_entry_held(&[1, 3, 4], &pod, &target, true, "the entry came first");
    net.delete(2, pod, target);
    net.run_for(20 * SECOND);
    for (n, node) in net.nodes.iter().enumerate() {
        let leaked = net.holds_bytes(n, b"TO-BE-DELETED");
        assert!(!leaked, "node {} still holds deleted bytes", node.seed);
        assert_eq!(
            node.engine
                .store()
                .records()
                .filter(|r| r.hash() == target)
                .count(),
            1,
            "the signed action stays"
        );
    }
}

#[test]
fn after_consent_is_revoked_nodes_outside_the_new_scope_hold_none() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(23, &[1, 2, 3]);
    net.join_all(&[1, 2, 3], &dna);
    net.run_for(2 * SECOND);
    let content = story(&dna, "REVOKED-LATER", 3);
    net.create(3, pod, "content", "content", Visibility::Pod, &content);
    net.run_for(10 * SECOND);
    let original = net.nodes[net.index(3)]
        .engine
        .store()
        .records()
        .find(|r| {
            r.entry
                .as_ref()
                .is_some_and(|e| contains(&e.0, b"REVOKED-LATER"))
        })
        .expect("written")
        .hash();
    let mut withdrawn = content.clone();
    withdrawn.consent = Default::default();
    net.update(3, pod, original, Visibility::Private, &withdrawn);
    net.run_for(20 * SECOND);
    for seed in [1u8, 2] {
        let node = &net.nodes[net.index(seed)];
        let held = node
            .engine
            .store()
            .records()
            .filter_map(|r| r.entry.as_ref())
            .any(|e| contains(&e.0, b"REVOKED-LATER"));
        assert!(!held, "node {seed} still holds the revoked entry");
    }
    let author = &net.nodes[net.index(3)];
    assert!(
        author
            .engine
            .store()
            .records()
            .filter_map(|r| r.entry.as_ref())
            .any(|e| contains(&e.0, b"REVOKED-LATER")),
        "the author keeps their own story"
    );
}

#[test]
fn a_session_binding_with_altered_terms_is_refused_even_after_the_genuine_one_was_seen() {
    use myco_node::engine::{BindingTerms, Output, SessionBinding, SyncResponse};
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(31, &[1, 2]);
    net.join_all(&[1, 2], &dna);
    net.run_for(3 * SECOND);
    let genuine = SessionBinding::sign(
        &key(2),
        BindingTerms {
            agent: myco_dna::agent_key_of(&key(2)),
            peer: net.nodes[1].peer.0.clone(),
            pod,
            region: Some("EU".into()),
            expires: Timestamp(net.now + 60 * SECOND),
        },
    );
    let mut stolen = genuine.clone();
    stolen.terms.peer = vec![0xee];
    let ask = |net: &mut Net, from: Vec<u8>, binding: SessionBinding| -> SyncResponse {
        let bytes = SyncRequest::Heights {
            pod,
            binding,
            after: None,
        }
        .to_bytes();
        let outputs = net.nodes[0].engine.handle(
            net.now,
            Input::Request {
                from: myco_node::engine::PeerId(from),
                request_id: 7,
                bytes,
            },
        );
        outputs
            .into_iter()
            .find_map(|o| match o {
                Output::Respond { response, .. } => Some(response),
                _ => None,
            })
            .expect("an answer")
    };
    let peer2 = net.nodes[1].peer.0.clone();
    assert!(matches!(
        ask(&mut net, peer2, genuine),
        SyncResponse::Heights { .. }
    ));
    assert!(
        matches!(
            ask(&mut net, vec![0xee], stolen),
            SyncResponse::Refused { .. }
        ),
        "a reused signature over altered terms must not pass"
    );
}

#[test]
fn large_records_cut_at_the_response_byte_bound_are_fetched_without_waiting_for_a_round() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(6, &[1, 2]);
    net.gossip = false;
    net.join(1, &dna, vec![]);
    // 40 KiB stories: a response holds ~25 of them before the 1 MiB bound, far below the 256
    // records a range asks for, so the chain comes in eight responses.
    let filler = "x".repeat(40 * 1024);
    for i in 0..200 {
        let mut content = story(&dna, &format!("large {i}"), 1);
        content.body = format!("{i} {filler}");
        net.create(1, pod, "content", "content", Visibility::Pod, &content);
    }
    net.join(2, &dna, vec![]);
    net.connect(pod);
    // Meeting starts a round at once; the rest must follow response after response, not one
    // response per sync round (200 ms here, so eight rounds would take 1.6 s).
    net.run_for(SECOND);
    assert_converged(&net, &pod, &[1, 2]);
}

/// The storytelling DNA with open admission, so the test needs no invitations: founders
/// (seeds 1 and 2) are its stewards, and `sacred` stories wait for a steward's approval.
fn storytelling_open() -> myco_dna::DnaManifest {
    let path = format!(
        "{}/../dna/examples/storytelling.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let toml = std::fs::read_to_string(path).expect("example exists");
    let toml = toml.replace("admission = \"invite\"", "admission = \"open\"");
    myco_zomes::load_dna(&toml).expect("valid")
}

fn approve(net: &mut Net, steward: u8, pod: myco_dna::DnaHash, content: myco_dna::ActionHash) {
    net.create(
        steward,
        pod,
        "content",
        "approval",
        Visibility::Pod,
        &myco_zomes::content::Approval {
            content,
            protocol: "sacred".into(),
            role: myco_zomes::governance::RoleProof::Founder,
        },
    );
}

#[test]
fn members_who_synced_a_story_before_its_approval_receive_its_entry_after_it() {
    let dna = storytelling_open();
    let pod = dna.dna_hash();
    let mut net = Net::new(31, &[1, 3, 4, 5]);
    net.loss_pm = 50;
    net.join_all(&[1, 3, 4, 5], &dna);
    net.run_for(2 * SECOND);
    let mut sacred = story(&dna, "SACRED-STORY", 3);
    sacred.protocols = vec!["sacred".into()];
    sacred.consent.public_sharing = false;
    net.create(3, pod, "content", "content", Visibility::Pod, &sacred);
    let mut doomed = story(&dna, "SACRED-DELETED", 3);
    doomed.protocols = vec!["sacred".into()];
    doomed.consent.public_sharing = false;
    net.create(3, pod, "content", "content", Visibility::Pod, &doomed);
    net.run_for(10 * SECOND);
    assert!(net.refusals(3).is_empty(), "{:?}", net.refusals(3));
    let story_hash = net.written(3, b"SACRED-STORY");
    let doomed_hash = net.written(3, b"SACRED-DELETED");
    net.assert_entry_held(
        &[1, 4, 5],
        &pod,
        &story_hash,
        false,
        "the story's action only, before approval",
    );
    // The author deletes one story; a steward approves both afterwards.
    net.delete(3, pod, doomed_hash);
    net.run_for(5 * SECOND);
    let before_approval = net.nodes[net.index(4)].engine.store().clone();
    approve(&mut net, 1, pod, story_hash);
    approve(&mut net, 1, pod, doomed_hash);
    net.run_for(10 * SECOND);
    assert!(net.refusals(1).is_empty(), "{:?}", net.refusals(1));
    net.assert_entry_held(
        &[1, 4, 5],
        &pod,
        &story_hash,
        true,
        "the approved story's entry came",
    );
    for seed in [1, 4, 5] {
        let node = &net.nodes[net.index(seed)];
        assert!(
            node.events.iter().any(
                |e| matches!(e, myco_node::engine::Event::EntryFilled { hash, .. } if *hash == story_hash)
            ),
            "node {seed} reported the entry it received"
        );
    }
    for (n, node) in net.nodes.iter().enumerate() {
        let leaked = net.holds_bytes(n, b"SACRED-DELETED");
        assert!(!leaked, "node {} holds a deleted story", node.seed);
    }

    // A node that stored the approvals but stopped before the entries came asks for them
    // again when it resumes the pod.
    let mut store = before_approval;
    let steward = myco_dna::agent_key_of(&key(1));
    let chain = myco_node::store::ChainId {
        pod,
        author: steward,
    };
    let held = Store::head(&store, &chain)
        .unwrap()
        .expect("steward's chain")
        .seq;
    let mut approvals: Vec<myco_dna::Record> = net.nodes[net.index(1)]
        .engine
        .store()
        .records()
        .filter(|r| ChainId::of(r) == chain && r.action().seq > held)
        .cloned()
        .collect();
    approvals.sort_by_key(|r| r.action().seq);
    assert_eq!(
        approvals.len(),
        2,
        "the steward wrote the two approvals since"
    );
    let mut heads = myco_node::store::Heads::new();
    let head = Store::get_by_seq(&store, &chain, held)
        .unwrap()
        .expect("head record");
    heads.insert(chain, head.signed);
    let approvals = myco_node::store::ValidRecord::check_all(approvals, &mut heads).unwrap();
    store.append_batch(&approvals).unwrap();
    let mut resumed = Engine::new(
        test_config(),
        key(4),
        net.nodes[net.index(4)].peer.clone(),
        None,
        store,
    );
    resumed.resume_pod(dna.clone()).unwrap();
    let author_peer = net.nodes[net.index(3)].peer.clone();
    let mut outputs = resumed.handle(
        net.now,
        Input::PeerJoined {
            peer: author_peer,
            pod,
        },
    );
    outputs.extend(resumed.handle(net.now + SECOND, Input::Timer(Timer::Sync)));
    let asked: Vec<myco_dna::ActionHash> = outputs
        .into_iter()
        .filter_map(|o| match o {
            Output::Request {
                request: SyncRequest::Get { hashes, .. },
                ..
            } => Some(hashes),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        asked.contains(&story_hash),
        "the resumed node asks for the approved story's entry: {asked:?}"
    );
    assert!(
        !asked.contains(&doomed_hash),
        "but not for the deleted story's"
    );
}
