//! The quality records the registry stores: where cells came from (donors, collections,
//! cell banks, culture media), what was made from them (lots, QC results, deviations,
//! retained samples, status decisions), the units that reach patients (units, their
//! custody events, temperature logs, excursions and dispositions), and a product's answers
//! to a guidance checklist.
//!
//! Each is an [`crate::Entity`] that the store maps to a table. The rules that look at
//! one record alone live in each type's [`crate::Validate`]; the rules that need other
//! records (a lot's status, a unit's custody log) are the store's workflows, which call
//! the pure functions of the sibling modules ([`super::decide_release`],
//! [`super::apply`], [`super::check_unit_use`], [`super::assess`]).

mod checklist;
mod lot;
mod source;
mod unit;

pub use checklist::ProductChecklistAnswer;
pub use lot::{
    CoveredDeviation, Lot, LotDeviation, LotQcResult, LotStatusChange, RetainedSample,
    SpecificationRef,
};
pub use source::{
    BankTier, CellBank, Collection, CultureMedium, Donor, DonorEligibility, EligibilityTest,
    MediumComponent, NewDonor,
};
pub use unit::{
    ExcursionDisposition, NewCustodyEvent, NewDisposition, ProductUnit, UnitCustodyEvent,
    UnitTemperatureExcursion, UnitTemperatureLog,
};

use crate::error::ValidationErrors;

/// Records `field` as a problem when `ids` repeats one: a list of references that names
/// the same record twice is a typing error, never intended.
fn check_distinct<T: PartialEq>(field: &str, ids: &[T], errors: &mut ValidationErrors) {
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            errors.push(format!("{field}[{i}]"), "is listed twice");
        }
    }
}

/// Records `field` as a problem when a number that must be a finite positive quantity is
/// not one.
fn check_positive(field: &str, value: f64, errors: &mut ValidationErrors) {
    if !value.is_finite() || value <= 0.0 {
        errors.push(field, "must be a positive finite number");
    }
}
