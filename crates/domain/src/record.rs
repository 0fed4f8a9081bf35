//! The envelope every stored record travels in.
//!
//! Each record has a stable time-ordered id (UUIDv7, so ids sort by creation and serve as
//! pagination cursors), a version number for optimistic concurrency (an update names the
//! version it read; a stale one is refused), and creation/update instants in UTC. Records
//! are never deleted: a withdrawal keeps the row, with the instant and the reason.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Bookkeeping shared by every record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordMeta {
    /// Stable id (UUIDv7).
    pub id: Uuid,
    /// Incremented on every update; an update must name the version it read.
    pub version: i64,
    /// When the record was created (UTC, RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the record last changed (UTC, RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When the record was withdrawn, if it was; withdrawn records stay readable.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub withdrawn_at: Option<OffsetDateTime>,
    /// Why it was withdrawn.
    #[serde(default)]
    pub withdrawal_reason: Option<String>,
}

impl RecordMeta {
    /// Metadata for a record created now.
    pub fn new(now: OffsetDateTime) -> Self {
        RecordMeta {
            id: new_id(),
            version: 1,
            created_at: now,
            updated_at: now,
            withdrawn_at: None,
            withdrawal_reason: None,
        }
    }
}

/// A fresh time-ordered id (UUIDv7): ids sort by creation time, so they double as
/// stable pagination cursors, and the random tail keeps ids made in the same
/// millisecond unique.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// A stored record: its metadata and its data, serialised side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record<T> {
    /// Id, version and timestamps.
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// The entity itself.
    #[serde(flatten)]
    pub data: T,
}

impl<T> Record<T> {
    /// The record's id.
    pub fn id(&self) -> Uuid {
        self.meta.id
    }
}
