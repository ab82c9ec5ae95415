//! Splitting an amount by weights with the largest-remainder method, in integers.
//!
//! Each recipient first gets ⌊amount × weight / total⌋. The units left over go one each to the
//! recipients with the largest remainders; ties go to the lower key (for revenue shares: the
//! lower key hash, with the community after every member).

use std::collections::BTreeMap;

use myco_dna::KeyHash;

use super::types::{MinorUnits, Payout};
use crate::content::{Content, Recipient};

/// A value event's amount split by its content's revenue share: what each member gets by
/// name, and the community's part, still to be shared out by the DNA's benefit model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevenueSplit {
    /// Each named member's part.
    pub members: BTreeMap<KeyHash, u64>,
    /// The community's part.
    pub community: u64,
}

/// Splits `amount` by the revenue share of `content`, whose creator is `creator` (all of it
/// to the creator when the content names no share). The validator of distributions and the
/// daemon that writes them both call this, so they cannot disagree.
pub fn revenue_split(amount: u64, creator: &KeyHash, content: &Content) -> RevenueSplit {
    let weights: Vec<(Recipient, u64)> = match &content.revenue_share {
        None => vec![(Recipient::Member(*creator), 10_000)],
        Some(shares) => shares
            .iter()
            .map(|s| (s.recipient, u64::from(s.bp.0)))
            .collect(),
    };
    let mut split = RevenueSplit::default();
    for (recipient, part) in largest_remainder(amount, &weights) {
        match recipient {
            Recipient::Member(key) => *split.members.entry(key).or_default() += part,
            Recipient::Community => split.community += part,
        }
    }
    split
}

impl RevenueSplit {
    /// Adds the community's part, shared among `weights` (key, weight) by largest remainder,
    /// to the members' parts. With no community part, `weights` are not read.
    pub fn share_community(mut self, weights: &[(KeyHash, u64)]) -> BTreeMap<KeyHash, u64> {
        if self.community > 0 {
            for (key, part) in largest_remainder(self.community, weights) {
                *self.members.entry(key).or_default() += part;
            }
        }
        self.members.retain(|_, part| *part > 0);
        self.members
    }
}

/// Parts as payouts: sorted by recipient, none zero, as a distribution lists them.
pub fn payouts_of(parts: &BTreeMap<KeyHash, u64>) -> Vec<Payout> {
    parts
        .iter()
        .filter(|(_, part)| **part > 0)
        .map(|(key, part)| Payout {
            recipient: *key,
            amount: MinorUnits(*part),
        })
        .collect()
}

/// Splits `amount` among `weights` (key, weight). Keys must be distinct; a zero total weight
/// yields nothing. The result is in key order and sums to `amount` whenever weights sum > 0.
pub fn largest_remainder<K: Ord + Copy>(amount: u64, weights: &[(K, u64)]) -> Vec<(K, u64)> {
    let total: u128 = weights.iter().map(|(_, w)| u128::from(*w)).sum();
    if total == 0 {
        return Vec::new();
    }
    let mut parts: Vec<(K, u64, u128)> = weights
        .iter()
        .map(|(key, weight)| {
            let scaled = u128::from(amount) * u128::from(*weight);
            // scaled / total ≤ amount, so it fits in u64.
            (*key, (scaled / total) as u64, scaled % total)
        })
        .collect();
    let given: u64 = parts.iter().map(|(_, base, _)| base).sum();
    let mut leftover = amount - given;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| {
        parts[b]
            .2
            .cmp(&parts[a].2)
            .then(parts[a].0.cmp(&parts[b].0))
    });
    for index in order {
        if leftover == 0 {
            break;
        }
        parts[index].1 += 1;
        leftover -= 1;
    }
    let mut out: Vec<(K, u64)> = parts
        .into_iter()
        .map(|(k, amount, _)| (k, amount))
        .collect();
    out.sort_by_key(|part| part.0);
    out
}

#[cfg(test)]
mod tests {
    use super::largest_remainder;

    #[test]
    fn leftover_units_go_to_the_largest_remainders() {
        // 100 split 1:1:1 → 33.33 each; one unit left, tie broken by the lowest key.
        assert_eq!(
            largest_remainder(100, &[(3, 1), (1, 1), (2, 1)]),
            vec![(1, 34), (2, 33), (3, 33)]
        );
        // 7500/2500 of 101 → 75.75 and 25.25: the larger remainder gets the unit.
        assert_eq!(
            largest_remainder(101, &[(1, 7500), (2, 2500)]),
            vec![(1, 76), (2, 25)]
        );
    }

    #[test]
    fn the_parts_always_sum_to_the_amount() {
        for amount in [0u64, 1, 2, 99, 1000, 12_345, u64::MAX / 3] {
            let parts = largest_remainder(amount, &[(1, 3), (2, 5), (3, 7), (4, 9985)]);
            assert_eq!(
                parts.iter().map(|(_, a)| u128::from(*a)).sum::<u128>(),
                u128::from(amount)
            );
        }
    }

    #[test]
    fn zero_total_weight_gives_nothing() {
        assert!(largest_remainder(10, &[(1, 0)]).is_empty());
    }
}
