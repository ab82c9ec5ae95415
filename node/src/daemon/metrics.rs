//! Counters and gauges of a running node, served at `/metrics` in Prometheus' text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! metrics {
    ($($name:ident: $kind:literal, $help:literal;)*) => {
        /// The node's counters and gauges. Cheap to update from any task.
        #[derive(Debug, Default)]
        pub struct Metrics {
            $(
                #[doc = $help]
                pub $name: AtomicU64,
            )*
        }

        impl Metrics {
            /// The metrics in Prometheus' text exposition format.
            pub fn render(&self) -> String {
                let mut out = String::new();
                $(
                    let name = concat!("myco_", stringify!($name));
                    // Writing to a String cannot fail.
                    let _ = writeln!(out, "# HELP {name} {}", $help);
                    let _ = writeln!(out, "# TYPE {name} {}", $kind);
                    let _ = writeln!(out, "{name} {}", self.$name.load(Ordering::Relaxed));
                )*
                out
            }
        }
    };
}

metrics! {
    peers_connected: "gauge", "Peers with at least one open connection.";
    pods_hosted: "gauge", "Pods this node hosts.";
    peers_lost: "gauge", "Pod peers whose connections closed, being redialled.";
    connections_closed_dead_total: "counter", "Connections closed because their pings went unanswered.";
    strangers_connected: "gauge", "Inbound connections from strangers: peers that are no proven pod member and no bootstrap peer.";
    strangers_evicted_total: "counter", "Quiet strangers closed to make room for a new connection.";
    strangers_closed_idle_total: "counter", "Strangers closed because they stayed quiet for the idle bound.";
    strangers_refused_total: "counter", "Stranger connections refused because every stranger slot was busy.";
    peers_banned: "gauge", "Peers kept away for flooding this node with requests or forging profile answers.";
    peers_banned_total: "counter", "Peers disconnected and banned for flooding this node with requests or forging profile answers.";
    gossip_received_total: "counter", "Gossip messages received.";
    gossip_rejected_total: "counter", "Gossip messages rejected as invalid (the sender is penalised).";
    sync_requests_total: "counter", "Sync requests received.";
    gossip_dropped_total: "counter", "Gossip messages ignored unjudged because the engine was behind (no penalty; sync carries them).";
    sync_requests_dropped_total: "counter", "Sync requests dropped because too many were waiting for an answer or the engine was behind.";
    sync_requests_failed_total: "counter", "Sync requests this node sent that failed.";
    engine_backlog: "gauge", "Inputs the engine must hear waiting for room in its queue.";
    engine_inputs_dropped_total: "counter", "Inputs dropped because the engine was far behind: profile requests, and what it must hear past the backlog.";
    records_accepted_total: "counter", "Records validated and stored.";
    records_rejected_total: "counter", "Records refused by validation.";
    sync_requests_refused_total: "counter", "Peers' sync requests refused: not a member, no approve_replica decision, a bad binding.";
    local_writes_refused_total: "counter", "Local writes refused because the pod would reject them.";
    store_faults_total: "counter", "Store reads or writes that failed; no verdict was reached on them.";
    registry_published_total: "counter", "Registry pointers this node published.";
    registry_refused_total: "counter", "Registry records refused on PUT or ignored on GET.";
    lookups_ok_total: "counter", "Registry lookups that found a pointer.";
    lookups_failed_total: "counter", "Registry lookups that found nothing valid.";
    profile_forgeries_total: "counter", "Profile answers refused as forgeries (the provider is not asked again).";
    reachability: "gauge", "Whether AutoNAT found this node publicly reachable: 0 unknown, 1 public, 2 private (behind NAT; reached through relays).";
    relay_reservations: "gauge", "Relay slots this node holds at bootstrap peers.";
    connections_direct: "gauge", "Open connections that run directly between the two peers.";
    connections_relayed: "gauge", "Open connections that run through a relay.";
    hole_punches_succeeded_total: "counter", "Relayed connections upgraded to direct ones by hole punching.";
    hole_punches_failed_total: "counter", "Hole punches that failed; those connections stay relayed.";
    sync_bytes_direct_total: "counter", "Sync request and response bytes received over direct connections.";
    sync_bytes_relayed_total: "counter", "Sync request and response bytes received through relays.";
    api_requests_total: "counter", "Local API requests served.";
    api_unauthorized_total: "counter", "Local API requests refused for a missing or wrong token.";
    api_connections: "gauge", "Local API connections open.";
    api_connections_evicted_total: "counter", "Local API connections with no request in flight closed to make room for a new one.";
    api_connections_timed_out_total: "counter", "Local API connections closed because headers or a body did not arrive in time, or a kept-alive connection stayed idle.";
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets a gauge.
    pub fn set(gauge: &AtomicU64, value: u64) {
        gauge.store(value, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_in_prometheus_text_format() {
        let m = Metrics::default();
        Metrics::inc(&m.gossip_received_total);
        let text = m.render();
        assert!(text.contains("# TYPE myco_gossip_received_total counter"));
        assert!(text.contains("myco_gossip_received_total 1\n"));
    }
}
