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

/// The 10,000 most common passwords, lowercase, one per line (source and licence in
/// `data/common-passwords.README.md`).
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

/// Whether a password is one of the 10,000 most common (ignoring case and the spaces
/// around it).
pub fn is_common_password(password: &str) -> bool {
    let p = password.trim().to_lowercase();
    COMMON_PASSWORDS.lines().any(|l| l == p)
}

/// Checks the password policy: 12 to 256 characters, and not a common password.
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
    if is_common_password(password) {
        return Err(CredentialError::WeakPassword(
            "is one of the 10,000 most common passwords; choose another".into(),
        ));
    }
    Ok(())
}

/// An argon2id hash of a password nobody has, made once: an attempt for an unknown
/// account is checked against it, so that it costs what a real one costs.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let (material, _) = new_token();
        Argon2::default()
            .hash_password(material.as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
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

/// How many recovery codes a user holds after enrolment.
pub const RECOVERY_CODES: usize = 10;

/// The alphabet of recovery codes: lowercase letters and digits without the ones that
/// are easily confused when read off paper (0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Fresh recovery codes (`xxxxx-xxxxx`, about 49 bits each) and the hashes to store.
/// Each works once in place of a one-time code, for a user who lost their device.
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let chars: String = (0..10)
            .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char)
            .collect();
        let code = format!("{}-{}", &chars[..5], &chars[5..]);
        hashes.push(recovery_code_hash(&code));
        codes.push(code);
    }
    (codes, hashes)
}

/// The hash of a recovery code as typed (case, spaces and dashes do not matter).
pub fn recovery_code_hash(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    token_hash(&normalised)
}

/// Whether what was typed in the code field has the shape of a recovery code (rather
/// than a six-digit one-time code).
pub fn looks_like_recovery_code(code: &str) -> bool {
    let n = code.chars().filter(|c| c.is_ascii_alphanumeric()).count();
    n == 10
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
}

/// The position of the stored hash a recovery code matches, compared in constant time.
pub fn match_recovery_code(code: &str, stored: &[String]) -> Option<usize> {
    let h = recovery_code_hash(code);
    let mut found = None;
    for (i, s) in stored.iter().enumerate() {
        if hashes_equal(s, &h) && found.is_none() {
            found = Some(i);
        }
    }
    found
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
    fn recovery_codes_work_once_each_and_forgive_typing() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && looks_like_recovery_code(c))
        );
        let typed = codes[3].to_uppercase().replace('-', " ");
        assert_eq!(match_recovery_code(&typed, &hashes), Some(3));
        assert_eq!(match_recovery_code("aaaaa-aaaaa", &hashes), None);
        assert!(!looks_like_recovery_code("123456"));
    }

    #[test]
    fn common_passwords_are_refused() {
        for p in [
            "qwerty123456",
            "1qaz2wsx3edc",
            "LeaveMeAlone",
            " 123qweasdzxc ",
        ] {
            assert!(check_password_policy(p).is_err(), "{p}");
        }
        assert!(check_password_policy("correct horse battery staple").is_ok());
        assert_eq!(COMMON_PASSWORDS.lines().count(), 10_000);
        assert_eq!(COMMON_PASSWORDS.lines().next(), Some("123456"));
    }

    #[test]
    fn common_password_list_is_the_recorded_one() {
        assert_eq!(
            token_hash_bytes(COMMON_PASSWORDS.as_bytes()),
            "fd8ee3ed0ec0e1ca7cdc36ed3e6e4dfc85115bee120024db50c1370cc8e00cbc"
        );
    }

    fn token_hash_bytes(b: &[u8]) -> String {
        hex(&Sha256::digest(b))
    }

    #[test]
    fn the_dummy_hash_verifies_nothing_typed() {
        assert!(dummy_password_hash().starts_with("$argon2id$"));
        assert!(!verify_password(
            "correct horse battery",
            dummy_password_hash()
        ));
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
