//! The backup file, as `myco backup verify` and `restore` read it: a file a person kept on
//! another disk, which may come back damaged, cut short, or crafted.

use std::io::Write as _;

use myco_node::backup::{archive, unpack_into, BackupHeader, BackupKey, Decrypting, Encrypting};

use super::{agent_key_of, key, refused};

/// A backup file, opened with agent 2's key and unpacked into an empty folder. Whatever it
/// holds, it is refused with a reason or unpacks only data dir files.
pub fn backup(bytes: &[u8]) {
    let signing = key(2);
    let agent = agent_key_of(&signing);
    let into = tempfile::tempdir().expect("a temp dir");
    let opened = Decrypting::open(bytes).and_then(|(_, sealed)| {
        unpack_into(sealed, &BackupKey::derive(&signing), &agent, into.path())
    });
    match opened {
        Ok(names) => {
            for name in names {
                assert!(
                    into.path().join(&name).starts_with(into.path()),
                    "backup: {name} unpacked outside its folder"
                );
            }
        }
        Err(error) => refused("backup", error),
    }
}

pub(super) fn backup_seeds() -> Vec<Vec<u8>> {
    let signing = key(2);
    let dir = tempfile::tempdir().expect("a temp dir");
    let (keyfile, store) = (dir.path().join("agent.key"), dir.path().join("chains.db"));
    std::fs::write(&keyfile, b"not really a key file").expect("write");
    std::fs::write(&store, b"not really a store").expect("write");
    let header = BackupHeader::new(agent_key_of(&signing), super::NOW, [5; 19]);
    let mut writer =
        Encrypting::new(Vec::new(), &BackupKey::derive(&signing), &header).expect("starts");
    let tar = archive::write_archive(
        Vec::new(),
        &[(archive::AGENT_KEY, &keyfile), (archive::STORE, &store)],
    )
    .expect("an archive");
    writer.write_all(&tar).expect("written");
    let whole = writer.finish().expect("finished");
    let cut = whole[..whole.len() / 2].to_vec();
    vec![whole, cut]
}
