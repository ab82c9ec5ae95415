//! End-to-end tests of the daemon: real `myco` processes (a bootstrap peer and daemons) on
//! loopback, each with its own temporary data dir. Every process is stopped when its handle
//! drops, so a failing assertion leaves nothing running.
#![cfg(unix)]

use std::process::Command;

use libp2p::Multiaddr;
use myco_node::api::types::StatusView;
use myco_node::devnet::process::{init_agent, start_daemon, Daemon};
use myco_node::devnet::DEVNET_PASSPHRASE;
use myco_node::devnet::{dna_with_founders, TEMPLATES};
use myco_tests::loopback::{
    found_pod, holds, peers_in, publish, start_bootstrap_on, start_two_pods, wait_until, PER_POD,
};
use myco_tests::myco_binary;

#[test]
fn devnet_of_two_pods_finds_members_across_pods_shows_only_public_profiles_and_leaks_nothing() {
    let output = Command::new(myco_binary())
        .args([
            "devnet",
            "--pods",
            "2",
            "--nodes",
            "3",
            "--stories",
            "2",
            "--json",
        ])
        .output()
        .expect("devnet runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "devnet failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(report["nodes"], 6);
    assert_eq!(report["pods"], 2);
    // Each pod's public-profile member is found with its profile, the other with none; both
    // lookups list exactly the member's one pod.
    assert_eq!(report["lookups"]["ok"], 4, "{report}");
    assert_eq!(report["lookups"]["failed"], 0, "{report}");
    assert_eq!(report["leaks"], 0, "{report}");
    assert_eq!(report["decisions"], 2, "{report}");
    assert!(
        report["refused_as_expected"].as_u64() >= Some(6),
        "{report}"
    );
    assert_eq!(report["clean_shutdown"], true, "{report}");
    assert!(report["propagation_ms"]["p99"].as_f64().is_some());
    // What happened, in words: each pod by name and how its members came in, and each
    // refusal with its reason.
    let happened: Vec<&str> = report["happened"]
        .as_array()
        .expect("happened")
        .iter()
        .filter_map(|line| line.as_str())
        .collect();
    assert!(
        happened
            .iter()
            .any(|l| l.contains("«Territory DK» was founded by node0")),
        "{happened:?}"
    );
    assert!(
        happened
            .iter()
            .any(|l| l.contains("came in by a steward's invitation")),
        "{happened:?}"
    );
    assert!(
        happened
            .iter()
            .any(|l| l.contains("second vote") && l.contains("refused, as it should be: ")),
        "{happened:?}"
    );
}

#[test]
fn api_calls_without_the_token_get_401_and_bad_bodies_get_clear_errors() {
    let (net, _) = start_two_pods("api");
    let dir = net.dir(0);
    let address = std::fs::read_to_string(dir.join("api.addr")).expect("api.addr");
    let base = format!("http://{}", address.trim());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let status = |r: Result<ureq::http::Response<ureq::Body>, ureq::Error>| {
        r.expect("answered").status().as_u16()
    };
    assert_eq!(status(agent.get(format!("{base}/status")).call()), 401);
    assert_eq!(
        status(
            agent
                .get(format!("{base}/status"))
                .header("Authorization", "Bearer wrong")
                .call()
        ),
        401
    );
    assert_eq!(status(agent.get(format!("{base}/metrics")).call()), 401);
    let token = std::fs::read_to_string(dir.join("api.token")).expect("token");
    let auth = format!("Bearer {}", token.trim());
    let status_with_token = || {
        status(
            agent
                .get(format!("{base}/status"))
                .header("Authorization", &auth)
                .call(),
        )
    };
    assert_eq!(status_with_token(), 200);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("api.token"))
            .expect("meta")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the token file is private");

    let post = |body: &[u8]| {
        let mut response = agent
            .post(format!("{base}/pods"))
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(body)
            .expect("answered");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (response.status().as_u16(), text)
    };
    let (code, text) = post(b"{not json");
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("\"error\""), "{text}");
    let (code, text) = post(br#"{"manifest": 7}"#);
    assert_eq!(code, 400, "{text}");
    let (code, _) = post(&vec![b' '; 300 * 1024]);
    assert_eq!(code, 413, "an oversized body is refused");
    let (code, text) = post(br#"{"manifest": "name = 1"}"#);
    assert_eq!(
        code, 422,
        "an invalid manifest is refused with a reason: {text}"
    );
    let (code, text) = {
        let mut r = agent
            .get(format!("{base}/lookup/not-a-key"))
            .header("Authorization", &auth)
            .call()
            .expect("answered");
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    assert_eq!(code, 400, "{text}");
    // The daemon is still up after all that.
    assert_eq!(status_with_token(), 200);
}

#[test]
fn a_second_daemon_on_the_same_data_dir_refuses_to_start_with_a_clear_error() {
    let (net, _) = start_two_pods("lock");
    let output = Command::new(myco_binary())
        .arg("--data-dir")
        .arg(net.dir(0))
        .args(["run", "--listen", "/ip4/127.0.0.1/tcp/0"])
        .env("MYCO_PASSPHRASE", DEVNET_PASSPHRASE)
        .output()
        .expect("second daemon runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is locked by another myco process"),
        "{stderr}"
    );
}

#[test]
fn a_daemon_killed_during_writes_catches_up_after_restart() {
    let (mut net, pods) = start_two_pods("catch-up");
    let pod = pods[0].clone();
    // Daemon 0 writes a stream of records; daemon 1 is killed (SIGKILL) in the middle of it.
    const WRITES: usize = 30;
    let written = std::sync::atomic::AtomicUsize::new(0);
    let (writing, rest) = net.daemons.split_at_mut(1);
    let hashes: Vec<String> = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            (0..WRITES)
                .map(|i| {
                    let hash = publish(
                        &writing[0].api,
                        &pod,
                        &format!("story {i}"),
                        "body",
                        "public",
                    );
                    written.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    hash
                })
                .collect()
        });
        wait_until("a third of the writes", || {
            written.load(std::sync::atomic::Ordering::SeqCst) >= WRITES / 3
        });
        rest[0].process.kill();
        writer.join().expect("the writer finished")
    });
    // What it missed comes back by sync alone once it restarts.
    let restarted = net.start_daemon(1);
    net.daemons[1] = restarted;
    let api = &net.daemons[1].api;
    wait_until("the restarted daemon to catch up", || {
        hashes.iter().all(|h| holds(api, h))
    });
    let status: StatusView = api.get("/status").expect("status");
    assert!(
        status.pods.iter().any(|p| p.dna_hash == pod),
        "the pod was resumed from the pods list"
    );
    // Only the pod's members replicate it: the other pod's daemons hold none of it.
    for other in &net.daemons[PER_POD..] {
        assert!(!hashes.iter().any(|h| holds(&other.api, h)));
    }
}

#[test]
fn a_browser_signs_in_with_a_session_of_its_own_and_other_origins_get_nothing() {
    let (net, pods) = start_two_pods("page");
    let dir = net.dir(0);
    let output = Command::new(myco_binary())
        .arg("--data-dir")
        .arg(&dir)
        .args(["pod", "page", &pods[0], "--json"])
        .output()
        .expect("myco pod page runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let link: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let url = link["url"].as_str().expect("a url");
    let base = url.split("/login").next().expect("a base");
    let port = base.rsplit(':').next().expect("a port");
    let token = std::fs::read_to_string(dir.join("api.token")).expect("token");
    let token = token.trim();
    // A browser: follows nothing by itself here, so each step can be checked.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let page = format!("/pods/{}/page", pods[0]);
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = agent.get(format!("{base}{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call().expect("answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (status, headers, body)
    };
    let post = |path: &str, headers: &[(&str, &str)]| {
        let mut request = agent
            .post(format!("{base}{path}"))
            .header("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.send(b"{}").expect("answered");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    assert_eq!(get(&page, &[]).0, 401, "the page needs signing in");

    let (status, headers, _) = get(&url[base.len()..], &[]);
    assert_eq!(status, 303);
    assert_eq!(headers["location"], page.as_str());
    let set_cookie = headers["set-cookie"].to_str().expect("text");
    for attribute in ["HttpOnly", "SameSite=Strict", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().expect("name=value");
    // Browsers send a host's cookies to every port on it: what a page on another local port
    // receives is this cookie. It is a session id, never the API token.
    assert!(
        !cookie.contains(token),
        "the cookie carries the API token: {cookie}"
    );

    let (status, _, body) = get(&page, &[("Cookie", cookie)]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<html"), "{body}");

    // A write on the session alone is refused; with the session's CSRF token it goes through
    // to the body check (an empty vote is a bad request, so nothing is written).
    let votes = format!("/pods/{}/votes", pods[0]);
    assert_eq!(post(&votes, &[("Cookie", cookie)]).0, 401);
    let (status, _, body) = get("/session", &[("Cookie", cookie)]);
    assert_eq!(status, 200, "{body}");
    let csrf = serde_json::from_str::<serde_json::Value>(&body).expect("JSON")["csrf"]
        .as_str()
        .expect("a CSRF token")
        .to_string();
    assert_eq!(
        post(&votes, &[("Cookie", cookie), ("x-myco-csrf", "forged")]).0,
        401
    );
    let (status, body) = post(&votes, &[("Cookie", cookie), ("x-myco-csrf", &csrf)]);
    assert_eq!(status, 400, "the session and its CSRF token pass: {body}");

    // A page from another local port, or a DNS-rebinding page, gets nothing: not even with
    // the session and its CSRF token, nor with the bearer token itself.
    let other_port = format!("http://127.0.0.1:{}", port.parse::<u16>().unwrap() + 1);
    let (status, body) = post(
        &votes,
        &[
            ("Cookie", cookie),
            ("x-myco-csrf", &csrf),
            ("Origin", &other_port),
        ],
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not this API's own"), "{body}");
    assert_eq!(
        get(&page, &[("Cookie", cookie), ("Origin", &other_port)]).0,
        403
    );
    let bearer = format!("Bearer {token}");
    let rebound = format!("evil.example:{port}");
    let (status, _, body) = get("/status", &[("Authorization", &bearer), ("Host", &rebound)]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Host `evil.example"), "{body}");
    assert_eq!(get("/status", &[("Authorization", &bearer)]).0, 200);

    // A wrong token and a redirect to anything but the app's own pages are refused.
    assert_eq!(get("/login?token=wrong&next=%2Fpods", &[]).0, 401);
    for next in [
        "%2F%2Fevil.example",
        "%2F%09%2Fevil.example",
        "%2Fmetrics",
        "https%3A%2F%2Fevil.example",
    ] {
        let login = format!("/login?token={token}&next={next}");
        assert_eq!(get(&login, &[]).0, 400, "next={next}");
    }
}

#[test]
fn daemons_meet_and_replicate_over_quic_alone() {
    let root = tempfile::tempdir().expect("temp dir");
    let quic: Multiaddr = "/ip4/127.0.0.1/udp/0/quic-v1".parse().expect("address");
    let (_bootstrap, boot) = start_bootstrap_on(&root.path().join("boot"), &quic);
    let daemons: Vec<Daemon> = (0..2)
        .map(|n| {
            let dir = root.path().join(format!("node{n}"));
            let key = init_agent(&myco_binary(), &dir, DEVNET_PASSPHRASE).expect("agent key");
            start_daemon(
                &myco_binary(),
                &format!("node{n}"),
                &dir,
                DEVNET_PASSPHRASE,
                &boot,
                key,
                Some("DK"),
                &quic,
            )
            .expect("daemon starts")
        })
        .collect();
    let founders: Vec<_> = daemons.iter().map(|d| d.key_hash).collect();
    let manifest = dna_with_founders(TEMPLATES[0].1, &founders, "quic");
    let mut pod = String::new();
    for daemon in &daemons {
        pod = found_pod(&daemon.api, &manifest);
    }
    // Nothing listens on TCP, so the two can only have met over QUIC, found through the
    // bootstrap peer's rendezvous or providers.
    wait_until("the daemons to meet over QUIC", || {
        peers_in(&daemons[0].api, &pod) == 1
    });
    let hash = publish(&daemons[0].api, &pod, "over QUIC", "body", "public");
    wait_until("the record to cross over QUIC", || {
        holds(&daemons[1].api, &hash)
    });
}
