//! Entry types of the value zome.

use myco_dna::{ActionHash, KeyHash};
use serde::{Deserialize, Serialize};

use crate::governance::RoleProof;

/// Entry type name of a value event.
pub const VALUE_EVENT: &str = "value_event";
/// Entry type name of a distribution.
pub const DISTRIBUTION: &str = "distribution";

/// An amount of money in a currency's minor units (cents, øre, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinorUnits(pub u64);

/// Revenue earned by a piece of content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueEvent {
    /// The Create of the content.
    pub content: ActionHash,
    /// How much.
    pub amount: MinorUnits,
    /// ISO 4217 code, for example `EUR`.
    pub currency: String,
    /// `None` when the content's creator records it; a treasurer's role proof otherwise.
    pub role: Option<RoleProof>,
}

/// One recipient's payout.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Payout {
    /// Who.
    pub recipient: KeyHash,
    /// How much.
    pub amount: MinorUnits,
}

/// The split of a value event among its recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// The value event.
    pub event: ActionHash,
    /// Payouts, sorted by recipient, none zero; must equal the computed split exactly.
    pub payouts: Vec<Payout>,
    /// For the `equal` benefit model: the roster checkpoint whose members share the
    /// community's part.
    pub checkpoint: Option<ActionHash>,
    /// For the `contribution` benefit model: content records whose authors share the
    /// community's part, one unit of weight per record.
    pub contributions: Vec<ActionHash>,
    /// `None` when the content's creator records it; a treasurer's role proof otherwise.
    pub role: Option<RoleProof>,
}
