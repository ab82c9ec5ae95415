//! A small internet in network namespaces, for NAT traversal tests and the `nat-reach` bench:
//! a public network holding a bootstrap peer (relay and AutoNAT server), and two homes, each
//! behind its own router that translates addresses (masquerade) and drops unsolicited
//! inbound connections, as home routers do.
//!
//! ```text
//!   home 0 (10.233.0.2) ── router 0 (10.233.0.1 | 10.232.0.2) ──┐
//!                                                              public (10.232.0.1, 10.232.1.1)
//!   home 1 (10.233.1.2) ── router 1 (10.233.1.1 | 10.232.1.2) ──┘
//! ```
//!
//! Every address exists only inside the namespaces, which go when the [`Internet`] is dropped.
//! [`Mapping::PortPreserving`] keeps a connection's source port through the router, so a peer
//! seen at `router:port` by the bootstrap peer can be reached there by a hole punch;
//! [`Mapping::RandomPorts`] picks a fresh port for every mapping, which defeats hole punching;
//! [`Mapping::ExposedHost`] keeps ports and also forwards every inbound connection to the
//! home's machine, as a port forward does.

use std::net::Ipv4Addr;
use std::path::Path;

use anyhow::Context as _;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use myco_node::api::client::ApiClient;
use myco_node::api::types::StatusView;
use myco_node::devnet::process::{wait_for_file, Daemon, Process, START_TIMEOUT};
use myco_node::devnet::DEVNET_PASSPHRASE;

use crate::loopback::{holds, metric, peers_in, publish};
use crate::netns::{self, link, within, Namespace};
use myco_node::daemon::reach::Reachability;

/// How a home router maps a connection's source port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapping {
    /// The port is kept where it is free: hole punching works.
    PortPreserving,
    /// Every mapping gets a random port: hole punching cannot work, relays must carry.
    RandomPorts,
    /// Ports are kept, and the router forwards every connection arriving from the WAN to the
    /// home's machine (a "DMZ host", or a port forward of every port): the home daemon is
    /// publicly reachable at the router's address.
    ExposedHost,
}

/// The public address of the bootstrap peer's network.
pub fn public_address() -> Ipv4Addr {
    wan(0, 1)
}

/// A router's public (WAN) address: what peers outside see a home at.
pub fn router_address(home: usize) -> Ipv4Addr {
    wan(home, 2)
}

fn wan(home: usize, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 232, home as u8, host)
}

fn lan(home: usize, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 233, home as u8, host)
}

/// Whether this machine can build the internet: root, iproute2 and nftables.
pub fn available() -> Result<(), String> {
    if !netns::available() {
        return Err("needs root and iproute2 to make network namespaces".into());
    }
    if !netns::nft_available() {
        return Err("needs nftables (`nft`) for the home routers' NAT".into());
    }
    Ok(())
}

/// The public network and two homes behind NAT.
pub struct Internet {
    /// The public network: bootstrap peers, and publicly reachable daemons.
    pub public: Namespace,
    /// The two homes.
    pub homes: [Namespace; 2],
    _routers: [Namespace; 2],
}

impl Internet {
    /// Builds it; `tag` (a few characters) keeps the names of concurrent runs apart.
    pub fn build(tag: &str, mapping: Mapping) -> anyhow::Result<Internet> {
        let public = Namespace::create(&format!("myco-pub-{tag}"))?;
        public.forward()?;
        let mut routers = Vec::new();
        let mut homes = Vec::new();
        for i in 0..2 {
            let router = Namespace::create(&format!("myco-rt{i}-{tag}"))?;
            let home = Namespace::create(&format!("myco-home{i}-{tag}"))?;
            let wan_end = format!("wan{i}{tag}");
            link(
                (&public, &format!("isp{i}{tag}"), wan(i, 1)),
                (&router, &wan_end, wan(i, 2)),
            )?;
            link(
                (&router, &format!("lan{i}{tag}"), lan(i, 1)),
                (&home, &format!("eth{i}{tag}"), lan(i, 2)),
            )?;
            router.forward()?;
            router.default_route(wan(i, 1))?;
            home.default_route(lan(i, 1))?;
            router
                .nft(&router_rules(&wan_end, lan(i, 2), mapping))
                .context("cannot set up the router's NAT")?;
            routers.push(router);
            homes.push(home);
        }
        let [r0, r1]: [Namespace; 2] = routers.try_into().expect("two routers");
        let [h0, h1]: [Namespace; 2] = homes.try_into().expect("two homes");
        Ok(Internet {
            public,
            homes: [h0, h1],
            _routers: [r0, r1],
        })
    }
}

/// A home router's rules: translate what leaves by the WAN to the router's address, and drop
/// new connections arriving from the WAN (dropped unconfirmed, they leave no mapping behind,
/// so they do not spoil a hole punch), except, for [`Mapping::ExposedHost`], those it forwards
/// to `host`.
fn router_rules(wan: &str, host: Ipv4Addr, mapping: Mapping) -> String {
    let flags = match mapping {
        Mapping::PortPreserving | Mapping::ExposedHost => "",
        Mapping::RandomPorts => " random",
    };
    let (forward, accept_forwarded) = match mapping {
        Mapping::ExposedHost => (
            format!("  chain pre {{\n    type nat hook prerouting priority -100;\n    iifname \"{wan}\" meta l4proto tcp dnat to {host}\n  }}\n"),
            "    ct status dnat accept\n",
        ),
        Mapping::PortPreserving | Mapping::RandomPorts => (String::new(), ""),
    };
    format!(
        "table ip nat {{\n{forward}  chain post {{\n    type nat hook postrouting priority 100;\n    oifname \"{wan}\" masquerade{flags}\n  }}\n}}\n\
         table inet filter {{\n  chain input {{\n    type filter hook input priority 0; policy accept;\n    iifname \"{wan}\" ct state new drop\n  }}\n  \
         chain forward {{\n    type filter hook forward priority 0; policy accept;\n{accept_forwarded}    iifname \"{wan}\" ct state new drop\n  }}\n}}\n"
    )
}

/// TCP on every interface, any free port: how a home daemon listens.
pub fn any_tcp() -> Multiaddr {
    Multiaddr::empty()
        .with(Protocol::Ip4(Ipv4Addr::UNSPECIFIED))
        .with(Protocol::Tcp(0))
}

/// Starts `myco run` for the agent in `dir` (which `init_agent` prepared) inside `namespace`,
/// listening on [`any_tcp`], dialling `bootstrap` if given, with mDNS on or off.
pub fn start_member(
    namespace: &Namespace,
    binary: &Path,
    name: &str,
    dir: &Path,
    key_hash: myco_dna::KeyHash,
    bootstrap: Option<&Multiaddr>,
    mdns: bool,
) -> anyhow::Result<Daemon> {
    let _ = std::fs::remove_file(dir.join(myco_node::api::ADDR_FILE));
    std::fs::write(
        dir.join("myco.toml"),
        format!("strangers_per_ip = 64\nmdns = {mdns}\nregion = \"DK\"\n"),
    )?;
    let mut args = vec![
        "run".to_string(),
        "--listen".into(),
        any_tcp().to_string(),
        "--api-port".into(),
        "0".into(),
    ];
    if let Some(bootstrap) = bootstrap {
        args.extend(["--bootstrap".into(), bootstrap.to_string()]);
    }
    within(namespace, || -> anyhow::Result<Daemon> {
        let mut process = Process::spawn(binary, name, dir, &args, DEVNET_PASSPHRASE)?;
        wait_for_file(&mut process, myco_node::api::ADDR_FILE, START_TIMEOUT)?;
        let api = ApiClient::for_data_dir(dir)?;
        Ok(Daemon {
            process,
            api,
            key_hash,
        })
    })
}

/// A daemon's status, asked from inside its namespace.
pub fn status(namespace: &Namespace, api: &ApiClient) -> Option<StatusView> {
    within(namespace, || api.get::<StatusView>("/status").ok())
}

/// The path of the open connections from the daemon behind `api` to `peer`: for each, its
/// remote address and whether it is relayed.
pub fn paths_to(namespace: &Namespace, api: &ApiClient, peer: &str) -> Vec<(String, bool)> {
    status(namespace, api)
        .map(|s| {
            s.network
                .connections
                .into_iter()
                .filter(|c| c.peer == peer)
                .map(|c| (c.address, c.relayed))
                .collect()
        })
        .unwrap_or_default()
}

/// A daemon and the namespace it runs in.
pub struct Member<'a> {
    /// The daemon.
    pub daemon: Daemon,
    /// Its namespace.
    pub home: &'a Namespace,
    /// Its libp2p peer id.
    pub peer: String,
}

impl Member<'_> {
    /// Publishes a public story titled `title`; returns its record's hash.
    pub fn publish(&self, pod: &str, title: &str) -> String {
        within(self.home, || {
            publish(&self.daemon.api, pod, title, "written at home", "public")
        })
    }

    /// Whether it stores the record `hash`.
    pub fn holds(&self, hash: &str) -> bool {
        within(self.home, || holds(&self.daemon.api, hash))
    }

    /// Its peers in `pod`.
    pub fn peers(&self, pod: &str) -> usize {
        within(self.home, || peers_in(&self.daemon.api, pod))
    }

    /// One of its counters or gauges, by name without `myco_`.
    pub fn metric(&self, name: &str) -> u64 {
        within(self.home, || metric(&self.daemon.api, name))
    }

    /// What AutoNAT found (`None` if its API does not answer).
    pub fn reachability(&self) -> Option<Reachability> {
        status(self.home, &self.daemon.api).map(|s| s.network.reachability)
    }

    /// The relayed addresses it listens on: one per relay slot it holds.
    pub fn relay_addresses(&self) -> Vec<String> {
        status(self.home, &self.daemon.api)
            .map(|s| s.network.relays)
            .unwrap_or_default()
    }

    /// The remote addresses and paths of its connections to `other`.
    pub fn paths_to(&self, other: &Member) -> Vec<(String, bool)> {
        paths_to(self.home, &self.daemon.api, &other.peer)
    }
}
