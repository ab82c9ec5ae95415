//! Small scenarios (tens of nodes) that assert on the simulator's metrics: delivery,
//! safety under adversaries, convergence after a partition, churn, and determinism.

mod common;

use common::run;

#[test]
fn every_record_reaches_every_member_when_no_link_loses_messages() {
    let report = run(
        r#"
        name = "no-loss"
        duration_s = 20
        settle_s = 1
        [pods]
        members = 30
        [link]
        latency_ms = 30
        jitter_ms = 5
        [workload]
        records_per_node = 2
        spread_s = 2
        public = 0.6
        pod = 0.3
        "#,
        3,
    );
    assert_eq!(report.records, 60);
    assert_eq!(report.delivery.ratio, 1.0, "{report:?}");
    assert_eq!(report.delivery.delivered, 60 * 29);
    assert!(report.convergence_ms.is_some());
    assert!(report.copies_per_node_per_record > 0.0);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

#[test]
fn thirty_percent_adversaries_get_no_invalid_record_accepted_no_leak_and_every_forker_warranted() {
    let report = run(
        r#"
        name = "adversarial"
        duration_s = 40
        settle_s = 2
        [pods]
        members = 30
        dna = "storytelling"
        [link]
        latency_ms = 30
        jitter_ms = 5
        [workload]
        records_per_node = 1
        spread_s = 3
        public = 0.4
        pod = 0.4
        proposals = 1
        [adversaries]
        forgers = 0.07
        forkers = 0.07
        rule_breakers = 0.07
        vote_stuffers = 0.07
        spammers = 0.07
        spam_per_s = 2
        rate_per_s = 1
        readers = 2
        start_s = 1.5
        end_s = 6
        "#,
        11,
    );
    assert!(
        report.invalid_sent > 0,
        "the adversaries did send invalid records"
    );
    assert_eq!(
        report.invalid_accepted, 0,
        "an honest member accepted an invalid record"
    );
    assert!(
        report.reader_bytes > 0,
        "the readers did receive bytes, all scanned"
    );
    assert_eq!(
        report.leaks, 0,
        "a Pod or Private entry reached a non-member"
    );
    assert_eq!(report.warrants.forkers, 2);
    assert_eq!(
        report.warrants.forkers_warranted, report.warrants.forkers,
        "every honest member warrants every forker"
    );
    assert_eq!(report.warrants.false_warrants, 0);
    assert_eq!(
        report.delivery.ratio, 1.0,
        "honest records still reach everyone"
    );
}

#[test]
fn members_converge_after_a_partition_heals() {
    let report = run(
        r#"
        name = "partition"
        duration_s = 40
        settle_s = 1
        [pods]
        members = 24
        [link]
        latency_ms = 30
        jitter_ms = 5
        [workload]
        records_per_node = 1
        start_s = 1.5
        spread_s = 3
        public = 0.5
        pod = 0.5
        [[partitions]]
        start_s = 1
        end_s = 6
        "#,
        5,
    );
    assert_eq!(report.delivery.ratio, 1.0, "{report:?}");
    let convergence = report.convergence_ms.expect("converged");
    assert!(
        convergence > 0,
        "records crossed the partition only after it healed"
    );
    assert!(
        report.delivery.max_ms > 1_000,
        "some records waited for the heal"
    );
}

#[test]
fn members_who_churn_catch_up_by_sync() {
    let report = run(
        r#"
        name = "churn"
        duration_s = 40
        settle_s = 1
        [pods]
        members = 20
        [link]
        latency_ms = 30
        jitter_ms = 5
        loss = 0.01
        [workload]
        records_per_node = 1
        spread_s = 6
        public = 0.5
        pod = 0.5
        [churn]
        fraction = 0.4
        mean_online_s = 2
        mean_offline_s = 2
        end_s = 8
        "#,
        8,
    );
    assert_eq!(report.delivery.ratio, 1.0, "{report:?}");
}

const DETERMINISM: &str = r#"
    name = "determinism"
    duration_s = 8
    settle_s = 0
    [pods]
    members = 12
    [link]
    latency_ms = 20
    jitter_ms = 15
    loss = 0.05
    duplicate = 0.05
    reorder = 0.1
    [workload]
    records_per_node = 1
    spread_s = 2
    public = 0.5
    pod = 0.5
"#;

#[test]
fn the_same_seed_gives_the_same_trace_hash_and_another_seed_a_different_one() {
    let a = run(DETERMINISM, 42);
    let b = run(DETERMINISM, 42);
    let c = run(DETERMINISM, 43);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.delivery.p99_ms, b.delivery.p99_ms);
    assert_eq!(a.events, b.events);
    assert_ne!(a.trace_hash, c.trace_hash);
}

#[test]
fn many_pods_give_the_same_result_on_one_thread_or_two() {
    let scenario = |threads: usize| {
        format!(
            "name = \"pods\"\nduration_s = 6\nsettle_s = 0\nthreads = {threads}\n\
             [pods]\ncount = 4\nmembers = 5\n[workload]\nrecords_per_node = 1\nspread_s = 1\n"
        )
    };
    let one = run(&scenario(1), 9);
    let two = run(&scenario(2), 9);
    assert_eq!(one.trace_hash, two.trace_hash);
    assert_eq!(one.records, 20);
    assert_eq!(two.delivery.ratio, 1.0);
}

#[test]
fn registry_lookups_succeed_under_churn_and_no_hijacked_pointer_is_stored() {
    let report = run(
        r#"
        name = "registry"
        duration_s = 1
        [pods]
        count = 0
        [registry]
        nodes = 300
        churn = 0.2
        lookups = 300
        hijacks = 20
        "#,
        4,
    );
    let lookups = report.lookups.expect("a registry ran");
    assert_eq!(lookups.count, 300);
    assert!(lookups.success >= 0.99, "{lookups:?}");
    assert!(lookups.p50_hops <= 3, "{lookups:?}");
    assert_eq!(lookups.hijacks_attempted, 20);
    assert_eq!(lookups.hijacks_stored, 0, "a hijacked pointer was stored");
    assert!(
        lookups.puts_refused >= 20,
        "every hijack was refused by validation"
    );
}
