//! End-to-end tests of the network's edges: real `myco` processes (a bootstrap peer and
//! daemons) on loopback, probed by an in-process libp2p node that speaks the same protocols
//! (gossipsub on the pod's topic, `/myco/sync/1`, `/myco/kad/1.0.0`) but is no member of
//! anything: an outsider, a registry hijacker, a sender of garbage. Every process is stopped
//! when its handle drops, so a failing assertion leaves nothing running.
#![cfg(unix)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use libp2p::identity::Keypair;
use libp2p::kad::{self, GetRecordOk, QueryResult, Quorum, Record, RecordKey};
use libp2p::request_response::{self};
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, Multiaddr, PeerId, Swarm};
use myco_dna::{ActionHash, DnaHash, KeyHash, SigningKey, Timestamp};
use myco_node::api::client::ApiClient;
use myco_node::api::types::StatusView;
use myco_node::engine::{SyncRequest, SyncResponse, MAX_GOSSIP_BYTES, MAX_SYNC_BYTES};
use myco_node::net::records::check_found;
use myco_node::net::topic;
use myco_node::registry::{registry_key, Pointer, PointerTerms};
use myco_tests::loopback::{
    holds, lookup, metric, peer_of, publish, start_bootstrap_on, start_net, start_two_pods,
    wait_until, Net, PATIENCE, PER_POD,
};
use myco_tests::probe::{
    ask_all, binding, connect, drive, probe, runtime, while_driving, Probe, ProbeEvent,
};
use serde_bytes::ByteBuf;

fn now_micros() -> u64 {
    myco_node::daemon::now_micros()
}

/// A fresh two-pod network, and an outsider's probe (not yet connected) aimed at the first
/// daemon of pod 0.
struct AtFirstDaemon {
    net: Net,
    pod_text: String,
    pod: DnaHash,
    address: Multiaddr,
    daemon: PeerId,
    me: PeerId,
    rt: tokio::runtime::Runtime,
    swarm: Swarm<Probe>,
}

/// Asserts that daemon `n` is still running and never panicked; returns its log.
fn assert_survived(net: &mut Net, n: usize) -> String {
    assert!(net.daemons[n].process.is_running(), "the daemon died");
    let log = std::fs::read_to_string(net.dir(n).join("myco.log")).unwrap_or_default();
    assert!(!log.contains("panicked"), "the daemon panicked:\n{log}");
    log
}

fn probe_first_daemon(tag: &str, max_bytes: usize) -> AtFirstDaemon {
    let (net, pods) = start_two_pods(tag);
    let pod_text = pods[0].clone();
    let pod: DnaHash = pod_text.parse().expect("pod id");
    let address = net.daemon_address(0);
    let daemon = peer_of(&address);
    let rt = runtime();
    let key = Keypair::generate_ed25519();
    let me = key.public().to_peer_id();
    let swarm = rt.block_on(async { probe(&key, max_bytes) });
    AtFirstDaemon {
        net,
        pod_text,
        pod,
        address,
        daemon,
        me,
        rt,
        swarm,
    }
}

// ---------------------------------------------------------------------------------------
// The tests

#[test]
fn a_non_member_on_the_topic_asking_for_sync_receives_no_pod_or_private_entry_bytes() {
    let (net, pods) = start_two_pods("privacy");
    let pod_text = pods[0].clone();
    let pod: DnaHash = pod_text.parse().expect("pod id");
    let secret = format!("SECRET-{}-{}", std::process::id(), now_micros());
    let public = format!("PUBLIC-{}-{}", std::process::id(), now_micros());
    let addresses: Vec<Multiaddr> = (0..PER_POD).map(|n| net.daemon_address(n)).collect();
    let members: Vec<PeerId> = addresses.iter().map(peer_of).collect();
    let authors: Vec<KeyHash> = net.daemons[..PER_POD].iter().map(|d| d.key_hash).collect();
    let outsider = SigningKey::from_bytes(&[0x0b; 32]);
    let key = Keypair::generate_ed25519();
    let me = key.public().to_peer_id();

    // The outsider's own binding: valid, but for an agent that is no member.
    let mine = binding(&outsider, &me, pod);
    let rt = runtime();
    let mut swarm = rt.block_on(async { probe(&key, MAX_SYNC_BYTES) });
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topic(&pod))
        .expect("subscribe");
    rt.block_on(connect(&mut swarm, &addresses, Some(&pod)));

    // Every byte the outsider receives at the application level, and what it was.
    let mut received: Vec<Vec<u8>> = Vec::new();
    let mut saw_public = false;
    let mut lied = 0;
    let record = |swarm: &mut Swarm<Probe>,
                  event: SwarmEvent<ProbeEvent>,
                  received: &mut Vec<Vec<u8>>,
                  saw_public: &mut bool,
                  lied: &mut usize| match event {
        SwarmEvent::Behaviour(ProbeEvent::Gossipsub(gossipsub::Event::Message {
            message, ..
        })) => {
            *saw_public |= contains(&message.data, public.as_bytes());
            received.push(message.data);
        }
        SwarmEvent::Behaviour(ProbeEvent::Sync(request_response::Event::Message {
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        })) => {
            // Members ask the newcomer for heights. It answers as a member would, "you are not
            // a member", with its own binding, to fish for their Geneses and membrane proofs.
            received.push(request);
            *lied += 1;
            let answer = SyncResponse::NotAMember {
                binding: mine.clone(),
            };
            let _ = swarm
                .behaviour_mut()
                .sync
                .send_response(channel, answer.to_bytes());
        }
        _ => {}
    };

    // Members write, in every visibility, while the outsider listens on the topic.
    let apis: Vec<PathBuf> = (0..PER_POD).map(|n| net.dir(n)).collect();
    let (secret_w, public_w) = (secret.clone(), public.clone());
    let pod_w = pod_text.clone();
    let hashes: Vec<String> = rt.block_on(while_driving(
        &mut swarm,
        move || {
            let mut hashes = Vec::new();
            for (n, dir) in apis.iter().enumerate() {
                let api = ApiClient::for_data_dir(dir).expect("api");
                for visibility in ["pod", "private"] {
                    hashes.push(publish(
                        &api,
                        &pod_w,
                        &format!("{visibility} {n} {secret_w}"),
                        &format!("the {visibility} body {secret_w}"),
                        visibility,
                    ));
                }
                publish(
                    &api,
                    &pod_w,
                    &format!("public {n} {public_w}"),
                    "ok",
                    "public",
                );
            }
            hashes
        },
        |swarm, event| record(swarm, event, &mut received, &mut saw_public, &mut lied),
    ));
    let hashes: Vec<ActionHash> = hashes.iter().map(|h| h.parse().expect("hash")).collect();

    // The outsider asks every member for everything, with its own (valid, non-member)
    // binding, and with one that claims a member's agent without its key.
    let mut forged = mine.clone();
    forged.terms.agent = net.agent(0);
    let mut requests = vec![SyncRequest::Heights {
        pod,
        binding: mine.clone(),
        after: None,
    }];
    for author in &authors {
        for b in [&mine, &forged] {
            requests.push(SyncRequest::Range {
                pod,
                binding: b.clone(),
                author: *author,
                from_seq: 0,
                limit: 1000,
            });
        }
    }
    requests.push(SyncRequest::Get {
        pod,
        binding: mine.clone(),
        hashes: hashes.clone(),
    });
    let requests: Vec<Vec<u8>> = requests.iter().map(SyncRequest::to_bytes).collect();
    let mut answers = Vec::new();
    for member in &members {
        answers.extend(rt.block_on(ask_all(&mut swarm, *member, requests.clone())));
    }
    // Late gossip (and the public stories, which prove the outsider hears the topic).
    let started = Instant::now();
    rt.block_on(drive(&mut swarm, PATIENCE, |swarm, event| {
        record(swarm, event, &mut received, &mut saw_public, &mut lied);
        (saw_public && started.elapsed() > Duration::from_secs(2)).then_some(())
    }));

    let mut refusals = 0;
    for answer in &answers {
        let bytes = answer.as_ref().expect("every sync request is answered");
        assert!(
            !contains(bytes, secret.as_bytes()),
            "a sync answer to a non-member carries pod or private entry bytes"
        );
        match SyncResponse::from_bytes(bytes).expect("answers decode") {
            SyncResponse::NotAMember { .. } | SyncResponse::Refused { .. } => refusals += 1,
            SyncResponse::Heights { heights, .. } => {
                panic!("a non-member was given the pod's heights: {heights:?}")
            }
            SyncResponse::Records { records, .. } => {
                assert!(records.is_empty(), "a non-member was given records")
            }
            other => panic!("unexpected answer to a non-member: {other:?}"),
        }
        received.push(bytes.clone());
    }
    assert_eq!(refusals, answers.len(), "every request is refused");
    assert!(
        saw_public,
        "the outsider never heard the public stories on the topic, so it proves nothing"
    );
    for bytes in &received {
        assert!(
            !contains(bytes, secret.as_bytes()),
            "the outsider received pod or private entry bytes"
        );
        // A founder's Genesis, with no membrane proof, may go to anyone who asks: it shows
        // nothing the founder's session binding does not. A proof never goes to a stranger
        // (`tests/tests/admission.rs` has the invited member).
        if let Ok(SyncRequest::Push { records, .. }) = SyncRequest::from_bytes(bytes) {
            for record in &records {
                let record = myco_dna::Record::from_bytes(record).expect("pushed records decode");
                assert!(
                    matches!(&record.action().body, myco_dna::ActionBody::Genesis { membrane_proof } if membrane_proof.is_empty()),
                    "a member pushed a record with a membrane proof to a node that only claimed it was a member"
                );
            }
        }
    }
    assert!(
        lied > 0,
        "no member asked the outsider for heights, so the lie about membership proves nothing"
    );
    // The other pod's daemons share the network but not the pod: they hold none of it.
    for other in &net.daemons[PER_POD..] {
        for hash in &hashes {
            assert!(
                !holds(&other.api, &hash.to_string()),
                "a daemon of another pod holds {hash}"
            );
        }
    }
    drop(swarm);
    drop(rt);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every record under `key` a fresh probe finds starting from `bootstrap` alone, with who
/// answered.
async fn fetch_records(bootstrap: &Multiaddr, key: &KeyHash) -> Vec<(Option<PeerId>, Record)> {
    let mut swarm = probe(&Keypair::generate_ed25519(), MAX_SYNC_BYTES);
    connect(&mut swarm, std::slice::from_ref(bootstrap), None).await;
    let query = swarm
        .behaviour_mut()
        .kad
        .get_record(RecordKey::new(&registry_key(key)));
    let mut found = Vec::new();
    drive(&mut swarm, PATIENCE, |_, event| match event {
        SwarmEvent::Behaviour(ProbeEvent::Kad(kad::Event::OutboundQueryProgressed {
            id,
            result: QueryResult::GetRecord(result),
            step,
            ..
        })) if id == query => {
            if let Ok(GetRecordOk::FoundRecord(record)) = result {
                found.push((record.peer, record.record));
                step.last.then_some(())
            } else {
                Some(())
            }
        }
        _ => None,
    })
    .await
    .expect("the registry query ended");
    found
}

/// The pods a lookup lists, as their ids.
fn pod_ids(view: &myco_node::api::types::LookupView) -> Vec<String> {
    view.pods.iter().map(|p| p.dna_hash.clone()).collect()
}

#[test]
fn a_registry_pointer_signed_by_the_wrong_key_is_refused_on_put_and_ignored_on_get() {
    let (net, pods) = start_two_pods("forgery");
    let pod_text = pods[0].clone();
    let pod: DnaHash = pod_text.parse().expect("pod id");
    let victim = net.daemons[0].key_hash;
    let victim_agent = net.agent(0);
    // The genuine pointer is out before the attack.
    let started = Instant::now();
    loop {
        let view = lookup(&net.daemons[1].api, &victim);
        if view.found {
            assert_eq!(pod_ids(&view), vec![pod_text.clone()]);
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the genuine pointer was never found"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // A thief signs terms naming the victim, listing a pod of its own, with a seq that would
    // win over any genuine one.
    let thief = SigningKey::from_bytes(&[0x7e; 32]);
    let fake_pod = DnaHash([0x66; 32]);
    let hijack = Pointer::sign(
        &thief,
        PointerTerms {
            agent: victim_agent,
            pods: vec![fake_pod],
            seq: u64::MAX - 1,
            expires: Timestamp(now_micros() + 3_600_000_000),
        },
    );
    let rt = runtime();
    let key = Keypair::generate_ed25519();
    let attacker = key.public().to_peer_id();
    let mut swarm = rt.block_on(async {
        let mut swarm = probe(&key, MAX_SYNC_BYTES);
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("address"))
            .expect("listen");
        swarm
    });
    let peers = [
        net.address.clone(),
        net.daemon_address(0),
        net.daemon_address(1),
    ];
    rt.block_on(connect(&mut swarm, &peers, None));
    let refused_before: Vec<u64> = net
        .daemons
        .iter()
        .map(|d| metric(&d.api, "registry_refused_total"))
        .collect();
    let record = Record::new(registry_key(&victim), hijack.to_bytes());
    let query = swarm
        .behaviour_mut()
        .kad
        .put_record(record, Quorum::All)
        .expect("the attacker stores its own record");
    rt.block_on(drive(&mut swarm, PATIENCE, |_, event| match event {
        SwarmEvent::Behaviour(ProbeEvent::Kad(kad::Event::OutboundQueryProgressed {
            id,
            result: QueryResult::PutRecord(_),
            ..
        })) if id == query => Some(()),
        _ => None,
    }))
    .expect("the PUT ended");

    // Refused on PUT: each daemon counted it, and the bootstrap peer still serves only the
    // genuine pointer.
    // (The PUT is acknowledged before the daemon's loop judges it: wait for the count.)
    let dirs: Vec<PathBuf> = (0..2).map(|n| net.dir(n)).collect();
    let refused_on_put = rt.block_on(while_driving(
        &mut swarm,
        move || {
            let apis: Vec<ApiClient> = dirs
                .iter()
                .map(|d| ApiClient::for_data_dir(d).expect("api"))
                .collect();
            let started = Instant::now();
            loop {
                let counts: Vec<u64> = apis
                    .iter()
                    .map(|a| metric(a, "registry_refused_total"))
                    .collect();
                if counts.iter().zip(&refused_before).all(|(a, b)| a > b)
                    || started.elapsed() > PATIENCE
                {
                    return counts.iter().zip(&refused_before).all(|(a, b)| a > b);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        },
        |_, _| {},
    ));
    assert!(refused_on_put, "a daemon did not refuse the hijack on PUT");
    // The attacker keeps answering (with its copy) while a fresh node asks around.
    let found = rt.block_on(async {
        tokio::select! {
            found = fetch_records(&net.address, &victim) => found,
            _ = drive(&mut swarm, 2 * PATIENCE, |_, _| None::<()>) => panic!("the fetch hung"),
        }
    });
    let bootstrap = peer_of(&net.address);
    assert!(
        found.iter().any(|(peer, _)| *peer == Some(bootstrap)),
        "the bootstrap peer no longer serves the genuine pointer: {found:?}"
    );
    for (peer, record) in &found {
        if *peer == Some(attacker) {
            continue;
        }
        let pointer = check_found(record, Timestamp(now_micros()))
            .unwrap_or_else(|e| panic!("{peer:?} serves an invalid pointer: {e}"));
        assert_eq!(pointer.terms.pods, vec![pod], "{peer:?} serves the hijack");
    }

    // Ignored on GET: the attacker still serves its copy, and a lookup from the other pod
    // meets it, counts it as refused, and answers with the genuine pods only.
    let asker = PER_POD;
    let refused_before = metric(&net.daemons[asker].api, "registry_refused_total");
    let dir = net.dir(asker);
    let view = rt.block_on(while_driving(
        &mut swarm,
        move || lookup(&ApiClient::for_data_dir(&dir).expect("api"), &victim),
        |_, _| {},
    ));
    assert!(view.found, "{view:?}");
    assert_eq!(pod_ids(&view), vec![pod_text], "the lookup took the hijack");
    assert_eq!(view.agent_key, Some(victim_agent.to_string()));
    assert!(
        metric(&net.daemons[asker].api, "registry_refused_total") > refused_before,
        "the lookup never met the attacker's record, so it proves nothing"
    );
    drop(swarm);
    drop(rt);
}

#[test]
fn malformed_and_oversized_network_messages_get_an_error_and_never_crash_the_daemon() {
    // Bounds four times the daemon's, so the probe can send what the daemon must refuse.
    let AtFirstDaemon {
        mut net,
        pod_text,
        pod,
        address,
        daemon,
        me,
        rt,
        mut swarm,
    } = probe_first_daemon("malformed", 4 * MAX_SYNC_BYTES);
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topic(&pod))
        .expect("subscribe");
    rt.block_on(connect(
        &mut swarm,
        std::slice::from_ref(&address),
        Some(&pod),
    ));

    let outsider = SigningKey::from_bytes(&[0x0c; 32]);
    let too_many = SyncRequest::Get {
        pod,
        binding: binding(&outsider, &me, pod),
        hashes: vec![ActionHash([1; 32]); 513],
    };
    let unknown_pod = SyncRequest::Heights {
        pod: DnaHash([0x55; 32]),
        binding: binding(&outsider, &me, DnaHash([0x55; 32])),
        after: None,
    };
    let bad_push = SyncRequest::Push {
        pod,
        records: vec![ByteBuf::from(vec![0xab; 300])],
    };
    let malformed: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0xff; 64],
        vec![1, 0xa1, 0xff, 0x00, 0x13],
        vec![1; 100_000],
        too_many.to_bytes(),
        unknown_pod.to_bytes(),
        bad_push.to_bytes(),
    ];
    let answers = rt.block_on(ask_all(&mut swarm, daemon, malformed.clone()));
    for (request, answer) in malformed.iter().zip(&answers) {
        let bytes = answer
            .as_ref()
            .unwrap_or_else(|e| panic!("a malformed request got no answer: {e}"));
        let response = SyncResponse::from_bytes(bytes).expect("the answer decodes");
        assert!(
            matches!(response, SyncResponse::Refused { .. }),
            "a malformed request of {} bytes was not refused: {response:?}",
            request.len()
        );
    }

    // Gossip: garbage, a well-formed message with a garbage record, and one over the bound.
    let api_dir = net.dir(0);
    let received_before = metric(&net.daemons[0].api, "gossip_received_total");
    let garbage: Vec<Vec<u8>> = vec![
        vec![0xde; 100],
        myco_node::engine::GossipMessage::Record(ByteBuf::from(vec![0xab; 200])).to_bytes(),
        vec![0x01; MAX_GOSSIP_BYTES + 4096],
    ];
    for message in garbage {
        let published = swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic(&pod), message);
        assert!(
            published.is_ok(),
            "the probe could not publish: {published:?}"
        );
    }
    let counted = rt.block_on(while_driving(
        &mut swarm,
        move || {
            let api = ApiClient::for_data_dir(&api_dir).expect("api");
            let started = Instant::now();
            while started.elapsed() < PATIENCE {
                if metric(&api, "gossip_received_total") >= received_before + 2 {
                    std::thread::sleep(Duration::from_millis(500));
                    return Some(metric(&api, "gossip_rejected_total"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            None
        },
        |_, _| {},
    ));
    let rejected = counted.expect("the daemon never received the garbage gossip");
    assert!(rejected >= 1, "garbage gossip was not rejected");

    // Still up, on the network and on its API.
    let again = rt.block_on(ask_all(&mut swarm, daemon, vec![unknown_pod.to_bytes()]));
    let bytes = again[0]
        .as_ref()
        .expect("a request after all that is answered");
    assert!(matches!(
        SyncResponse::from_bytes(bytes),
        Ok(SyncResponse::Refused { .. })
    ));

    // Oversized: the daemon's codec refuses them before reading them in full and drops the
    // stream; the sender's codec reports that as an error, never as an answer.
    let oversized = vec![vec![1; MAX_SYNC_BYTES + 1], vec![0xff; 3 * MAX_SYNC_BYTES]];
    let answers = rt.block_on(ask_all(&mut swarm, daemon, oversized));
    for answer in answers {
        // Reset mid-write, or closed without a word: either way an error, never an answer.
        answer.expect_err("an oversized request was answered");
    }
    wait_until("the daemon's log to name the oversized request", || {
        std::fs::read_to_string(net.dir(0).join("myco.log"))
            .is_ok_and(|log| log.contains("refused a message over the size bound"))
    });
    assert_survived(&mut net, 0);
    let status: StatusView = net.daemons[0].api.get("/status").expect("status");
    assert!(status.pods.iter().any(|p| p.dna_hash == pod_text));
    drop(swarm);
    drop(rt);
}

#[test]
fn a_restarted_bootstrap_peer_still_answers_registry_lookups() {
    // One daemon only: once it stops, the bootstrap peer is the only holder of its pointer.
    let mut net = start_net(1);
    let pod_text = net.create_pod("restart");
    let pod: DnaHash = pod_text.parse().expect("pod id");
    let member = net.daemons[0].key_hash;
    let rt = runtime();
    let bootstrap = peer_of(&net.address);
    let from_bootstrap = |found: &[(Option<PeerId>, Record)]| {
        found
            .iter()
            .filter(|(peer, _)| *peer == Some(bootstrap))
            .filter_map(|(_, r)| check_found(r, Timestamp(now_micros())).ok())
            .any(|p| p.terms.pods == vec![pod])
    };
    let started = Instant::now();
    while !from_bootstrap(&rt.block_on(fetch_records(&net.address, &member))) {
        assert!(
            started.elapsed() < PATIENCE,
            "the bootstrap peer never held the member's pointer"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The member goes away (nobody else holds its pointer), the bootstrap peer crashes and
    // comes back on the same address.
    net.daemons[0].process.stop();
    net.bootstrap.kill();
    let listen: Multiaddr = net
        .address
        .iter()
        .filter(|p| !matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
        .collect();
    let (restarted, address) = start_bootstrap_on(&net.root.path().join("boot"), &listen);
    net.bootstrap = restarted;
    assert_eq!(address, net.address, "the bootstrap peer kept its identity");
    let found = rt.block_on(fetch_records(&net.address, &member));
    assert!(
        from_bootstrap(&found),
        "the restarted bootstrap peer lost the pointer: {found:?}"
    );

    // A newcomer that knows only the bootstrap peer finds the member through its API.
    let newcomer = net.start_daemon(1);
    let view = lookup(&newcomer.api, &member);
    assert!(view.found, "{view:?}");
    assert_eq!(pod_ids(&view), vec![pod_text]);
    drop(rt);
}

#[test]
fn a_peer_flooding_sync_requests_is_refused_then_banned_while_members_keep_replicating() {
    let AtFirstDaemon {
        mut net,
        pod_text,
        pod,
        address,
        daemon,
        me,
        rt,
        mut swarm,
    } = probe_first_daemon("flood", MAX_SYNC_BYTES);
    rt.block_on(connect(&mut swarm, std::slice::from_ref(&address), None));

    // Far more requests than the allowance (200 a second, bursts of 400), as fast as the
    // connection carries them.
    let outsider = SigningKey::from_bytes(&[0x0d; 32]);
    let request = SyncRequest::Heights {
        pod,
        binding: binding(&outsider, &me, pod),
        after: None,
    }
    .to_bytes();
    // In waves of 8 concurrent requests: as fast as the connection carries them, within the
    // transport's own bound on concurrent streams (16).
    let mut answers = Vec::new();
    for _ in 0..1_000 {
        let wave = rt.block_on(ask_all(&mut swarm, daemon, vec![request.clone(); 8]));
        let cut = wave.iter().any(|a| a.is_err());
        answers.extend(wave);
        if cut {
            break;
        }
    }
    let rate_limited = answers
        .iter()
        .filter_map(|a| a.as_ref().ok())
        .filter(|bytes| {
            matches!(
                SyncResponse::from_bytes(bytes),
                Ok(SyncResponse::Refused { reason }) if reason.starts_with("rate limit")
            )
        })
        .count();
    let cut_off = answers.iter().filter(|a| a.is_err()).count();
    assert!(rate_limited > 0, "no request was refused for the rate");
    assert!(cut_off > 0, "the flooder was never disconnected");
    wait_until("the daemon to count the ban", || {
        metric(&net.daemons[0].api, "peers_banned_total") == 1
    });

    // Banned: a new connection from the flooder is closed at once or refused.
    rt.block_on(async { swarm.dial(address.clone()) })
        .expect("dial");
    let refused = rt.block_on(drive(&mut swarm, PATIENCE, |swarm, event| match event {
        SwarmEvent::OutgoingConnectionError { .. } => Some(true),
        SwarmEvent::ConnectionClosed { peer_id, .. } if peer_id == daemon => {
            Some(!swarm.is_connected(&daemon))
        }
        _ => None,
    }));
    assert_eq!(
        refused,
        Some(true),
        "the banned flooder could connect again"
    );
    assert!(!swarm.is_connected(&daemon));

    // The members go on: a story written on another daemon of the pod reaches the flooded one.
    let hash = publish(
        &net.daemons[1].api,
        &pod_text,
        "after the flood",
        "still here",
        "Pod",
    );
    wait_until("the flooded daemon to store a member's new story", || {
        holds(&net.daemons[0].api, &hash)
    });
    let log = assert_survived(&mut net, 0);
    assert!(log.contains("peer banned"), "the ban is not in the log");
    drop(swarm);
    drop(rt);
}
