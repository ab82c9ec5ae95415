//! `myco status` and `myco lookup`: reading from the running daemon.

use std::fmt;

use serde::Serialize;

use super::pod::client;
use super::{output, Context};
use crate::api::types::{LookupView, StatusView};

/// Shown after `myco status --help`.
pub(super) const STATUS_EXAMPLES: &str = "\
Examples:
  myco status
  myco --data-dir ./alice status --json";

/// Shown after `myco lookup --help`.
pub(super) const LOOKUP_EXAMPLES: &str = "\
Examples:
  myco lookup kh_c5e21ab1c9f6022d81c3b25e3436cb7f1df77f9652ae3e1310c28e621dd87b4c
  myco lookup kh_... --json

Shows the pods the registry lists for the key hash, each `confirmed` (a member of the pod
showed the person's signed Genesis in it) or `claimed` (only the person's own pointer says
so), and the person's profile only if they made it public: the profile shown is always a
record the person signed, checked by this node, never a stranger's say-so.";

#[derive(Serialize)]
struct Status(StatusView);

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        writeln!(f, "agent:    {}", s.agent_key)?;
        writeln!(f, "key hash: {}", s.key_hash)?;
        writeln!(f, "peer id:  {}", s.peer_id)?;
        writeln!(
            f,
            "peers:    {}   uptime: {} s   limbo: {}",
            s.peers, s.uptime_secs, s.limbo
        )?;
        for address in &s.listen {
            writeln!(f, "listen:   {address}")?;
        }
        let n = &s.network;
        let relayed = n.connections.iter().filter(|c| c.relayed).count();
        writeln!(
            f,
            "reach:    {}   connections: {} direct, {} relayed",
            n.reachability.name(),
            n.connections.len() - relayed,
            relayed
        )?;
        for relay in &n.relays {
            writeln!(f, "relayed:  {relay}")?;
        }
        for pod in &s.pods {
            writeln!(
                f,
                "pod:      {} {} ({})",
                pod.dna_hash,
                pod.name,
                output::count(pod.peers as u64, "peer")
            )?;
            for role in &pod.roles {
                let by = if role.granted_by == "founder" {
                    "as a founder".to_string()
                } else {
                    format!("granted by decision {}", role.granted_by)
                };
                writeln!(f, "  role:   {} ({by})", role.role)?;
            }
        }
        for warning in &s.warnings {
            writeln!(f, "WARNING:  {warning}")?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Lookup(LookupView);

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.0;
        if !l.found {
            return write!(f, "No valid registry pointer for {}.", l.key_hash);
        }
        writeln!(f, "{} belongs to:", l.key_hash)?;
        for pod in &l.pods {
            writeln!(f, "  {} ({})", pod.dna_hash, pod.status)?;
        }
        match &l.profile {
            Some(p) => write!(
                f,
                "profile: {} ({}) — {}\n  signed record {} (seq {}) in {}",
                p.display_name, p.username, p.bio, p.record, p.seq, p.pod
            ),
            None => write!(f, "profile: {}", l.profile_status.replace('_', " ")),
        }
    }
}

pub(super) fn status(ctx: &Context) -> anyhow::Result<()> {
    let view: StatusView = client(ctx)?.get("/status")?;
    output::emit(&Status(view), ctx.json())
}

pub(super) fn lookup(ctx: &Context, key_hash: &str) -> anyhow::Result<()> {
    let view: LookupView = client(ctx)?.get(&format!("/lookup/{}", key_hash.trim()))?;
    output::emit(&Lookup(view), ctx.json())
}
