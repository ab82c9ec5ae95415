//! Checks of free-text fields: bounds, and fields a person must fill in.

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

/// Refuses an empty (or blank) `text` for a field a person must fill in.
pub fn required(field: &str, text: &str) -> Result<(), Verdict> {
    if text.trim().is_empty() {
        return Err(Verdict::invalid(format!(
            "the {field} is empty; give it one"
        )));
    }
    Ok(())
}
