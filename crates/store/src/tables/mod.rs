//! Every kind of record and its table, grouped by the part of Saisei that owns them:
//! each kind's catalogue entry is its `Stored` impl in its group's module, and
//! [`kinds`] is the one list of them all.

pub mod evaluation;
pub mod quality;
pub mod registry;
pub mod trust;

pub use registry::*;

/// Every table (one per kind).
pub fn all() -> Vec<&'static crate::TableDef> {
    kinds().into_iter().map(|k| k.table).collect()
}

/// Every table, built once: for lookups on the write path.
pub fn catalogue() -> &'static [&'static crate::TableDef] {
    static CATALOGUE: std::sync::OnceLock<Vec<&'static crate::TableDef>> =
        std::sync::OnceLock::new();
    CATALOGUE.get_or_init(all)
}

/// The table with this name.
pub fn by_name(name: &str) -> Option<&'static crate::TableDef> {
    catalogue().iter().copied().find(|t| t.name == name)
}

/// What code that walks every kind of record generically needs to know of each one that
/// only its Rust type knows: whether its writes are audited, and its row as the audit
/// trail shows it.
#[derive(Clone, Copy)]
pub struct KindOps {
    /// The table.
    pub table: &'static crate::TableDef,
    /// Whether writes of this kind append audit entries.
    pub audited: bool,
    /// A stored row as the audit trail shows the record (parsed through the type, so
    /// secrets are left out as the trail leaves them out).
    pub audit_view: fn(crate::Row) -> Result<serde_json::Value, crate::StoreError>,
    /// The columns derived from the type.
    pub columns: fn() -> Vec<crate::derive::DerivedColumn>,
    /// A row read back as the record and written again as a row.
    pub round_trip: fn(crate::Row) -> Result<crate::Row, crate::StoreError>,
    /// The records a stored row points at.
    pub references: fn(crate::Row) -> Result<Vec<crate::Reference>, crate::StoreError>,
}

fn round_trip_of<T: crate::Stored>(row: crate::Row) -> Result<crate::Row, crate::StoreError> {
    let record = crate::store::from_row::<T>(row)?;
    crate::store::to_row(record.meta, &record.data)
}

fn references_of<T: crate::Stored>(
    row: crate::Row,
) -> Result<Vec<crate::Reference>, crate::StoreError> {
    Ok(crate::store::from_row::<T>(row)?.data.references())
}

fn audit_view_of<T: crate::Stored>(
    row: crate::Row,
) -> Result<serde_json::Value, crate::StoreError> {
    Ok(crate::store::from_row::<T>(row)?.data.audit_view())
}

macro_rules! kinds {
    ($($ty:ty),* $(,)?) => {
        vec![$(KindOps {
            table: <$ty as crate::Stored>::table(),
            audited: <$ty as saisei_domain::Entity>::AUDITED,
            audit_view: audit_view_of::<$ty>,
            columns: crate::derive::columns_of::<$ty>,
            round_trip: round_trip_of::<$ty>,
            references: references_of::<$ty>,
        }),*]
    };
}

/// Every stored kind of record, with its typed operations (one entry per table of
/// [`all`]; a test checks they agree).
pub fn kinds() -> Vec<KindOps> {
    use saisei_domain::auth::*;
    use saisei_domain::evaluation::*;
    use saisei_domain::quality::records::*;
    use saisei_domain::registry::*;
    kinds![
        Organisation,
        Practitioner,
        Product,
        Plan,
        PlanTransition,
        Patient,
        Enrollment,
        Consent,
        FollowUpSchedule,
        Treatment,
        Visit,
        Observation,
        AdverseEvent,
        PeriodicReport,
        EvaluationPlan,
        AdjudicationTask,
        AdjudicationAssessment,
        EvaluationRun,
        Donor,
        Collection,
        CellBank,
        CultureMedium,
        Lot,
        LotStatusChange,
        ProductUnit,
        RetainedSample,
        LotQcResult,
        LotDeviation,
        UnitCustodyEvent,
        UnitTemperatureLog,
        UnitTemperatureExcursion,
        ExcursionDisposition,
        ProductChecklistAnswer,
        User,
        ApiToken,
        Session,
        Signature,
        Enrolment,
        KeyCheck,
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_is_declared_once_and_its_noun_agrees() {
        let mut names: Vec<&str> = super::all().iter().map(|t| t.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a table is declared twice");
        for t in super::all() {
            assert!(!t.columns.is_empty(), "{} has no columns", t.name);
            if let Some(api) = t.api {
                assert!(
                    api.immutable.iter().all(|f| t.column(f).is_some()),
                    "{}: an immutable field that is not a column",
                    t.name
                );
            }
        }
    }

    #[test]
    fn every_table_has_its_kind_and_no_more() {
        let mut tables: Vec<&str> = super::all().iter().map(|t| t.name).collect();
        let mut kinds: Vec<&str> = super::kinds().iter().map(|k| k.table.name).collect();
        tables.sort();
        kinds.sort();
        assert_eq!(tables, kinds);
    }
}
