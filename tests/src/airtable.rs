//! An Airtable-style JSON export of many stories, and the import map that reads it: the
//! source the `import` bench and the import-at-scale test both feed to `myco import`.

use serde_json::{json, Value};

/// The map for [`export`]'s rows (`myco import --map`).
pub const MAP: &str = r#"
[source]
table = "records"
id = "id"

[fields]
title = "Title"
body = "Story"
kind = "Type"

[defaults]
visibility = "pod"
consent = { community_sharing = true }
"#;

/// `rows` rows, `rec000000` onwards; every `malformed_every`-th row (the last of each run of
/// that many) has no title, so the zome refuses it.
pub fn export(rows: usize, malformed_every: usize) -> Value {
    let records: Vec<Value> = (0..rows)
        .map(|n| {
            let title = if n % malformed_every == malformed_every - 1 {
                Value::Null
            } else {
                json!(format!("Story {n} from the old base"))
            };
            json!({"id": format!("rec{n:06}"), "fields": {
                "Title": title,
                "Story": format!("Told at the harbour in the year {}, by the {n}th storyteller.", 1900 + n % 120),
                "Type": "story"
            }})
        })
        .collect();
    json!({ "records": records })
}
