//! One pod of a lookup: which of its providers to ask next, and what their answers proved.

use std::collections::{HashSet, VecDeque};

use libp2p::PeerId;
use myco_dna::DnaHash;

use crate::net::profile::verify::{is_newer, Proven, Version};

/// Providers of one pod asked at once: enough that a handful of slow or lying providers
/// cannot hold a lookup up, few enough that one lookup opens no more than a few streams.
pub const ASKS_IN_FLIGHT_PER_POD: usize = 8;
/// Providers of one pod asked in all during one lookup: above Kademlia's 20 providers kept
/// per key, since the union of several nodes' provider lists can be larger.
pub const MAX_ASKS_PER_POD: usize = 32;
/// Providers of one pod remembered as candidates (the rest are dropped as they arrive).
pub const MAX_CANDIDATES_PER_POD: usize = 64;

/// `confirmed`: a member of the pod showed the agent's Genesis in it.
pub const CONFIRMED: &str = "confirmed";
/// `claimed`: only the agent's own registry pointer says it is in the pod.
pub const CLAIMED: &str = "claimed";

/// The asking state and the proven facts of one pod of a lookup.
#[derive(Debug)]
pub struct PodAsks {
    /// The pod.
    pub pod: DnaHash,
    candidates: VecDeque<PeerId>,
    seen: HashSet<PeerId>,
    in_flight: usize,
    asked: usize,
    best: Option<Version>,
    confirmed: bool,
}

impl PodAsks {
    /// A pod with no candidates yet.
    pub fn new(pod: DnaHash) -> Self {
        PodAsks {
            pod,
            candidates: VecDeque::new(),
            seen: HashSet::new(),
            in_flight: 0,
            asked: 0,
            best: None,
            confirmed: false,
        }
    }

    /// Adds a provider to ask, once, within [`MAX_CANDIDATES_PER_POD`].
    pub fn offer(&mut self, peer: PeerId) {
        if self.seen.len() < MAX_CANDIDATES_PER_POD && self.seen.insert(peer) {
            self.candidates.push_back(peer);
        }
    }

    /// The next provider to ask, if this pod may ask one more now; `skip` says which
    /// candidates are not to be asked (forgers).
    pub fn next(&mut self, skip: impl Fn(&PeerId) -> bool) -> Option<PeerId> {
        if self.in_flight >= ASKS_IN_FLIGHT_PER_POD || self.asked >= MAX_ASKS_PER_POD {
            return None;
        }
        while let Some(peer) = self.candidates.pop_front() {
            if skip(&peer) {
                continue;
            }
            self.in_flight += 1;
            self.asked += 1;
            return Some(peer);
        }
        None
    }

    /// An ask ended: answered with `proven` (nothing proven for a failure or a forgery).
    pub fn answered(&mut self, proven: Proven) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.confirmed |= proven.genesis;
        if let Some(version) = proven.version {
            if is_newer(self.best.as_ref(), &version) {
                self.best = Some(version);
            }
        }
    }

    /// True if an ask of this pod awaits its answer.
    pub fn in_flight(&self) -> bool {
        self.in_flight > 0
    }

    /// `confirmed` or `claimed`.
    pub fn status(&self) -> &'static str {
        if self.confirmed {
            CONFIRMED
        } else {
            CLAIMED
        }
    }

    /// The newest version proven in this pod, if it is public.
    pub fn public(&self) -> Option<&Version> {
        self.best.as_ref().filter(|v| v.profile.is_some())
    }
}

/// The public version a lookup shows: the newest public one of each pod, and of those the
/// one with the latest timestamp (pods are separate chains, so their seqs do not compare).
/// A pod whose newest version is not public hides nothing another pod proves public.
pub fn newest_public(pods: &[PodAsks]) -> Option<(DnaHash, &Version)> {
    pods.iter()
        .filter_map(|p| p.public().map(|v| (p.pod, v)))
        .max_by_key(|(_, v)| v.timestamp)
}

#[cfg(test)]
mod tests {
    use myco_dna::{ActionHash, Timestamp};
    use myco_zomes::membership::Profile;

    use super::*;

    fn version(seq: u64, public: bool) -> Version {
        Version {
            seq,
            hash: ActionHash([seq as u8; 32]),
            timestamp: Timestamp(seq),
            profile: public.then(|| Profile {
                username: format!("v{seq}"),
                display_name: String::new(),
                bio: String::new(),
                avatar: None,
                profile_public: true,
                contact: None,
            }),
        }
    }

    fn proven(seq: u64, public: bool) -> Proven {
        Proven {
            version: Some(version(seq, public)),
            genesis: false,
        }
    }

    #[test]
    fn at_most_eight_providers_are_asked_at_once_and_forgers_are_skipped() {
        let mut pod = PodAsks::new(DnaHash([1; 32]));
        let peers: Vec<PeerId> = (0..12).map(|_| PeerId::random()).collect();
        for p in &peers {
            pod.offer(*p);
            pod.offer(*p);
        }
        let forger = peers[0];
        let mut asked = Vec::new();
        while let Some(p) = pod.next(|p| *p == forger) {
            asked.push(p);
        }
        assert_eq!(asked.len(), ASKS_IN_FLIGHT_PER_POD);
        assert!(!asked.contains(&forger));
        pod.answered(Proven::default());
        assert!(pod.next(|_| false).is_some(), "an answer frees a slot");
        assert!(pod.in_flight());
    }

    #[test]
    fn one_pods_non_public_answer_does_not_hide_another_pods_public_profile() {
        let (mut a, mut b) = (
            PodAsks::new(DnaHash([1; 32])),
            PodAsks::new(DnaHash([2; 32])),
        );
        a.answered(proven(5, false));
        b.answered(proven(1, true));
        assert_eq!(
            newest_public(&[a, b]).map(|(pod, v)| (pod, v.seq)),
            Some((DnaHash([2; 32]), 1))
        );
        let (mut a, mut b) = (
            PodAsks::new(DnaHash([1; 32])),
            PodAsks::new(DnaHash([2; 32])),
        );
        a.answered(proven(2, true));
        b.answered(proven(9, true));
        // Timestamps follow seq in these versions: pod 2's is the agent's latest word.
        assert_eq!(
            newest_public(&[a, b]).map(|(pod, _)| pod),
            Some(DnaHash([2; 32]))
        );
        let mut a = PodAsks::new(DnaHash([1; 32]));
        a.answered(Proven::default());
        assert_eq!(
            newest_public(&[a]),
            None,
            "an unsigned answer proves nothing"
        );
    }

    #[test]
    fn the_newest_proven_version_decides_and_a_genesis_confirms_the_pod() {
        let mut pod = PodAsks::new(DnaHash([1; 32]));
        assert_eq!(pod.status(), CLAIMED);
        pod.answered(proven(2, true));
        pod.answered(proven(1, true));
        assert_eq!(pod.public().map(|v| v.seq), Some(2));
        pod.answered(proven(3, false));
        assert_eq!(
            pod.public(),
            None,
            "a newer non-public version hides the old one"
        );
        pod.answered(Proven {
            version: None,
            genesis: true,
        });
        assert_eq!(pod.status(), CONFIRMED);
    }
}
