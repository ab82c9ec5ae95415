//! Serving the API's connections, bounded like the network: every connection must send its
//! request headers within [`ApiLimits::header_timeout`] (which also closes a kept-alive
//! connection left idle that long, since hyper's timer runs again while it waits for the next
//! request's headers) and its body within [`ApiLimits::body_timeout`], and at most
//! [`connection_cap`] connections are served at once. When the cap is reached, the oldest
//! connection with no request in flight is closed for the new one; if all are serving
//! requests, the new one waits (holding one descriptor) and the next stay in the kernel's
//! accept queue until a slot frees.
//!
//! HTTP itself is hyper's ([`hyper::server::conn::http1`]); the body timeout is
//! tower-http's [`RequestBodyTimeout`]; the cap is a tokio [`Semaphore`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
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
/// How often a connection waiting for a slot looks again for a quiet one to close, while
/// every slot is serving a request.
const EVICT_RETRY: Duration = Duration::from_millis(100);

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

/// The connections being served, oldest first, each with its count of requests in flight
/// and the means to close it.
#[derive(Default)]
struct Open {
    next: u64,
    connections: BTreeMap<u64, Connection>,
}

struct Connection {
    in_flight: Arc<AtomicUsize>,
    close: Option<oneshot::Sender<()>>,
}

impl Open {
    /// Closes the oldest connection with no request in flight (one that is idle, or still
    /// sending its headers): an honest client sends its headers the moment it connects, so the
    /// connection that has waited longest without a request is the likeliest to be an attack.
    /// Returns whether it closed one; none is closed while an earlier eviction is still
    /// under way (its slot is about to free).
    fn evict_oldest_quiet(&mut self) -> bool {
        if self.connections.values().any(|c| c.close.is_none()) {
            return false;
        }
        let victim = self
            .connections
            .values_mut()
            .find(|c| c.close.is_some() && c.in_flight.load(Ordering::SeqCst) == 0);
        match victim.and_then(|c| c.close.take()) {
            Some(close) => {
                // The connection may have ended on its own meanwhile: nothing to close then.
                let _ = close.send(());
                true
            }
            None => false,
        }
    }
}

/// Counts a request in flight on its connection while it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn start(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `app` on `listener` within `limits`, until the process ends.
///
/// Each accepted connection takes one of [`connection_cap`] slots (a [`Semaphore`]'s
/// permits). When none is free, the oldest connection with no request in flight is closed to
/// make room, so idle and half-sent connections can never keep a client of the CLI waiting;
/// if every slot is serving a request, the new connection waits for one to finish.
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
    let open = Arc::new(Mutex::new(Open::default()));
    let service = RequestBodyTimeout::new(app, limits.body_timeout);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "cannot accept an API connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let slot = loop {
            if let Ok(slot) = slots.clone().try_acquire_owned() {
                break slot;
            }
            if lock(&open).evict_oldest_quiet() {
                Metrics::inc(&metrics.api_connections_evicted_total);
                tracing::debug!("closed the oldest quiet API connection to make room");
            }
            // The evicted connection frees its slot as it closes. With every connection
            // serving a request, look again shortly: a finished request leaves its connection
            // quiet. The semaphore is never closed.
            match tokio::time::timeout(EVICT_RETRY, slots.clone().acquire_owned()).await {
                Ok(Ok(slot)) => break slot,
                Ok(Err(_)) => return,
                Err(_) => continue,
            }
        };
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (close, closed) = oneshot::channel();
        let id = {
            let mut open = lock(&open);
            let id = open.next;
            open.next += 1;
            open.connections.insert(
                id,
                Connection {
                    in_flight: in_flight.clone(),
                    close: Some(close),
                },
            );
            id
        };
        let inner = TowerToHyperService::new(service.clone());
        let service = hyper::service::service_fn(move |request| {
            let flight = InFlight::start(&in_flight);
            let answer = hyper::service::Service::call(&inner, request);
            async move {
                let answer = answer.await;
                drop(flight);
                answer
            }
        });
        let metrics = metrics.clone();
        let open = open.clone();
        tokio::spawn(async move {
            metrics.api_connections.fetch_add(1, Ordering::Relaxed);
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                served = connection => match served {
                    Err(error) if error.is_timeout() => {
                        Metrics::inc(&metrics.api_connections_timed_out_total);
                        tracing::debug!(%error, "closed an API connection that sent nothing in time");
                    }
                    Err(error) => tracing::debug!(%error, "an API connection failed"),
                    Ok(()) => {}
                },
                // Evicted: dropping the connection closes its socket.
                _ = closed => {}
            }
            lock(&open).connections.remove(&id);
            metrics.api_connections.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
}

/// The open connections' book. A panic while it is held cannot leave it half-changed (every
/// change is one map operation), so a poisoned lock is taken as it is.
fn lock(open: &Mutex<Open>) -> std::sync::MutexGuard<'_, Open> {
    open.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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

    #[test]
    fn the_oldest_connection_without_a_request_in_flight_is_evicted() {
        let mut open = Open::default();
        let mut closed = Vec::new();
        let mut flights = Vec::new();
        for id in 0..3 {
            let (close, rx) = oneshot::channel();
            let in_flight = Arc::new(AtomicUsize::new(0));
            flights.push(in_flight.clone());
            open.connections.insert(
                id,
                Connection {
                    in_flight,
                    close: Some(close),
                },
            );
            closed.push(rx);
        }
        let _serving = InFlight::start(&flights[0]);
        assert!(open.evict_oldest_quiet());
        assert!(closed[1].try_recv().is_ok(), "the oldest quiet one goes");
        assert!(
            closed[0].try_recv().is_err(),
            "a connection serving a request stays"
        );
        assert!(!open.evict_oldest_quiet(), "one eviction at a time");
        open.connections.remove(&1);
        assert!(open.evict_oldest_quiet());
        assert!(closed[2].try_recv().is_ok());
        open.connections.remove(&2);
        assert!(!open.evict_oldest_quiet(), "only busy connections are left");
    }
}
