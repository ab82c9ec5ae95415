//! Serving the API's connections, bounded like the network: every connection must send its
//! request headers within [`ApiLimits::header_timeout`] (which also closes a kept-alive
//! connection left idle that long, since hyper's timer runs again while it waits for the next
//! request's headers) and its body within [`ApiLimits::body_timeout`], and at most
//! [`connection_cap`] connections are served at once. A connection past the cap waits in the
//! kernel's accept queue, holding no file descriptor of this process, until a slot frees.
//!
//! HTTP itself is hyper's ([`hyper::server::conn::http1`]); the body timeout is
//! tower-http's [`RequestBodyTimeout`]; the cap is a tokio [`Semaphore`].

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::RequestBodyTimeout;

use crate::daemon::metrics::Metrics;
use crate::net::{MAX_ESTABLISHED, MAX_PENDING};

/// How long a client may take to send a request's headers, and how long a kept-alive
/// connection may wait idle for its next request. The CLI and a browser send headers in one
/// packet; 10 s is generous on loopback and closes a slowloris connection soon.
pub const API_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's body: bodies are at most
/// [`MAX_BODY_BYTES`](super::types::MAX_BODY_BYTES), which loopback carries in milliseconds.
pub const API_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// API connections served at once: the CLI opens one per call and a browser about six, so 64
/// serves several of each while keeping the API's share of file descriptors small.
pub const API_MAX_CONNECTIONS: usize = 64;
/// File descriptors kept for everything but the API: one socket per libp2p connection
/// (established and pending, each way), plus 128 for listeners, sled's files, the log, the
/// data dir lock and the runtime.
pub const RESERVED_FDS: u64 = MAX_ESTABLISHED as u64 + 2 * MAX_PENDING as u64 + 128;
/// The fewest API connections served, whatever the file limit: enough for the CLI.
pub const MIN_API_CONNECTIONS: usize = 4;
/// Pause after a failed `accept` (out of file descriptors, say), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The bounds on the API's connections, as configured (see `docs/operations.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiLimits {
    /// See [`API_HEADER_TIMEOUT`].
    pub header_timeout: Duration,
    /// See [`API_BODY_TIMEOUT`].
    pub body_timeout: Duration,
    /// See [`API_MAX_CONNECTIONS`]; lowered by [`connection_cap`] to fit the file limit.
    pub max_connections: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            header_timeout: API_HEADER_TIMEOUT,
            body_timeout: API_BODY_TIMEOUT,
            max_connections: API_MAX_CONNECTIONS,
        }
    }
}

/// The connections served at once: `configured`, but at most half of what the soft file
/// limit `open_files` leaves after [`RESERVED_FDS`], and at least [`MIN_API_CONNECTIONS`].
pub fn connection_cap(configured: usize, open_files: Option<u64>) -> usize {
    let fits = open_files.map_or(usize::MAX, |limit| {
        usize::try_from(limit.saturating_sub(RESERVED_FDS) / 2).unwrap_or(usize::MAX)
    });
    configured.min(fits).max(MIN_API_CONNECTIONS)
}

/// The process's soft limit on open files, if it can be read.
pub fn open_file_limit() -> Option<u64> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _hard)| soft)
}

/// Serves `app` on `listener` within `limits`, until the process ends.
pub(super) async fn serve_bounded(
    listener: TcpListener,
    app: axum::Router,
    limits: ApiLimits,
    metrics: Arc<Metrics>,
) {
    let open_files = open_file_limit();
    let cap = connection_cap(limits.max_connections, open_files);
    if open_files.is_some_and(|limit| limit <= RESERVED_FDS) {
        tracing::warn!(
            open_files,
            reserved = RESERVED_FDS,
            "the open file limit leaves no room for the API; raise it (ulimit -n 4096)"
        );
    }
    tracing::info!(
        max_connections = cap,
        open_files,
        header_timeout_secs = limits.header_timeout.as_secs(),
        body_timeout_secs = limits.body_timeout.as_secs(),
        "local API bounded"
    );
    let slots = Arc::new(Semaphore::new(cap));
    let service = RequestBodyTimeout::new(app, limits.body_timeout);
    loop {
        // A slot first: past the cap, new connections wait in the kernel's queue.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "cannot accept an API connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(service.clone());
        let metrics = metrics.clone();
        tokio::spawn(async move {
            metrics.api_connections.fetch_add(1, Ordering::Relaxed);
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            match served {
                Err(error) if error.is_timeout() => {
                    Metrics::inc(&metrics.api_connections_timed_out_total);
                    tracing::debug!(%error, "closed an API connection that sent nothing in time");
                }
                Err(error) => tracing::debug!(%error, "an API connection failed"),
                Ok(()) => {}
            }
            metrics.api_connections.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_under_the_file_limit() {
        assert_eq!(connection_cap(64, None), 64);
        assert_eq!(connection_cap(64, Some(1 << 20)), 64);
        // 1024 leaves (1024 - 512) / 2 = 256: the configured 64 fits.
        assert_eq!(connection_cap(64, Some(1024)), 64);
        assert_eq!(connection_cap(1000, Some(1024)), 256);
        assert_eq!(connection_cap(1000, Some(600)), 44);
        assert_eq!(connection_cap(64, Some(100)), MIN_API_CONNECTIONS);
        assert!(open_file_limit().is_some_and(|l| l > 0));
    }
}
