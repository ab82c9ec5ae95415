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
//! [`available`] says whether this machine has both.

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
