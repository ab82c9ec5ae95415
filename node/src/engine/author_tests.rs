//! Local writes that cite what this node does not hold are refused with the real cause.

use myco_dna::ActionHash;

use super::io::{Event, Output, WriteRefusal};
use super::test_support::{dna, engine, T0};
use super::Input;
use crate::daemon::Write;

fn refusal(outputs: &[Output]) -> Option<&WriteRefusal> {
    outputs.iter().find_map(|o| match o {
        Output::Event(Event::AuthorRefused { reason, .. }) => Some(reason),
        _ => None,
    })
}

#[test]
fn deleting_a_record_this_node_never_held_names_the_hash_and_says_what_to_check() {
    let mut node = engine(1);
    let unknown = ActionHash::from_slice(&[0xab; 32]).expect("32 bytes");
    let (body, entry) = Write::Delete { target: unknown }
        .build(T0 + 10, &dna(), Vec::new)
        .expect("builds");
    let outputs = node.handle(
        T0 + 10,
        Input::Author {
            pod: dna().dna_hash(),
            body,
            entry,
        },
    );
    let reason = refusal(&outputs).expect("the write is refused");
    assert_eq!(
        reason,
        &WriteRefusal::NeedsRecords {
            missing: vec![unknown]
        }
    );
    let text = reason.to_string();
    assert!(text.contains(&unknown.to_string()), "{text}");
    assert!(text.contains("check the hash"), "{text}");
}
