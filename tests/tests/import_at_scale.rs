//! `myco import` at the scale of a real community's base: 100,000 rows, a few malformed, one
//! that is no record at all and two that repeat earlier rows. Every row is accounted for, the
//! report balances, and `myco import verify` checks the signed manifest's Merkle root over
//! every written entry against the replica.

use myco_tests::airtable;
use myco_tests::loopback::start_net;
use myco_tests::storyteller::myco;
use serde_json::json;

const ROWS: usize = 100_000;
/// One row in this many has no title.
const MALFORMED_EVERY: usize = 20_000;

#[test]
fn an_import_of_100k_rows_accounts_for_every_row_and_verifies() {
    let net = start_net(1);
    let pod = net.create_pod("import-100k");
    let dir = net.dir(0);
    let mut source = airtable::export(ROWS, MALFORMED_EVERY);
    let records = source["records"].as_array_mut().expect("records");
    let repeated: Vec<_> = records[..2]
        .iter()
        .map(|r| {
            let mut again = r.clone();
            again["id"] = json!(format!("{}-again", r["id"].as_str().unwrap_or_default()));
            again
        })
        .collect();
    records.extend(repeated);
    records.push(json!("not a record"));
    let file = net.root.path().join("base.json");
    std::fs::write(&file, serde_json::to_vec(&source).expect("json")).expect("write");
    let map = net.root.path().join("map.toml");
    std::fs::write(&map, airtable::MAP).expect("write");

    let report = myco(
        &dir,
        &[
            "import",
            "--pod",
            &pod,
            "--from",
            file.to_str().expect("utf-8"),
            "--map",
            map.to_str().expect("utf-8"),
        ],
    )
    .ok();
    let malformed = ROWS / MALFORMED_EVERY;
    assert_eq!(report["source"], ROWS + 3, "{report:.2000}");
    assert_eq!(report["refused"], malformed + 1);
    assert_eq!(report["duplicates"], 2);
    assert_eq!(report["written"], ROWS - malformed);
    assert_eq!(report["balanced"], true);
    let refused = report["refused_rows"].as_array().expect("refused rows");
    assert!(refused.iter().any(|r| r["id"] == "rec019999"
        && r["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no title")));
    assert!(refused.iter().any(|r| r["reason"]
        .as_str()
        .unwrap_or_default()
        .contains("not a record")));

    let verified = myco(&dir, &["import", "verify", "--pod", &pod]).ok();
    let checked = &verified["manifests"][0];
    assert_eq!(checked["sound"], true, "{verified}");
    assert_eq!(checked["held"], ROWS - malformed);
}
