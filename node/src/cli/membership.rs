//! `myco pod leave` and `myco pod members`: leaving a pod, and who is in it with which roles.

use std::fmt;

use serde::Serialize;

use super::pod::client;
use super::{output, Context};
use crate::api::types::{LeaveRequest, Left, MembersView};

/// Shown after `myco pod leave --help`.
pub(super) const LEAVE_EXAMPLES: &str = "\
Examples:
  myco pod leave --pod dna_...
  myco pod leave --pod dna_... --reason \"moving away\" --json

After leaving, this node writes nothing more in the pod: every write there is refused.";

/// Shown after `myco pod members --help`.
pub(super) const MEMBERS_EXAMPLES: &str = "\
Examples:
  myco pod members --pod dna_...
  myco pod members --pod dna_... --json

Each role is shown with the GrantRole decision that granted it, or `founder`.";

#[derive(Serialize)]
struct LeaveReport(Left);

impl fmt::Display for LeaveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Left pod {} (Leave {}): {}",
            self.0.pod, self.0.hash, self.0.note
        )
    }
}

pub(super) fn leave(ctx: &Context, pod: &str, reason: Option<String>) -> anyhow::Result<()> {
    let left: Left = client(ctx)?.post(
        &format!("/pods/{}/leave", pod.trim()),
        &LeaveRequest { reason },
    )?;
    output::emit(&LeaveReport(left), ctx.json())
}

#[derive(Serialize)]
struct MembersReport(MembersView);

impl fmt::Display for MembersReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Pod {}: {}",
            self.0.pod,
            output::count(self.0.members.len() as u64, "member")
        )?;
        for member in &self.0.members {
            let name = member.username.as_deref().unwrap_or("(no profile here)");
            let roles: Vec<String> = member
                .roles
                .iter()
                .map(|r| format!("{} by {}", r.role, r.granted_by))
                .collect();
            let roles = if roles.is_empty() {
                "no role".to_string()
            } else {
                roles.join(", ")
            };
            writeln!(f, "  {}  {name}  {roles}", member.key_hash)?;
        }
        Ok(())
    }
}

pub(super) fn members(ctx: &Context, pod: &str) -> anyhow::Result<()> {
    let view: MembersView = client(ctx)?.get(&format!("/pods/{}/members", pod.trim()))?;
    output::emit(&MembersReport(view), ctx.json())
}
