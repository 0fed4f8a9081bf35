//! Where the database, the pseudonym key and the secret key come from.
//!
//! Layered as the rest of the command line: a flag wins, then a `SAISEI_…` environment
//! variable, then a default. Both keys are secrets: they are read from a file or the
//! environment, never from the database, and never printed.

use crate::exit::CliError;
use saisei_domain::auth::secrets::SecretKey;
use saisei_domain::pseudonym::PseudonymKey;
use std::path::{Path, PathBuf};

/// The database used when none is named.
pub const DEFAULT_DB: &str = "saisei.db";

/// Resolves the database URL: the flag, else `SAISEI_DATABASE_URL`, else the default.
pub fn database_url(flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| std::env::var("SAISEI_DATABASE_URL").ok())
        .unwrap_or_else(|| DEFAULT_DB.to_string())
}

/// Whether a URL names a SQLite file (as opposed to a PostgreSQL server).
pub fn is_sqlite(url: &str) -> bool {
    !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
}

/// The file path of a SQLite URL or path.
pub fn sqlite_path(url: &str) -> PathBuf {
    let p = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(p.split('?').next().unwrap_or(p))
}

/// Refuses a `--db` that names a missing SQLite file, instead of creating an empty one
/// (every command but `serve`, `migrate` and `demo` works on an existing registry).
pub fn require_existing(db: Option<&str>) -> Result<(), CliError> {
    let url = database_url(db);
    if is_sqlite(&url) && !sqlite_path(&url).exists() {
        return Err(CliError::input(format!(
            "--db: {} does not exist",
            sqlite_path(&url).display()
        )));
    }
    Ok(())
}

/// The key file kept beside a SQLite database (`<db>.key`).
pub fn key_file_beside(url: &str) -> Option<PathBuf> {
    if !is_sqlite(url) {
        return None;
    }
    let mut p = sqlite_path(url).into_os_string();
    p.push(".key");
    Some(PathBuf::from(p))
}

/// Key material from text: 64+ hex digits, or any text (its bytes).
fn key_bytes(text: &str) -> Vec<u8> {
    let t = text.trim();
    if t.len() >= 64 && t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..t.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap_or(0))
            .collect()
    } else {
        t.as_bytes().to_vec()
    }
}

/// Parses key material: 64+ hex digits, or any text of at least 32 bytes.
pub fn parse_key(text: &str) -> Result<PseudonymKey, CliError> {
    PseudonymKey::new(key_bytes(text)).map_err(|e| CliError::input(format!("pseudonym key: {e}")))
}

/// Parses secret-key material: 64+ hex digits, or any text of at least 32 bytes.
pub fn parse_secret_key(text: &str) -> Result<SecretKey, CliError> {
    SecretKey::new(&key_bytes(text)).map_err(|e| CliError::input(format!("secret key: {e}")))
}

/// The secret-key file kept beside a SQLite database (`<db>.secret`).
pub fn secret_file_beside(url: &str) -> Option<PathBuf> {
    if !is_sqlite(url) {
        return None;
    }
    let mut p = sqlite_path(url).into_os_string();
    p.push(".secret");
    Some(PathBuf::from(p))
}

/// Loads the secret key that seals second-factor secrets: `--secret-key-file`, else
/// `SAISEI_SECRET_KEY`, else `SAISEI_SECRET_KEY_FILE`, else `<db>.secret` beside a
/// SQLite database. `None` when none is configured.
pub fn load_secret_key(flag: Option<&Path>, db_url: &str) -> Result<Option<SecretKey>, CliError> {
    let read = |path: &Path| -> Result<SecretKey, CliError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::input(format!("--secret-key-file {}: {e}", path.display())))?;
        parse_secret_key(&text)
    };
    if let Some(path) = flag {
        return read(path).map(Some);
    }
    if let Ok(text) = std::env::var("SAISEI_SECRET_KEY") {
        return parse_secret_key(&text).map(Some);
    }
    if let Ok(path) = std::env::var("SAISEI_SECRET_KEY_FILE") {
        return read(Path::new(&path)).map(Some);
    }
    match secret_file_beside(db_url) {
        Some(path) if path.exists() => read(&path).map(Some),
        _ => Ok(None),
    }
}

/// Loads the secret key and checks it against the database (see
/// `saisei_store::workflow::auth::check_secret_key`): a missing or wrong key is bad
/// configuration, refused with exit 2 before anything is served or written.
pub async fn checked_secret_key(
    store: &saisei_store::Store,
    flag: Option<&Path>,
    db_url: &str,
) -> Result<Option<SecretKey>, CliError> {
    let key = load_secret_key(flag, db_url)?;
    saisei_store::workflow::auth::check_secret_key(store, key.as_ref())
        .await
        .map_err(|e| match e {
            saisei_store::workflow::auth::KeyError::Store(s) => CliError::from(s),
            other => CliError::input(other.to_string()),
        })?;
    Ok(key)
}

/// A fresh random secret key as hex, for a new key file.
pub fn new_secret_key_hex() -> String {
    let (token, _) = saisei_domain::auth::credentials::new_token();
    token.trim_start_matches("ssk_").to_string()
}

/// Loads the pseudonym key: `--key-file`, else `SAISEI_PSEUDONYM_KEY`, else
/// `SAISEI_PSEUDONYM_KEY_FILE`, else `<db>.key` beside a SQLite database. `None` when
/// none is configured (the server then refuses to register patients).
pub fn load_key(key_file: Option<&Path>, db_url: &str) -> Result<Option<PseudonymKey>, CliError> {
    if let Some(path) = key_file {
        return read_key_file(path).map(Some);
    }
    if let Ok(text) = std::env::var("SAISEI_PSEUDONYM_KEY") {
        return parse_key(&text).map(Some);
    }
    if let Ok(path) = std::env::var("SAISEI_PSEUDONYM_KEY_FILE") {
        return read_key_file(Path::new(&path)).map(Some);
    }
    match key_file_beside(db_url) {
        Some(path) if path.exists() => read_key_file(&path).map(Some),
        _ => Ok(None),
    }
}

fn read_key_file(path: &Path) -> Result<PseudonymKey, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("--key-file {}: {e}", path.display())))?;
    parse_key(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(is_sqlite("x.db"));
        assert!(is_sqlite("sqlite:///tmp/x.db"));
        assert!(!is_sqlite("postgres://h/db"));
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db"),
            PathBuf::from("/tmp/x.db")
        );
        assert_eq!(sqlite_path("sqlite:x.db?mode=rwc"), PathBuf::from("x.db"));
        assert_eq!(
            key_file_beside("/tmp/x.db"),
            Some(PathBuf::from("/tmp/x.db.key"))
        );
    }

    #[test]
    fn keys() {
        assert!(parse_key(&"ab".repeat(32)).is_ok());
        assert!(parse_key("short").is_err());
        assert!(parse_key(&"x".repeat(32)).is_ok());
    }
}
