//! The transparency page's backup sections: the schedules in force, the backups archivists
//! listed, and every emergency restore authorised from them.

use std::collections::BTreeMap;

use maud::{html, Markup};
use myco_dna::KeyHash;
use myco_zomes::state::PodState;

use super::{table, who};

/// The backup schedules in force and every backup archivists listed: when, by whom, its
/// size, its records by type and its hash, and until when it is kept.
pub(super) fn backups_table(state: &PodState, names: &BTreeMap<KeyHash, String>) -> Markup {
    let schedules: Vec<String> = state
        .backup_schedules
        .iter()
        .map(|(decision, s)| {
            format!(
                "`{}` UTC, kept {} days, by the archivist of {} (decision {decision})",
                s.schedule, s.retention_days, s.archivist_approval
            )
        })
        .collect();
    html! {
        @if !schedules.is_empty() {
            p { "Backup schedules: " (schedules.join("; ")) }
        }
        (table(
            "Backups",
            &["taken", "archivist", "bytes", "records", "by type", "blake2b", "kept until", "listing"],
            state
                .backups
                .iter()
                .map(|b| {
                    vec![
                        crate::dates::micros_as_date(b.taken_at.0),
                        who(names, &b.archivist),
                        b.bytes.to_string(),
                        b.records.to_string(),
                        b.counts
                            .iter()
                            .map(|(kind, n)| format!("{kind} {n}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        b.blake2b.clone(),
                        crate::dates::micros_as_date(b.expires_at.0),
                        b.listing.to_string(),
                    ]
                })
                .collect(),
        ))
    }
}

/// Every passed emergency decision authorising a restore: which backup, when, and what the
/// archivist's receipt says once it restored.
pub(super) fn restores_table(state: &PodState, names: &BTreeMap<KeyHash, String>) -> Markup {
    table(
        "Emergency restores",
        &[
            "decided",
            "backup listing",
            "restored",
            "by",
            "records",
            "filled here",
            "decision",
        ],
        state
            .restores
            .iter()
            .map(|r| {
                let (restored, by, records, filled) = match &r.receipt {
                    Some(receipt) => (
                        crate::dates::micros_as_date(receipt.restored_at.0),
                        who(names, &receipt.archivist),
                        receipt.records.to_string(),
                        receipt.filled.to_string(),
                    ),
                    None => ("not yet".into(), "-".into(), "-".into(), "-".into()),
                };
                vec![
                    crate::dates::micros_as_date(r.decided_at.0),
                    r.listing.to_string(),
                    restored,
                    by,
                    records,
                    filled,
                    r.decision.to_string(),
                ]
            })
            .collect(),
    )
}
