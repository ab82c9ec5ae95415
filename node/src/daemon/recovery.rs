//! Fetching the DNAs of pods this node does not host yet, from their members: what
//! `myco recover` needs when the recovery phrase is all that is left. The registry pointer
//! names the pods by id only; their members serve the DNA to a member's node (a
//! [`SyncRequest::Dna`], behind the same session binding as Heights), and the answer is
//! believed only if it hashes to the pod id asked for and loads as a DNA.
//!
//! Members are found as for hosted pods: the pod's providers in the DHT and its rendezvous
//! registrations at the bootstrap peers, dialled; every peer connected meanwhile is asked
//! too (one that does not host the pod refuses). Each pod is asked of at most
//! [`MAX_ASKS_PER_POD`] peers, and a fetch answers within [`FETCH_TIMEOUT`] with what it got.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use libp2p::kad::RecordKey;
use libp2p::request_response::OutboundRequestId;
use libp2p::{rendezvous, PeerId};
use myco_dna::{DnaHash, DnaManifest, Timestamp};
use tokio::sync::oneshot;

use super::driver::{now_micros, Driver};
use crate::engine::{BindingTerms, SessionBinding, SyncRequest, SyncResponse};
use crate::net;
use crate::registry::pod_key;

/// How long one fetch may take before it answers with what it has.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Most peers asked for one pod's DNA.
pub const MAX_ASKS_PER_POD: usize = 16;
/// Fetches in flight at once; more are refused.
pub const MAX_FETCHES: usize = 8;
/// How long the binding shown with a DNA request holds.
const BINDING_TTL_MICROS: u64 = 600_000_000;

/// One pod's DNA, or why it could not be had.
#[derive(Clone, Debug)]
pub struct DnaFetched {
    /// The pod.
    pub pod: DnaHash,
    /// Its manifest's TOML text, or why there is none.
    pub manifest: Result<String, String>,
}

/// The fetches in flight.
#[derive(Default)]
pub(super) struct DnaFetches {
    fetches: Vec<Fetch>,
    asks: HashMap<OutboundRequestId, (DnaHash, PeerId)>,
}

struct Fetch {
    pods: BTreeMap<DnaHash, PodFetch>,
    reply: Option<oneshot::Sender<Vec<DnaFetched>>>,
    deadline: Instant,
}

#[derive(Default)]
struct PodFetch {
    asked: HashSet<PeerId>,
    manifest: Option<String>,
    /// What refusing or lying peers said, for the answer when nobody gave the DNA.
    problems: Vec<String>,
}

impl Fetch {
    fn done(&self) -> bool {
        self.pods.values().all(|p| p.manifest.is_some())
    }

    fn answer(&mut self) {
        let fetched = self
            .pods
            .iter()
            .map(|(pod, fetch)| DnaFetched {
                pod: *pod,
                manifest: match &fetch.manifest {
                    Some(text) => Ok(text.clone()),
                    None if fetch.asked.is_empty() => Err(format!(
                        "no member of pod {pod} could be found within {} s (are its members' nodes online, and this node's bootstrap peers reachable?)",
                        FETCH_TIMEOUT.as_secs()
                    )),
                    None => Err(format!(
                        "{} peers were asked for pod {pod}'s DNA and none gave it{}",
                        fetch.asked.len(),
                        match fetch.problems.first() {
                            Some(problem) => format!(" (for example: {problem})"),
                            None => String::new(),
                        }
                    )),
                },
            })
            .collect();
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(fetched);
        }
    }
}

/// The DNA in a peer's answer to a DNA request for `pod`, as TOML text, if the answer holds
/// one that hashes to `pod` and loads.
pub fn manifest_in(pod: &DnaHash, answer: &[u8]) -> Result<String, String> {
    let manifest = match SyncResponse::from_bytes(answer) {
        Ok(SyncResponse::Dna {
            pod: answered,
            manifest,
        }) if answered == *pod => manifest,
        Ok(SyncResponse::Refused { reason }) => return Err(format!("refused: {reason}")),
        Ok(_) => return Err("an answer that is not a DNA".into()),
        Err(error) => return Err(format!("an undecodable answer ({error})")),
    };
    let dna: DnaManifest = myco_dna::encoding::from_canonical_cbor("DNA manifest", &manifest)
        .map_err(|e| format!("a DNA that does not decode ({e})"))?;
    if dna.dna_hash() != *pod {
        return Err(format!("a DNA of another pod ({})", dna.dna_hash()));
    }
    let text = dna.to_toml();
    match myco_zomes::load_dna(&text) {
        Ok(loaded) if loaded.dna_hash() == *pod => Ok(text),
        Ok(_) => Err("a DNA whose text loads as another pod".into()),
        Err(error) => Err(format!("a DNA that does not load ({error})")),
    }
}

impl Driver {
    /// Starts fetching the DNAs of `pods`; `reply` gets them all, or what was had when the
    /// fetch timed out.
    pub(super) fn fetch_dnas(
        &mut self,
        pods: Vec<DnaHash>,
        reply: oneshot::Sender<Vec<DnaFetched>>,
    ) {
        if self.dna_fetches.fetches.len() >= MAX_FETCHES {
            return; // Dropping the reply answers 503: try again later.
        }
        let mut fetch = Fetch {
            pods: pods.iter().map(|p| (*p, PodFetch::default())).collect(),
            reply: Some(reply),
            deadline: Instant::now() + FETCH_TIMEOUT,
        };
        if pods.is_empty() {
            fetch.answer();
            return;
        }
        self.dna_fetches.fetches.push(fetch);
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        let bootstraps: Vec<PeerId> = self
            .bootstrap
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| self.swarm.is_connected(p))
            .collect();
        for pod in pods {
            let behaviour = self.swarm.behaviour_mut();
            behaviour.kad.get_providers(RecordKey::new(&pod_key(&pod)));
            if let (Some(client), Ok(namespace)) = (
                behaviour.rendezvous_client.as_mut(),
                rendezvous::Namespace::new(pod.to_string()),
            ) {
                for node in &bootstraps {
                    client.discover(Some(namespace.clone()), None, None, *node);
                }
            }
            for peer in &connected {
                if !bootstraps.contains(peer) {
                    self.ask_dna(*peer, pod);
                }
            }
        }
    }

    /// True if some fetch still wants `pod`'s DNA.
    pub(super) fn wants_dna(&self, pod: &DnaHash) -> bool {
        self.dna_fetches
            .fetches
            .iter()
            .any(|f| f.pods.get(pod).is_some_and(|p| p.manifest.is_none()))
    }

    /// A peer connected: ask it for every DNA still wanted.
    pub(super) fn dna_peer_connected(&mut self, peer: PeerId) {
        if self.is_bootstrap(&peer) {
            return;
        }
        let wanted: Vec<DnaHash> = self
            .dna_fetches
            .fetches
            .iter()
            .flat_map(|f| f.pods.iter())
            .filter(|(_, p)| p.manifest.is_none())
            .map(|(pod, _)| *pod)
            .collect();
        for pod in wanted {
            self.ask_dna(peer, pod);
        }
    }

    fn ask_dna(&mut self, peer: PeerId, pod: DnaHash) {
        let mut fresh = false;
        for fetch in &mut self.dna_fetches.fetches {
            if let Some(wanted) = fetch.pods.get_mut(&pod) {
                if wanted.manifest.is_none()
                    && wanted.asked.len() < MAX_ASKS_PER_POD
                    && wanted.asked.insert(peer)
                {
                    fresh = true;
                }
            }
        }
        if !fresh {
            return;
        }
        let now = now_micros();
        let binding = SessionBinding::sign(
            &self.key,
            BindingTerms {
                agent: self.agent,
                peer: net::engine_peer(self.swarm.local_peer_id()).0,
                pod,
                region: self.region.clone(),
                expires: Timestamp(now + BINDING_TTL_MICROS),
            },
        );
        let request = SyncRequest::Dna { pod, binding };
        if let Some(sync) = self.swarm.behaviour_mut().sync.as_mut() {
            let id = sync.send_request(&peer, request.to_bytes());
            self.dna_fetches.asks.insert(id, (pod, peer));
            tracing::debug!(%pod, %peer, "asked a peer for a pod's DNA");
        }
    }

    /// A peer answered a request: true if it was one of ours for a DNA.
    pub(super) fn on_dna_answer(&mut self, request_id: &OutboundRequestId, answer: &[u8]) -> bool {
        let Some((pod, peer)) = self.dna_fetches.asks.remove(request_id) else {
            return false;
        };
        let result = manifest_in(&pod, answer);
        match &result {
            Ok(_) => tracing::info!(%pod, %peer, "received the pod's DNA from a member"),
            Err(problem) => {
                tracing::info!(%pod, %peer, problem, "a peer did not give the pod's DNA")
            }
        }
        for fetch in &mut self.dna_fetches.fetches {
            if let Some(wanted) = fetch.pods.get_mut(&pod) {
                match &result {
                    Ok(text) => {
                        wanted.manifest.get_or_insert_with(|| text.clone());
                    }
                    Err(problem) => wanted.problems.push(format!("{peer}: {problem}")),
                }
            }
        }
        self.finish_dna_fetches(false);
        true
    }

    /// A request failed: true if it was one of ours for a DNA.
    pub(super) fn on_dna_failure(&mut self, request_id: &OutboundRequestId) -> bool {
        self.dna_fetches.asks.remove(request_id).is_some()
    }

    /// Answers the fetches that are done, and (`sweep`) those past their deadline.
    pub(super) fn finish_dna_fetches(&mut self, sweep: bool) {
        let now = Instant::now();
        let fetches = &mut self.dna_fetches.fetches;
        for fetch in fetches.iter_mut() {
            if fetch.done() || (sweep && now >= fetch.deadline) {
                fetch.answer();
            }
        }
        fetches.retain(|f| f.reply.is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_bytes::ByteBuf;

    fn dna() -> DnaManifest {
        let text = include_str!("../../../dna/examples/territory-dk.toml");
        myco_zomes::load_dna(text).expect("the example loads")
    }

    fn answer(pod: DnaHash, dna: &DnaManifest) -> Vec<u8> {
        SyncResponse::Dna {
            pod,
            manifest: ByteBuf::from(myco_dna::encoding::to_canonical_cbor(dna)),
        }
        .to_bytes()
    }

    #[test]
    fn a_members_dna_loads_as_the_same_pod() {
        let dna = dna();
        let pod = dna.dna_hash();
        let text = manifest_in(&pod, &answer(pod, &dna)).expect("believed");
        assert_eq!(myco_zomes::load_dna(&text).expect("loads").dna_hash(), pod);
    }

    #[test]
    fn a_dna_of_another_pod_or_a_refusal_is_not_believed() {
        let dna = dna();
        let pod = dna.dna_hash();
        let mut other = dna.clone();
        other.name = "Someone else's pod".into();
        let error = manifest_in(&pod, &answer(pod, &other)).unwrap_err();
        assert!(error.contains("another pod"), "{error}");
        let refused = SyncResponse::Refused {
            reason: "not a member".into(),
        }
        .to_bytes();
        assert!(manifest_in(&pod, &refused)
            .unwrap_err()
            .contains("not a member"));
        assert!(manifest_in(&pod, b"\x01garbage").is_err());
    }
}
