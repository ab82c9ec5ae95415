//! The transparency page: a pod's figures, members, proposals, the reader's own dashboard and
//! the audit log, from the pod's kept figures ([`super::figures`]), in the web app's frame. Members are
//! shown by the username this node holds (else the start of their key hash), times as dates,
//! and every value is escaped by the templates.

mod backups;

use std::collections::BTreeMap;

use maud::{html, Markup};
use myco_dna::{BasisPoints, KeyHash};
use myco_zomes::state::StorytellerDashboard;

use super::app::plots::{bars, columns};
use super::figures::Figures;

/// Most audit-log entries shown (the newest).
const MAX_AUDIT_ROWS: usize = 200;

fn percent(bp: BasisPoints) -> String {
    format!("{}.{:02}%", bp.0 / 100, bp.0 % 100)
}

/// A member as a person reads them.
pub(super) fn who(names: &BTreeMap<KeyHash, String>, key: &KeyHash) -> String {
    names.get(key).cloned().unwrap_or_else(|| {
        let text = key.to_string();
        format!("{}…", text.chars().take(11).collect::<String>())
    })
}

pub(super) fn table(title: &str, header: &[&str], rows: Vec<Vec<String>>) -> Markup {
    html! {
        h2 { (title) }
        table {
            thead { tr { @for h in header { th scope="col" { (h) } } } }
            tbody {
                @if rows.is_empty() { tr { td colspan=(header.len()) { "none" } } }
                @for cells in &rows { tr { @for cell in cells { td { (cell) } } } }
            }
        }
    }
}

/// Renders the transparency page from a pod's kept figures.
pub fn render(figures: &Figures) -> String {
    let view = &figures.view;
    let (name, pod, state, names) = (&view.name, &view.pod, &view.state, &view.names);
    let f = &state.figures;
    let v = &f.content_by_visibility;
    let c = &f.consent_rates_bp;
    let figures_table = table(
        "Figures",
        &["figure", "value"],
        vec![
            vec!["members".into(), f.members.to_string()],
            vec![
                "active members (30 days)".into(),
                f.active_members_30d.to_string(),
            ],
            vec![
                "proposals open / passed / failed".into(),
                format!(
                    "{} / {} / {}",
                    f.proposals_open, f.proposals_passed, f.proposals_failed
                ),
            ],
            vec![
                "mean vote participation".into(),
                percent(f.mean_vote_participation_bp),
            ],
            vec![
                "creator-share compliance".into(),
                percent(f.creator_share_compliance_bp),
            ],
            vec![
                "average creator share".into(),
                percent(f.average_creator_share_bp),
            ],
            vec![
                "deletions / revocations".into(),
                format!("{} / {}", f.deletions, f.revocations),
            ],
            vec![
                "erasure receipts / still owed".into(),
                format!("{} / {}", f.erasure_receipts, f.receipts_owed),
            ],
            vec![
                "warrants / blocked authors".into(),
                format!("{} / {}", f.warrants, f.blocked_authors),
            ],
            vec![
                "replica / backup approvals".into(),
                format!("{} / {}", f.replica_approvals, f.backup_approvals),
            ],
            vec!["emergency actions".into(), f.emergency_actions.to_string()],
        ],
    );
    let consent = table(
        "Consent and visibility",
        &["", "count or rate"],
        vec![
            vec!["public content".into(), v.public.to_string()],
            vec!["pod content".into(), v.pod.to_string()],
            vec!["private content".into(), v.private.to_string()],
            vec!["consent: public sharing".into(), percent(c.public_sharing)],
            vec![
                "consent: community sharing".into(),
                percent(c.community_sharing),
            ],
            vec!["consent: AI analysis".into(), percent(c.ai_analysis)],
            vec!["consent: commercial use".into(), percent(c.commercial_use)],
            vec![
                "consent: attribution required".into(),
                percent(c.attribution_required),
            ],
            vec![
                "consent: modification allowed".into(),
                percent(c.modification_allowed),
            ],
        ],
    );
    let members = table(
        "Members and roles",
        &["member", "roles", "founder", "status"],
        state
            .roster
            .iter()
            .map(|(kh, m)| {
                let status = if m.removed {
                    "removed"
                } else if m.left {
                    "left"
                } else if m.blocked {
                    "blocked"
                } else {
                    "member"
                };
                vec![
                    who(names, kh),
                    m.roles
                        .iter()
                        .map(|r| format!("{r:?}").to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if m.founder { "yes" } else { "" }.into(),
                    status.into(),
                ]
            })
            .collect(),
    );
    let proposals = table(
        "Proposals and participation",
        &[
            "opened",
            "kind",
            "status",
            "yes / no / abstain",
            "electorate",
            "participation",
        ],
        state
            .proposals
            .values()
            .map(|p| {
                let participation = (p.voters() * 100)
                    .checked_div(p.electorate_size)
                    .map_or_else(|| "unknown".to_string(), |pct| format!("{pct}%"));
                vec![
                    crate::dates::micros_as_date(p.opened_at.0),
                    format!(
                        "{}{}",
                        p.kind,
                        if p.emergency { " (emergency)" } else { "" }
                    ),
                    format!("{:?}", p.status).to_lowercase(),
                    format!("{} / {} / {}", p.yes, p.no, p.abstain),
                    p.electorate_size.to_string(),
                    participation,
                ]
            })
            .collect(),
    );
    let replicas = table(
        "Replicas",
        &[
            "approved",
            "archivist",
            "node",
            "region",
            "status",
            "decision",
        ],
        state
            .replicas
            .iter()
            .map(|(decision, r)| {
                let status = match (&r.revoked_by, r.purged) {
                    (None, _) => "approved".to_string(),
                    (Some(_), Some(purged)) => format!("revoked; purged {purged} entries"),
                    (Some(_), None) => "revoked; no purge receipt yet".to_string(),
                };
                vec![
                    crate::dates::micros_as_date(r.approved_at.0),
                    r.archivist
                        .as_ref()
                        .map_or_else(|| "any member's node".into(), |a| who(names, a)),
                    r.node.clone().unwrap_or_default(),
                    r.region.clone(),
                    status,
                    decision.to_string(),
                ]
            })
            .collect(),
    );
    let backups = backups::backups_table(state, names);
    let restores = backups::restores_table(state, names);
    let dashboard = dashboard_table(&view.dashboard, names);
    let mut turnout: Vec<_> = state.proposals.values().collect();
    turnout.sort_by_key(|p| p.opened_at);
    let turnout: Vec<(String, u64)> = turnout
        .iter()
        .rev()
        .take(24)
        .rev()
        .map(|p| {
            let pct = (p.voters() as u64 * 100)
                .checked_div(p.electorate_size as u64)
                .unwrap_or(0);
            (crate::dates::micros_as_day(p.opened_at.0), pct)
        })
        .collect();
    let audit = table(
        "Governance audit log (newest first)",
        &["when", "who", "event", "record"],
        state
            .audit_log
            .iter()
            .rev()
            .take(MAX_AUDIT_ROWS)
            .map(|e| {
                vec![
                    crate::dates::micros_as_date(e.at.0),
                    who(names, &e.actor),
                    e.event.clone(),
                    e.record.to_string(),
                ]
            })
            .collect(),
    );
    let body = html! {
        p {
            "Pod " code { (pod) } ". Every figure is derived by this node from the pod's validated records; any member can check it. "
            a href={ "/app/pods/" (pod) } { "Read its stories" } "."
        }
        p class="meta" {
            "Counted on " (crate::dates::micros_as_date(view.folded_micros)) "."
            @if figures.stale { " Newer records are being counted: reload in a moment." }
        }
        (figures_table)
        (bars("Stories by visibility", &[("public".into(), v.public as u64), ("pod".into(), v.pod as u64), ("private".into(), v.private as u64)]))
        (columns("Vote participation, proposal by proposal (oldest on the left)", "%", &turnout, 100))
        (consent) (members) (replicas) (backups) (restores) (proposals) (dashboard) (audit)
    };
    super::app::pod_page(name, pod, body).into_string()
}

/// This node's agent's own figures in the pod, as a table.
pub fn dashboard_table(me: &StorytellerDashboard, names: &BTreeMap<KeyHash, String>) -> Markup {
    let received: Vec<String> = me
        .received
        .iter()
        .map(|(cur, amount)| format!("{amount} {cur}"))
        .collect();
    table(
        "Your storyteller dashboard",
        &["", ""],
        vec![
            vec!["you".into(), who(names, &me.storyteller)],
            vec!["content".into(), me.content.to_string()],
            vec!["visible to the pod".into(), me.visible.to_string()],
            vec![
                "waiting for approval".into(),
                me.pending_approval.to_string(),
            ],
            vec![
                "revoked / deleted".into(),
                format!("{} / {}", me.revoked, me.deleted),
            ],
            vec![
                "received".into(),
                if received.is_empty() {
                    "nothing yet".into()
                } else {
                    received.join(", ")
                },
            ],
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows_and_names_members() {
        let dna = myco_zomes::load_dna(include_str!("../../../dna/examples/storytelling.toml"))
            .expect("valid");
        let state = myco_zomes::state::fold(&dna, &[], &[], myco_dna::Timestamp(0));
        let me = state.storyteller(&myco_dna::KeyHash([1; 32]));
        let founder = *dna.properties.founders.first().expect("a founder");
        let names = BTreeMap::from([(founder, "<b>ana</b>".to_string())]);
        let view = super::super::figures::StateView {
            pod: "dna_x".into(),
            name: "<script>".into(),
            dashboard: me,
            state,
            names,
            omitted: Default::default(),
            folded_micros: 0,
        };
        let html = render(&Figures {
            view: std::sync::Arc::new(view),
            stale: true,
        });
        assert!(html.contains("being counted"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("&lt;b&gt;ana&lt;/b&gt;"), "{html}");
        assert!(html.contains("Members and roles"));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>"));
    }
}
