//! Quality and traceability workflows: the writes that need more than one record or a
//! rule about other records, each committed as one transaction with its audit entries.
//!
//! - [`sources`]: cell banks checked against the bank or collection they derive from.
//! - [`lots`]: lots checked against the specification catalogue; QC results and
//!   deviations that bump the lot's evidence revision; conformance; quarantine, release
//!   (refused with the blockers unless every unmet rule is covered by a QA-approved
//!   deviation) and rejection, recorded on the units' custody logs too.
//! - [`custody`]: units, allocation, the append-only custody log checked event by event
//!   with the domain's state machine, shipping, and the administration step a treatment
//!   with a unit adds to its batch.
//! - [`temperature`]: temperature logs, the excursions found in them, the holds they open
//!   and the dispositions that lift them.
//! - [`checklist`]: products' answers to guidance checklists and what is still open.
//! - [`trace`]: look-back (lot → units → patients → adverse events) and trace-back
//!   (adverse event → unit → lot → bank → collection → donor).
//!
//! Decisions taken on records read before the transaction are guarded with
//! [`crate::Batch::check`] (or an update of the record, which is version-guarded too), so
//! a concurrent change makes the commit fail with a conflict instead of going through on
//! stale facts.

pub mod checklist;
pub mod custody;
pub mod lots;
pub mod sources;
pub mod temperature;
pub mod trace;

use crate::backend::Filter;
use crate::error::StoreError;
use crate::value::Value;
use saisei_domain::quality::Catalogue;
use std::sync::OnceLock;
use time::{Date, OffsetDateTime, Time, UtcOffset};
use uuid::Uuid;

/// The specification catalogue compiled into the binary, parsed once.
pub fn catalogue() -> Result<&'static Catalogue, StoreError> {
    static CATALOGUE: OnceLock<Result<Catalogue, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| Catalogue::embedded().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| StoreError::Corrupt(format!("embedded specifications: {e}")))
}

/// `column = id`, the filter every "records of this lot/unit" read uses.
fn by(column: &'static str, id: Uuid) -> Vec<Filter> {
    vec![Filter::eq(column, Value::Uuid(id))]
}

/// The first instant of `date` in Japan Standard Time: the earliest time an event dated
/// only by a civil date (a decision, an administration) can be placed in a custody log.
fn start_of_day_jst(date: Date) -> OffsetDateTime {
    let jst = UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC);
    date.with_time(Time::MIDNIGHT).assume_offset(jst)
}

/// The time to record a workflow's custody event dated `on`: the start of that day, or
/// the log's last event when that is later the same day (logs are in time order).
/// `None` when the log's last event is on a later day than `on`.
fn event_time(on: Date, last: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    let start = start_of_day_jst(on);
    match last {
        Some(l) if l > start => {
            let jst = UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC);
            (l.to_offset(jst).date() == on).then_some(l)
        }
        _ => Some(start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn events_dated_by_day_follow_the_log() {
        let on = date!(2025 - 05 - 10);
        assert_eq!(
            event_time(on, None),
            Some(datetime!(2025-05-10 00:00 +09:00))
        );
        let earlier_that_day = datetime!(2025-05-10 10:30 +09:00);
        assert_eq!(
            event_time(on, Some(earlier_that_day)),
            Some(earlier_that_day)
        );
        assert_eq!(
            event_time(on, Some(datetime!(2025-05-09 23:00 +09:00))),
            Some(datetime!(2025-05-10 00:00 +09:00))
        );
        assert_eq!(
            event_time(on, Some(datetime!(2025-05-11 08:00 +09:00))),
            None
        );
        assert!(catalogue().is_ok());
    }
}
