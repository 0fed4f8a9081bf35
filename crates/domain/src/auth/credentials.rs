//! Passwords, second factors and bearer tokens — built from RustCrypto's argon2, totp-rs
//! and sha2; nothing cryptographic is written by hand here.
//!
//! - Passwords are stored as argon2id PHC strings (a fresh salt each time).
//! - The second factor is TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//!   clock skew); the step a code was accepted in is remembered so a code works once.
//! - Bearer tokens and session ids are 256 random bits; only their SHA-256 is stored, so
//!   the database never holds a usable token.

use crate::pseudonym::hex;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::RngExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Builder, Secret};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (argon2 is costly; refuse megabytes).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why credentials could not be made or checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The password breaks the policy.
    #[error("password: {0}")]
    WeakPassword(String),
    /// The stored hash or secret is unreadable.
    #[error("stored credential is unreadable: {0}")]
    Corrupt(String),
}

/// Checks the password policy.
pub fn check_password_policy(password: &str) -> Result<(), CredentialError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(CredentialError::WeakPassword(format!(
            "must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(CredentialError::WeakPassword(format!(
            "must be at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Hashes a password (argon2id, random salt) to a PHC string.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    check_password_policy(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Corrupt(e.to_string()))
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new TOTP secret: 160 random bits, base32 (what authenticator apps take).
pub fn new_totp_secret() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    Secret::from(bytes.to_vec()).to_base32()
}

fn totp(secret_base32: &str) -> Result<totp_rs::Totp, CredentialError> {
    let secret = Secret::try_from_base32(secret_base32.trim())
        .map_err(|e| CredentialError::Corrupt(e.to_string()))?;
    Builder::new()
        .with_secret(secret)
        .build()
        .map_err(|e| CredentialError::Corrupt(e.to_string()))
}

/// The time step a code is valid in, if `code` is valid at `unix_time` (±1 step).
pub fn check_totp(secret_base32: &str, code: &str, unix_time: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret_base32).ok()?.check(code, unix_time)
}

/// The code for `unix_time` (for tests and the demo's printed instructions).
pub fn totp_code(secret_base32: &str, unix_time: u64) -> Result<String, CredentialError> {
    Ok(totp(secret_base32)?.generate(unix_time).to_string())
}

/// The `otpauth://` URI an authenticator app can import.
pub fn totp_uri(secret_base32: &str, account: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/Saisei:{}?secret={secret_base32}&issuer=Saisei&algorithm=SHA1&digits=6&period=30",
        enc(account)
    )
}

/// A new bearer token (`ssk_` + 64 hex digits) and the SHA-256 to store.
pub fn new_token() -> (String, String) {
    let bytes: [u8; 32] = rand::rng().random();
    let token = format!("ssk_{}", hex(&bytes));
    let hash = token_hash(&token);
    (token, hash)
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(token.trim().as_bytes());
    hex(&h.finalize())
}

/// Compares two stored hashes in constant time.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterx", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn totp_rfc6238_vector() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", T = 59 → 94287082
        // (8 digits); the 6-digit code is its last six digits.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(totp_code(&secret, 59).unwrap(), "287082");
        assert_eq!(check_totp(&secret, "287082", 59), Some(1));
        assert_eq!(
            check_totp(&secret, "287082", 59 + 30),
            Some(1),
            "one step of skew"
        );
        assert_eq!(check_totp(&secret, "287082", 59 + 90), None);
        assert_eq!(check_totp(&secret, "28708a", 59), None);
    }

    #[test]
    fn tokens() {
        let (t, h) = new_token();
        assert!(t.starts_with("ssk_") && t.len() == 68);
        assert!(hashes_equal(&token_hash(&t), &h));
        assert!(!hashes_equal(&token_hash("ssk_x"), &h));
        let (t2, _) = new_token();
        assert_ne!(t, t2);
        assert!(
            totp_uri(&new_totp_secret(), "a@b.example")
                .starts_with("otpauth://totp/Saisei:a%40b.example?secret=")
        );
    }
}
