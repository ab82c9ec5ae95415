//! The transparency page: one self-contained HTML document of a pod's figures, built from
//! `myco_zomes::state::fold`. Every value shown is escaped.

use std::fmt::Write as _;

use myco_dna::BasisPoints;
use myco_zomes::state::{PodState, StorytellerDashboard};

/// Most audit-log entries shown (the newest).
const MAX_AUDIT_ROWS: usize = 200;

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn percent(bp: BasisPoints) -> String {
    format!("{}.{:02}%", bp.0 / 100, bp.0 % 100)
}

fn row(out: &mut String, cells: &[String]) {
    out.push_str("<tr>");
    for cell in cells {
        let _ = write!(out, "<td>{}</td>", escape(cell));
    }
    out.push_str("</tr>\n");
}

fn table(out: &mut String, title: &str, header: &[&str], rows: Vec<Vec<String>>) {
    let _ = write!(out, "<h2>{}</h2>\n<table><tr>", escape(title));
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    if rows.is_empty() {
        let _ = writeln!(out, "<tr><td colspan=\"{}\">none</td></tr>", header.len());
    }
    for cells in rows {
        row(out, &cells);
    }
    out.push_str("</table>\n");
}

/// Renders the page of pod `name` (`pod` is its id) from its folded state.
pub fn render(name: &str, pod: &str, state: &PodState, me: &StorytellerDashboard) -> String {
    let f = &state.figures;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0} — Myco</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}\
         table{{border-collapse:collapse;margin-bottom:1em}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}\
         code{{font-size:.85em}}</style></head><body>\n<h1>{0}</h1>\n<p>Pod <code>{1}</code>. Every figure is derived \
         by this node from the pod's validated records; any member can check it.</p>\n",
        escape(name),
        escape(pod)
    );
    table(
        &mut out,
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
    let v = &f.content_by_visibility;
    let c = &f.consent_rates_bp;
    table(
        &mut out,
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
    table(
        &mut out,
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
                    kh.to_string(),
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
    table(
        &mut out,
        "Proposals and participation",
        &[
            "proposal",
            "kind",
            "status",
            "yes / no / abstain",
            "electorate",
            "participation",
        ],
        state
            .proposals
            .iter()
            .map(|(hash, p)| {
                let participation = (p.voters() * 100)
                    .checked_div(p.electorate_size)
                    .map_or_else(|| "unknown".to_string(), |pct| format!("{pct}%"));
                vec![
                    hash.to_string(),
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
    let received: Vec<String> = me
        .received
        .iter()
        .map(|(cur, amount)| format!("{amount} {cur}"))
        .collect();
    table(
        &mut out,
        "Your storyteller dashboard",
        &["", ""],
        vec![
            vec!["you".into(), me.storyteller.to_string()],
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
    );
    table(
        &mut out,
        "Governance audit log (newest first, by key hash)",
        &["time (µs)", "actor", "event", "record"],
        state
            .audit_log
            .iter()
            .rev()
            .take(MAX_AUDIT_ROWS)
            .map(|e| {
                vec![
                    e.at.0.to_string(),
                    e.actor.to_string(),
                    e.event.clone(),
                    e.record.to_string(),
                ]
            })
            .collect(),
    );
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        let dna = myco_zomes::load_dna(include_str!("../../../dna/examples/storytelling.toml"))
            .expect("valid");
        let state = myco_zomes::state::fold(&dna, &[], &[], myco_dna::Timestamp(0));
        let me = state.storyteller(&myco_dna::KeyHash([1; 32]));
        let html = render("<script>", "dna_x", &state, &me);
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("Members and roles"));
        assert!(!html.contains("<script>"));
    }
}
