//! Size bounds. Every input is bounded before it is decoded or stored.

/// Largest entry, in bytes. Larger media travels as a blob referenced by hash, so entries stay
/// small enough to gossip in one message and to validate quickly.
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// Largest membrane proof carried in a Genesis action: room for a signed invitation or a
/// decision reference, with generous headroom.
pub const MAX_MEMBRANE_PROOF_BYTES: usize = 4 * 1024;

/// Longest zome or entry-type name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// Largest canonical action, in bytes: a Genesis with the largest membrane proof plus headroom.
pub const MAX_ACTION_BYTES: usize = MAX_MEMBRANE_PROOF_BYTES + 1024;

/// Largest record on the wire or on disk: action, signature, hash and entry, plus CBOR framing.
pub const MAX_RECORD_BYTES: usize = MAX_ENTRY_BYTES + MAX_ACTION_BYTES + 256;
