//! Canonical CBOR encoding through ciborium.
//!
//! Hashed data uses fixed structs only (no maps with free-form keys), so serde's field order
//! makes the encoding canonical. Decoding is strict: bytes that decode but do not re-encode to
//! themselves are refused, so a value has exactly one accepted byte form.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input was empty.
    #[error("empty input: expected a {what}")]
    Empty {
        /// What was being decoded.
        what: &'static str,
    },
    /// The input is larger than the bound for its type.
    #[error("{what} is {len} bytes, over the {max}-byte bound")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The format version byte is not one this build understands.
    #[error("unknown {what} format version {version}; this build reads version {supported} (upgrade myco to read newer data)")]
    UnknownVersion {
        /// What was being decoded.
        what: &'static str,
        /// The version found.
        version: u8,
        /// The version this build reads.
        supported: u8,
    },
    /// The CBOR is malformed, truncated or has the wrong shape.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's explanation.
        detail: String,
    },
    /// The CBOR decoded but is not in canonical form.
    #[error("{what} is not canonically encoded (re-encoding gives different bytes)")]
    NotCanonical {
        /// What was being decoded.
        what: &'static str,
    },
    /// Bytes were left over after the value.
    #[error("{what} has {extra} trailing bytes after the value")]
    TrailingBytes {
        /// What was being decoded.
        what: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
}

/// Encodes `value` as canonical CBOR.
pub fn to_canonical_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    // Writing into a Vec cannot fail, and every Myco type serializes without custom errors.
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into a Vec never fails");
    out
}

/// Decodes CBOR without the canonical check; use for data that is not hashed.
pub fn from_cbor<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty { what });
    }
    let mut reader = bytes;
    let value = ciborium::from_reader(&mut reader).map_err(|e| DecodeError::Malformed {
        what,
        detail: describe(e),
    })?;
    if !reader.is_empty() {
        return Err(DecodeError::TrailingBytes {
            what,
            extra: reader.len(),
        });
    }
    Ok(value)
}

/// Decodes CBOR and refuses any byte form other than the canonical one.
pub fn from_canonical_cbor<T: DeserializeOwned + Serialize>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, DecodeError> {
    let value: T = from_cbor(what, bytes)?;
    if to_canonical_cbor(&value) != bytes {
        return Err(DecodeError::NotCanonical { what });
    }
    Ok(value)
}

fn describe<E: std::fmt::Debug>(error: ciborium::de::Error<E>) -> String {
    match error {
        ciborium::de::Error::Io(_) => "input ends early (truncated)".to_string(),
        ciborium::de::Error::Syntax(offset) => format!("invalid CBOR syntax at byte {offset}"),
        ciborium::de::Error::Semantic(offset, msg) => match offset {
            Some(at) => format!("{msg} (at byte {at})"),
            None => msg,
        },
        ciborium::de::Error::RecursionLimitExceeded => "nesting too deep".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Pair {
        a: u64,
        b: String,
    }

    #[test]
    fn empty_input_is_a_clear_error() {
        let err = from_cbor::<Pair>("pair", &[]).unwrap_err();
        assert_eq!(err, DecodeError::Empty { what: "pair" });
    }

    #[test]
    fn truncated_input_is_a_clear_error() {
        let bytes = to_canonical_cbor(&Pair {
            a: 1,
            b: "hello".into(),
        });
        let err = from_cbor::<Pair>("pair", &bytes[..bytes.len() - 2]).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = to_canonical_cbor(&Pair {
            a: 1,
            b: "x".into(),
        });
        bytes.push(0);
        let err = from_cbor::<Pair>("pair", &bytes).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TrailingBytes {
                what: "pair",
                extra: 1
            }
        );
    }

    #[test]
    fn non_canonical_integer_width_is_refused() {
        // {"a": 1, "b": ""} with `1` written as a two-byte integer (0x18 0x01).
        let bytes = [0xa2, 0x61, b'a', 0x18, 0x01, 0x61, b'b', 0x60];
        assert_eq!(
            from_cbor::<Pair>("pair", &bytes),
            Ok(Pair {
                a: 1,
                b: String::new()
            })
        );
        let err = from_canonical_cbor::<Pair>("pair", &bytes).unwrap_err();
        assert_eq!(err, DecodeError::NotCanonical { what: "pair" });
    }

    #[test]
    fn wrong_shape_is_a_clear_error() {
        let bytes = to_canonical_cbor(&"just a string");
        let err = from_cbor::<Pair>("pair", &bytes).unwrap_err();
        assert!(
            matches!(err, DecodeError::Malformed { what: "pair", .. }),
            "{err}"
        );
    }
}
