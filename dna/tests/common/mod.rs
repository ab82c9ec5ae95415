//! Fixtures shared by the dna integration tests.

#![allow(dead_code)]

use myco_dna::{
    ActionBody, ActionHash, ChainAuthor, DnaHash, Entry, EntryRef, Record, SigningKey, Timestamp,
    Visibility,
};

/// A fixed pod id for tests.
pub const POD: DnaHash = DnaHash([0x11; 32]);

/// A deterministic signing key.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A valid chain: genesis, then `len - 1` creates, timestamps one second apart.
pub fn chain(seed: u8, len: usize) -> Vec<Record> {
    let mut author = ChainAuthor::new(key(seed), POD);
    let mut out = vec![author.genesis(Timestamp(1_700_000_000_000_000), Vec::new())];
    for i in 1..len {
        let entry = Entry(format!("entry number {i}").into_bytes());
        out.push(author.create(
            Timestamp(1_700_000_000_000_000 + i as u64 * 1_000_000),
            "content",
            "story",
            Visibility::Pod,
            entry,
        ));
    }
    out
}

/// One record of each action kind, with fixed content: genesis, create, update, delete.
pub fn one_of_each() -> Vec<Record> {
    let mut author = ChainAuthor::new(key(42), POD);
    let t = |s: u64| Timestamp(1_700_000_000_000_000 + s);
    let genesis = author.genesis(t(0), b"membrane proof".to_vec());
    let entry = Entry(b"a story about the river".to_vec());
    let create = author.create(t(1), "content", "story", Visibility::Public, entry);
    let new_entry = Entry(b"a story about the river, retold".to_vec());
    let update = author.next(
        t(2),
        ActionBody::Update {
            original: create.hash(),
            entry: EntryRef {
                zome: "content".into(),
                entry_type: "story".into(),
                entry_hash: new_entry.hash(),
                visibility: Visibility::Pod,
            },
        },
        Some(new_entry),
    );
    let delete = author.next(
        t(3),
        ActionBody::Delete {
            target: create.hash(),
        },
        None,
    );
    vec![genesis, create, update, delete]
}

/// Re-signs `action` content with `key` after a mutation, so only the mutated property is wrong.
pub fn resign(
    record: &Record,
    key: &SigningKey,
    mutate: impl FnOnce(&mut myco_dna::Action),
) -> Record {
    let mut action = record.action().clone();
    mutate(&mut action);
    Record {
        signed: myco_dna::SignedAction::sign(action, key),
        entry: record.entry.clone(),
    }
}

/// A hash no record has.
pub fn unknown_hash() -> ActionHash {
    ActionHash([0xee; 32])
}
