//! The export's offline check: a sound export passes with its counts, and a changed byte in a
//! record, a view, a DNA or the agent is caught and named.

use myco_dna::{ChainAuthor, Entry, SigningKey, Timestamp, Visibility};

use super::*;

const DNA: &str = include_str!("../../../dna/examples/storytelling.toml");

fn story(title: &str) -> Entry {
    let mut bytes = Vec::new();
    ciborium::into_writer(
        &serde_json::json!({ "title": title, "body": "told by the harbour" }),
        &mut bytes,
    )
    .expect("cbor");
    Entry(bytes)
}

fn export() -> Export {
    let key = SigningKey::from_bytes(&[5u8; 32]);
    let dna = myco_zomes::load_dna(DNA).expect("the example loads");
    let mut author = ChainAuthor::new(key.clone(), dna.dna_hash());
    let mut chain = vec![author.genesis(Timestamp(10), vec![])];
    for (i, visibility) in [Visibility::Public, Visibility::Pod, Visibility::Private]
        .into_iter()
        .enumerate()
    {
        chain.push(author.create(
            Timestamp(20 + i as u64),
            "content",
            "story",
            visibility,
            story(&format!("story {i}")),
        ));
    }
    // A purged entry: the record stays, its entry does not.
    chain[1] = chain[1].without_entry();
    let mut export = Export::new(&myco_dna::agent_key_of(&key), 99);
    export.add_pod(&dna.dna_hash(), DNA.to_string(), &chain, &[]);
    export
}

fn problem(bytes: &[u8]) -> String {
    verify(bytes).expect_err("caught").to_string()
}

#[test]
fn a_sound_export_reports_its_counts() {
    let report = verify(&export().to_json()).expect("sound");
    assert_eq!(report.pods, 1);
    assert_eq!(report.records, 4);
    assert_eq!(report.entries, 2);
    assert_eq!(report.without_entry, 2);
    // Readable without Myco: the entry is plain JSON.
    let json: serde_json::Value = serde_json::from_slice(&export().to_json()).unwrap();
    assert_eq!(json["pods"][0]["chain"][3]["entry"]["title"], "story 2");
    assert_eq!(json["pods"][0]["chain"][3]["visibility"], "private");
}

#[test]
fn every_flipped_byte_of_a_record_is_caught() {
    let json = export().to_json();
    let text = String::from_utf8(json.clone()).unwrap();
    let record = &export().pods[0].chain[2].record;
    let start = text.find(record.as_str()).expect("the hex is in the file");
    for offset in 0..record.len() {
        let mut bytes = json.clone();
        let at = start + offset;
        // Another hex digit, so the file stays well-formed JSON and hex.
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        let problem = problem(&bytes);
        assert!(problem.contains("record 2"), "offset {offset}: {problem}");
    }
}

#[test]
fn a_changed_view_dna_or_agent_is_named() {
    let mut changed = export();
    changed.pods[0].chain[3].view.entry = Some(serde_json::json!({ "title": "another" }));
    assert!(problem(&changed.to_json()).contains("plain view"));

    let mut changed = export();
    changed.pods[0].chain[3].view.visibility = Some("public".into());
    assert!(problem(&changed.to_json()).contains("record 3"));

    let mut changed = export();
    changed.pods[0].dna_toml =
        changed.pods[0]
            .dna_toml
            .replacen("Storytelling Circle", "Storytelling Circles", 1);
    let text = problem(&changed.to_json());
    assert!(text.contains("DNA"), "{text}");

    let mut changed = export();
    let other = myco_dna::agent_key_of(&SigningKey::from_bytes(&[6u8; 32]));
    changed.agent_key = other.to_string();
    changed.key_hash = other.key_hash().to_string();
    assert!(problem(&changed.to_json()).contains("not the exported agent"));

    let mut changed = export();
    changed.pods[0].chain.remove(2);
    assert!(problem(&changed.to_json()).contains("record 2"));

    assert!(problem(b"not json").contains("not a Myco export"));
    let truncated = export().to_json();
    assert!(problem(&truncated[..truncated.len() / 2]).contains("not a Myco export"));
}
