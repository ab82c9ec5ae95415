//! Times as people read them. The chains hold µs since the Unix epoch; pages and commands
//! show dates.

/// A time in µs since the Unix epoch as `2026-12-02 14:05 UTC`.
pub fn micros_as_date(micros: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    i128::from(micros)
        .checked_mul(1_000)
        .and_then(|nanos| time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
        .and_then(|at| at.format(&format).ok())
        .unwrap_or_else(|| format!("{micros} µs after 1970"))
}

/// A time in µs since the Unix epoch as a short day, `Dec 02`, for a plot's axis.
pub fn micros_as_day(micros: u64) -> String {
    let format = time::macros::format_description!("[month repr:short] [day]");
    i128::from(micros)
        .checked_mul(1_000)
        .and_then(|nanos| time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
        .and_then(|at| at.format(&format).ok())
        .unwrap_or_default()
}

/// The current time in µs since the Unix epoch (0 if the clock is before it).
pub fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_read_as_dates() {
        assert_eq!(
            super::micros_as_date(1_796_152_385_920_151),
            "2026-12-01 19:13 UTC"
        );
        assert_eq!(super::micros_as_date(0), "1970-01-01 00:00 UTC");
        assert!(super::micros_as_date(u64::MAX).contains("µs after 1970"));
        assert_eq!(super::micros_as_day(1_796_152_385_920_151), "Dec 01");
    }
}
