//! `myco run` and `myco bootstrap`: the long-running processes.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use libp2p::Multiaddr;

use super::{passphrase, Context};
use crate::daemon::config::{FileSettings, Overrides, Settings, CONFIG_FILE};
use crate::daemon::{BootstrapOptions, DaemonOptions};
use crate::datadir::{DataDir, DataPaths};
use crate::store::StoreKey;

/// The port a bootstrap peer listens on unless told otherwise: a well-known port, so that
/// bootstrap addresses are easy to hand out.
pub const BOOTSTRAP_PORT: u16 = 4710;
/// Worker threads of the daemon's runtime: the engine runs on one task, so two threads keep
/// the network and the API responsive without spending memory on idle workers.
const WORKER_THREADS: usize = 2;

/// Shown after `myco run --help`.
pub(super) const RUN_EXAMPLES: &str = "\
Examples:
  myco run                                          listen on any free port, API on 127.0.0.1
  myco run --bootstrap /ip4/192.0.2.7/tcp/4710/p2p/12D3KooW...
  MYCO_PASSPHRASE=... myco --data-dir ./alice run --api-port 4780
  RUST_LOG=myco_node=debug myco run                 see why, not only what
  myco --json run                                   each address as a JSON line on stdout
  myco run --no-mdns                                no LAN discovery (or mdns = false in myco.toml)

Settings come from <data-dir>/myco.toml (or --config), then MYCO_* variables and flags.
Stop with Ctrl-C or SIGTERM: the daemon flushes and exits cleanly.

A restored or recovered data dir (it holds restored.toml) writes in a pod only once the
pod's peers have confirmed your newest records there. --accept-fork-risk writes at once: use
it only when no other copy of your chains can exist.";

/// Shown after `myco bootstrap --help`.
pub(super) const BOOTSTRAP_EXAMPLES: &str = "\
Examples:
  myco --data-dir /var/lib/myco-bootstrap bootstrap
  myco --data-dir ./boot bootstrap --listen /ip4/0.0.0.0/tcp/4710 --json
  myco --data-dir ./boot bootstrap --external /ip4/203.0.113.9/tcp/4710
                                  behind a port forward: the address others dial

It also serves as a circuit relay (v2) and an AutoNAT server for daemons behind NAT: they
reserve a slot here and are dialled through it until hole punching connects them directly.
The relay carries noise-encrypted streams only; its limits are settings in myco.toml
(relay_max_circuits, relay_max_circuit_bytes, ...; relay = false turns it off).

A bootstrap peer needs no agent key and holds no agent data: only registry pointers and pod
rendezvous. Its address (with /p2p/<peer id>) is written to <data-dir>/listen.addrs, and with
--json printed on stdout as {\"listening\": \"...\"}, one line per address.";

/// The network settings `run` and `bootstrap` share.
#[derive(Clone, Debug, Args)]
pub struct PeerArgs {
    /// A TOML settings file [default: <data-dir>/myco.toml, if present]
    #[arg(long, env = "MYCO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Addresses to listen on (comma-separated multiaddrs)
    #[arg(long, env = "MYCO_LISTEN", value_delimiter = ',', value_name = "ADDR")]
    pub listen: Vec<Multiaddr>,
    /// Bootstrap peers, each ending in /p2p/<peer id> (comma-separated)
    #[arg(
        long,
        env = "MYCO_BOOTSTRAP",
        value_delimiter = ',',
        value_name = "ADDR"
    )]
    pub bootstrap: Vec<Multiaddr>,
    /// Addresses others reach this node at, when not the listen addresses
    #[arg(
        long,
        env = "MYCO_EXTERNAL",
        value_delimiter = ',',
        value_name = "ADDR"
    )]
    pub external: Vec<Multiaddr>,
    /// Do not look for pod members on the LAN by mDNS (or set `mdns = false` in myco.toml)
    #[arg(long, env = "MYCO_NO_MDNS")]
    pub no_mdns: bool,
}

/// `myco run`'s settings: the network's, the local API's and the node's region.
#[derive(Clone, Debug, Args)]
pub struct NetArgs {
    /// Network settings.
    #[command(flatten)]
    pub peer: PeerArgs,
    /// The local API's port on 127.0.0.1 (0: any free port)
    #[arg(long, env = "MYCO_API_PORT", value_name = "PORT")]
    pub api_port: Option<u16>,
    /// The region this node declares to pods that restrict where data lives
    #[arg(long, env = "MYCO_REGION")]
    pub region: Option<String>,
    /// Write in every pod at once, even if this data dir was restored and the pods' peers
    /// have not confirmed its newest records: only when no other copy of your chains can
    /// exist, since a write on an old copy forks the chain
    #[arg(long)]
    pub accept_fork_risk: bool,
}

impl PeerArgs {
    /// The settings file merged with these flags, and with a daemon's own (`None` for a
    /// bootstrap peer, which has no API and declares no region).
    fn settings(
        &self,
        paths: &DataPaths,
        default_port: u16,
        daemon: Option<&NetArgs>,
    ) -> anyhow::Result<Settings> {
        let (file, required) = match &self.config {
            Some(path) => (path.clone(), true),
            None => (paths.root().join(CONFIG_FILE), false),
        };
        let from_file = FileSettings::load(&file, required)?;
        let overrides = Overrides {
            listen: self.listen.clone(),
            bootstrap: self.bootstrap.clone(),
            external: self.external.clone(),
            api_port: daemon.and_then(|d| d.api_port),
            region: daemon.and_then(|d| d.region.clone()),
            no_mdns: self.no_mdns,
        };
        Ok(Settings::merge(from_file, overrides, default_port)?)
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(super) fn run(ctx: &Context, args: NetArgs) -> anyhow::Result<()> {
    let paths = ctx.paths()?;
    let dir = DataDir::open(paths.clone())?;
    let keystore = paths.keystore();
    let settings = args.peer.settings(&paths, 0, Some(&args))?;
    let key = passphrase::unlock_agent(ctx, &keystore)?;
    let store = dir
        .open_store(&StoreKey::derive(&key))
        .with_context(|| format!("cannot open the store in {}", paths.store_dir().display()))?;
    runtime()?
        .block_on(crate::daemon::run_daemon(DaemonOptions {
            data_dir: dir,
            key,
            store,
            settings,
            announce_json: ctx.json(),
            accept_fork_risk: args.accept_fork_risk,
        }))
        .context("the daemon stopped with an error")
}

pub(super) fn bootstrap(ctx: &Context, args: PeerArgs) -> anyhow::Result<()> {
    let paths = ctx.paths()?;
    let dir = DataDir::create(paths.clone())?;
    let settings = args.settings(&paths, BOOTSTRAP_PORT, None)?;
    runtime()?
        .block_on(crate::daemon::run_bootstrap(BootstrapOptions {
            data_dir: dir,
            settings,
            announce_json: ctx.json(),
        }))
        .context("the bootstrap peer stopped with an error")
}
