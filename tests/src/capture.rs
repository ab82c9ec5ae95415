//! Every frame on every interface of a network namespace, as a host there would capture it
//! (an `AF_PACKET` socket, what tcpdump opens), so a test can look for plaintext in what a
//! relay's machine carries. Needs root (`CAP_NET_RAW`).

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use nix::sys::socket::{
    recv, setsockopt, socket, sockopt::ReceiveTimeout, AddressFamily, MsgFlags, SockFlag,
    SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

use crate::netns::{within, Namespace};

/// At most this much is kept: a test's traffic is far less.
pub const MAX_CAPTURED: usize = 256 << 20;

/// A capture running on its own thread until [`Capture::stop`].
pub struct Capture {
    stop: Arc<AtomicBool>,
    bytes: Arc<Mutex<Vec<u8>>>,
    thread: Option<JoinHandle<()>>,
}

impl Capture {
    /// Starts capturing every frame in `namespace`; returns once the socket is open.
    pub fn start(namespace: &Namespace) -> anyhow::Result<Capture> {
        let fd = within(namespace, || {
            socket(
                AddressFamily::Packet,
                SockType::Raw,
                SockFlag::SOCK_CLOEXEC,
                SockProtocol::EthAll,
            )
        })
        .map_err(|e| anyhow::anyhow!("cannot open a packet socket (root needed): {e}"))?;
        // The socket stays bound to the namespace it was made in, whichever thread reads it.
        setsockopt(&fd, ReceiveTimeout, &TimeVal::new(0, 100_000))?;
        let stop = Arc::new(AtomicBool::new(false));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, bytes) = (stop.clone(), bytes.clone());
            std::thread::spawn(move || {
                let mut frame = vec![0u8; 1 << 16];
                while !stop.load(Ordering::Relaxed) {
                    // A timeout (EAGAIN) only gives the stop flag a look.
                    if let Ok(n) = recv(fd.as_raw_fd(), &mut frame, MsgFlags::empty()) {
                        let mut all = bytes.lock().expect("capture buffer");
                        if all.len() + n <= MAX_CAPTURED {
                            all.extend_from_slice(&frame[..n]);
                        }
                    }
                }
            })
        };
        Ok(Capture {
            stop,
            bytes,
            thread: Some(thread),
        })
    }

    /// Stops, and returns every captured frame, concatenated.
    pub fn stop(mut self) -> Vec<u8> {
        self.halt();
        std::mem::take(&mut *self.bytes.lock().expect("capture buffer"))
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
