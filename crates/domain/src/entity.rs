//! What every kind of registry record has in common.

use crate::error::Validate;
use serde::{Serialize, de::DeserializeOwned};

/// A kind of record the registry stores: serialisable, self-validating, documented.
///
/// The store maps each entity to a table and the API to a resource path; both are
/// generic over this trait, so adding an entity means adding its type, its table and
/// its migration, not new plumbing.
pub trait Entity:
    Serialize + DeserializeOwned + Validate + Clone + Send + Sync + utoipa::ToSchema + 'static
{
    /// The singular noun used in audit entries and messages, e.g. `patient`.
    const KIND: &'static str;
    /// Fields a client may not change through a generic update because a workflow
    /// owns them (a plan's status moves only through dated transitions).
    const READ_ONLY: &'static [&'static str] = &[];

    /// Whether writes of this kind append audit entries on their own. Only bookkeeping
    /// that is not a registry record (a web session's last activity) opts out; the
    /// workflows that create such records audit the event that matters (the sign-in).
    const AUDITED: bool = true;

    /// The record as the audit trail shows it: everything, except for entities that
    /// hold secrets (password hashes, second-factor keys), which leave them out.
    fn audit_view(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The dates of facts that have already happened when they are recorded (a birth, an
    /// onset, an administration, a test), by field path. The store refuses any of them
    /// that is after today in Japan: a future onset is a typing error, not a fact.
    /// Planned dates (a visit's due date, an expiry) are not listed.
    fn past_dates(&self) -> Vec<(String, time::Date)> {
        Vec::new()
    }
}
