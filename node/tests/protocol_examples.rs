//! The example messages of `docs/protocol.md` ("Example messages") are what this build writes.
//!
//! Another implementation is meant to be written from that document alone, so its example
//! bytes must not drift from the code. This test rebuilds every example from the inputs the
//! section names (the golden records of `dna/tests/common`, agent key seed `0x2a` × 32, pod
//! `0x11` × 32, node key seed `0x07` × 32) and compares them with the hex in the document, read
//! from the file itself.
//!
//! If it fails after a deliberate wire change, regenerate the section from the values this test
//! prints; if it fails otherwise, the wire format changed by accident.

#[path = "../../dna/tests/common/mod.rs"]
mod golden;

use myco_dna::encoding::to_canonical_cbor;
use myco_dna::signing::message_digest;
use myco_dna::{agent_key_of, blake2b_256, Timestamp};
use myco_node::engine::{BindingTerms, GossipMessage, SessionBinding, SyncRequest, SyncResponse};
use myco_node::net::profile::{ProfileHeld, ProfileRequest, ProfileResponse, ProfileVersion};
use myco_node::registry::{Pointer, PointerTerms, REGISTRY_KEY_PREFIX};
use serde_bytes::ByteBuf;

const PROTOCOL_DOC: &str = include_str!("../../docs/protocol.md");
const SECTION: &str = "### Example messages";
/// The golden records' first timestamp, in µs.
const T0: u64 = 1_700_000_000_000_000;
const SECOND: u64 = 1_000_000;

/// One value in a code block: hex digits, optionally after a label (`digest`, `id`, …).
#[derive(Debug, PartialEq, Eq)]
struct Item {
    label: String,
    hex: String,
}

impl Item {
    fn bare(bytes: &[u8]) -> Self {
        Item {
            label: String::new(),
            hex: hex::encode(bytes),
        }
    }

    fn labelled(label: &str, bytes: &[u8]) -> Self {
        Item {
            label: label.to_string(),
            hex: hex::encode(bytes),
        }
    }
}

/// The text of the examples section, up to the next heading.
fn section() -> &'static str {
    let start = PROTOCOL_DOC
        .find(SECTION)
        .unwrap_or_else(|| panic!("docs/protocol.md has no {SECTION:?} section"));
    let body = &PROTOCOL_DOC[start + SECTION.len()..];
    let end = body.find("\n#").unwrap_or(body.len());
    &body[..end]
}

/// The code blocks of the section, each as its items. Hex lines join the item above them; a
/// blank line ends an unlabelled item; `label hex` starts a labelled one.
fn blocks(section: &str) -> Vec<Vec<Item>> {
    let is_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut out = Vec::new();
    let mut current: Option<Vec<Item>> = None;
    let mut open = false;
    for line in section.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            match current.take() {
                Some(items) => out.push(items),
                None => current = Some(Vec::new()),
            }
            open = false;
            continue;
        }
        let Some(items) = current.as_mut() else {
            continue;
        };
        if line.is_empty() {
            open = false;
        } else if is_hex(line) && open {
            items.last_mut().unwrap().hex.push_str(line);
        } else if is_hex(line) {
            items.push(Item {
                label: String::new(),
                hex: line.to_string(),
            });
            open = true;
        } else {
            let (label, hex) = line
                .split_once(char::is_whitespace)
                .unwrap_or_else(|| panic!("unreadable line in an example block: {line:?}"));
            let hex = hex.trim();
            assert!(is_hex(hex), "not `label hex`: {line:?}");
            items.push(Item {
                label: label.to_string(),
                hex: hex.to_string(),
            });
            open = true;
        }
    }
    assert!(current.is_none(), "an example block is not closed");
    out
}

/// Every example, built by this build's encoders, block by block.
struct Examples {
    blocks: Vec<Vec<Item>>,
    /// Values the prose gives in backticks.
    inline: Vec<String>,
}

fn examples() -> Examples {
    let records = golden::one_of_each();
    let (create, update) = (&records[1], &records[2]);
    let agent_key = golden::key(42);
    let agent = agent_key_of(&agent_key);
    let key_hash = agent.key_hash();
    let pod = golden::POD;
    let node = libp2p::identity::Keypair::ed25519_from_bytes([7; 32]).unwrap();
    let peer = node.public().to_peer_id();

    let terms = BindingTerms {
        agent,
        peer: peer.to_bytes(),
        pod,
        region: Some("DK".into()),
        expires: Timestamp(T0 + 3_600 * SECOND),
    };
    let terms_cbor = to_canonical_cbor(&terms);
    let binding = SessionBinding::sign(&agent_key, terms.clone());
    binding.verify().unwrap();
    let heights = SyncRequest::Heights {
        pod,
        binding: binding.clone(),
        after: None,
    }
    .to_bytes();
    let last_page = |own_only| {
        SyncResponse::Heights {
            pod,
            heights: Vec::new(),
            more: false,
            own_only,
        }
        .to_bytes()
    };
    let have = GossipMessage::Have {
        pod,
        hash: update.hash(),
        author: update.action().author.key_hash(),
        seq: update.action().seq,
    }
    .to_bytes();
    let record = GossipMessage::Record(ByteBuf::from(create.to_bytes())).to_bytes();
    let profile_request = ProfileRequest { pod, agent }.to_bytes();
    let held = ProfileResponse::Held(ProfileHeld {
        genesis: None,
        profile: ProfileVersion::NotFound,
    })
    .to_bytes();
    let pointer = Pointer::sign(
        &agent_key,
        PointerTerms {
            agent,
            pods: vec![pod],
            seq: 1,
            expires: Timestamp(T0 + 24 * 3_600 * SECOND),
        },
    )
    .to_bytes();

    Examples {
        blocks: vec![
            vec![
                Item::bare(&terms_cbor),
                Item::labelled(
                    "digest",
                    &message_digest(myco_node::engine::BINDING_DOMAIN, &terms_cbor),
                ),
                Item::labelled("signature", &binding.signature.0),
            ],
            vec![Item::bare(&heights)],
            vec![
                Item::bare(&last_page(false)),
                Item::bare(&last_page(true)),
                Item::bare(&SyncResponse::Pushed.to_bytes()),
            ],
            vec![Item::bare(&have), Item::labelled("id", &blake2b_256(&have))],
            vec![Item::bare(&profile_request), Item::bare(&held)],
            vec![Item::bare(&pointer)],
        ],
        inline: vec![
            format!("`{}`", hex::encode(key_hash.as_bytes())),
            format!("`{peer}`"),
            format!("`{}`", hex::encode(peer.to_bytes())),
            format!("canonical CBOR ({} bytes)", terms_cbor.len()),
            format!("as sync request bytes ({})", heights.len()),
            format!("golden create: {} bytes", record.len()),
            format!(
                "`{} {} {}` then the\ncreate's {} wire bytes",
                hex::encode(&record[..3]),
                hex::encode(&record[3..9]),
                hex::encode(&record[9..12]),
                create.to_bytes().len()
            ),
            format!("`{}`", hex::encode(blake2b_256(&record))),
            format!("`{}` ‖ key hash", hex::encode(REGISTRY_KEY_PREFIX)),
        ],
    }
}

#[test]
fn the_example_section_parses_into_its_code_blocks() {
    let parsed = blocks("x\n```\naa\nbb\n\ncc\nid dd\n   ee\n```\ny\n```\nff\n```\n");
    assert_eq!(
        parsed,
        vec![
            vec![
                Item::bare(&[0xaa, 0xbb]),
                Item::bare(&[0xcc]),
                Item::labelled("id", &[0xdd, 0xee]),
            ],
            vec![Item::bare(&[0xff])],
        ]
    );
}

#[test]
fn every_example_message_in_the_protocol_doc_is_what_this_build_writes() {
    let expected = examples();
    let documented = blocks(section());
    assert_eq!(
        documented.len(),
        expected.blocks.len(),
        "docs/protocol.md's examples section has {} code blocks; this test knows {}",
        documented.len(),
        expected.blocks.len()
    );
    for (index, (doc, built)) in documented.iter().zip(&expected.blocks).enumerate() {
        assert_eq!(
            doc, built,
            "example block {index} of docs/protocol.md differs from what this build writes"
        );
    }
    let prose = section();
    for value in &expected.inline {
        assert!(
            prose.contains(value.as_str()),
            "docs/protocol.md's examples section does not say {value:?}"
        );
    }
}

#[test]
fn the_documented_examples_decode_as_what_they_claim_to_be() {
    let documented = blocks(section());
    let bytes = |block: usize, item: usize| hex::decode(&documented[block][item].hex).unwrap();
    assert!(matches!(
        SyncRequest::from_bytes(&bytes(1, 0)),
        Ok(SyncRequest::Heights { after: None, .. })
    ));
    for item in 0..3 {
        SyncResponse::from_bytes(&bytes(2, item)).unwrap();
    }
    assert!(matches!(
        GossipMessage::from_bytes(&bytes(3, 0)),
        Ok(GossipMessage::Have { seq: 2, .. })
    ));
    ProfileRequest::from_bytes(&bytes(4, 0)).unwrap();
    ProfileResponse::from_bytes(&bytes(4, 1)).unwrap();
    let pointer = Pointer::from_bytes(&bytes(5, 0)).unwrap();
    let key = pointer.terms.agent.key_hash();
    Pointer::validate(&key, &bytes(5, 0), Timestamp(T0), None).unwrap();
}
