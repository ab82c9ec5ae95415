//! The member's side: answering a profile request from its own store.

use myco_dna::encoding::from_canonical_cbor;
use myco_dna::{ActionBody, DnaHash, Record, Visibility};
use myco_zomes::membership::{Profile, PROFILE};
use serde_bytes::ByteBuf;

use super::{ProfileHeld, ProfileRequest, ProfileResponse, ProfileVersion, MAX_PROFILE_BYTES};
use crate::store::{ChainId, Store};

/// Answers a profile request from `store`, for a node that hosts the pods `hosts` says yes to.
///
/// Only records the store holds — so records this node validated — are sent, and never an
/// entry that is not `Public`.
pub fn answer<S: Store>(
    store: &S,
    hosts: impl Fn(&DnaHash) -> bool,
    bytes: &[u8],
) -> ProfileResponse {
    let request = match ProfileRequest::from_bytes(bytes) {
        Ok(request) => request,
        Err(error) => {
            return ProfileResponse::Refused {
                reason: error.to_string(),
            }
        }
    };
    if !hosts(&request.pod) {
        return ProfileResponse::Refused {
            reason: format!("this node does not host pod {}", request.pod),
        };
    }
    let chain = ChainId {
        pod: request.pod,
        author: request.agent,
    };
    let unreadable = |error: crate::store::StoreError| ProfileResponse::Refused {
        reason: format!("this node cannot read its store: {error}"),
    };
    let versions = match store.typed_records(&chain, myco_zomes::ZOME_MEMBERSHIP, PROFILE) {
        Ok(records) => records,
        Err(error) => return unreadable(error),
    };
    let genesis = match store.get_by_seq(&chain, 0) {
        Ok(genesis) => genesis.filter(shows_no_proof),
        Err(error) => return unreadable(error),
    };
    let held = ProfileHeld {
        genesis: genesis.map(|g| ByteBuf::from(g.to_bytes())),
        profile: newest_version(&versions),
    };
    fit(held)
}

/// A Genesis whose membrane proof is empty (a founder's, an open pod's) shows nothing a
/// registry pointer does not; one with a proof (an invitation, an Admit decision) is for
/// members only.
fn shows_no_proof(genesis: &Record) -> bool {
    matches!(&genesis.action().body, ActionBody::Genesis { membrane_proof } if membrane_proof.is_empty())
}

fn visibility(record: &Record) -> Option<Visibility> {
    record.action().body.entry_ref().map(|e| e.visibility)
}

/// The newest profile version, as what may be shown of it.
fn newest_version(versions: &[Record]) -> ProfileVersion {
    let Some((newest, older)) = versions.split_last() else {
        return ProfileVersion::NotFound;
    };
    if visibility(newest) == Some(Visibility::Public) {
        let profile: Option<Profile> = newest
            .entry
            .as_ref()
            .and_then(|e| from_canonical_cbor("profile", &e.0).ok());
        // Validation forbids contact data outside Private entries; the record is signed, so
        // it cannot be stripped, and one that carried any is never sent.
        return match profile {
            Some(p) if p.profile_public && p.contact.as_ref().is_none_or(|c| c.is_empty()) => {
                ProfileVersion::Public(ByteBuf::from(newest.to_bytes()))
            }
            // A purged (deleted) entry, or one this node should never have stored.
            _ => ProfileVersion::NotPublic,
        };
    }
    // The Update that narrowed the last public version outranks any replay of the public
    // versions, and its signed action is no secret: its Withdraw went out on the open topic.
    let last_public = older
        .iter()
        .rev()
        .find(|r| visibility(r) == Some(Visibility::Public));
    let withdrawal = last_public.and_then(|public| {
        versions.iter().find(|r| {
            visibility(r) != Some(Visibility::Public)
                && matches!(&r.action().body, ActionBody::Update { original, .. } if *original == public.hash())
        })
    });
    match withdrawal {
        Some(update) => ProfileVersion::Withdrawn(ByteBuf::from(update.without_entry().to_bytes())),
        None => ProfileVersion::NotPublic,
    }
}

/// The answer, within [`MAX_PROFILE_BYTES`]: without the Genesis if need be, refused if even
/// that is too large (a valid profile record never is).
fn fit(held: ProfileHeld) -> ProfileResponse {
    let whole = ProfileResponse::Held(held.clone());
    if whole.to_bytes().len() <= MAX_PROFILE_BYTES {
        return whole;
    }
    let bare = ProfileResponse::Held(ProfileHeld {
        genesis: None,
        profile: held.profile,
    });
    if bare.to_bytes().len() <= MAX_PROFILE_BYTES {
        return bare;
    }
    ProfileResponse::Refused {
        reason: format!("the profile record is over the {MAX_PROFILE_BYTES}-byte answer bound"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::profile::verify::tests::{
        genesis, profile_record, profile_update, AGENT_SEED, POD,
    };
    use crate::store::{MemoryStore, Store};

    fn request() -> Vec<u8> {
        ProfileRequest {
            pod: POD,
            agent: myco_dna::agent_key_of(&myco_dna::SigningKey::from_bytes(&[AGENT_SEED; 32])),
        }
        .to_bytes()
    }

    #[test]
    fn malformed_profile_requests_are_refused_with_a_reason() {
        let store = MemoryStore::new();
        for bytes in [&[][..], &[2, 0xff], &[9, 0]] {
            assert!(matches!(
                answer(&store, |_| true, bytes),
                ProfileResponse::Refused { .. }
            ));
        }
    }

    use crate::store::ValidRecord;

    #[test]
    fn a_public_profile_is_served_as_its_signed_record_with_the_genesis() {
        let mut store = MemoryStore::new();
        let g = genesis(AGENT_SEED, POD);
        let p = profile_record(AGENT_SEED, &g, Visibility::Public, "ana");
        store
            .append_batch(&ValidRecord::chain(&[g.clone(), p.clone()]))
            .unwrap();
        let ProfileResponse::Held(held) = answer(&store, |_| true, &request()) else {
            panic!("answered")
        };
        assert_eq!(held.genesis.map(ByteBuf::into_vec), Some(g.to_bytes()));
        assert_eq!(
            held.profile,
            ProfileVersion::Public(ByteBuf::from(p.to_bytes()))
        );
    }

    #[test]
    fn a_pod_profile_sends_no_entry_and_a_narrowed_one_only_the_narrowing_signed_action() {
        let mut store = MemoryStore::new();
        let g = genesis(AGENT_SEED, POD);
        let pod_only = profile_record(AGENT_SEED, &g, Visibility::Pod, "ana");
        store
            .append_batch(&ValidRecord::chain(&[g.clone(), pod_only.clone()]))
            .unwrap();
        let ProfileResponse::Held(held) = answer(&store, |_| true, &request()) else {
            panic!("answered")
        };
        assert_eq!(held.profile, ProfileVersion::NotPublic);

        // Narrowed by an Update of the public version (whose Withdraw was gossiped), then
        // made private: the narrowing Update is what is shown, without its entry.
        let mut store = MemoryStore::new();
        let public = profile_record(AGENT_SEED, &g, Visibility::Public, "ana");
        let narrowed = profile_update(AGENT_SEED, &public, &public, Visibility::Pod);
        let private = profile_update(AGENT_SEED, &narrowed, &narrowed, Visibility::Private);
        store
            .append_batch(&ValidRecord::chain(&[
                g.clone(),
                public.clone(),
                narrowed.clone(),
                private,
            ]))
            .unwrap();
        let ProfileResponse::Held(held) = answer(&store, |_| true, &request()) else {
            panic!("answered")
        };
        assert_eq!(
            held.profile,
            ProfileVersion::Withdrawn(ByteBuf::from(narrowed.without_entry().to_bytes()))
        );

        // A fresh Pod profile next to a public one withdrew nothing: no signed action of it
        // leaves the pod.
        let mut store = MemoryStore::new();
        let fresh = profile_record(AGENT_SEED, &public, Visibility::Pod, "ana");
        store
            .append_batch(&ValidRecord::chain(&[g, public, fresh]))
            .unwrap();
        let ProfileResponse::Held(held) = answer(&store, |_| true, &request()) else {
            panic!("answered")
        };
        assert_eq!(held.profile, ProfileVersion::NotPublic);
    }

    #[test]
    fn pods_this_node_does_not_host_are_refused() {
        let store = MemoryStore::new();
        assert!(matches!(
            answer(&store, |_| false, &request()),
            ProfileResponse::Refused { .. }
        ));
    }
}
