//! The checks every signed claim about what a node did shares (a deletion receipt, a replica
//! or restore receipt, a backup listing): Pod visibility, so every member can read it, and a
//! date no later than the record that carries it.

use myco_dna::{Record, Timestamp, Verdict, Visibility};

/// Checks that `record`, carrying `what` dated `dated`, is a readable, honestly dated claim.
pub(crate) fn check_claim(record: &Record, what: &str, dated: Timestamp) -> Result<(), Verdict> {
    let action = record.action();
    if action.body.entry_ref().map(|e| e.visibility) != Some(Visibility::Pod) {
        return Err(Verdict::invalid(format!(
            "{what} has Pod visibility, so every member can read it"
        )));
    }
    if dated > action.timestamp {
        return Err(Verdict::invalid(format!(
            "{what} cannot be dated after the record that carries it"
        )));
    }
    Ok(())
}
