//! Pseudonyms: keyed HMACs of identifiers held elsewhere (仮名加工情報).
//!
//! The registry never stores a patient's or donor's record number. It stores
//! HMAC-SHA256(key, scope ‖ identifier), where the key lives in configuration (a file or
//! the environment) and never in the database. Whoever holds only the database cannot
//! reverse or recompute a pseudonym; the institution that holds the key and the record
//! number can re-find its patient.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::str::FromStr;

/// A 64-character lowercase hexadecimal pseudonym.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pseudonym(String);

impl Pseudonym {
    /// The pseudonym as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({})", &self.0)
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Pseudonym {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        if value.len() == 64
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Pseudonym(value))
        } else {
            Err("must be 64 lowercase hexadecimal characters".into())
        }
    }
}

impl FromStr for Pseudonym {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Pseudonym::try_from(s.to_string())
    }
}

impl From<Pseudonym> for String {
    fn from(p: Pseudonym) -> String {
        p.0
    }
}

impl utoipa::PartialSchema for Pseudonym {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9a-f]{64}$"))
            .description(Some(
                "HMAC-SHA256 pseudonym of an identifier kept outside Saisei",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Pseudonym {}

/// The secret key pseudonyms are made with. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct PseudonymKey(Vec<u8>);

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

/// Why a key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PseudonymKeyError {
    /// A key shorter than 32 bytes is guessable.
    #[error("the pseudonym key must be at least 32 bytes (got {0})")]
    TooShort(usize),
}

impl PseudonymKey {
    /// Wraps key material of at least 32 bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, PseudonymKeyError> {
        if bytes.len() < 32 {
            return Err(PseudonymKeyError::TooShort(bytes.len()));
        }
        Ok(PseudonymKey(bytes))
    }

    /// The pseudonym of `identifier` within `scope` (e.g. the institution's id), so the
    /// same record number at two institutions gives two different pseudonyms.
    pub fn pseudonym(&self, scope: &str, identifier: &str) -> Pseudonym {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        mac.update(scope.as_bytes());
        // A unit separator keeps ("ab","c") and ("a","bc") apart.
        mac.update(&[0x1f]);
        mac.update(identifier.trim().as_bytes());
        let digest = mac.finalize().into_bytes();
        Pseudonym(hex(&digest))
    }
}

/// Lowercase hexadecimal of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PseudonymKey {
        PseudonymKey::new(vec![7u8; 32]).unwrap()
    }

    #[test]
    fn deterministic_and_scoped() {
        let k = key();
        let a = k.pseudonym("inst-1", "MRN-0001");
        assert_eq!(a, k.pseudonym("inst-1", " MRN-0001 "));
        assert_ne!(a, k.pseudonym("inst-2", "MRN-0001"));
        assert_ne!(a, k.pseudonym("inst-1", "MRN-0002"));
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn different_keys_differ() {
        let other = PseudonymKey::new(vec![8u8; 32]).unwrap();
        assert_ne!(key().pseudonym("s", "x"), other.pseudonym("s", "x"));
    }

    #[test]
    fn short_key_refused_and_debug_redacted() {
        assert_eq!(
            PseudonymKey::new(vec![1; 31]).unwrap_err(),
            PseudonymKeyError::TooShort(31)
        );
        assert!(!format!("{:?}", key()).contains('7'));
    }

    #[test]
    fn parse_rejects_non_hex() {
        assert!(Pseudonym::try_from("g".repeat(64)).is_err());
        assert!(Pseudonym::try_from("A".repeat(64)).is_err());
        assert!(Pseudonym::try_from("a".repeat(64)).is_ok());
    }
}
