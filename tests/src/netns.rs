//! Network namespaces for partition tests: two isolated networks joined by one virtual cable
//! (a veth pair) that a test can cut and mend.
//!
//! Everything lives inside namespaces this process creates and removes, so the test touches
//! no other network: each namespace has its own loopback and one end of the cable, with a
//! /30 address of [`SUBNET`]. Processes started by [`within`] run inside the namespace, and
//! so do the sockets [`within`]'s closure opens (the daemons' local APIs listen on each
//! namespace's own 127.0.0.1).
//!
//! It needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and the `ip` tool from iproute2;
//! [`available`] says whether this machine has both. Routers that translate addresses (NAT)
//! also need `nft` from nftables ([`nft_available`]).

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

/// The /30 the cable's two ends are numbered from: `.1` on side A, `.2` on side B. The
/// addresses exist only inside the two namespaces.
pub const SUBNET: [u8; 3] = [10, 231, 0];

/// Whether network namespaces can be made here: running as root with `ip` installed.
pub fn available() -> bool {
    nix::unistd::geteuid().is_root()
        && Command::new("ip")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Whether nftables' `nft` is installed, for NAT routers ([`Namespace::nft`]).
pub fn nft_available() -> bool {
    Command::new("nft")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `program args` inside `namespace` (`ip netns exec`), feeding it `input`.
fn exec(namespace: &str, program: &str, args: &[&str], input: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut child = Command::new("ip")
        .args(["netns", "exec", namespace, program])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `{program}` in {namespace}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "`{program} {}` in {namespace} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .context("cannot run `ip`: install iproute2")?;
    if !output.status.success() {
        bail!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// One network namespace, removed (with its end of the cable) on drop.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

impl Namespace {
    /// Creates namespace `name` with its loopback up.
    pub fn create(name: &str) -> anyhow::Result<Namespace> {
        // A namespace left by a killed earlier run of the same pid would block this one.
        let _ = ip(&["netns", "del", name]);
        ip(&["netns", "add", name])?;
        let namespace = Namespace {
            name: name.to_string(),
        };
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        Ok(namespace)
    }

    /// Its name, as `ip netns` lists it.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// Makes the namespace a router: it forwards packets between its interfaces.
    pub fn forward(&self) -> anyhow::Result<()> {
        exec(
            &self.name,
            "sh",
            &["-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"],
            "",
        )
    }

    /// Sends everything not on a local subnet to `gateway`.
    pub fn default_route(&self, gateway: Ipv4Addr) -> anyhow::Result<()> {
        ip(&[
            "-n",
            &self.name,
            "route",
            "add",
            "default",
            "via",
            &gateway.to_string(),
        ])
    }

    /// Loads an nftables ruleset (`nft -f -`) into the namespace.
    pub fn nft(&self, ruleset: &str) -> anyhow::Result<()> {
        exec(&self.name, "nft", &["-f", "-"], ruleset)
    }

    /// Adds an interface of its own that carries multicast, numbered `address/24`: one end of
    /// a veth pair whose other end stays in the namespace, unnumbered. What is sent on it
    /// reaches the namespace's own sockets only: a LAN for the processes of one namespace,
    /// where mDNS works as on a real one.
    pub fn lan(&self, name: &str, address: Ipv4Addr) -> anyhow::Result<()> {
        let other = format!("{name}p");
        ip(&[
            "-n", &self.name, "link", "add", name, "type", "veth", "peer", "name", &other,
        ])?;
        ip(&[
            "-n",
            &self.name,
            "addr",
            "add",
            &format!("{address}/24"),
            "dev",
            name,
        ])?;
        for end in [name, other.as_str()] {
            ip(&["-n", &self.name, "link", "set", end, "multicast", "on"])?;
            ip(&["-n", &self.name, "link", "set", end, "up"])?;
        }
        Ok(())
    }
}

/// Joins `a` and `b` with a veth pair named `end_a` / `end_b`, numbered `address_a/24` and
/// `address_b/24`: a link between a home and its router, or a router and the internet. It
/// goes when either namespace does.
pub fn link(
    (a, end_a, address_a): (&Namespace, &str, Ipv4Addr),
    (b, end_b, address_b): (&Namespace, &str, Ipv4Addr),
) -> anyhow::Result<()> {
    ip(&[
        "link", "add", end_a, "netns", &a.name, "type", "veth", "peer", "name", end_b, "netns",
        &b.name,
    ])?;
    for (namespace, end, address) in [(a, end_a, address_a), (b, end_b, address_b)] {
        ip(&[
            "-n",
            &namespace.name,
            "addr",
            "add",
            &format!("{address}/24"),
            "dev",
            end,
        ])?;
        ip(&["-n", &namespace.name, "link", "set", end, "up"])?;
    }
    Ok(())
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Runs `work` on a thread that has entered `namespace`: the sockets it opens and the
/// processes it starts are inside the namespace. Panics in `work` reach the caller.
pub fn within<T: Send>(namespace: &Namespace, work: impl FnOnce() -> T + Send) -> T {
    let path = namespace.path();
    std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            let file =
                File::open(&path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                .unwrap_or_else(|e| panic!("cannot enter {}: {e}", path.display()));
            work()
        });
        match handle.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// A virtual cable between two namespaces.
#[derive(Debug)]
pub struct Cable {
    /// The interface on side A (its peer on side B has the same name with `b`).
    end_a: String,
    side_a: String,
}

impl Cable {
    /// Joins `a` and `b`: the interface in `a` gets `SUBNET.1`, the one in `b` `SUBNET.2`.
    /// `tag` (a few characters) keeps interface names of concurrent runs apart.
    pub fn connect(a: &Namespace, b: &Namespace, tag: &str) -> anyhow::Result<Cable> {
        let end_a = format!("mya{tag}");
        let end_b = format!("myb{tag}");
        ip(&[
            "link", "add", &end_a, "netns", &a.name, "type", "veth", "peer", "name", &end_b,
            "netns", &b.name,
        ])?;
        let cable = Cable {
            end_a: end_a.clone(),
            side_a: a.name.clone(),
        };
        for (namespace, end, host) in [(a, &end_a, 1), (b, &end_b, 2)] {
            let address = format!("{}/30", Cable::address(host));
            ip(&["-n", &namespace.name, "addr", "add", &address, "dev", end])?;
            ip(&["-n", &namespace.name, "link", "set", end, "up"])?;
        }
        Ok(cable)
    }

    /// The address of side `host` (1 for A, 2 for B).
    pub fn address(host: u8) -> Ipv4Addr {
        Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], host)
    }

    /// Cuts the cable: nothing passes between the sides until [`Cable::mend`].
    pub fn cut(&self) -> anyhow::Result<()> {
        ip(&["-n", &self.side_a, "link", "set", &self.end_a, "down"])
    }

    /// Mends the cable.
    pub fn mend(&self) -> anyhow::Result<()> {
        ip(&["-n", &self.side_a, "link", "set", &self.end_a, "up"])
    }
}
