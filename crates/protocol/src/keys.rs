//! Secret key formats: customer API keys (`ak_live_`, `ak_test_`) and server keys
//! (`ak_server_`).
//!
//! A key is `<prefix><base58(32 random bytes ‖ 4-byte checksum)>`. The checksum is the first
//! four bytes of SHA-256 over the prefix and the random bytes, so a mistyped or truncated key
//! is refused before any database lookup, and a leaked key is recognisable by scanners. Keys
//! carry 256 random bits, so they are stored as HMAC-SHA-256 under the server pepper rather
//! than with a slow password hash (docs/ARCHITECTURE.md, "Security decisions").

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

const RANDOM_LEN: usize = 32;
const CHECKSUM_LEN: usize = 4;

/// What a key opens: a customer's live or sandbox session, or a worker's registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Live,
    Test,
    Server,
}

impl KeyKind {
    /// The textual prefix every key of this kind starts with.
    pub const fn prefix(self) -> &'static str {
        match self {
            KeyKind::Live => "ak_live_",
            KeyKind::Test => "ak_test_",
            KeyKind::Server => "ak_server_",
        }
    }

    /// The mode name used in the API (`live`, `test`, `server`).
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyKind::Live => "live",
            KeyKind::Test => "test",
            KeyKind::Server => "server",
        }
    }

    fn from_key(key: &str) -> Option<(KeyKind, &str)> {
        [KeyKind::Live, KeyKind::Test, KeyKind::Server]
            .into_iter()
            .find_map(|kind| key.strip_prefix(kind.prefix()).map(|rest| (kind, rest)))
    }
}

/// Why a presented key was refused without a lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("unknown key prefix")]
    Prefix,
    #[error("key body is not valid base58")]
    Encoding,
    #[error("key has the wrong length")]
    Length,
    #[error("key checksum does not match")]
    Checksum,
}

/// A freshly generated secret. `Debug` never prints the secret itself.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    kind: KeyKind,
    text: String,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({}…)", self.kind.prefix())
    }
}

impl SecretKey {
    /// Generates a new key of the given kind from the operating system's CSPRNG.
    pub fn generate(kind: KeyKind) -> Self {
        let mut random = [0u8; RANDOM_LEN];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let mut body = Vec::with_capacity(RANDOM_LEN + CHECKSUM_LEN);
        body.extend_from_slice(&random);
        body.extend_from_slice(&checksum(kind, &random));
        let text = format!("{}{}", kind.prefix(), bs58::encode(body).into_string());
        SecretKey { kind, text }
    }

    /// Checks a presented key's prefix, encoding, length and checksum.
    pub fn parse(text: &str) -> Result<Self, KeyFormatError> {
        let (kind, body) = KeyKind::from_key(text).ok_or(KeyFormatError::Prefix)?;
        // 36 bytes encode to at most 50 base58 characters; refuse anything longer unread.
        if body.is_empty() || body.len() > 52 {
            return Err(KeyFormatError::Length);
        }
        let bytes = bs58::decode(body)
            .into_vec()
            .map_err(|_| KeyFormatError::Encoding)?;
        if bytes.len() != RANDOM_LEN + CHECKSUM_LEN {
            return Err(KeyFormatError::Length);
        }
        let (random, sum) = bytes.split_at(RANDOM_LEN);
        if checksum(kind, random) != sum {
            return Err(KeyFormatError::Checksum);
        }
        Ok(SecretKey {
            kind,
            text: text.to_owned(),
        })
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The full secret, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// A recognisable, non-secret hint such as `ak_live_…x7Qp`.
    pub fn hint(&self) -> String {
        let tail: String = self
            .text
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{}…{}", self.kind.prefix(), tail)
    }

    /// The stored form: hex HMAC-SHA-256 of the whole key under the server pepper.
    pub fn digest(&self, pepper: &[u8]) -> String {
        keyed_digest(pepper, self.text.as_bytes())
    }
}

/// Hex HMAC-SHA-256 of `data` under `key`.
pub fn keyed_digest(key: &[u8], data: &[u8]) -> String {
    hex::encode(keyed_digest_bytes(key, data))
}

/// [`keyed_digest`] as bytes (what an in-memory cache keys by: no hex text to build).
pub fn keyed_digest_bytes(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn checksum(kind: KeyKind, random: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(kind.prefix().as_bytes());
    hasher.update(random);
    let full = hasher.finalize();
    [full[0], full[1], full[2], full[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_with_their_kind() {
        for kind in [KeyKind::Live, KeyKind::Test, KeyKind::Server] {
            let key = SecretKey::generate(kind);
            assert!(key.expose().starts_with(kind.prefix()));
            let parsed = SecretKey::parse(key.expose()).unwrap();
            assert_eq!(parsed.kind(), kind);
            assert_eq!(parsed, key);
        }
    }

    #[test]
    fn a_single_changed_character_fails_the_checksum() {
        let key = SecretKey::generate(KeyKind::Live);
        let text = key.expose();
        let last = text.chars().last().unwrap();
        let swapped = if last == 'a' { 'b' } else { 'a' };
        let tampered = format!("{}{}", &text[..text.len() - 1], swapped);
        assert!(matches!(
            SecretKey::parse(&tampered),
            Err(KeyFormatError::Checksum | KeyFormatError::Length)
        ));
    }

    #[test]
    fn a_live_body_under_a_test_prefix_is_refused() {
        let key = SecretKey::generate(KeyKind::Live);
        let moved = key.expose().replacen("ak_live_", "ak_test_", 1);
        assert_eq!(SecretKey::parse(&moved), Err(KeyFormatError::Checksum));
    }

    #[test]
    fn malformed_keys_are_refused_before_lookup() {
        assert_eq!(SecretKey::parse("sk_live_abc"), Err(KeyFormatError::Prefix));
        assert_eq!(SecretKey::parse("ak_live_"), Err(KeyFormatError::Length));
        assert_eq!(
            SecretKey::parse("ak_live_0OIl"),
            Err(KeyFormatError::Encoding)
        );
        assert_eq!(SecretKey::parse("ak_live_abc"), Err(KeyFormatError::Length));
        let long = format!("ak_live_{}", "z".repeat(200));
        assert_eq!(SecretKey::parse(&long), Err(KeyFormatError::Length));
    }

    #[test]
    fn debug_and_hint_never_show_the_secret() {
        let key = SecretKey::generate(KeyKind::Test);
        let body = &key.expose()[8..];
        assert!(!format!("{key:?}").contains(body));
        assert!(!key.hint().contains(&body[..10]));
        assert!(key.hint().starts_with("ak_test_…"));
    }

    #[test]
    fn digest_depends_on_pepper_and_key() {
        let key = SecretKey::generate(KeyKind::Live);
        let other = SecretKey::generate(KeyKind::Live);
        assert_ne!(key.digest(b"pepper-one"), key.digest(b"pepper-two"));
        assert_ne!(key.digest(b"pepper-one"), other.digest(b"pepper-one"));
        assert_eq!(key.digest(b"p").len(), 64);
    }
}
