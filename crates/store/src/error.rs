//! What can go wrong when reading or writing records.

use saisei_domain::ValidationErrors;
use uuid::Uuid;

/// A store failure. The server maps each variant to one HTTP status, the CLI to one exit
/// code; see the server's `problem` module.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No record with that id.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Kind of record.
        entity: &'static str,
        /// The id asked for.
        id: Uuid,
    },
    /// The record changed since the client read it (optimistic concurrency).
    #[error(
        "{entity} {id} was changed by someone else: you sent version {expected}, the current version is {current}"
    )]
    Conflict {
        /// Kind of record.
        entity: &'static str,
        /// The record.
        id: Uuid,
        /// The version the client sent.
        expected: i64,
        /// The version now stored (0 when it could not be read).
        current: i64,
    },
    /// A value that must be unique is taken.
    #[error("{entity}: {field} is already in use")]
    Duplicate {
        /// Kind of record.
        entity: &'static str,
        /// The field (or constraint) that clashed.
        field: String,
    },
    /// The input breaks a rule: which fields and why.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The database could not be reached or failed.
    #[error("database error: {0}")]
    Database(String),
    /// A stored row could not be read back as a valid record.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl From<ValidationErrors> for StoreError {
    fn from(e: ValidationErrors) -> Self {
        StoreError::Invalid(e)
    }
}

impl StoreError {
    /// What a version-guarded write found: the row gone, or at another version.
    pub fn stale(entity: &'static str, id: Uuid, expected: i64, current: Option<i64>) -> Self {
        match current {
            None => StoreError::NotFound { entity, id },
            Some(current) => StoreError::Conflict {
                entity,
                id,
                expected,
                current,
            },
        }
    }

    /// A single-field rule violation.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        StoreError::Invalid(ValidationErrors::one(field, problem))
    }

    /// A reference the database found dangling when the transaction committed (both
    /// backends check foreign keys at commit; `Store::commit` checks each reference
    /// first, so this is only met in a race).
    pub fn dangling_reference() -> Self {
        StoreError::invalid("reference", "a record refers to one that does not exist")
    }
}
