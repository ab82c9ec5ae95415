//! Catch-up by sync between two engines in memory (issue: pod engine; TARGETS.md P3's engine
//! half): a member that holds nothing fetches 100,000 records from a peer that holds them all,
//! through the engine's own anti-entropy (heights, then ranges of `sync_batch` records), with
//! full validation — decode, shape, batch signatures, chain links, the zomes — and the
//! in-memory store.
//!
//! The baseline, measured in the same run, is a bare `verify_strict` loop over the same
//! records: the cost that the issue says should dominate.
//!
//! ```sh
//! cargo bench -p myco-node --bench catchup
//! ```
//!
//! The last stdout line is JSON: `records`, `records_per_s`, `baseline_records_per_s`, `ratio`.
//! Set `MYCO_CATCHUP_RECORDS` for a smaller or larger run.

use std::collections::VecDeque;
use std::time::Instant;

use anyhow::{bail, Context};
use myco_dna::{ChainAuthor, Record, SigningKey, Timestamp, Visibility};
use myco_node::engine::{Engine, EngineConfig, Input, Output, PeerId, Timer};
use myco_node::store::{MemoryStore, Store};

/// Authors whose chains are caught up.
const AUTHORS: usize = 10;

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return Ok(());
    }
    let total: usize = std::env::var("MYCO_CATCHUP_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dna = myco_zomes::load_dna(include_str!("../../dna/examples/territory-dk.toml"))
        .context("the territory-dk example DNA")?;
    let pod = dna.dna_hash();
    let keys: Vec<SigningKey> = (0..AUTHORS)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 1; 32]))
        .collect();

    eprintln!("catchup: signing {total} records…");
    let mut full = MemoryStore::new();
    let mut authors: Vec<ChainAuthor> = keys
        .iter()
        .map(|k| ChainAuthor::new(k.clone(), pod))
        .collect();
    let mut all = Vec::with_capacity(total);
    for i in 0..total {
        let author = &mut authors[i % AUTHORS];
        let now = Timestamp(1_780_000_000_000_000 + i as u64);
        let record = if author.next_seq() == 0 {
            author.genesis(now, Vec::new())
        } else {
            let story = myco_zomes::content::Content {
                title: format!("Story {i}"),
                body: "A short story shared with the territory.".into(),
                blob: None,
                kind: "story".into(),
                consent: myco_zomes::content::Consent {
                    community_sharing: true,
                    ..Default::default()
                },
                revenue_share: None,
                principles: Vec::new(),
                protocols: Vec::new(),
                attribution: None,
            };
            author.create(
                now,
                "content",
                "content",
                Visibility::Pod,
                myco_zomes::codec::encode(&story),
            )
        };
        all.push(record);
    }
    let mut heads = myco_node::store::Heads::new();
    for chunk in all.chunks(1024) {
        let chunk = myco_node::store::ValidRecord::check_all(chunk.to_vec(), &mut heads)
            .map_err(|(at, e)| anyhow::anyhow!("seeded record {at} is invalid: {e}"))?;
        full.append_batch(&chunk)?;
    }

    // Baseline: a bare verify_strict loop over the same records.
    let started = Instant::now();
    let verified = baseline(&all);
    let baseline_secs = started.elapsed().as_secs_f64();
    if verified != total {
        bail!("the baseline refused a signature");
    }

    // The server holds everything; the newcomer is author 0 on a fresh node.
    let config = EngineConfig::default();
    let (server_peer, client_peer) = (PeerId(vec![1]), PeerId(vec![2]));
    let mut server = Engine::new(
        config.clone(),
        SigningKey::from_bytes(&[200; 32]),
        server_peer.clone(),
        None,
        full,
    );
    server.resume_pod(dna.clone())?;
    // territory-dk keeps its data in DK and the EU: the newcomer's node declares DK.
    let mut client = Engine::new(
        config,
        keys[0].clone(),
        client_peer.clone(),
        Some("DK".into()),
        MemoryStore::new(),
    );
    client.resume_pod(dna)?;

    eprintln!("catchup: syncing…");
    let started = Instant::now();
    let mut now = 1_790_000_000_000_000u64;
    let mut timers: Vec<(u64, usize, Timer)> = Vec::new();
    let mut queue: VecDeque<(usize, Input)> = VecDeque::new();
    queue.push_back((
        0,
        Input::PeerJoined {
            peer: client_peer.clone(),
            pod,
        },
    ));
    queue.push_back((
        1,
        Input::PeerJoined {
            peer: server_peer.clone(),
            pod,
        },
    ));
    let peers = [server_peer, client_peer];
    let (mut last_held, mut idle_rounds) = (0, 0);
    loop {
        while let Some((to, input)) = queue.pop_front() {
            let outputs = if to == 0 {
                server.handle(now, input)
            } else {
                client.handle(now, input)
            };
            for output in outputs {
                let other = 1 - to;
                match output {
                    Output::Request { token, request, .. } => queue.push_back((
                        other,
                        Input::Request {
                            from: peers[to].clone(),
                            request_id: token,
                            bytes: request.to_bytes(),
                        },
                    )),
                    Output::Respond {
                        request_id,
                        response,
                        ..
                    } => queue.push_back((
                        other,
                        Input::Response {
                            from: peers[to].clone(),
                            token: request_id,
                            bytes: response.to_bytes(),
                        },
                    )),
                    Output::SetTimer { at, timer } => timers.push((at, to, timer)),
                    _ => {}
                }
            }
        }
        let held = client
            .store()
            .heads()?
            .values()
            .map(|h| h.seq as usize + 1)
            .sum::<usize>();
        if held >= total {
            break;
        }
        // Ten anti-entropy rounds without progress means sync is stuck: say so.
        idle_rounds = if held > last_held { 0 } else { idle_rounds + 1 };
        last_held = held;
        if idle_rounds > 10 {
            bail!("sync stalled at {held} of {total} records");
        }
        // Idle: jump to the next timer (the next anti-entropy round).
        timers.sort_by_key(|(at, to, _)| (*at, *to));
        if timers.is_empty() {
            bail!("sync stalled at {held} of {total} records");
        }
        let (at, to, timer) = timers.remove(0);
        now = now.max(at);
        queue.push_back((to, Input::Timer(timer)));
    }
    let secs = started.elapsed().as_secs_f64();
    let rate = total as f64 / secs;
    let baseline_rate = total as f64 / baseline_secs;
    let line = serde_json::json!({
        "bench": "catchup",
        "records": total,
        "seconds": (secs * 1000.0).round() / 1000.0,
        "records_per_s": rate.round(),
        "baseline_records_per_s": baseline_rate.round(),
        "ratio": ((rate / baseline_rate) * 1000.0).round() / 1000.0,
        "baseline": "ed25519_dalek verify_strict over the same records, same run",
    });
    println!("{line}");
    Ok(())
}

fn baseline(records: &[Record]) -> usize {
    records
        .iter()
        .filter(|r| {
            let signed = &r.signed;
            ed25519_dalek::VerifyingKey::from_bytes(signed.action.author.as_bytes()).is_ok_and(
                |key| {
                    let signature = ed25519_dalek::Signature::from_bytes(&signed.signature.0);
                    key.verify_strict(signed.hash.as_bytes(), &signature)
                        .is_ok()
                },
            )
        })
        .count()
}
