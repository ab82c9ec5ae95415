//! Typed 32-byte identifiers: agent keys and blake2b-256 hashes.
//!
//! Each identifier is its own type so that an [`ActionHash`] can never be passed where an
//! [`EntryHash`] is expected. Each has a text form `prefix_hex` (for example
//! `act_3f2a…`) that [`std::str::FromStr`] parses back, and each encodes in CBOR as a
//! 32-byte byte string.

use std::fmt;
use std::str::FromStr;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// blake2b with a 256-bit output, the only hash Myco uses.
pub type Blake2b256 = Blake2b<U32>;

/// Hashes `bytes` with blake2b-256.
pub fn blake2b_256(bytes: &[u8]) -> [u8; 32] {
    Blake2b256::digest(bytes).into()
}

/// Why a text identifier did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    /// The text does not start with the type's prefix.
    #[error("expected an identifier starting with `{expected}_`, got `{got}`")]
    WrongPrefix {
        /// The prefix this type uses.
        expected: &'static str,
        /// What the text started with.
        got: String,
    },
    /// The part after the prefix is not 64 hex digits.
    #[error("`{text}` is not a valid {kind}: expected 64 hex digits after `{prefix}_`")]
    BadHex {
        /// Which identifier type was being parsed.
        kind: &'static str,
        /// The prefix this type uses.
        prefix: &'static str,
        /// The text that failed.
        text: String,
    },
}

macro_rules! id32 {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The text prefix of this identifier type.
            pub const PREFIX: &'static str = $prefix;

            /// The raw 32 bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Builds the identifier from a slice, which must be exactly 32 bytes long.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                <[u8; 32]>::try_from(bytes).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Short form keeps logs and test failures readable.
                write!(f, "{}_{}…", $prefix, hex::encode(&self.0[..6]))
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let Some(hex_part) = text.strip_prefix(concat!($prefix, "_")) else {
                    return Err(ParseIdError::WrongPrefix {
                        expected: $prefix,
                        got: text.split('_').next().unwrap_or_default().chars().take(16).collect(),
                    });
                };
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(hex_part, &mut bytes).map_err(|_| ParseIdError::BadHex {
                    kind: $kind,
                    prefix: $prefix,
                    text: text.chars().take(80).collect(),
                })?;
                Ok(Self(bytes))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_bytes(FixedBytesVisitor::<32>($kind)).map(Self)
            }
        }
    };
}

/// Visitor for a byte string of exactly `N` bytes; wrong lengths are a named error.
pub(crate) struct FixedBytesVisitor<const N: usize>(pub(crate) &'static str);

impl<'de, const N: usize> Visitor<'de> for FixedBytesVisitor<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} as a byte string of exactly {} bytes", self.0, N)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        <[u8; N]>::try_from(v).map_err(|_| {
            E::custom(format!(
                "wrong length for {}: expected {} bytes, got {}",
                self.0,
                N,
                v.len()
            ))
        })
    }
}

id32!(
    /// An agent's ed25519 public key (32 bytes). Text form `agent_…`.
    AgentKey, "agent", "agent key"
);
id32!(
    /// blake2b-256 of an agent key: the only identifier the registry stores. Text form `kh_…`.
    KeyHash, "kh", "key hash"
);
id32!(
    /// blake2b-256 of an action's canonical bytes. Text form `act_…`.
    ActionHash, "act", "action hash"
);
id32!(
    /// blake2b-256 of an entry's bytes. Text form `ent_…`.
    EntryHash, "ent", "entry hash"
);
id32!(
    /// blake2b-256 of a canonical DNA manifest; it is the pod id. Text form `dna_…`.
    DnaHash, "dna", "DNA hash"
);

impl AgentKey {
    /// The key's hash, as published in the registry.
    pub fn key_hash(&self) -> KeyHash {
        KeyHash(blake2b_256(&self.0))
    }
}

impl EntryHash {
    /// Hashes entry bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self(blake2b_256(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_rejects_the_wrong_prefix() {
        let hash = ActionHash([7; 32]);
        let text = hash.to_string();
        assert!(text.starts_with("act_"));
        assert_eq!(text.parse::<ActionHash>(), Ok(hash));
        let err = text
            .replace("act_", "ent_")
            .parse::<ActionHash>()
            .unwrap_err();
        assert!(matches!(
            err,
            ParseIdError::WrongPrefix {
                expected: "act",
                ..
            }
        ));
    }

    #[test]
    fn text_form_with_a_short_hex_part_is_a_clear_error() {
        let err = "kh_abcd".parse::<KeyHash>().unwrap_err();
        assert!(err.to_string().contains("64 hex digits"), "{err}");
    }

    #[test]
    fn key_hash_is_blake2b_of_the_key() {
        let key = AgentKey([1; 32]);
        assert_eq!(key.key_hash().0, blake2b_256(&[1; 32]));
    }
}
