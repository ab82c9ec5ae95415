use std::os::unix::fs::PermissionsExt;

use super::*;

/// Cheap argon2 settings so the tests stay fast; the format is the same.
const FAST: KdfParams = KdfParams {
    m_cost_kib: 8,
    t_cost: 1,
    p_cost: 1,
};
const PASS: &[u8] = b"correct horse battery staple";

fn stored_key() -> (tempfile::TempDir, Keystore, SigningKey) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Keystore::new(dir.path().join("agent.key"));
    let key = SigningKey::from_bytes(&[9; 32]);
    store.save(&key, PASS, FAST).expect("save");
    (dir, store, key)
}

fn rewrite(store: &Keystore, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = fs::read(store.path()).expect("read key file");
    edit(&mut bytes);
    fs::write(store.path(), bytes).expect("write key file");
}

fn corrupt_detail(err: KeystoreError) -> String {
    match err {
        KeystoreError::Corrupt { detail, .. } => detail,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn the_right_passphrase_unlocks_the_same_key() {
    let (_dir, store, key) = stored_key();
    assert_eq!(store.public_key().expect("public key"), agent_key_of(&key));
    let unlocked = store.unlock(PASS).expect("unlock");
    assert_eq!(unlocked.to_bytes(), key.to_bytes());
}

#[test]
fn generated_keys_are_random_and_unlock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = Keystore::new(dir.path().join("a.key"));
    let b = Keystore::new(dir.path().join("b.key"));
    let agent_a = a.generate(PASS, FAST).expect("generate a");
    let agent_b = b.generate(PASS, FAST).expect("generate b");
    assert_ne!(agent_a, agent_b);
    assert_eq!(agent_key_of(&a.unlock(PASS).expect("unlock")), agent_a);
}

#[test]
fn the_key_file_is_readable_by_its_owner_only() {
    let (_dir, store, _key) = stored_key();
    let mode = fs::metadata(store.path())
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_wrong_passphrase_is_refused_with_advice() {
    let (_dir, store, _key) = stored_key();
    let err = store.unlock(b"wrong").expect_err("expected an error");
    assert!(
        matches!(err, KeystoreError::WrongPassphrase { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("wrong passphrase") && text.contains("backup"),
        "{text}"
    );
}

#[test]
fn an_empty_passphrase_is_refused_on_save() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Keystore::new(dir.path().join("agent.key"));
    let err = store.generate(b"", FAST).expect_err("expected an error");
    assert!(matches!(err, KeystoreError::EmptyPassphrase), "{err:?}");
    assert!(!store.exists());
}

#[test]
fn an_existing_key_is_never_overwritten() {
    let (_dir, store, _key) = stored_key();
    let before = fs::read(store.path()).expect("read");
    let err = store.generate(PASS, FAST).expect_err("expected an error");
    assert!(
        matches!(err, KeystoreError::AlreadyExists { .. }),
        "{err:?}"
    );
    assert_eq!(fs::read(store.path()).expect("read"), before);
}

#[test]
fn a_missing_file_says_to_run_init() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Keystore::new(dir.path().join("agent.key"));
    let err = store.public_key().expect_err("expected an error");
    assert!(matches!(err, KeystoreError::Missing { .. }), "{err:?}");
    assert!(err.to_string().contains("run `myco init` first"), "{err}");
}

#[test]
fn a_truncated_file_is_corrupt() {
    let (_dir, store, _key) = stored_key();
    rewrite(&store, |bytes| bytes.truncate(bytes.len() - 10));
    let detail = corrupt_detail(store.unlock(PASS).expect_err("expected an error"));
    assert!(detail.contains("truncated"), "{detail}");
}

#[test]
fn a_file_cut_after_the_magic_is_corrupt() {
    let (_dir, store, _key) = stored_key();
    rewrite(&store, |bytes| bytes.truncate(KEY_FILE_MAGIC.len()));
    corrupt_detail(store.public_key().expect_err("expected an error"));
}

#[test]
fn a_flipped_byte_in_the_ciphertext_is_detected() {
    let (_dir, store, _key) = stored_key();
    rewrite(&store, |bytes| {
        // The ciphertext is the file's last field.
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
    });
    let err = store.unlock(PASS).expect_err("expected an error");
    assert!(
        matches!(err, KeystoreError::WrongPassphrase { .. }),
        "{err:?}"
    );
}

#[test]
fn a_flipped_byte_in_the_public_key_is_detected() {
    let (_dir, store, key) = stored_key();
    let agent = agent_key_of(&key);
    rewrite(&store, |bytes| {
        let at = bytes
            .windows(32)
            .position(|w| w == agent.as_bytes())
            .expect("public key is in clear");
        bytes[at + 5] ^= 0x80;
    });
    // The public key still reads (it is in clear), but no longer matches what was sealed.
    assert_ne!(store.public_key().expect("public key"), agent);
    let err = store.unlock(PASS).expect_err("expected an error");
    assert!(
        matches!(err, KeystoreError::WrongPassphrase { .. }),
        "{err:?}"
    );
}

#[test]
fn bad_magic_bytes_are_corrupt() {
    let (_dir, store, _key) = stored_key();
    rewrite(&store, |bytes| bytes[0] = b'X');
    let detail = corrupt_detail(store.public_key().expect_err("expected an error"));
    assert!(detail.contains("magic"), "{detail}");
}

#[test]
fn an_unknown_version_is_reported_as_such() {
    let (_dir, store, _key) = stored_key();
    rewrite(&store, |bytes| bytes[KEY_FILE_MAGIC.len()] = 7);
    let err = store.public_key().expect_err("expected an error");
    assert!(
        matches!(err, KeystoreError::UnknownVersion { version: 7 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade myco"), "{err}");
}

#[test]
fn an_empty_file_is_corrupt() {
    let (_dir, store, _key) = stored_key();
    rewrite(&store, Vec::clear);
    let detail = corrupt_detail(store.public_key().expect_err("expected an error"));
    assert!(detail.contains("empty"), "{detail}");
}

#[test]
fn garbage_cbor_after_the_header_is_corrupt() {
    let (_dir, store, _key) = stored_key();
    rewrite(&store, |bytes| {
        bytes.truncate(KEY_FILE_MAGIC.len() + 1);
        bytes.extend_from_slice(&[0xff, 0x00, 0x13, 0x37, 0xfe]);
    });
    corrupt_detail(store.public_key().expect_err("expected an error"));
}

#[test]
fn an_oversized_file_is_corrupt() {
    let (_dir, store, _key) = stored_key();
    rewrite(&store, |bytes| {
        bytes.resize(MAX_KEY_FILE_BYTES as usize + 1, 0)
    });
    let detail = corrupt_detail(store.public_key().expect_err("expected an error"));
    assert!(detail.contains("bytes"), "{detail}");
}

fn reencode(store: &Keystore, edit: impl FnOnce(&mut KeyFile)) {
    rewrite(store, |bytes| {
        let body = &bytes[KEY_FILE_MAGIC.len() + 1..];
        let mut file: KeyFile = from_cbor("agent key file", body).expect("decode");
        edit(&mut file);
        bytes.truncate(KEY_FILE_MAGIC.len() + 1);
        bytes.extend_from_slice(&to_canonical_cbor(&file));
    });
}

#[test]
fn a_salt_of_the_wrong_length_is_corrupt() {
    let (_dir, store, _key) = stored_key();
    reencode(&store, |file| {
        file.header.salt.pop();
    });
    let detail = corrupt_detail(store.unlock(PASS).expect_err("expected an error"));
    assert!(detail.contains("salt is 15 bytes"), "{detail}");
}

#[test]
fn argon2_costs_over_the_bound_are_refused_before_deriving() {
    let (_dir, store, _key) = stored_key();
    reencode(&store, |file| file.header.kdf.m_cost_kib = u32::MAX);
    let detail = corrupt_detail(store.unlock(PASS).expect_err("expected an error"));
    assert!(detail.contains("bounds"), "{detail}");
}

#[test]
fn the_default_kdf_is_owasp_argon2id() {
    assert_eq!(
        KdfParams::default(),
        KdfParams {
            m_cost_kib: 19_456,
            t_cost: 2,
            p_cost: 1
        }
    );
}
