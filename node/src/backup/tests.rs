use std::io::{Read, Write};

use myco_dna::SigningKey;

use super::*;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A backup of `plain` by agent `seed`, in chunks of `chunk_bytes`.
fn sealed(seed: u8, chunk_bytes: u32, plain: &[u8]) -> Vec<u8> {
    let signing = key(seed);
    let mut header = BackupHeader::new(myco_dna::agent_key_of(&signing), 5, [9; 19]);
    header.chunk_bytes = chunk_bytes;
    let mut writer = Encrypting::new(Vec::new(), &BackupKey::derive(&signing), &header).unwrap();
    // Written in odd pieces, so chunk edges fall inside writes.
    for piece in plain.chunks(7) {
        writer.write_all(piece).unwrap();
    }
    writer.finish().unwrap()
}

fn open(seed: u8, file: &[u8]) -> Result<Vec<u8>, BackupError> {
    let signing = key(seed);
    let (_, sealed) = Decrypting::open(file)?;
    let mut plain = sealed.unlock_as(
        &BackupKey::derive(&signing),
        &myco_dna::agent_key_of(&signing),
    )?;
    let mut out = Vec::new();
    match plain.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(error) => Err(plain.failure().unwrap_or(BackupError::Io(error))),
    }
}

#[test]
fn a_backup_reads_back_whatever_its_length() {
    for length in [0usize, 1, 63, 64, 65, 128, 129, 1000] {
        let plain: Vec<u8> = (0..length).map(|i| (i * 31 % 251) as u8).collect();
        let file = sealed(1, 64, &plain);
        assert_eq!(open(1, &file).unwrap(), plain, "length {length}");
    }
}

#[test]
fn the_plain_text_is_not_in_the_file() {
    let plain = b"a private story about the old harbour, told once".repeat(10);
    let file = sealed(1, 64, &plain);
    assert!(!file.windows(12).any(|w| w == b"old harbour,"));
}

#[test]
fn every_flipped_byte_is_caught() {
    let plain: Vec<u8> = (0..300).map(|i| i as u8).collect();
    let file = sealed(1, 64, &plain);
    for at in 0..file.len() {
        let mut changed = file.clone();
        changed[at] ^= 0x20;
        assert!(
            open(1, &changed).is_err(),
            "a flip at byte {at} went unnoticed"
        );
    }
}

#[test]
fn every_cut_is_named_truncated_or_damaged_never_read_as_whole() {
    let plain: Vec<u8> = (0..300).map(|i| i as u8).collect();
    let file = sealed(1, 64, &plain);
    for cut in 0..file.len() {
        match open(1, &file[..cut]) {
            Err(BackupError::Truncated { .. }) | Err(BackupError::NotABackup) => {}
            Err(BackupError::Damaged { last: true, .. }) => {}
            other => panic!("a cut at {cut} gave {other:?}"),
        }
    }
    // Cut at a chunk boundary: named truncated, not damaged.
    let header_len = file.len() - (4 * (64 + 16) + (300 - 256) + 16);
    let at_boundary = header_len + 2 * (64 + 16);
    assert!(matches!(
        open(1, &file[..at_boundary]),
        Err(BackupError::Truncated { .. })
    ));
}

#[test]
fn another_agents_phrase_is_named_not_tried() {
    let file = sealed(1, 64, b"story");
    let error = open(2, &file).unwrap_err();
    assert!(matches!(error, BackupError::OtherAgent { .. }), "{error:?}");
    assert!(error.to_string().contains("recovery phrase"), "{error}");
}

#[test]
fn a_file_that_is_not_a_backup_is_named() {
    assert!(matches!(
        open(1, b"{\"format\":\"myco-export\"}"),
        Err(BackupError::NotABackup)
    ));
    assert!(matches!(open(1, b""), Err(BackupError::NotABackup)));
}

#[test]
fn a_crafted_header_cannot_ask_for_huge_chunks() {
    let signing = key(1);
    let mut header = BackupHeader::new(myco_dna::agent_key_of(&signing), 5, [9; 19]);
    header.chunk_bytes = u32::MAX;
    let file = header.prefix();
    assert!(matches!(
        Decrypting::open(&file[..]),
        Err(BackupError::BadHeader(_))
    ));
}

#[test]
fn an_archive_unpacks_only_data_dir_files() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir(&source).unwrap();
    std::fs::write(source.join("agent.key"), b"key").unwrap();
    std::fs::write(source.join("chains.db"), b"db").unwrap();
    let tar = archive::write_archive(
        Vec::new(),
        &[
            (archive::AGENT_KEY, &source.join("agent.key")),
            (archive::PODS, &source.join("missing.toml")),
            (archive::STORE, &source.join("chains.db")),
        ],
    )
    .unwrap();
    let into = dir.path().join("into");
    std::fs::create_dir(&into).unwrap();
    let names = archive::unpack(&tar[..], &into).unwrap();
    assert_eq!(names, vec!["agent.key", "store/chains.db"]);
    assert_eq!(std::fs::read(into.join("store/chains.db")).unwrap(), b"db");

    // A name outside the data dir's files is refused.
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(1);
    header.set_cksum();
    builder
        .append_data(&mut header, "../escape", &b"x"[..])
        .unwrap_or(());
    let evil = builder.into_inner().unwrap();
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    assert!(archive::unpack(&evil[..], &other).is_err());
    assert!(!dir.path().join("escape").exists());
}
