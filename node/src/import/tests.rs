use super::*;

const MAP: &str = r#"
[source]
table = "records"
id = "id"

[fields]
title = "Title"
body = "Story"
kind = "Type"
visibility = "Visibility"
protocols = "Protocols"
consent = { ai_analysis = "AI ok" }

[defaults]
visibility = "pod"
consent = { community_sharing = true }
principles = ["consent-first"]
"#;

fn map() -> ImportMap {
    ImportMap::from_toml(MAP).expect("the map parses")
}

#[test]
fn an_airtable_export_becomes_stories_with_defaults_and_fields() {
    let json = br#"{"records": [
        {"id": "recA", "fields": {"Title": "Harbour", "Story": "Told", "Type": "song", "AI ok": "yes", "Protocols": ["elders", "winter"]}},
        {"id": "recB", "fields": {"Title": "Second", "Visibility": "Private"}}
    ]}"#;
    let source = Source::from_json(json, &map()).expect("reads");
    assert_eq!(source.table, "records");
    assert_eq!(source.rows[0].id, "recA");
    let first = map().story(&source.rows[0]).expect("a story");
    assert_eq!(first.kind.as_deref(), Some("song"));
    assert!(first.consent.ai_analysis && first.consent.community_sharing);
    assert_eq!(first.protocols, vec!["elders", "winter"]);
    assert_eq!(first.principles, vec!["consent-first"]);
    assert_eq!(first.visibility, "pod");
    let second = map().story(&source.rows[1]).expect("a story");
    assert_eq!(second.visibility, "private");
    assert!(!second.consent.ai_analysis);
}

#[test]
fn malformed_rows_are_kept_with_their_problem_and_named() {
    let json = br#"{"records": [
        7,
        {"id": "recC", "fields": {"Story": "no title here"}},
        {"id": "recD", "fields": {"Title": "Odd", "Visibility": "secret"}},
        {"id": "recE", "fields": {"Title": "Odd", "AI ok": "perhaps"}},
        {"id": "recF", "fields": "not fields"}
    ]}"#;
    let source = Source::from_json(json, &map()).expect("reads");
    assert_eq!(source.rows.len(), 5, "every row is accounted for");
    let reasons: Vec<String> = source
        .rows
        .iter()
        .map(|row| map().story(row).expect_err("refused"))
        .collect();
    assert!(reasons[0].contains("not a record"), "{reasons:?}");
    assert!(reasons[1].contains("no title"), "{reasons:?}");
    assert!(reasons[2].contains("secret"), "{reasons:?}");
    assert!(reasons[3].contains("perhaps"), "{reasons:?}");
    assert!(reasons[4].contains("fields"), "{reasons:?}");
    assert_eq!(source.rows[4].id, "recF");
}

#[test]
fn a_csv_source_reads_its_header_and_counts_a_short_line() {
    let csv = b"id,Title,Story\n1,First,Once\n2,Second\n3,\"Third, with a comma\",Twice\n";
    let source = Source::from_csv(csv, &map()).expect("reads");
    assert_eq!(source.rows.len(), 3);
    assert_eq!(
        source.rows[2].text("Title").as_deref(),
        Some("Third, with a comma")
    );
    assert!(
        source.rows[1].problem.is_some(),
        "a short line is a problem"
    );
    assert_eq!(source.rows[0].id, "1");
}

#[test]
fn a_map_with_an_unknown_flag_or_visibility_is_refused() {
    let bad = MAP.replace("ai_analysis", "ai_anlysis");
    assert!(ImportMap::from_toml(&bad)
        .unwrap_err()
        .to_string()
        .contains("ai_anlysis"));
    let bad = MAP.replace("visibility = \"pod\"", "visibility = \"everyone\"");
    assert!(ImportMap::from_toml(&bad).is_err());
    assert!(
        Source::from_json(b"[1, 2]", &map()).is_err(),
        "no table where the map says"
    );
}
