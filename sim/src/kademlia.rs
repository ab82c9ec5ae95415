//! The registry, modelled as Kademlia: node ids in a 256-bit XOR space, k-buckets, iterative
//! lookups with α queries in flight, and pointers replicated to the k closest nodes.
//!
//! Every PUT and every GET is checked with [`Pointer::validate`], the daemon's own pointer
//! validation, so a hijacked or stale pointer is refused here exactly as it would be there.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{KeyHash, Timestamp};
use myco_node::registry::Pointer;
use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::link::LinkSpec;

/// A point in the XOR space.
pub type Id = [u8; 32];

/// How long an unanswered query holds up a lookup step, in µs.
pub const QUERY_TIMEOUT_MICROS: u64 = 1_000_000;

fn distance(a: &Id, b: &Id) -> Id {
    let mut d = [0u8; 32];
    for i in 0..32 {
        d[i] = a[i] ^ b[i];
    }
    d
}

fn bit(id: &Id, i: usize) -> bool {
    id[i / 8] & (0x80 >> (i % 8)) != 0
}

/// `id` with its first `bits` bits kept and the rest set to `fill`.
fn bound(id: &Id, bits: usize, fill: bool) -> Id {
    let mut out = *id;
    for i in bits..256 {
        let mask = 0x80 >> (i % 8);
        if fill {
            out[i / 8] |= mask;
        } else {
            out[i / 8] &= !mask;
        }
    }
    out
}

/// What a lookup found.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// Sequential query steps taken (until the value was found, or the lookup ended).
    pub hops: u32,
    /// The valid pointer found, if a value was sought.
    pub found: Option<Pointer>,
    /// The k closest responsive nodes seen.
    pub closest: Vec<u32>,
    /// Virtual time taken, in µs.
    pub latency_micros: u64,
    /// Queries sent.
    pub queries: u32,
}

/// The DHT: its nodes, their routing tables and their stores.
pub struct Dht {
    ids: Vec<Id>,
    tables: Vec<Vec<u32>>,
    /// Which nodes are reachable now.
    pub online: Vec<bool>,
    stores: Vec<BTreeMap<KeyHash, (Vec<u8>, Pointer)>>,
    k: usize,
    alpha: usize,
    /// PUTs refused by a storing node's validation.
    pub puts_refused: u64,
    /// GET answers refused by the asker's validation.
    pub gets_refused: u64,
}

impl Dht {
    /// A DHT over `ids`, each node's k-buckets filled with up to `k` random nodes of the
    /// matching subtree (as a long-running network's tables would be).
    pub fn build(ids: Vec<Id>, k: usize, alpha: usize, rng: &mut ChaCha8Rng) -> Dht {
        let n = ids.len();
        let mut sorted: Vec<u32> = (0..n as u32).collect();
        sorted.sort_by_key(|&i| ids[i as usize]);
        let sorted_ids: Vec<Id> = sorted.iter().map(|&i| ids[i as usize]).collect();
        let range = |prefix: &Id, bits: usize| {
            let lo = bound(prefix, bits, false);
            let hi = bound(prefix, bits, true);
            let a = sorted_ids.partition_point(|x| x < &lo);
            let b = sorted_ids.partition_point(|x| x <= &hi);
            (a, b)
        };
        let mut tables = Vec::with_capacity(n);
        for x in &ids {
            let mut table = Vec::new();
            for depth in 0..256 {
                let mut sibling = *x;
                sibling[depth / 8] ^= 0x80 >> (depth % 8);
                let (a, b) = range(&sibling, depth + 1);
                let size = b - a;
                if size <= k {
                    table.extend_from_slice(&sorted[a..b]);
                } else {
                    table.extend(sample(rng, size, k).into_iter().map(|j| sorted[a + j]));
                }
                let (own_a, own_b) = range(x, depth + 1);
                if own_b - own_a <= 1 {
                    break;
                }
            }
            tables.push(table);
        }
        Dht {
            online: vec![true; n],
            stores: vec![BTreeMap::new(); n],
            ids,
            tables,
            k,
            alpha,
            puts_refused: 0,
            gets_refused: 0,
        }
    }

    /// Nodes in the DHT.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True if the DHT has no nodes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Contacts in node `i`'s routing table.
    pub fn table_len(&self, i: u32) -> usize {
        self.tables[i as usize].len()
    }

    /// Takes a fresh `fraction` of nodes offline (the rest online); they keep their stores.
    pub fn churn(&mut self, fraction: f64, rng: &mut ChaCha8Rng) {
        for online in &mut self.online {
            *online = !rng.gen_bool(fraction.clamp(0.0, 1.0));
        }
    }

    fn closest_in(&self, node: u32, target: &Id) -> Vec<u32> {
        let mut contacts: Vec<(Id, u32)> = self.tables[node as usize]
            .iter()
            .map(|&c| (distance(&self.ids[c as usize], target), c))
            .collect();
        contacts.sort_unstable();
        contacts.truncate(self.k);
        contacts.into_iter().map(|(_, c)| c).collect()
    }

    /// An iterative lookup from `from` for `target`; if `value` is given, it stops at the
    /// first valid pointer stored under it.
    pub fn lookup(
        &mut self,
        from: u32,
        target: &Id,
        value: Option<&KeyHash>,
        now: Timestamp,
        link: &LinkSpec,
        rng: &mut ChaCha8Rng,
    ) -> Lookup {
        let mut candidates: BTreeMap<Id, u32> = self
            .closest_in(from, target)
            .into_iter()
            .map(|c| (distance(&self.ids[c as usize], target), c))
            .collect();
        let mut queried = BTreeSet::new();
        let mut failed = BTreeSet::new();
        let (mut hops, mut queries, mut latency) = (0, 0, 0);
        let mut found = None;
        loop {
            let batch: Vec<u32> = candidates
                .values()
                .filter(|c| !failed.contains(*c))
                .take(self.k)
                .filter(|c| !queried.contains(*c))
                .take(self.alpha)
                .copied()
                .collect();
            if batch.is_empty() {
                break;
            }
            hops += 1;
            let mut step = None;
            for q in batch {
                queried.insert(q);
                queries += 1;
                let lost = link.loses(rng) || link.loses(rng);
                if !self.online[q as usize] || lost {
                    failed.insert(q);
                    continue;
                }
                let rtt = 2 * link.sample_latency(rng);
                step = Some(step.map_or(rtt, |s: u64| s.max(rtt)));
                if let Some(key) = value {
                    if let Some((bytes, _)) = self.stores[q as usize].get(key) {
                        match Pointer::validate(key, bytes, now, None) {
                            Ok(pointer) => found = Some(pointer),
                            Err(_) => self.gets_refused += 1,
                        }
                    }
                }
                for c in self.closest_in(q, target) {
                    if c != from {
                        candidates.insert(distance(&self.ids[c as usize], target), c);
                    }
                }
            }
            latency += step.unwrap_or(QUERY_TIMEOUT_MICROS);
            if found.is_some() {
                break;
            }
        }
        let closest = candidates
            .values()
            .filter(|c| queried.contains(*c) && !failed.contains(*c))
            .take(self.k)
            .copied()
            .collect();
        Lookup {
            hops,
            found,
            closest,
            latency_micros: latency,
            queries,
        }
    }

    /// Stores pointer `bytes` under `key` from node `from`: a lookup for the k closest, then a
    /// validated PUT at each. Returns how many nodes stored it, and the queries sent.
    pub fn put(
        &mut self,
        from: u32,
        key: &KeyHash,
        bytes: &[u8],
        now: Timestamp,
        link: &LinkSpec,
        rng: &mut ChaCha8Rng,
    ) -> (usize, u32) {
        let target: Id = *key.as_bytes();
        let lookup = self.lookup(from, &target, None, now, link, rng);
        let mut stored = 0;
        for node in lookup.closest {
            let store = &mut self.stores[node as usize];
            let held = store.get(key).map(|(_, p)| p);
            match Pointer::validate(key, bytes, now, held) {
                Ok(pointer) => {
                    store.insert(*key, (bytes.to_vec(), pointer));
                    stored += 1;
                }
                Err(_) => self.puts_refused += 1,
            }
        }
        (stored, lookup.queries)
    }

    /// True if any node holds, under `key`, a pointer whose agent is not `key`'s.
    pub fn holds_hijack(&self, key: &KeyHash) -> bool {
        self.stores
            .iter()
            .filter_map(|s| s.get(key))
            .any(|(_, p)| &p.terms.agent.key_hash() != key)
    }
}

/// Whether bit `i` of an id is set (exposed for tests of the XOR space).
pub fn id_bit(id: &Id, i: usize) -> bool {
    bit(id, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ids(n: usize) -> Vec<Id> {
        (0..n as u32)
            .map(|i| myco_dna::blake2b_256(&i.to_be_bytes()))
            .collect()
    }

    #[test]
    fn a_lookup_with_everyone_online_ends_at_the_true_closest_node() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let ids = ids(500);
        let mut dht = Dht::build(ids.clone(), 20, 3, &mut rng);
        let target = myco_dna::blake2b_256(b"target");
        let best = (0..500u32)
            .min_by_key(|&i| distance(&ids[i as usize], &target))
            .unwrap();
        let link = LinkSpec::default();
        let found = dht.lookup(7, &target, None, Timestamp(1), &link, &mut rng);
        assert_eq!(found.closest.first(), Some(&best));
        // Without a value to stop at, the lookup goes on until all k closest have answered:
        // at α per step that is about k / α steps.
        assert!(found.hops <= 12, "{} hops", found.hops);
    }

    #[test]
    fn bucket_bounds_split_the_space_at_the_right_bit() {
        let id = [0xffu8; 32];
        let lo = bound(&id, 3, false);
        assert_eq!(lo[0], 0xe0);
        assert!(id_bit(&lo, 2) && !id_bit(&lo, 3));
    }
}
