//! Secrets at rest: what the server must be able to read back (a user's TOTP seed) is
//! sealed with a key that lives in configuration beside the pseudonym key, never in the
//! database. Whoever holds only a copy of the database can neither produce one-time
//! codes nor tell which key sealed them.
//!
//! Sealing is XChaCha20-Poly1305 from RustCrypto (a 24-byte random nonce per value, so
//! random nonces never collide in practice), with the value's purpose and owner as
//! associated data: a sealed secret moved to another user's row does not open. Nothing
//! cryptographic is written by hand here.

use crate::pseudonym::hex;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Nonce, Payload};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// The prefix of a sealed value (the format's version).
const PREFIX: &str = "v1.";
/// The nonce length of XChaCha20-Poly1305.
const NONCE_BYTES: usize = 24;

/// Why a key or a sealed value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Key material shorter than 32 bytes is guessable.
    #[error("the secret key must be at least 32 bytes (got {0})")]
    ShortKey(usize),
    /// The value is not in the sealed format.
    #[error("the value is not a sealed secret")]
    NotSealed,
    /// The value does not open with this key for this owner (wrong key or tampering).
    #[error("the sealed secret does not open with this key")]
    WrongKey,
}

/// The server's secret key. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey {
    cipher_key: [u8; 32],
    check: String,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

fn hmac(material: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(material)
        .expect("HMAC accepts keys of any length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl SecretKey {
    /// Derives the key from material of at least 32 bytes (a key file's content). The
    /// cipher key and the check value are derived separately, so the check value stored
    /// in the database says nothing about the cipher key.
    pub fn new(material: &[u8]) -> Result<Self, SecretError> {
        if material.len() < 32 {
            return Err(SecretError::ShortKey(material.len()));
        }
        Ok(SecretKey {
            cipher_key: hmac(material, b"saisei secret key v1: cipher"),
            check: hex(&hmac(material, b"saisei secret key v1: check")),
        })
    }

    /// The value stored in the database to recognise this key at start-up.
    pub fn check_value(&self) -> &str {
        &self.check
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.cipher_key.into())
    }

    /// Seals `plaintext` for `owner` (what it belongs to, e.g. `totp:dr@clinic.example`).
    pub fn seal(&self, plaintext: &str, owner: &str) -> String {
        let nonce = Nonce::<XChaCha20Poly1305>::generate();
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message of this size");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", hex(&bytes))
    }

    /// Opens a value sealed for `owner`.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<String, SecretError> {
        let bytes = unhex(sealed.strip_prefix(PREFIX).ok_or(SecretError::NotSealed)?)
            .ok_or(SecretError::NotSealed)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SecretError::NotSealed);
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let nonce =
            Nonce::<XChaCha20Poly1305>::try_from(nonce).map_err(|_| SecretError::NotSealed)?;
        let plain = self
            .cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: body,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SecretError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SecretError::WrongKey)
    }
}

/// Whether a stored value is in the sealed format (it says nothing of which key).
pub fn is_sealed(value: &str) -> bool {
    value
        .strip_prefix(PREFIX)
        .is_some_and(|h| h.len() > 2 * NONCE_BYTES && unhex(h).is_some())
}

/// The owner a user's TOTP secret is sealed for.
pub fn totp_owner(email: &str) -> String {
    format!("totp:{email}")
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_the_key_and_owner() {
        let key = SecretKey::new(&[7u8; 32]).unwrap();
        let sealed = key.seal("JBSWY3DPEHPK3PXP", "totp:a@b.example");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.open(&sealed, "totp:a@b.example").unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        assert_eq!(
            key.open(&sealed, "totp:c@d.example"),
            Err(SecretError::WrongKey)
        );
        let other = SecretKey::new(&[8u8; 32]).unwrap();
        assert_eq!(
            other.open(&sealed, "totp:a@b.example"),
            Err(SecretError::WrongKey)
        );
        assert_ne!(
            key.seal("x", "o"),
            key.seal("x", "o"),
            "fresh nonce each time"
        );
        assert_eq!(key.open("JBSWY3DP", "o"), Err(SecretError::NotSealed));
        assert!(!is_sealed("JBSWY3DPEHPK3PXPJBSWY3DP"));
    }

    #[test]
    fn check_values_tell_keys_apart_and_hide_them() {
        let a = SecretKey::new(b"a key of at least thirty-two bytes!").unwrap();
        let b = SecretKey::new(b"another key of at least 32 bytes..").unwrap();
        assert_ne!(a.check_value(), b.check_value());
        assert_eq!(a.check_value().len(), 64);
        assert!(SecretKey::new(b"short").is_err());
        assert!(!format!("{a:?}").contains(a.check_value()));
    }
}
