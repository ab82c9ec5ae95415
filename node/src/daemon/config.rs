//! Daemon settings: a TOML file, overridden by flags and `MYCO_*` environment variables
//! (the CLI merges those), with defaults for everything.
//!
//! ```toml
//! # <data-dir>/myco.toml
//! listen = ["/ip4/0.0.0.0/tcp/4710", "/ip4/0.0.0.0/udp/4710/quic-v1"]
//! bootstrap = ["/ip4/192.0.2.7/tcp/4710/p2p/12D3KooW..."]
//! external = []          # addresses others can reach this node at, if not the listen ones
//! api_port = 0           # 0: any free port on 127.0.0.1, written to <data-dir>/api.addr
//! region = "DK"          # declared to pods that restrict where data lives
//!
//! # Bounds (defaults shown; see docs/operations.md)
//! strangers_per_ip = 8          # inbound strangers held from one IP address
//! stranger_idle_secs = 30       # a stranger quiet this long is closed
//! api_header_timeout_secs = 10  # request headers (and the wait between keep-alive requests)
//! api_body_timeout_secs = 10    # a request body
//! api_max_connections = 64      # API connections at once (lowered to fit the file limit)
//! mdns = true                   # find pod members on the LAN by multicast DNS
//!
//! # A bootstrap peer's relay (defaults shown; see docs/operations.md)
//! relay = true                          # serve as a circuit relay for nodes behind NAT
//! relay_max_reservations = 128          # reservations held at once
//! relay_max_reservations_per_peer = 4
//! relay_reservation_secs = 3600         # a reservation's lifetime before renewal
//! relay_max_circuits = 64               # circuits open at once
//! relay_max_circuits_per_peer = 8
//! relay_max_circuit_secs = 1800         # one circuit's lifetime
//! relay_max_circuit_bytes = 67108864    # bytes one circuit carries each way (64 MiB)
//! ```

use std::path::Path;

use std::time::Duration;

use libp2p::Multiaddr;
use serde::Deserialize;

use crate::api::ApiLimits;
use crate::net::{RelayLimits, StrangerLimits};

/// The config file's default name inside the data dir.
pub const CONFIG_FILE: &str = "myco.toml";
/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;
/// Most addresses of each kind: more is a mistake, and each one is dialled or bound.
pub const MAX_ADDRESSES: usize = 32;

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file does not parse.
    #[error("the config file {path} is invalid: {detail}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
}

/// The settings file, as written. Every field is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// Addresses to listen on.
    pub listen: Option<Vec<Multiaddr>>,
    /// Bootstrap peers, with `/p2p/<peer id>`.
    pub bootstrap: Option<Vec<Multiaddr>>,
    /// Addresses others can reach this node at.
    pub external: Option<Vec<Multiaddr>>,
    /// The local API's port on 127.0.0.1.
    pub api_port: Option<u16>,
    /// The region this node declares.
    pub region: Option<String>,
    /// Inbound strangers held at once from one IP address.
    pub strangers_per_ip: Option<usize>,
    /// Seconds a stranger may stay quiet before it is closed.
    pub stranger_idle_secs: Option<u64>,
    /// Seconds an API client has to send a request's headers (and, on a kept-alive
    /// connection, to start the next request).
    pub api_header_timeout_secs: Option<u64>,
    /// Seconds an API client has to send a request's body.
    pub api_body_timeout_secs: Option<u64>,
    /// API connections served at once.
    pub api_max_connections: Option<usize>,
    /// Find pod members on the LAN by mDNS.
    pub mdns: Option<bool>,
    /// Serve as a circuit relay (bootstrap peers).
    pub relay: Option<bool>,
    /// Relay reservations held at once.
    pub relay_max_reservations: Option<usize>,
    /// Relay reservations held at once by one peer.
    pub relay_max_reservations_per_peer: Option<usize>,
    /// Seconds a relay reservation lasts before renewal.
    pub relay_reservation_secs: Option<u64>,
    /// Relayed circuits open at once.
    pub relay_max_circuits: Option<usize>,
    /// Relayed circuits open at once with one peer.
    pub relay_max_circuits_per_peer: Option<usize>,
    /// Seconds one relayed circuit may stay open.
    pub relay_max_circuit_secs: Option<u64>,
    /// Bytes one relayed circuit may carry each way.
    pub relay_max_circuit_bytes: Option<u64>,
}

impl FileSettings {
    /// Reads `path`; a missing file is empty settings when `required` is false.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(FileSettings::default())
            }
            Err(source) => {
                return Err(ConfigError::Io {
                    path: shown,
                    source,
                })
            }
            Ok(meta) => meta,
        };
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::Invalid {
                path: shown,
                detail: format!("over {MAX_CONFIG_BYTES} bytes"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: shown.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: shown,
            detail: e.to_string(),
        })
    }
}

/// The settings a node runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Bootstrap peers.
    pub bootstrap: Vec<Multiaddr>,
    /// Addresses others can reach this node at; empty means the listen addresses.
    pub external: Vec<Multiaddr>,
    /// The local API's port on 127.0.0.1 (0: any free port).
    pub api_port: u16,
    /// The region this node declares.
    pub region: Option<String>,
    /// Bounds on inbound strangers.
    pub strangers: StrangerLimits,
    /// Bounds on the local API's connections.
    pub api: ApiLimits,
    /// Find pod members on the LAN by mDNS.
    pub mdns: bool,
    /// A bootstrap peer's relay limits.
    pub relay: RelayLimits,
}

/// The default listen addresses for a port: TCP and QUIC on every IPv4 interface.
pub fn default_listen(port: u16) -> Vec<Multiaddr> {
    [
        format!("/ip4/0.0.0.0/tcp/{port}"),
        format!("/ip4/0.0.0.0/udp/{port}/quic-v1"),
    ]
    .iter()
    // Both are well-formed multiaddrs for any port.
    .filter_map(|a| a.parse().ok())
    .collect()
}

/// Flag and environment values, each overriding the file when given.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen` / `MYCO_LISTEN`.
    pub listen: Vec<Multiaddr>,
    /// `--bootstrap` / `MYCO_BOOTSTRAP`.
    pub bootstrap: Vec<Multiaddr>,
    /// `--external` / `MYCO_EXTERNAL`.
    pub external: Vec<Multiaddr>,
    /// `--api-port` / `MYCO_API_PORT`.
    pub api_port: Option<u16>,
    /// `--region` / `MYCO_REGION`.
    pub region: Option<String>,
    /// `--no-mdns` / `MYCO_NO_MDNS`.
    pub no_mdns: bool,
}

impl Settings {
    /// Merges flags over the file over the defaults (`default_port` for listening).
    pub fn merge(
        file: FileSettings,
        flags: Overrides,
        default_port: u16,
    ) -> Result<Self, ConfigError> {
        let pick = |flag: Vec<Multiaddr>, file: Option<Vec<Multiaddr>>, default: Vec<Multiaddr>| {
            if !flag.is_empty() {
                flag
            } else {
                file.unwrap_or(default)
            }
        };
        let relay = relay_limits(&file)?;
        let settings = Settings {
            listen: pick(flags.listen, file.listen, default_listen(default_port)),
            bootstrap: pick(flags.bootstrap, file.bootstrap, Vec::new()),
            external: pick(flags.external, file.external, Vec::new()),
            api_port: flags.api_port.or(file.api_port).unwrap_or(0),
            region: flags.region.or(file.region),
            strangers: StrangerLimits {
                per_ip: positive("strangers_per_ip", file.strangers_per_ip)?
                    .unwrap_or(crate::net::strangers::MAX_STRANGERS_PER_IP),
                idle: seconds("stranger_idle_secs", file.stranger_idle_secs)?
                    .unwrap_or(crate::net::strangers::STRANGER_IDLE),
            },
            api: ApiLimits {
                header_timeout: seconds("api_header_timeout_secs", file.api_header_timeout_secs)?
                    .unwrap_or(crate::api::API_HEADER_TIMEOUT),
                body_timeout: seconds("api_body_timeout_secs", file.api_body_timeout_secs)?
                    .unwrap_or(crate::api::API_BODY_TIMEOUT),
                max_connections: positive("api_max_connections", file.api_max_connections)?
                    .unwrap_or(crate::api::API_MAX_CONNECTIONS),
            },
            mdns: !flags.no_mdns && file.mdns.unwrap_or(true),
            relay,
        };
        for (what, list) in [
            ("listen", &settings.listen),
            ("bootstrap", &settings.bootstrap),
            ("external", &settings.external),
        ] {
            if list.len() > MAX_ADDRESSES {
                return Err(ConfigError::Invalid {
                    path: "(settings)".into(),
                    detail: format!("{} {what} addresses; at most {MAX_ADDRESSES}", list.len()),
                });
            }
        }
        Ok(settings)
    }
}

/// The relay limits the file sets, each over its default.
fn relay_limits(file: &FileSettings) -> Result<RelayLimits, ConfigError> {
    let defaults = RelayLimits::default();
    Ok(RelayLimits {
        enabled: file.relay.unwrap_or(defaults.enabled),
        max_reservations: positive("relay_max_reservations", file.relay_max_reservations)?
            .unwrap_or(defaults.max_reservations),
        max_reservations_per_peer: positive(
            "relay_max_reservations_per_peer",
            file.relay_max_reservations_per_peer,
        )?
        .unwrap_or(defaults.max_reservations_per_peer),
        reservation_duration: seconds("relay_reservation_secs", file.relay_reservation_secs)?
            .unwrap_or(defaults.reservation_duration),
        max_circuits: positive("relay_max_circuits", file.relay_max_circuits)?
            .unwrap_or(defaults.max_circuits),
        max_circuits_per_peer: positive(
            "relay_max_circuits_per_peer",
            file.relay_max_circuits_per_peer,
        )?
        .unwrap_or(defaults.max_circuits_per_peer),
        max_circuit_duration: seconds("relay_max_circuit_secs", file.relay_max_circuit_secs)?
            .unwrap_or(defaults.max_circuit_duration),
        max_circuit_bytes: match file.relay_max_circuit_bytes {
            Some(0) => {
                return Err(ConfigError::Invalid {
                    path: "(settings)".into(),
                    detail: "relay_max_circuit_bytes = 0 would close every circuit at once; give at least 1, set `relay = false` to serve no relay, or leave it out for the default".into(),
                })
            }
            other => other.unwrap_or(defaults.max_circuit_bytes),
        },
    })
}

/// A count that must be at least 1: zero would refuse everyone.
fn positive(name: &str, value: Option<usize>) -> Result<Option<usize>, ConfigError> {
    match value {
        Some(0) => Err(ConfigError::Invalid {
            path: "(settings)".into(),
            detail: format!("{name} = 0 would refuse every connection; give at least 1, or leave it out for the default"),
        }),
        other => Ok(other),
    }
}

/// A bound in seconds that must be at least 1: zero would close every connection at once.
fn seconds(name: &str, value: Option<u64>) -> Result<Option<Duration>, ConfigError> {
    match value {
        Some(0) => Err(ConfigError::Invalid {
            path: "(settings)".into(),
            detail: format!("{name} = 0 would close every connection at once; give at least 1, or leave it out for the default"),
        }),
        other => Ok(other.map(Duration::from_secs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let file: FileSettings =
            toml::from_str("api_port = 9\nregion = \"DK\"\nlisten = [\"/ip4/127.0.0.1/tcp/5\"]")
                .expect("parses");
        let flags = Overrides {
            api_port: Some(10),
            ..Overrides::default()
        };
        let s = Settings::merge(file, flags, 4710).expect("merge");
        assert_eq!(s.api_port, 10);
        assert_eq!(s.region.as_deref(), Some("DK"));
        assert_eq!(s.listen.len(), 1);
        let defaults =
            Settings::merge(FileSettings::default(), Overrides::default(), 4710).expect("merge");
        assert_eq!(defaults.listen.len(), 2);
    }

    #[test]
    fn bounds_come_from_the_file_or_their_defaults_and_zero_is_refused() {
        let defaults =
            Settings::merge(FileSettings::default(), Overrides::default(), 4710).expect("merge");
        assert_eq!(defaults.strangers, StrangerLimits::default());
        assert_eq!(defaults.api, ApiLimits::default());
        let file: FileSettings =
            toml::from_str("stranger_idle_secs = 2\nstrangers_per_ip = 500\napi_header_timeout_secs = 1\napi_max_connections = 4")
                .expect("parses");
        let s = Settings::merge(file, Overrides::default(), 4710).expect("merge");
        assert_eq!(s.strangers.idle, Duration::from_secs(2));
        assert_eq!(s.strangers.per_ip, 500);
        assert_eq!(s.api.header_timeout, Duration::from_secs(1));
        assert_eq!(s.api.max_connections, 4);
        for zero in ["stranger_idle_secs = 0", "api_max_connections = 0"] {
            let file: FileSettings = toml::from_str(zero).expect("parses");
            let error = Settings::merge(file, Overrides::default(), 4710).expect_err(zero);
            assert!(error.to_string().contains("at least 1"), "{error}");
        }
    }

    #[test]
    fn mdns_is_on_unless_the_file_or_a_flag_turns_it_off_and_relay_limits_are_read() {
        let defaults =
            Settings::merge(FileSettings::default(), Overrides::default(), 4710).expect("merge");
        assert!(defaults.mdns);
        assert_eq!(defaults.relay, RelayLimits::default());
        let off: FileSettings = toml::from_str("mdns = false").expect("parses");
        assert!(
            !Settings::merge(off, Overrides::default(), 0)
                .expect("merge")
                .mdns
        );
        let flag = Overrides {
            no_mdns: true,
            ..Overrides::default()
        };
        assert!(
            !Settings::merge(FileSettings::default(), flag, 0)
                .expect("merge")
                .mdns
        );
        let file: FileSettings =
            toml::from_str("relay_max_circuits = 2\nrelay_max_circuit_secs = 60\nrelay = false")
                .expect("parses");
        let s = Settings::merge(file, Overrides::default(), 4710).expect("merge");
        assert_eq!(s.relay.max_circuits, 2);
        assert_eq!(s.relay.max_circuit_duration, Duration::from_secs(60));
        assert!(!s.relay.enabled);
        let zero: FileSettings = toml::from_str("relay_max_circuit_bytes = 0").expect("parses");
        let error = Settings::merge(zero, Overrides::default(), 4710).expect_err("zero bytes");
        assert!(error.to_string().contains("at least 1"), "{error}");
    }

    #[test]
    fn unknown_settings_are_refused() {
        assert!(toml::from_str::<FileSettings>("listne = []").is_err());
    }
}
