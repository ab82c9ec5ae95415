//! Value: what content earned and what was paid out, per currency.

use std::collections::{BTreeMap, BTreeSet};

use myco_dna::{ActionHash, KeyHash};
use serde::Serialize;

use super::input::{Fact, Input};

/// Money recorded in the pod, in minor units per ISO 4217 currency code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ValueState {
    /// Readable value events.
    pub events: usize,
    /// Distributions that took effect: the first per value event, by (timestamp, hash).
    pub distributions: usize,
    /// Value recorded, per currency.
    pub totals: BTreeMap<String, u64>,
    /// Value paid out by distributions, per currency.
    pub distributed: BTreeMap<String, u64>,
    /// What each recipient received, per currency.
    #[serde(serialize_with = "super::ids::text_keys")]
    pub received: BTreeMap<KeyHash, BTreeMap<String, u64>>,
}

/// Folds value events and distributions. Sums saturate rather than overflow.
///
/// A value event is paid out once: a later distribution of the same event is a duplicate and
/// is left out. A distribution whose value event is not readable counts, but its payouts
/// cannot be given a currency and are left out of the sums.
pub(super) fn fold_value(input: &Input) -> ValueState {
    let mut state = ValueState::default();
    let mut paid: BTreeSet<ActionHash> = BTreeSet::new();
    for item in input.items() {
        match &item.fact {
            Fact::ValueEvent(Some(event)) => {
                state.events += 1;
                add(&mut state.totals, &event.currency, event.amount.0);
            }
            Fact::Distribution(Some(distribution)) => {
                if !paid.insert(distribution.event) {
                    continue;
                }
                state.distributions += 1;
                let Some(Fact::ValueEvent(Some(event))) =
                    input.get(&distribution.event).map(|e| &e.fact)
                else {
                    continue;
                };
                for payout in &distribution.payouts {
                    add(&mut state.distributed, &event.currency, payout.amount.0);
                    let received = state.received.entry(payout.recipient).or_default();
                    add(received, &event.currency, payout.amount.0);
                }
            }
            _ => {}
        }
    }
    state
}

fn add(sums: &mut BTreeMap<String, u64>, currency: &str, amount: u64) {
    let sum = sums.entry(currency.to_string()).or_default();
    *sum = sum.saturating_add(amount);
}
