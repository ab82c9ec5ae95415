//! Helpers for the engine's in-crate tests: engines of one example pod, local writes, and
//! feeding records from one engine to another.

use myco_dna::{DnaManifest, Record, SigningKey};

use super::*;
use crate::daemon::Write;
use crate::store::MemoryStore;

pub const T0: u64 = 1_780_000_000_000_000;

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The Denmark territory with agent 1 as its only founder, so its votes count.
pub fn dna() -> DnaManifest {
    let text = include_str!("../../../dna/examples/territory-dk.toml");
    let founder = myco_dna::agent_key_of(&key(1)).key_hash();
    let line = text
        .lines()
        .find(|l| l.starts_with("founders"))
        .expect("the example names founders");
    myco_zomes::load_dna(&text.replace(line, &format!("founders = [\"{founder}\"]")))
        .expect("the example loads")
}

pub fn engine(seed: u8) -> Engine<MemoryStore> {
    engine_with(seed, EngineConfig::default())
}

/// An engine of agent `seed` under `config`, joined to [`dna`].
pub fn engine_with(seed: u8, config: EngineConfig) -> Engine<MemoryStore> {
    let mut engine = Engine::new(
        config,
        key(seed),
        PeerId(vec![seed]),
        Some("DK".into()),
        MemoryStore::new(),
    );
    engine.handle(
        T0,
        Input::JoinPod {
            dna: Box::new(dna()),
            membrane_proof: vec![],
        },
    );
    engine
}

/// Writes `write` as `engine`'s agent and returns the stored record.
pub fn write(engine: &mut Engine<MemoryStore>, now: u64, write: Write) -> Record {
    let dna = dna();
    let (body, entry) = write.build(now, &dna, Vec::new).expect("the write builds");
    let outputs = engine.handle(
        now,
        Input::Author {
            pod: dna.dna_hash(),
            body,
            entry,
        },
    );
    let hash = outputs
        .iter()
        .find_map(|o| match o {
            Output::Event(Event::Accepted { hash, .. }) => Some(*hash),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the write was refused: {outputs:?}"));
    engine.store().get(&hash).unwrap().unwrap()
}

pub fn chain_of(engine: &Engine<MemoryStore>) -> Vec<Record> {
    let chain = ChainId {
        pod: dna().dna_hash(),
        author: *engine.agent(),
    };
    engine.store().range(&chain, 0, 1_000).unwrap()
}

/// Feeds `records` to `engine` as a batch from `from`, as sync does.
pub fn feed(
    engine: &mut Engine<MemoryStore>,
    now: u64,
    from: u8,
    records: &[Record],
) -> Vec<Output> {
    let batch = records
        .iter()
        .map(|r| ingest::Incoming::new(r.clone(), Some(PeerId(vec![from]))))
        .collect();
    engine.now = now;
    engine.ingest(now, dna().dna_hash(), batch);
    std::mem::take(&mut engine.outputs)
}

pub fn accepted(outputs: &[Output]) -> Vec<ActionHash> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Event(Event::Accepted { hash, .. }) => Some(*hash),
            _ => None,
        })
        .collect()
}

/// A session binding of agent `seed`, speaking through peer `[seed]`, valid for an hour.
pub fn binding_of(seed: u8) -> messages::SessionBinding {
    messages::SessionBinding::sign(
        &key(seed),
        messages::BindingTerms {
            agent: myco_dna::agent_key_of(&key(seed)),
            peer: vec![seed],
            pod: dna().dna_hash(),
            region: Some("DK".into()),
            expires: myco_dna::Timestamp(T0 + 3_600_000_000),
        },
    )
}

/// Publishes a story with `body` and `visibility` as `engine`'s agent; returns its record.
pub fn write_story(
    engine: &mut Engine<MemoryStore>,
    now: u64,
    body: &str,
    visibility: myco_dna::Visibility,
) -> Record {
    let text = match visibility {
        myco_dna::Visibility::Public => "public",
        myco_dna::Visibility::Pod => "pod",
        myco_dna::Visibility::Private => "private",
    };
    write(
        engine,
        now,
        Write::Content {
            request: Box::new(crate::api::types::PublishRequest::story(
                "Harbour",
                body,
                text,
                &[],
                crate::api::types::ConsentBody::public(),
            )),
            visibility,
        },
    )
}
