//! The access log: who was shown which patient-level record, and when.
//!
//! Japan's guideline on the security of medical information systems expects a record
//! of who viewed which patient's data, not only of who changed it. Every response that
//! discloses patient-level records (a patient, an enrolment, a consent, a treatment, a
//! visit, an observation, an adverse event, an adjudication task, a trace) appends one
//! entry per record: who, when, through which path, which record and whose. Never the
//! content. The log is append-only; the database refuses changes and deletions.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// One record disclosed to one reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessEntry {
    /// Position in the log (assigned when stored; 0 before).
    pub seq: i64,
    /// When (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The request that disclosed it (entries of one response share it).
    pub request_id: Uuid,
    /// The reader's user id.
    pub actor: String,
    /// The reader's role.
    pub role: String,
    /// The organisation the reader acted for.
    pub organisation_id: Option<Uuid>,
    /// `read` (one record), `list` (a page), `trace`, `audit` or `export`.
    pub action: String,
    /// The path requested (without its query).
    pub path: String,
    /// The kind of record.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The patient the record is about.
    pub patient_id: Option<Uuid>,
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct AccessQuery {
    /// Only entries after this position.
    pub after_seq: i64,
    /// At most this many.
    pub limit: u32,
    /// Only this reader.
    pub actor: Option<String>,
    /// Only this kind of record.
    pub entity: Option<String>,
    /// Only this record.
    pub record_id: Option<Uuid>,
    /// Only records about this patient.
    pub patient_id: Option<Uuid>,
    /// Only from this instant.
    pub from: Option<OffsetDateTime>,
    /// Only before this instant.
    pub to: Option<OffsetDateTime>,
}
