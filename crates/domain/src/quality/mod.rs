//! Quality and traceability: specifications as data, QC results and their conformance check,
//! lot release, chain of identity and custody, temperature excursions, and the JSRM EV
//! guidance checklist.
//!
//! Everything here is pure (no I/O, no clock): the store keeps lots, results, events and
//! logs; the server and CLI call these functions to decide what may happen next.
//!
//! How the pieces fit, for a lot:
//! 1. [`Catalogue::embedded`] loads the specifications under `specs/` (ISCT MSC, MISEV EV,
//!    safety tests, example products) and the JSRM checklist; uploaded product
//!    specifications go through [`Catalogue::add_specification_toml`], which refuses any
//!    that loosen a base rule.
//! 2. [`Catalogue::resolve`] gives the lot's [`ResolvedSpecification`];
//!    [`check_conformance`] judges the lot's [`QcResult`]s against it (pass / fail / missing per
//!    rule, with explanations).
//! 3. [`decide_release`] turns the conformance check and any QA-approved [`Deviation`]s into a
//!    [`ReleaseApproval`] or a [`ReleaseRefusal`] listing the blockers.
//! 4. Each unit's custody log is checked event by event with [`apply`] (or [`replay`]);
//!    [`check_unit_use`] guards shipping and administration against the lot's status.
//! 5. Temperature logs ([`TemperatureLog::parse_csv`]) are checked against the unit's
//!    [`StorageRange`]; each [`Excursion`] puts the affected units on hold
//!    ([`quarantine_action`]) until a [`Disposition`] lifts the hold or destroys them.
//! 6. For EV and culture-supernatant products, [`Checklist::status`] says which JSRM
//!    guidance items are still open.
//!
//! [`records`] holds the stored entities (donors, banks, lots, units, custody events…)
//! that the store's quality workflows combine with the functions above.

#![warn(missing_docs)]

pub mod catalogue;
pub mod checklist;
pub mod conformance;
pub mod custody;
pub mod identifiers;
pub mod measure;
pub mod qc;
pub mod records;
pub mod release;
pub mod spec;
pub mod temperature;

pub use catalogue::{Catalogue, CatalogueError};
pub use checklist::{
    Checklist, ChecklistAnswer, ChecklistError, ChecklistItem, ChecklistResponse, ChecklistStatus,
    ItemState, ItemStatus, OpenReason,
};
pub use conformance::{
    Conformance, ConformanceContext, DoseContext, MaxDose, Observation, OverallOutcome,
    RuleConformance, RuleOutcome, SetAside, UnusedResult, check_conformance, dose_normalised_limit,
};
pub use custody::{
    CustodyAction, CustodyError, CustodyEvent, CustodyEventType, IdentityError, Party, Recipient,
    ReplayError, UnitCustodyState, UnitPhase, Unusable, apply, check_recipient, replay,
};
pub use identifiers::{
    AttributeCode, ChecklistId, DonationIdentificationNumber, IdentifierError, LotNumber,
    MethodCode, RuleId, SecCodingSystem, SingleEuropeanCode, SpecId,
};
pub use measure::{FiniteNumber, MeasureError, PositiveNumber, StorageRange, Unit};
pub use qc::{QcResult, QcValue, QualitativeResult};
pub use release::{
    Approver, CoveredRule, Deviation, DeviationProblem, IneffectiveDeviation, LotStatus,
    LotTransitionError, QualityRole, ReleaseApproval, ReleaseBlocker, ReleaseRefusal, UnitUse,
    UnitUseRefusal, check_unit_use, decide_release,
};
pub use spec::{
    Alternative, AnyOfPolicy, Bound, Comparator, Condition, CountBasis, Requirement, ResolvedRule,
    ResolvedSpecification, Rule, Source, SpecCategory, SpecError, SpecKey, Specification,
};
pub use temperature::{
    Disposition, DispositionDecision, DispositionError, Excursion, ExcursionDirection,
    LogLineError, TemperatureAssessment, TemperatureLog, TemperatureLogError, TemperatureReading,
    assess, find_excursions, quarantine_action,
};

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::{RefOr, schema::Schema};
    use utoipa::{PartialSchema, ToSchema};

    fn collect<T: ToSchema + PartialSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push((T::name().into_owned(), T::schema()));
        T::schemas(out);
    }

    /// The types the API publishes produce OpenAPI schemas, nested types included, whose
    /// shapes match their JSON (canonical unit symbols, snake_case words, tags).
    #[test]
    fn api_types_have_schemas() {
        let mut all = Vec::new();
        collect::<QcResult>(&mut all);
        collect::<Conformance>(&mut all);
        collect::<ConformanceContext>(&mut all);
        collect::<ResolvedSpecification>(&mut all);
        collect::<Specification>(&mut all);
        collect::<Deviation>(&mut all);
        collect::<ReleaseApproval>(&mut all);
        collect::<ReleaseRefusal>(&mut all);
        collect::<CustodyEvent>(&mut all);
        collect::<UnitCustodyState>(&mut all);
        collect::<TemperatureAssessment>(&mut all);
        collect::<Disposition>(&mut all);
        collect::<Checklist>(&mut all);
        collect::<ChecklistAnswer>(&mut all);
        collect::<ChecklistStatus>(&mut all);
        collect::<LotNumber>(&mut all);
        collect::<DonationIdentificationNumber>(&mut all);
        collect::<SingleEuropeanCode>(&mut all);
        let json: serde_json::Map<String, serde_json::Value> = all
            .into_iter()
            .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
            .collect();
        for name in [
            "QcValue",
            "Unit",
            "Requirement",
            "CustodyAction",
            "StorageRange",
        ] {
            assert!(json.contains_key(name), "no schema for {name}");
        }
        assert_eq!(json["LotNumber"]["type"], "string");
        assert_eq!(
            json["QcResult"]["properties"]["tested_on"]["format"],
            "date"
        );
        let text = serde_json::Value::Object(json).to_string();
        for needle in [
            "EU/mL",
            "no_growth",
            "identity_verified",
            "per_patient",
            "\"%\"",
        ] {
            assert!(text.contains(needle), "schemas lack {needle}");
        }
    }
}
