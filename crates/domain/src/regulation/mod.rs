//! The regulatory engine of the Act on the Safety of Regenerative Medicine (安確法, "ASRM").
//!
//! Regulatory facts are *data*: each rule set under `rules/asrm/` (TOML) carries an id, a
//! title, its effective dates, a source citation with a confidence note, ordered
//! classification rules written in a small condition language, and the parameters that
//! follow from the class (committee kind, class 1 waiting period, periodic report and
//! adverse-event deadlines, calendar handling, record retention), each with its source.
//! This module only interprets that data; it never hard-codes a regulatory number.
//!
//! # How the pieces fit
//!
//! - [`TherapyDescription`] is what a provider answers about a therapy (material, cell
//!   source and kind, manipulations, purpose, excluded procedures, and for extracellular
//!   vesicles and culture supernatants the cells they come from). Holding one means it is
//!   consistent: parsing rejects unknown keys and inconsistent answers, naming the field.
//! - [`RuleSet`] is one dated, sourced rule set, parsed and validated from TOML with
//!   [`RuleSet::from_toml_str`]. [`RuleBook`] is the catalogue: the sets embedded in the
//!   binary (see [`RuleBook::embedded`]), selected by id or by the date they are in force.
//! - [`classify`] applies a rule set to a description and returns a
//!   [`ClassificationResult`]: the [`Classification`] (class 1/2/3 or outside the Act), the
//!   rule set id, and the reasons — the deciding rule and the facts it used first.
//!   [`reclassify`] and [`TransitionSummary`] answer "what if this rule set applied?".
//! - [`adverse_event_deadline`], [`periodic_period`] / [`periodic_periods_due`] and
//!   [`Deadline::status`] are the date arithmetic on civil (JST) dates; [`check_committee`],
//!   [`earliest_activation`] / [`check_activation`] and [`retain_until`] are the plan
//!   lifecycle checks.
//!
//! Everything here is pure: no I/O (the CLI reads rule set files and passes their text),
//! no clock (callers pass the dates), no panics on input.

#![warn(missing_docs)]

mod catalogue;
mod civil;
mod class;
mod classifier;
mod condition;
mod deadlines;
mod lifecycle;
mod parameters;
mod periodic;
mod rule_set;
mod template;
mod therapy;
mod what_if;

pub use catalogue::{CatalogueError, RuleBook};
pub use civil::DateOutOfRange;
pub use class::{Classification, CommitteeKind, ParseClassError, RiskClass, UnknownVariant};
pub use classifier::{ClassificationResult, Reason, classify};
pub use condition::{Condition, FieldName, FieldPath, FieldScope, FieldValue, Test};
pub use deadlines::{
    AdverseEventFacts, Deadline, DeadlineCategory, DeadlineError, DeadlineState, DeadlineStatus,
    ReportingPeriod, adverse_event_deadline,
};
pub use lifecycle::{
    LifecycleError, RecordClass, check_activation, check_committee, earliest_activation,
    required_committees, retain_until, retention_years,
};
pub use parameters::{
    AdverseEventReporting, CalendarRules, CommitteeRules, DayLimit, NonSeriousCycle, Parameters,
    PeriodicReportRules, RetentionRules, WaitingPeriod,
};
pub use periodic::{current_period, periodic_period, periodic_periods_due};
pub use rule_set::{
    Confidence, Rule, RuleSet, RuleSetError, RuleSetProblem, RuleSetStatus, RuleSetSummary,
    RuleSummary, SourceCitation,
};
pub use therapy::{
    ApprovedProductUse, CellKind, CellSource, Material, NucleicAcidKind, Procedure, Purpose,
    SourceCells, SourceCellsInput, TherapyDescription, TherapyError, TherapyInput, TherapyProblem,
};
pub use what_if::{Reclassification, Transition, TransitionSummary, reclassify};
