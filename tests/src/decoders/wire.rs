//! The wire and file decoders: records, warrants, gossip and sync messages, registry
//! pointers, the profile protocol and DNA manifests.

use myco_dna::{agent_key_of, chain, ChainAuthor, Record, Timestamp, Visibility, Warrant};
use myco_node::engine::{GossipMessage, Height, SessionBinding, SyncRequest, SyncResponse};
use myco_node::net::profile::{
    verify_answer, ProfileHeld, ProfileRequest, ProfileResponse, ProfileVersion,
};
use myco_node::registry::{Pointer, PointerTerms};
use myco_zomes::membership::{Profile, PROFILE};
use myco_zomes::ZOME_MEMBERSHIP;
use serde_bytes::ByteBuf;

use super::{binding, canonical, chain_of_two, key, pod_dna, refused, story, NOW};

/// Record wire bytes (`Record::from_bytes`), then system validation.
pub fn record(bytes: &[u8]) {
    match Record::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("record", bytes, decoded.to_bytes());
            if let Err(error) = chain::check_record(&decoded) {
                refused("record check", error);
            }
        }
        Err(error) => refused("record", error),
    }
}

pub(super) fn record_seeds() -> Vec<Vec<u8>> {
    chain_of_two(&pod_dna())
        .iter()
        .map(Record::to_bytes)
        .collect()
}

/// Warrant bytes (`Warrant::from_bytes`), then the check anyone can make.
pub fn warrant(bytes: &[u8]) {
    match Warrant::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("warrant", bytes, decoded.to_bytes());
            if let Err(error) = decoded.verify() {
                refused("warrant verify", error);
            }
        }
        Err(error) => refused("warrant", error),
    }
}

pub(super) fn warrant_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let chain = chain_of_two(&dna);
    let mut other = ChainAuthor::resume(key(2), &chain[0].signed);
    let fork = other.create(
        Timestamp(NOW),
        "content",
        "content",
        Visibility::Public,
        story(&dna, "the other branch"),
    );
    vec![Warrant::fork(chain[1].signed.clone(), fork.signed).to_bytes()]
}

/// Gossip message bytes (`GossipMessage::from_bytes`), and any record inside.
pub fn gossip(bytes: &[u8]) {
    match GossipMessage::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("gossip message", bytes, decoded.to_bytes());
            if let GossipMessage::Record(inner) = &decoded {
                record(inner);
            }
        }
        Err(error) => refused("gossip message", error),
    }
}

pub(super) fn gossip_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let chain = chain_of_two(&dna);
    vec![
        GossipMessage::Record(ByteBuf::from(chain[1].to_bytes())).to_bytes(),
        GossipMessage::Have {
            pod,
            hash: chain[2].hash(),
            author: chain[2].action().author.key_hash(),
            seq: 2,
        }
        .to_bytes(),
        GossipMessage::Withdraw(Box::new(chain[1].signed.clone())).to_bytes(),
    ]
}

/// Sync request bytes (`SyncRequest::from_bytes`), and the binding's signature check.
pub fn sync_request(bytes: &[u8]) {
    match SyncRequest::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("sync request", bytes, decoded.to_bytes());
            let binding = match &decoded {
                SyncRequest::Heights { binding, .. }
                | SyncRequest::Range { binding, .. }
                | SyncRequest::Get { binding, .. } => Some(binding),
                _ => None,
            };
            if let Some(Err(error)) = binding.map(SessionBinding::verify) {
                refused("session binding", error);
            }
        }
        Err(error) => refused("sync request", error),
    }
}

pub(super) fn sync_request_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let chain = chain_of_two(&dna);
    let binding = binding(pod);
    vec![
        SyncRequest::Heights {
            pod,
            binding: binding.clone(),
            after: None,
        }
        .to_bytes(),
        SyncRequest::Range {
            pod,
            binding: binding.clone(),
            author: chain[0].action().author.key_hash(),
            from_seq: 1,
            limit: 256,
        }
        .to_bytes(),
        SyncRequest::Get {
            pod,
            binding,
            hashes: vec![chain[1].hash(), chain[2].hash()],
        }
        .to_bytes(),
        SyncRequest::Push {
            pod,
            records: vec![ByteBuf::from(chain[0].to_bytes())],
        }
        .to_bytes(),
    ]
}

/// Sync response bytes (`SyncResponse::from_bytes`), and every record inside.
pub fn sync_response(bytes: &[u8]) {
    match SyncResponse::from_bytes(bytes) {
        Ok(decoded) => {
            canonical("sync response", bytes, decoded.to_bytes());
            if let SyncResponse::Records { records, .. } = &decoded {
                records.iter().for_each(|r| self::record(r));
            }
        }
        Err(error) => refused("sync response", error),
    }
}

pub(super) fn sync_response_seeds() -> Vec<Vec<u8>> {
    let dna = pod_dna();
    let pod = dna.dna_hash();
    let chain = chain_of_two(&dna);
    vec![
        SyncResponse::Heights {
            pod,
            heights: vec![Height {
                author: chain[2].action().author,
                seq: 2,
                hash: chain[2].hash(),
            }],
            more: false,
            own_only: false,
        }
        .to_bytes(),
        SyncResponse::Heights {
            pod,
            heights: Vec::new(),
            more: false,
            own_only: true,
        }
        .to_bytes(),
        SyncResponse::Records {
            pod,
            records: chain.iter().map(|r| ByteBuf::from(r.to_bytes())).collect(),
        }
        .to_bytes(),
        SyncResponse::NotAMember {
            binding: binding(pod),
        }
        .to_bytes(),
        SyncResponse::Refused {
            reason: "binding expired".into(),
        }
        .to_bytes(),
    ]
}

/// Registry pointer bytes, judged as the Kademlia store judges a PUT for key 1's hash.
pub fn pointer(bytes: &[u8]) {
    match Pointer::from_bytes(bytes) {
        Ok(decoded) => canonical("registry pointer", bytes, decoded.to_bytes()),
        Err(error) => refused("registry pointer", error),
    }
    let key_hash = agent_key_of(&key(1)).key_hash();
    if let Err(error) = Pointer::validate(&key_hash, bytes, Timestamp(NOW), None) {
        refused("registry pointer validation", error);
    }
}

pub(super) fn pointer_seeds() -> Vec<Vec<u8>> {
    let pod = pod_dna().dna_hash();
    vec![Pointer::sign(
        &key(1),
        PointerTerms {
            agent: agent_key_of(&key(1)),
            pods: vec![pod],
            seq: 3,
            expires: Timestamp(NOW + 3_600_000_000),
        },
    )
    .to_bytes()]
}

/// Profile protocol bytes: the first byte says request (even) or response (odd). A response
/// is then judged as a lookup judges it: every record in it verified against key 2's agent
/// in the seeds' pod (a forgery must be refused by name, never panic).
pub fn profile(bytes: &[u8]) {
    let Some((&kind, body)) = bytes.split_first() else {
        return;
    };
    if kind % 2 == 0 {
        match ProfileRequest::from_bytes(body) {
            Ok(decoded) => canonical("profile request", body, decoded.to_bytes()),
            Err(error) => refused("profile request", error),
        }
    } else {
        match ProfileResponse::from_bytes(body) {
            Ok(decoded) => canonical("profile response", body, decoded.to_bytes()),
            Err(error) => refused("profile response", error),
        }
        let agent = agent_key_of(&key(2));
        let request = ProfileRequest {
            pod: pod_dna().dna_hash(),
            agent,
        };
        if let Err(forgery) = verify_answer(&agent.key_hash(), &request, body) {
            refused("profile answer verification", forgery);
        }
    }
}

pub(super) fn profile_seeds() -> Vec<Vec<u8>> {
    let tagged = |kind: u8, body: Vec<u8>| [vec![kind], body].concat();
    let dna = pod_dna();
    let request = ProfileRequest {
        pod: dna.dna_hash(),
        agent: agent_key_of(&key(2)),
    };
    let mut author = ChainAuthor::new(key(2), dna.dna_hash());
    let time = Timestamp(NOW - 1_000_000);
    let genesis = author.genesis(time, Vec::new());
    let profile = |public: bool| Profile {
        username: "ana".into(),
        display_name: "Ana".into(),
        bio: "weaver".into(),
        avatar: None,
        profile_public: public,
        contact: None,
    };
    let public = author.create(
        time,
        ZOME_MEMBERSHIP,
        PROFILE,
        Visibility::Public,
        myco_zomes::codec::encode(&profile(true)),
    );
    let narrowed = author.create(
        time,
        ZOME_MEMBERSHIP,
        PROFILE,
        Visibility::Pod,
        myco_zomes::codec::encode(&profile(false)),
    );
    let held = |genesis: Option<&Record>, profile: ProfileVersion| {
        ProfileResponse::Held(ProfileHeld {
            genesis: genesis.map(|g| ByteBuf::from(g.to_bytes())),
            profile,
        })
        .to_bytes()
    };
    vec![
        tagged(0, request.to_bytes()),
        tagged(
            1,
            held(
                Some(&genesis),
                ProfileVersion::Public(ByteBuf::from(public.to_bytes())),
            ),
        ),
        tagged(
            1,
            held(
                None,
                ProfileVersion::Withdrawn(ByteBuf::from(narrowed.without_entry().to_bytes())),
            ),
        ),
        tagged(1, held(Some(&genesis), ProfileVersion::NotPublic)),
        tagged(
            1,
            ProfileResponse::Refused {
                reason: "no".into(),
            }
            .to_bytes(),
        ),
    ]
}

/// DNA manifest text, loaded as `myco pod create` and `myco dna check` load it.
pub fn manifest(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match myco_zomes::load_dna(text) {
        // An accepted manifest is hashed into its pod id, as every node does.
        Ok(dna) => drop(dna.dna_hash()),
        Err(error) => refused("manifest", error),
    }
}

pub(super) fn manifest_seeds() -> Vec<Vec<u8>> {
    myco_node::devnet::TEMPLATES
        .iter()
        .map(|(_, text)| text.as_bytes().to_vec())
        .collect()
}
