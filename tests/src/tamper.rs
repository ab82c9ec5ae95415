//! Damage done to a stopped or running daemon's store from outside, as a failing disk or a
//! careless hand would: the checks that must notice it are the tests' subject.

use std::path::Path;

/// Deletes the record at `seq` of `author`'s chain from the store in data dir `dir`, as a
/// damaged disk or a careless hand would; returns its hash.
pub fn drop_record(dir: &Path, author: &myco_dna::AgentKey, seq: u64) -> String {
    let db = dir.join("store").join(myco_node::store::DB_FILE);
    let conn = rusqlite::Connection::open(&db).expect("the store opens");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("a busy timeout");
    let chain: i64 = conn
        .query_row(
            "SELECT id FROM chains WHERE author = ?1",
            [author.as_bytes().as_slice()],
            |row| row.get(0),
        )
        .expect("the author's chain");
    // The next record names the dropped one by hash: read it from its link.
    let next: Vec<u8> = conn
        .query_row(
            "SELECT action FROM records WHERE chain = ?1 AND seq = ?2",
            rusqlite::params![chain, (seq + 1) as i64],
            |row| row.get(0),
        )
        .expect("the next record");
    let deleted = conn
        .execute(
            "DELETE FROM records WHERE chain = ?1 AND seq = ?2",
            rusqlite::params![chain, seq as i64],
        )
        .expect("deleted");
    assert_eq!(deleted, 1);
    let next = myco_dna::Record::from_bytes(&next).expect("a stored record");
    next.action().prev.expect("a link").to_string()
}
