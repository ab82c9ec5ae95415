//! Real `myco` processes on loopback, each in its own data dir, stopped cleanly (SIGTERM,
//! then SIGKILL after a grace period) when dropped, so no process outlives its owner.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use libp2p::Multiaddr;
use myco_dna::KeyHash;

use super::DevnetError;
use crate::api::client::ApiClient;

/// How long a process may take to stop after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long a process may take to write its address files after starting.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One child `myco` process.
pub struct Process {
    child: Option<Child>,
    name: String,
    dir: PathBuf,
}

impl Process {
    /// Starts `binary` with `args` on data dir `dir`, stderr going to `<dir>/myco.log`.
    pub fn spawn(
        binary: &Path,
        name: &str,
        dir: &Path,
        args: &[String],
        passphrase: &str,
    ) -> Result<Self, DevnetError> {
        fs::create_dir_all(dir).map_err(|e| DevnetError::io("create a data dir", dir, e))?;
        let log_path = dir.join("myco.log");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| DevnetError::io("open the log", &log_path, e))?;
        let child = Command::new(binary)
            .arg("--data-dir")
            .arg(dir)
            .args(args)
            .env("MYCO_PASSPHRASE", passphrase)
            .env(
                "RUST_LOG",
                std::env::var("MYCO_DEVNET_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| DevnetError::io("start", binary, e))?;
        Ok(Process {
            child: Some(child),
            name: name.to_string(),
            dir: dir.to_path_buf(),
        })
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its data dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its resident memory, in KiB (Linux only).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// Stops it with SIGTERM, waiting for a clean exit; SIGKILL after [`STOP_GRACE`].
    /// Returns whether it exited cleanly (status 0).
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        tracing::warn!(name = %self.name, "did not stop in time; killing it");
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Kills it at once with SIGKILL (a crash).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last lines of its log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dir.join("myco.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits for a file to exist with non-empty content, while `process` runs.
pub fn wait_for_file(
    process: &mut Process,
    file: &str,
    timeout: Duration,
) -> Result<String, DevnetError> {
    let path = process.dir().join(file);
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = fs::read_to_string(&path) {
            if !text.trim().is_empty() {
                return Ok(text);
            }
        }
        if !process.is_running() {
            return Err(DevnetError::Exited {
                name: process.name.clone(),
                log: process.log_tail(),
            });
        }
        if Instant::now() > deadline {
            return Err(DevnetError::Timeout(format!(
                "{} to write {file}",
                process.name
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Makes an agent key in `dir` (`myco init`), returning its key hash.
pub fn init_agent(binary: &Path, dir: &Path, passphrase: &str) -> Result<KeyHash, DevnetError> {
    let status = Command::new(binary)
        .arg("--data-dir")
        .arg(dir)
        .arg("init")
        .env("MYCO_PASSPHRASE", passphrase)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| DevnetError::io("run `myco init` with", binary, e))?;
    if !status.success() {
        return Err(DevnetError::Scenario(format!(
            "`myco init` failed in {}",
            dir.display()
        )));
    }
    let agent = crate::datadir::DataPaths::new(dir)
        .keystore()
        .public_key()
        .map_err(|e| DevnetError::Scenario(e.to_string()))?;
    Ok(agent.key_hash())
}

/// Starts a bootstrap peer on loopback; returns it and its TCP address (with `/p2p/`).
pub fn start_bootstrap(binary: &Path, dir: &Path) -> Result<(Process, Multiaddr), DevnetError> {
    let args = vec![
        "bootstrap".into(),
        "--listen".into(),
        "/ip4/127.0.0.1/tcp/0".into(),
    ];
    let mut process = Process::spawn(binary, "bootstrap", dir, &args, "")?;
    let text = wait_for_file(&mut process, crate::daemon::LISTEN_FILE, START_TIMEOUT)?;
    let address = text
        .lines()
        .filter_map(|l| l.parse::<Multiaddr>().ok())
        .find(|a| a.to_string().contains("/tcp/"))
        .ok_or_else(|| DevnetError::Scenario("the bootstrap peer wrote no TCP address".into()))?;
    Ok((process, address))
}

/// A running daemon and a client of its API.
pub struct Daemon {
    /// The process.
    pub process: Process,
    /// Its API.
    pub api: ApiClient,
    /// Its agent's key hash.
    pub key_hash: KeyHash,
}

/// A TCP address on loopback with any free port: where devnet processes listen.
pub fn loopback_tcp() -> Multiaddr {
    Multiaddr::empty()
        .with(libp2p::multiaddr::Protocol::Ip4(
            std::net::Ipv4Addr::LOCALHOST,
        ))
        .with(libp2p::multiaddr::Protocol::Tcp(0))
}

/// The `myco.toml` a devnet daemon gets when its data dir has none. Every devnet daemon
/// connects from 127.0.0.1, so the per-address bound on strangers
/// ([`MAX_STRANGERS_PER_IP`](crate::net::strangers::MAX_STRANGERS_PER_IP)), meant for one host
/// on the internet, would hold back the pod peers of a larger devnet until they show their
/// bindings; here one address may hold as many strangers as there are daemons. Devnet daemons
/// meet through their bootstrap peer, so mDNS is off: it would also send multicast queries to
/// the machine's LAN and meet other devnets' daemons there.
pub const LOOPBACK_CONFIG: &str = "strangers_per_ip = 64\nmdns = false\n";

/// Starts `myco run` on `dir` (which `init_agent` prepared), listening on `listen` (such as
/// [`loopback_tcp`]) and declaring `region`. A data dir without a `myco.toml` gets
/// [`LOOPBACK_CONFIG`]; one with its own is left as it is.
#[allow(clippy::too_many_arguments)]
pub fn start_daemon(
    binary: &Path,
    name: &str,
    dir: &Path,
    passphrase: &str,
    bootstrap: &Multiaddr,
    key_hash: KeyHash,
    region: Option<&str>,
    listen: &Multiaddr,
) -> Result<Daemon, DevnetError> {
    // Stale files of an earlier run would point at a dead API.
    let _ = fs::remove_file(dir.join(crate::api::ADDR_FILE));
    let config = dir.join(crate::daemon::config::CONFIG_FILE);
    if !config.exists() {
        fs::write(&config, LOOPBACK_CONFIG)
            .map_err(|e| DevnetError::io("write the devnet settings", &config, e))?;
    }
    let mut args: Vec<String> = vec![
        "run".into(),
        "--listen".into(),
        listen.to_string(),
        "--bootstrap".into(),
        bootstrap.to_string(),
        "--api-port".into(),
        "0".into(),
    ];
    if let Some(region) = region {
        args.extend(["--region".into(), region.into()]);
    }
    let mut process = Process::spawn(binary, name, dir, &args, passphrase)?;
    wait_for_file(&mut process, crate::api::ADDR_FILE, START_TIMEOUT)?;
    let api = ApiClient::for_data_dir(dir)?;
    Ok(Daemon {
        process,
        api,
        key_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::config::{FileSettings, Overrides, Settings};

    #[test]
    fn the_loopback_settings_let_one_address_hold_a_stranger_per_devnet_daemon() {
        let file: FileSettings = toml::from_str(LOOPBACK_CONFIG).expect("parses");
        let settings = Settings::merge(file, Overrides::default(), 0).expect("merge");
        assert_eq!(settings.strangers.per_ip, super::super::MAX_DAEMONS);
        assert!(!settings.mdns, "devnet daemons stay off the LAN");
    }
}
