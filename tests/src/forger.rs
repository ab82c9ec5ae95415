//! In-process fake pod providers for the forged-lookup tests: raw libp2p swarms, each with a
//! fresh identity, that announce themselves in the registry as providers of a pod and answer
//! `/myco/profile/2` with lies — made-up profiles, a stranger's "not public", records signed
//! by the wrong key, old-format bare profiles.
// The behaviour derive generates an undocumented event enum.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::kad::{self, RecordKey};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm};
use myco_dna::encoding::to_canonical_cbor;
use myco_dna::{
    agent_key_of, Action, ActionBody, ActionHash, DnaHash, Entry, EntryRef, Record, SignedAction,
    SigningKey, Timestamp, Visibility,
};
use myco_node::net::profile::{
    ProfileHeld, ProfileRequest, ProfileResponse, ProfileVersion, MAX_PROFILE_BYTES,
    PROFILE_PROTOCOL,
};
use myco_node::net::{BytesCodec, RegistryStore, IDENTIFY_PROTOCOL};
use myco_node::registry::pod_key;
use myco_zomes::membership::{Profile, PROFILE};
use serde_bytes::ByteBuf;

use crate::loopback::{peer_of, PATIENCE};

/// The username every forged profile carries, so a test can tell a forgery on sight.
pub const FORGED_USERNAME: &str = "forged";
/// The seq of forged records: far above any honest profile, so that a lookup that took the
/// highest seq without verifying would pick the forgery.
pub const FORGED_SEQ: u64 = 999;

/// The lies the fakes tell, one per fake in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lie {
    /// A made-up public profile naming the asked agent as author, signed by the fake's own
    /// key (so by the wrong key), with a made-up Genesis to match.
    SignedByTheWrongKey,
    /// A made-up public profile the fake authored and signed itself, in the pod asked.
    OwnRecord,
    /// A bare "not public" (and "not found"), which would end an old lookup.
    NotPublic,
    /// A made-up non-public newer version naming the agent, to hide the real profile.
    Withdrawn,
    /// The old protocol's bare profile struct, with no record at all.
    BareProfile,
}

/// Every lie, in the order the fakes take them.
pub const LIES: [Lie; 5] = [
    Lie::SignedByTheWrongKey,
    Lie::OwnRecord,
    Lie::NotPublic,
    Lie::Withdrawn,
    Lie::BareProfile,
];

/// Kademlia, identify and the profile protocol: enough to provide a pod and answer for it.
#[derive(NetworkBehaviour)]
pub struct Fake {
    /// The behaviour of that name.
    pub identify: identify::Behaviour,
    /// The behaviour of that name.
    pub kad: kad::Behaviour<RegistryStore>,
    /// The behaviour of that name.
    pub profile: request_response::Behaviour<BytesCodec>,
}

/// A fake provider.
pub struct FakeProvider {
    /// Its swarm.
    pub swarm: Swarm<Fake>,
    /// The lie it tells.
    pub lie: Lie,
    /// Its own key: it signs with it, never with the agent's.
    pub key: SigningKey,
}

/// A fake provider telling `lie`, with a fresh identity, listening on loopback.
pub fn fake_provider(lie: Lie, seed: u8) -> FakeProvider {
    let identity = Keypair::generate_ed25519();
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(identity)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|key| {
            let local = key.public().to_peer_id();
            let kad = crate::probe::kad_server(local);
            Ok(Fake {
                identify: identify::Behaviour::new(identify::Config::new(
                    IDENTIFY_PROTOCOL.into(),
                    key.public(),
                )),
                kad,
                profile: request_response::Behaviour::with_codec(
                    BytesCodec::new(MAX_PROFILE_BYTES),
                    [(StreamProtocol::new(PROFILE_PROTOCOL), ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(10)),
                ),
            })
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("address"))
        .expect("listen");
    FakeProvider {
        swarm,
        lie,
        key: SigningKey::from_bytes(&[seed; 32]),
    }
}

fn forged_profile() -> Entry {
    Entry(to_canonical_cbor(&Profile {
        username: FORGED_USERNAME.into(),
        display_name: "Not Them".into(),
        bio: "made up by a stranger".into(),
        avatar: None,
        profile_public: true,
        contact: None,
    }))
}

/// A record at `seq` in `pod` naming `author`, signed by `signer`.
fn record(
    pod: DnaHash,
    author: myco_dna::AgentKey,
    signer: &SigningKey,
    seq: u64,
    body: ActionBody,
    entry: Option<Entry>,
) -> Record {
    let action = Action {
        pod,
        author,
        seq,
        prev: (seq > 0).then_some(ActionHash([seq as u8; 32])),
        timestamp: Timestamp(myco_node::daemon::now_micros()),
        body,
    };
    Record {
        signed: SignedAction::sign(action, signer),
        entry,
    }
}

fn profile_body(entry: &Entry, visibility: Visibility) -> ActionBody {
    ActionBody::Create(EntryRef {
        zome: myco_zomes::ZOME_MEMBERSHIP.into(),
        entry_type: PROFILE.into(),
        entry_hash: entry.hash(),
        visibility,
    })
}

/// The answer `lie` makes up for `request` (bytes that a stranger chose).
pub fn lie_about(lie: Lie, key: &SigningKey, request: &[u8]) -> Vec<u8> {
    let Ok(request) = ProfileRequest::from_bytes(request) else {
        return Vec::new();
    };
    let (pod, agent) = (request.pod, request.agent);
    let bytes = |r: Record| ByteBuf::from(r.to_bytes());
    let held = |genesis: Option<Record>, profile| {
        ProfileResponse::Held(ProfileHeld {
            genesis: genesis.map(bytes),
            profile,
        })
        .to_bytes()
    };
    let entry = forged_profile();
    let genesis = || ActionBody::Genesis {
        membrane_proof: Vec::new(),
    };
    match lie {
        Lie::SignedByTheWrongKey => held(
            Some(record(pod, agent, key, 0, genesis(), None)),
            ProfileVersion::Public(bytes(record(
                pod,
                agent,
                key,
                FORGED_SEQ,
                profile_body(&entry, Visibility::Public),
                Some(entry),
            ))),
        ),
        Lie::OwnRecord => {
            let own = agent_key_of(key);
            held(
                Some(record(pod, own, key, 0, genesis(), None)),
                ProfileVersion::Public(bytes(record(
                    pod,
                    own,
                    key,
                    FORGED_SEQ,
                    profile_body(&entry, Visibility::Public),
                    Some(entry),
                ))),
            )
        }
        Lie::NotPublic => held(None, ProfileVersion::NotPublic),
        Lie::Withdrawn => held(
            None,
            ProfileVersion::Withdrawn(bytes(record(
                pod,
                agent,
                key,
                FORGED_SEQ + 1,
                profile_body(&entry, Visibility::Pod),
                None,
            ))),
        ),
        Lie::BareProfile => {
            // What `/myco/profile/1` answered: version 1 and a bare `Public(Profile)` (an
            // enum variant is a one-key map in CBOR).
            let profile: Profile = myco_dna::encoding::from_canonical_cbor("profile", &entry.0)
                .expect("the forged profile decodes");
            let old = std::collections::BTreeMap::from([("Public", profile)]);
            [vec![1], to_canonical_cbor(&old)].concat()
        }
    }
}

/// Profile requests the fakes answered, counted across them.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// How many so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Fake providers running on their own runtime until dropped.
pub struct Fakes {
    /// Profile requests they answered with lies.
    pub asked: Counter,
    /// Their peer ids.
    pub peers: Vec<PeerId>,
    // Dropping the runtime stops every fake.
    _runtime: tokio::runtime::Runtime,
}

/// Starts `count` fakes, taking the [`LIES`] in turn; each dials `addresses` (the bootstrap
/// peer and the daemons) and provides `pod`. Returns once every fake has had its provider
/// record stored.
pub fn start_fakes(count: usize, addresses: &[Multiaddr], pod: DnaHash) -> Fakes {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let asked = Counter::default();
    let (ready, providing) = std::sync::mpsc::channel();
    for n in 0..count {
        let lie = LIES[n % LIES.len()];
        let (addresses, asked, ready) = (addresses.to_vec(), asked.clone(), ready.clone());
        // Seeds from 100 up: never a daemon's agent key.
        let seed = 100 + n as u8;
        runtime.spawn(async move {
            let mut fake = fake_provider(lie, seed);
            run(&mut fake, &addresses, pod, &asked, &ready).await;
        });
    }
    let mut peers = Vec::new();
    for _ in 0..count {
        match providing.recv_timeout(PATIENCE) {
            Ok(Ok(peer)) => peers.push(peer),
            Ok(Err(error)) => panic!("a fake could not provide the pod: {error}"),
            Err(_) => panic!("a fake did not get its provider record stored in time"),
        }
    }
    Fakes {
        asked,
        peers,
        _runtime: runtime,
    }
}

/// One fake's life: dial, provide, then answer every profile request with its lie.
async fn run(
    fake: &mut FakeProvider,
    addresses: &[Multiaddr],
    pod: DnaHash,
    asked: &Counter,
    ready: &std::sync::mpsc::Sender<Result<PeerId, String>>,
) {
    for address in addresses {
        fake.swarm
            .behaviour_mut()
            .kad
            .add_address(&peer_of(address), address.clone());
        let _ = fake.swarm.dial(address.clone());
    }
    let query = fake
        .swarm
        .behaviour_mut()
        .kad
        .start_providing(RecordKey::new(&pod_key(&pod)));
    let query = match query {
        Ok(query) => Some(query),
        Err(error) => {
            let _ = ready.send(Err(error.to_string()));
            None
        }
    };
    loop {
        match fake.swarm.select_next_some().await {
            SwarmEvent::NewListenAddr { address, .. } => {
                // Provider records carry external addresses: let the daemons dial back.
                fake.swarm.add_external_address(address);
            }
            SwarmEvent::Behaviour(FakeEvent::Kad(kad::Event::OutboundQueryProgressed {
                id,
                result: kad::QueryResult::StartProviding(result),
                ..
            })) if Some(id) == query => {
                let peer = *fake.swarm.local_peer_id();
                let _ = ready.send(result.map(|_| peer).map_err(|e| e.to_string()));
            }
            SwarmEvent::Behaviour(FakeEvent::Profile(request_response::Event::Message {
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            })) => {
                asked.0.fetch_add(1, Ordering::Relaxed);
                let lie = lie_about(fake.lie, &fake.key, &request);
                let _ = fake
                    .swarm
                    .behaviour_mut()
                    .profile
                    .send_response(channel, lie);
            }
            _ => {}
        }
    }
}
