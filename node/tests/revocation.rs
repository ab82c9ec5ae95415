//! Revocation through the engines of a pod, on the in-memory network: a deletion purges every
//! version of a story and every response to it, a narrowing of consent purges the old
//! version everywhere but at its author (who stops serving it), and each member that erased
//! something answers with a signed receipt that reaches the author.

mod common;

use common::*;
use myco_dna::{ActionHash, Record, Visibility};
use myco_zomes::content::{Comment, Reaction, Receipt};

/// The receipts `holder` holds, by their author's seed.
fn receipts(net: &Net, holder: u8) -> Vec<(myco_dna::KeyHash, Receipt)> {
    net.nodes[net.index(holder)]
        .engine
        .store()
        .records()
        .filter(|r| myco_zomes::codec::is_entry(r, "content", "receipt"))
        .filter_map(|r: &Record| {
            let receipt = myco_zomes::codec::decode::<Receipt>(r, "receipt").ok()??;
            Some((r.action().author.key_hash(), receipt))
        })
        .collect()
}

fn seed_key(seed: u8) -> myco_dna::KeyHash {
    myco_dna::agent_key_of(&key(seed)).key_hash()
}

#[test]
fn a_deletion_erases_every_version_and_response_everywhere_and_each_member_sends_a_receipt() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(41, &[1, 2, 3]);
    net.join_all(&[1, 2, 3], &dna);
    net.run_for(2 * SECOND);
    net.create(
        2,
        pod,
        "content",
        "content",
        Visibility::Pod,
        &story(&dna, "FIRST-VERSION", 2),
    );
    net.run_for(5 * SECOND);
    let root = net.written(2, b"FIRST-VERSION");
    net.update(
        2,
        pod,
        root,
        Visibility::Pod,
        &story(&dna, "SECOND-VERSION", 2),
    );
    net.create(
        1,
        pod,
        "content",
        "comment",
        Visibility::Pod,
        &Comment {
            content: root,
            text: "A-COMMENT on it".into(),
        },
    );
    net.create(
        3,
        pod,
        "content",
        "reaction",
        Visibility::Pod,
        &Reaction {
            content: root,
            reaction: "REACTION-MARK".into(),
        },
    );
    net.run_for(10 * SECOND);
    let latest = net.written(2, b"SECOND-VERSION");
    net.assert_entry_held(&[1, 3], &pod, &latest, true, "the edit reached everyone");
    for n in 0..3 {
        assert!(net.holds_bytes(n, b"A-COMMENT"), "the comment came first");
    }

    net.delete(2, pod, latest);
    net.run_for(20 * SECOND);
    for (n, node) in net.nodes.iter().enumerate() {
        for marker in [
            &b"FIRST-VERSION"[..],
            b"SECOND-VERSION",
            b"A-COMMENT",
            b"REACTION-MARK",
        ] {
            assert!(
                !net.holds_bytes(n, marker),
                "node {} still holds {}",
                node.seed,
                String::from_utf8_lossy(marker)
            );
        }
    }
    let at_author = receipts(&net, 2);
    for member in [1u8, 3] {
        let theirs: Vec<&Receipt> = at_author
            .iter()
            .filter(|(author, _)| *author == seed_key(member))
            .map(|(_, r)| r)
            .collect();
        let erased: Vec<ActionHash> = theirs.iter().map(|r| r.record).collect();
        assert!(
            erased.contains(&root) && erased.contains(&latest),
            "member {member}'s receipts for both versions reached the author: {erased:?}"
        );
        assert!(theirs
            .iter()
            .all(|r| r.revocation != root && r.revocation != latest));
    }
    assert!(
        at_author.iter().all(|(author, _)| *author != seed_key(2)),
        "the author writes no receipt for its own deletion"
    );
}

#[test]
fn a_narrowed_consent_is_erased_everywhere_but_at_its_author_who_stops_serving_it() {
    let dna = example("territory-dk.toml");
    let pod = dna.dna_hash();
    let mut net = Net::new(43, &[1, 2, 3, 4]);
    net.join_all(&[1, 2, 3], &dna);
    net.run_for(2 * SECOND);
    let mut generous = story(&dna, "BEFORE-NARROWING", 2);
    generous.consent.ai_analysis = true;
    generous.consent.public_sharing = false;
    net.create(2, pod, "content", "content", Visibility::Pod, &generous);
    net.run_for(5 * SECOND);
    let root = net.written(2, b"BEFORE-NARROWING");
    net.assert_entry_held(&[1, 3], &pod, &root, true, "the story came first");

    // The same visibility, one consent taken back.
    let mut narrower = story(&dna, "AFTER-NARROWING", 2);
    narrower.consent.public_sharing = false;
    net.update(2, pod, root, Visibility::Pod, &narrower);
    net.run_for(20 * SECOND);
    for seed in [1u8, 3] {
        let n = net.index(seed);
        assert!(
            !net.holds_bytes(n, b"BEFORE-NARROWING"),
            "node {seed} still holds the version whose consent was narrowed"
        );
        assert!(
            net.holds_bytes(n, b"AFTER-NARROWING"),
            "node {seed} holds the new version"
        );
    }
    assert!(
        net.holds_bytes(net.index(2), b"BEFORE-NARROWING"),
        "the author keeps their own earlier version"
    );
    for member in [1u8, 3] {
        assert!(
            receipts(&net, 2)
                .iter()
                .any(|(author, r)| *author == seed_key(member) && r.record == root),
            "member {member}'s receipt for the narrowed version reached the author"
        );
    }

    // A member who joins now syncs the author's chain: the old version comes without its text.
    net.join(4, &dna, vec![]);
    net.connect(pod);
    net.run_for(30 * SECOND);
    let late = net.index(4);
    assert!(
        net.holds_bytes(late, b"AFTER-NARROWING"),
        "the late joiner synced"
    );
    assert!(
        !net.holds_bytes(late, b"BEFORE-NARROWING"),
        "nobody serves a version whose consent was narrowed, its author included"
    );
    assert!(
        !receipts(&net, 4)
            .iter()
            .any(|(author, _)| *author == seed_key(4)),
        "a node that never held the old version owes and writes no receipt"
    );
}
