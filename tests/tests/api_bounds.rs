//! End-to-end test of the local API's bounds (`myco_node::api::ApiLimits`): a real `myco run`
//! daemon whose `myco.toml` sets short timeouts and a small connection cap, attacked over
//! raw TCP with more idle, partial-header and partial-body connections than the cap (only
//! the partial bodies carry the token, as they must to be read), while the project's own API
//! client keeps asking; and a kept-alive connection left idle.
#![cfg(unix)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use myco_node::api::client::ApiClient;
use myco_node::api::types::StatusView;
use myco_node::devnet::process::init_agent;
use myco_node::devnet::DEVNET_PASSPHRASE;
use myco_tests::loopback::{metric, start_net};
use myco_tests::myco_binary;

/// The header and body timeouts the daemon runs with here: long enough that the client's
/// calls are answered before any of them could fire.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The connection cap the daemon runs with here.
const CAP: usize = 8;
/// Time past the bound within which a connection must be closed, on a loaded machine.
const SLACK: Duration = Duration::from_secs(10);

/// What each attacking connection does.
#[derive(Clone, Copy, Debug)]
enum Attack {
    /// Connects and sends nothing.
    Idle,
    /// Sends half a request's headers, never the blank line that ends them.
    PartialHeaders,
    /// Sends a POST's headers (with the token, so the handler reads the body) and a tenth
    /// of the body it announced.
    PartialBody,
}

fn open(address: &str, attack: Attack, token: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connect to the API");
    let bytes = match attack {
        Attack::Idle => String::new(),
        Attack::PartialHeaders => "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".into(),
        Attack::PartialBody => format!(
            "POST /pods HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"manifest\": \"aaaaaaaaaa"
        ),
    };
    stream.write_all(bytes.as_bytes()).expect("write");
    stream
}

/// Reads until the daemon closes `stream` or `deadline` passes; true if it closed.
fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).expect("read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // An answer (a 400 for the cut body, say): read on until the close.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            // Reset: closed too.
            Err(_) => return true,
        }
    }
}

#[test]
fn idle_and_partial_api_connections_are_closed_and_a_proper_client_still_gets_answers() {
    let mut net = start_net(0);
    init_agent(&myco_binary(), &net.dir(0), DEVNET_PASSPHRASE).expect("init");
    std::fs::write(
        net.dir(0).join("myco.toml"),
        format!(
            "api_header_timeout_secs = {t}\napi_body_timeout_secs = {t}\napi_max_connections = {CAP}\nmdns = false\n",
            t = TIMEOUT.as_secs()
        ),
    )
    .expect("write myco.toml");
    let daemon = net.start_daemon(0);
    net.daemons.push(daemon);
    let dir = net.dir(0);
    let api_address = std::fs::read_to_string(dir.join("api.addr")).expect("api.addr");
    let api_address = api_address.trim();
    let token = std::fs::read_to_string(dir.join("api.token")).expect("api.token");
    let token = token.trim();

    let client = ApiClient::new(api_address, token);

    // A kept-alive connection that made one proper request and then went quiet is closed
    // after the header timeout, which also bounds the wait for the next request.
    let mut kept = TcpStream::connect(api_address).expect("connect");
    write!(
        kept,
        "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .expect("write");
    let mut answer = [0u8; 16];
    kept.read_exact(&mut answer)
        .expect("an answer on the kept-alive connection");
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    let quiet_since = Instant::now();
    assert!(
        closed_by(&mut kept, quiet_since + TIMEOUT + SLACK),
        "an idle kept-alive connection was still open {:?} later; the bound is {TIMEOUT:?}",
        quiet_since.elapsed()
    );
    let timed_out_before = metric(&client, "api_connections_timed_out_total");
    assert!(
        timed_out_before >= 1,
        "the idle connection was not closed for its timeout"
    );

    // More attackers than the cap: idle, sending half their headers, and two clients with the
    // token that send a tenth of a body (those hold their slots until the body timeout).
    let mut attackers: Vec<(Attack, TcpStream)> = Vec::new();
    for n in 0..CAP {
        for attack in [Attack::Idle, Attack::PartialHeaders] {
            attackers.push((attack, open(api_address, attack, token)));
        }
        if n < 2 {
            attackers.push((
                Attack::PartialBody,
                open(api_address, Attack::PartialBody, token),
            ));
        }
    }
    let opened = Instant::now();

    // The project's own client gets answers at once: each of its connections takes the slot
    // of the oldest quiet attacker, without waiting for any timeout. (A fresh client each
    // time, so that each call opens a new connection as the CLI does.)
    for _ in 0..3 {
        let status: StatusView = ApiClient::new(api_address, token)
            .get("/status")
            .expect("the API answers a proper client");
        assert!(status.pods.is_empty());
    }
    assert_eq!(
        metric(&client, "api_connections_timed_out_total"),
        timed_out_before,
        "the client was answered only after attackers timed out, not by taking a quiet slot"
    );
    assert!(
        metric(&client, "api_connections_evicted_total") >= 1,
        "no quiet connection was closed to make room"
    );

    // Every attacker is closed: evicted for a newer connection, or by its own timeout.
    let deadline = opened + TIMEOUT + SLACK;
    for (attack, stream) in &mut attackers {
        assert!(
            closed_by(stream, deadline),
            "an attacking connection ({attack:?}) was still open {:?} after it connected; the timeouts are {TIMEOUT:?}",
            opened.elapsed()
        );
    }
    assert!(
        metric(&client, "api_connections_timed_out_total") > timed_out_before,
        "no attacker was closed for its timeout"
    );
    let status: StatusView = client.get("/status").expect("the API still answers");
    assert!(status.pods.is_empty());
}
