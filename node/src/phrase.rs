//! The recovery phrase: the agent's ed25519 seed written as 24 BIP-39 English words.
//!
//! The 32-byte seed *is* the phrase's entropy (BIP-39's 256-bit form, with its 8-bit
//! checksum in the last word), so the phrase alone recreates the agent key, and with it
//! the store key ([`crate::store::StoreKey::derive`]). Unlike wallets,
//! Myco does not stretch the phrase through BIP-39's PBKDF2 seed: one key, one phrase,
//! both ways, and any agent key ever made (even one from before phrases existed) has one.
//!
//! The phrase never touches the disk: `myco init` prints it once, `myco key phrase` shows it
//! again after the passphrase, and `myco init --from-phrase` reads it from a prompt or a
//! file the person names.
//!
//! ```
//! use myco_node::phrase::{phrase_of, signing_key_from_phrase};
//! let key = myco_dna::SigningKey::from_bytes(&[7u8; 32]);
//! let words = phrase_of(&key);
//! assert_eq!(words.split_whitespace().count(), 24);
//! assert_eq!(signing_key_from_phrase(&words).unwrap().to_bytes(), key.to_bytes());
//! // Case, extra spaces and line breaks do not matter; a wrong word does.
//! assert!(signing_key_from_phrase(&words.to_uppercase().replace(' ', "  \n")).is_ok());
//! assert!(signing_key_from_phrase("abandon abandon").is_err());
//! ```

use bip39::{Language, Mnemonic};
use myco_dna::SigningKey;
use zeroize::Zeroizing;

/// Words in a Myco recovery phrase.
pub const PHRASE_WORDS: usize = 24;

/// Why a phrase does not give an agent key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhraseError {
    /// The phrase has the wrong number of words.
    #[error("a recovery phrase has {PHRASE_WORDS} words, this one has {0}: check that none is missing or doubled")]
    WordCount(usize),
    /// A word is not in the BIP-39 English list.
    #[error("word {position} of the recovery phrase (\"{word}\") is not a BIP-39 English word: check its spelling")]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
        /// The word as given.
        word: String,
    },
    /// Every word is known, but the checksum in the last word does not match.
    #[error("the recovery phrase's checksum does not match: a word is wrong or two are swapped")]
    Checksum,
}

/// The recovery phrase of `key`: 24 words separated by single spaces.
pub fn phrase_of(key: &SigningKey) -> Zeroizing<String> {
    let seed = Zeroizing::new(key.to_bytes());
    let mnemonic = Mnemonic::from_entropy_in(Language::English, &seed[..])
        .expect("32 bytes is a valid BIP-39 entropy length");
    Zeroizing::new(mnemonic.to_string())
}

/// The agent key a recovery phrase holds. Letter case and white space do not matter.
pub fn signing_key_from_phrase(phrase: &str) -> Result<SigningKey, PhraseError> {
    let normalized = Zeroizing::new(
        phrase
            .split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" "),
    );
    let count = normalized.split(' ').filter(|w| !w.is_empty()).count();
    if count != PHRASE_WORDS {
        return Err(PhraseError::WordCount(count));
    }
    let list = Language::English.word_list();
    if let Some((index, word)) = normalized
        .split(' ')
        .enumerate()
        .find(|(_, word)| list.binary_search(word).is_err())
    {
        return Err(PhraseError::UnknownWord {
            position: index + 1,
            word: word.to_string(),
        });
    }
    let mnemonic = Mnemonic::parse_in_normalized(Language::English, &normalized)
        .map_err(|_| PhraseError::Checksum)?;
    let (entropy, len) = mnemonic.to_entropy_array();
    let entropy = Zeroizing::new(entropy);
    let seed: [u8; 32] = entropy[..len]
        .try_into()
        .map_err(|_| PhraseError::WordCount(count))?;
    let seed = Zeroizing::new(seed);
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_round_trips_through_its_phrase() {
        for byte in [0u8, 1, 0x7f, 0xff] {
            let key = SigningKey::from_bytes(&[byte; 32]);
            let back = signing_key_from_phrase(&phrase_of(&key)).unwrap();
            assert_eq!(back.to_bytes(), key.to_bytes());
        }
    }

    #[test]
    fn the_all_zero_seed_gives_bip39s_published_vector() {
        // BIP-39's first 256-bit test vector: entropy of 32 zero bytes.
        let key = SigningKey::from_bytes(&[0u8; 32]);
        let expected = format!("{}art", "abandon ".repeat(23));
        assert_eq!(phrase_of(&key).as_str(), expected);
    }

    #[test]
    fn mistakes_are_named() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let words: Vec<String> = phrase_of(&key).split(' ').map(str::to_string).collect();
        assert_eq!(
            signing_key_from_phrase(&words[..23].join(" ")),
            Err(PhraseError::WordCount(23))
        );
        let mut typo = words.clone();
        typo[4] = "myco".into();
        assert_eq!(
            signing_key_from_phrase(&typo.join(" ")),
            Err(PhraseError::UnknownWord {
                position: 5,
                word: "myco".into()
            })
        );
        let mut swapped = words.clone();
        swapped.swap(0, 1);
        if swapped != words {
            assert_eq!(
                signing_key_from_phrase(&swapped.join(" ")),
                Err(PhraseError::Checksum)
            );
        }
    }
}
