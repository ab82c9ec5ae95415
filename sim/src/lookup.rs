//! The registry workload: every agent publishes its signed pointer to the k closest DHT
//! nodes, attackers try to hijack others' keys, and lookups run under churn.

use myco_dna::{AgentKey, DnaHash, SigningKey, Timestamp};
use myco_node::registry::{Pointer, PointerTerms, POINTER_TTL_MICROS};
use rand::Rng;

use crate::kademlia::{Dht, Id};
use crate::link::LinkSpec;
use crate::scenario::RegistrySpec;
use crate::setup::{self, T0};
use crate::trace::Trace;

/// Raw figures of the registry part of a run.
#[derive(Clone, Debug, Default)]
pub struct RegistryResult {
    /// DHT nodes.
    pub nodes: u64,
    /// Pointers published.
    pub pointers: u64,
    /// Hops of each successful lookup.
    pub hops: Vec<u64>,
    /// Virtual latency of each successful lookup, µs.
    pub latencies: Vec<u64>,
    /// Lookups run.
    pub lookups: u64,
    /// Queries sent (lookups, and the lookups behind PUTs), the registry's events.
    pub queries: u64,
    /// Lookups that found a valid pointer.
    pub found: u64,
    /// PUTs refused by storing nodes' validation (hijacks included).
    pub puts_refused: u64,
    /// Hijack attempts.
    pub hijacks_attempted: u64,
    /// Keys under which some node stored a hijacked pointer (must be 0).
    pub hijacks_stored: u64,
    /// Bucket size.
    pub k: u64,
    /// Hash of the registry's ordered trace.
    pub trace: [u8; 32],
}

/// One agent as the registry sees it.
pub struct Agent {
    /// Its key.
    pub key: SigningKey,
    /// Its pods.
    pub pods: Vec<DnaHash>,
}

fn pointer_bytes(key: &SigningKey, agent: AgentKey, pods: Vec<DnaHash>) -> Vec<u8> {
    Pointer::sign(
        key,
        PointerTerms {
            agent,
            pods,
            seq: 1,
            expires: Timestamp(T0 + POINTER_TTL_MICROS),
        },
    )
    .to_bytes()
}

/// Runs the registry workload for `agents` (or, if empty, one generated agent per node).
pub fn run(
    spec: &RegistrySpec,
    mut agents: Vec<Agent>,
    link: &LinkSpec,
    seed: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> RegistryResult {
    let n = if spec.nodes > 0 {
        spec.nodes
    } else {
        agents.len()
    };
    if agents.is_empty() {
        agents = (0..n)
            .map(|i| Agent {
                key: setup::key_for(seed, usize::MAX, i),
                pods: Vec::new(),
            })
            .collect();
    }
    let mut rng = setup::rng_for(seed, "registry", 0);
    let ids: Vec<Id> = (0..n as u64)
        .map(|i| {
            let mut bytes = b"myco-sim/dht".to_vec();
            bytes.extend_from_slice(&seed.to_be_bytes());
            bytes.extend_from_slice(&i.to_be_bytes());
            myco_dna::blake2b_256(&bytes)
        })
        .collect();
    let mut dht = Dht::build(ids, spec.k, spec.alpha, &mut rng);
    let mut trace = Trace::default();
    let mut out = RegistryResult {
        nodes: n as u64,
        k: spec.k as u64,
        ..RegistryResult::default()
    };
    let now = Timestamp(T0);
    let total = (agents.len() + spec.lookups) as u64;
    dht.churn(spec.churn, &mut rng);
    for (i, agent) in agents.iter().enumerate() {
        let home = (i % n) as u32;
        let was = dht.online[home as usize];
        dht.online[home as usize] = true;
        let public = myco_dna::agent_key_of(&agent.key);
        let key = public.key_hash();
        let bytes = pointer_bytes(&agent.key, public, agent.pods.clone());
        let (stored, queries) = dht.put(home, &key, &bytes, now, link, &mut rng);
        out.queries += u64::from(queries);
        dht.online[home as usize] = was;
        trace.add(&(stored as u64).to_be_bytes());
        out.pointers += 1;
        if i % 256 == 0 {
            progress(i as u64, total);
        }
    }
    for h in 0..spec.hijacks.min(agents.len().saturating_sub(1)) {
        let thief = &agents[h % agents.len()];
        let victim = &agents[(h + 1 + rng.gen_range(0..agents.len() - 1)) % agents.len()];
        let victim_agent = myco_dna::agent_key_of(&victim.key);
        let key = victim_agent.key_hash();
        // Either the victim's terms signed with the thief's key, or the thief's own valid
        // pointer filed under the victim's key.
        let bytes = if h % 2 == 0 {
            pointer_bytes(&thief.key, victim_agent, thief.pods.clone())
        } else {
            let own = myco_dna::agent_key_of(&thief.key);
            pointer_bytes(&thief.key, own, thief.pods.clone())
        };
        let from = (h % n) as u32;
        let (_, queries) = dht.put(from, &key, &bytes, now, link, &mut rng);
        out.queries += u64::from(queries);
        out.hijacks_attempted += 1;
        if dht.holds_hijack(&key) {
            out.hijacks_stored += 1;
        }
    }
    let per_epoch = spec.lookups.div_ceil(spec.epochs.max(1)).max(1);
    for l in 0..spec.lookups {
        if l % per_epoch == 0 {
            dht.churn(spec.churn, &mut rng);
        }
        let from = loop {
            let candidate = rng.gen_range(0..n as u32);
            if dht.online[candidate as usize] || spec.churn >= 1.0 {
                break candidate;
            }
        };
        let agent = &agents[rng.gen_range(0..agents.len())];
        let key = myco_dna::agent_key_of(&agent.key).key_hash();
        let lookup = dht.lookup(from, key.as_bytes(), Some(&key), now, link, &mut rng);
        out.lookups += 1;
        out.queries += u64::from(lookup.queries);
        trace.add(&[lookup.hops as u8, u8::from(lookup.found.is_some())]);
        trace.add(&lookup.queries.to_be_bytes());
        if lookup.found.is_some() {
            out.found += 1;
            out.hops.push(u64::from(lookup.hops));
            out.latencies.push(lookup.latency_micros);
        }
        if l % 256 == 0 {
            progress((agents.len() + l) as u64, total);
        }
    }
    out.puts_refused = dht.puts_refused;
    out.trace = trace.finish();
    out
}
