//! Bounds on free-text fields.

use myco_dna::Verdict;

/// Refuses `text` longer than `max` bytes, naming the field.
pub fn bounded(field: &str, text: &str, max: usize) -> Result<(), Verdict> {
    if text.len() > max {
        return Err(Verdict::invalid(format!(
            "{field} is {} bytes; at most {max} are allowed",
            text.len()
        )));
    }
    Ok(())
}
