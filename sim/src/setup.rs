//! Who is in each pod: keys derived from the seed, the pod's DNA (the scenario's DNA with
//! the simulated founders and a per-pod network seed), roles, membrane proofs, and the
//! warm-start store holding every member's Genesis.

use std::path::Path;

use myco_dna::manifest::Admission;
use myco_dna::{ChainAuthor, DnaHash, DnaManifest, Record, SigningKey, Timestamp};
use myco_node::store::{MemoryStore, Store};
use myco_zomes::governance::RoleProof;
use myco_zomes::membership::{
    encode_membrane_proof, sign_invitation, InvitationTerms, MembraneProof,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::adversary::Behaviour;
use crate::scenario::{Scenario, ScenarioError};

/// Virtual start time: µs since the Unix epoch (the engine signs real-looking timestamps).
pub const T0: u64 = 1_780_000_000_000_000;
/// One second, in µs.
pub const SECOND: u64 = 1_000_000;

/// Seconds of scenario time as µs.
pub fn micros(seconds: f64) -> u64 {
    (seconds.max(0.0) * SECOND as f64) as u64
}

/// The example DNAs shipped with Myco, by name.
pub const EXAMPLES: [(&str, &str); 3] = [
    (
        "territory-dk",
        include_str!("../../dna/examples/territory-dk.toml"),
    ),
    (
        "storytelling",
        include_str!("../../dna/examples/storytelling.toml"),
    ),
    (
        "community-media",
        include_str!("../../dna/examples/community-media.toml"),
    ),
];

/// Loads the scenario's DNA: an example by name, or a manifest path relative to `base_dir`.
pub fn load_dna(name: &str, base_dir: Option<&Path>) -> Result<DnaManifest, ScenarioError> {
    let text = match EXAMPLES.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => (*text).to_string(),
        None => {
            let path = base_dir.map_or_else(|| Path::new(name).to_path_buf(), |d| d.join(name));
            std::fs::read_to_string(&path).map_err(|e| {
                ScenarioError::Dna(format!(
                    "`{name}` is neither an example ({}) nor a readable file ({}: {e})",
                    EXAMPLES.map(|(n, _)| n).join(", "),
                    path.display()
                ))
            })?
        }
    };
    myco_zomes::load_dna(&text).map_err(|e| ScenarioError::Dna(e.to_string()))
}

/// A seeded ChaCha RNG for one stream (`what`, `index`) of a run with `seed`.
pub fn rng_for(seed: u64, what: &str, index: u64) -> ChaCha8Rng {
    let mut bytes = seed.to_be_bytes().to_vec();
    bytes.extend_from_slice(what.as_bytes());
    bytes.extend_from_slice(&index.to_be_bytes());
    ChaCha8Rng::from_seed(myco_dna::blake2b_256(&bytes))
}

/// The signing key of node `node` of pod `pod` in a run with `seed`.
pub fn key_for(seed: u64, pod: usize, node: usize) -> SigningKey {
    let mut bytes = b"myco-sim/key".to_vec();
    bytes.extend_from_slice(&seed.to_be_bytes());
    bytes.extend_from_slice(&(pod as u64).to_be_bytes());
    bytes.extend_from_slice(&(node as u64).to_be_bytes());
    SigningKey::from_bytes(&myco_dna::blake2b_256(&bytes))
}

/// One pod, ready to simulate.
pub struct PodSetup {
    /// The pod's DNA.
    pub dna: DnaManifest,
    /// Its hash.
    pub pod: DnaHash,
    /// Keys, members first, then readers.
    pub keys: Vec<SigningKey>,
    /// Behaviours, in the same order.
    pub roles: Vec<Behaviour>,
    /// Membrane proofs of the members.
    pub proofs: Vec<Vec<u8>>,
    /// A store with every member's Genesis (when warm-starting).
    pub warm_store: Option<MemoryStore>,
}

/// Sets up pod `index` of `scenario` for `seed`.
pub fn pod(
    scenario: &Scenario,
    base: &DnaManifest,
    seed: u64,
    index: usize,
) -> Result<PodSetup, ScenarioError> {
    let spec = &scenario.pods;
    let members = spec.members;
    let total = members + scenario.adversaries.readers;
    let keys: Vec<SigningKey> = (0..total).map(|i| key_for(seed, index, i)).collect();
    let mut dna = base.clone();
    dna.properties.founders = keys[..spec.founders.min(members)]
        .iter()
        .map(|k| myco_dna::agent_key_of(k).key_hash())
        .collect();
    dna.network_seed = format!("{}/sim-{seed}-{index}", base.network_seed);
    let pod = dna.dna_hash();
    let admission = dna.properties.admission;
    if admission == Admission::Vote {
        return Err(ScenarioError::Invalid {
            field: "pods.dna",
            reason: "uses admission by vote, which the simulator does not model yet; use an open or invite DNA".into(),
        });
    }
    if scenario.adversaries.readers > 0 && admission == Admission::Open {
        return Err(ScenarioError::Invalid {
            field: "adversaries.readers",
            reason:
                "needs a DNA with admission = invite: in an open pod a reader is simply a member"
                    .into(),
        });
    }
    let roles = assign_roles(scenario, seed, index);
    let proofs: Vec<Vec<u8>> = (0..members)
        .map(|i| {
            if i < spec.founders || admission == Admission::Open {
                return Vec::new();
            }
            let invitation = sign_invitation(
                &keys[0],
                InvitationTerms {
                    pod,
                    invitee: myco_dna::agent_key_of(&keys[i]).key_hash(),
                    expires: Timestamp(T0 + 30 * 24 * 3600 * SECOND),
                },
                RoleProof::Founder,
            );
            encode_membrane_proof(&MembraneProof::Invite(invitation))
        })
        .collect();
    let warm_store = if spec.warm_start {
        let geneses: Vec<Record> = (0..members)
            .map(|i| {
                ChainAuthor::new(keys[i].clone(), pod)
                    .genesis(Timestamp(T0 - SECOND), proofs[i].clone())
            })
            .collect();
        let geneses = myco_node::store::ValidRecord::check_all(geneses, &mut Default::default())
            .map_err(|(at, e)| ScenarioError::Invalid {
                field: "pods.warm_start",
                reason: format!("warm-start Genesis {at} is invalid: {e}"),
            })?;
        let mut store = MemoryStore::new();
        store
            .append_batch(&geneses)
            .map_err(|e| ScenarioError::Invalid {
                field: "pods.warm_start",
                reason: format!("the warm-start store refused the geneses: {e}"),
            })?;
        Some(store)
    } else {
        None
    };
    Ok(PodSetup {
        dna,
        pod,
        keys,
        roles,
        proofs,
        warm_store,
    })
}

/// Behaviours of pod `index`'s nodes: founders honest, bad members drawn from the rest,
/// readers last.
pub fn assign_roles(scenario: &Scenario, seed: u64, index: usize) -> Vec<Behaviour> {
    let members = scenario.pods.members;
    let a = &scenario.adversaries;
    let mut roles = vec![Behaviour::Honest; members];
    let mut candidates: Vec<usize> = (scenario.pods.founders.min(members)..members).collect();
    candidates.shuffle(&mut rng_for(seed, "roles", index as u64));
    let mut next = candidates.into_iter();
    for (share, behaviour) in [
        (a.forgers, Behaviour::Forger),
        (a.forkers, Behaviour::Forker),
        (a.rule_breakers, Behaviour::RuleBreaker),
        (a.vote_stuffers, Behaviour::VoteStuffer),
        (a.spammers, Behaviour::Spammer),
    ] {
        let count = (share * members as f64).round() as usize;
        for _ in 0..count {
            if let Some(i) = next.next() {
                roles[i] = behaviour;
            }
        }
    }
    roles.extend(std::iter::repeat_n(Behaviour::Reader, a.readers));
    roles
}
