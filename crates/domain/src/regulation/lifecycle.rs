//! Provision plan lifecycle checks: reviewing committee, class 1 waiting period, retention.
//!
//! Pure checks the store/API call before recording a transition; the numbers come from the
//! rule set in force (for a plan, the one in force on its filing date).
//!
//! - Committee: class 1 and 2 plans need a specially certified committee
//!   (特定認定再生医療等委員会); class 3 plans accept either kind.
//! - Waiting period: a class 1 plan may not be provided until the waiting period has passed,
//!   counted from (and including) the day the plan was **filed with the Minister**
//!   (提出された日から起算して90日を経過した後). Filed on day F, 90 days elapse at the end of
//!   F + 89, so the earliest activation is F + 90. Classes 2 and 3 may start on filing.
//! - Retention: records are kept for a number of years counted from (and including) the
//!   record's date, ending on the day before its anniversary.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::civil::{DateOutOfRange, add_days, period_end};
use super::class::{CommitteeKind, RiskClass};
use super::rule_set::RuleSet;

/// A lifecycle transition the rules forbid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The committee may not review plans of this class.
    #[error("a class {class} plan must be reviewed by a committee of kind {}, not {given} (rule set {rule_set}: {citation})",
        .accepted.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or "))]
    WrongCommittee {
        /// The plan's class.
        class: RiskClass,
        /// The kind of the committee given.
        given: CommitteeKind,
        /// The kinds accepted for the class.
        accepted: Vec<CommitteeKind>,
        /// The rule set applied.
        rule_set: String,
        /// The provision.
        citation: String,
    },
    /// A class 1 plan would start before its waiting period ended.
    #[error(
        "a class {class} plan filed on {filed_on} cannot become active before {earliest} (requested {requested}; rule set {rule_set}: {citation})"
    )]
    WaitingPeriod {
        /// The plan's class.
        class: RiskClass,
        /// The filing date.
        filed_on: Date,
        /// The earliest permitted activation date.
        earliest: Date,
        /// The date asked for.
        requested: Date,
        /// The rule set applied.
        rule_set: String,
        /// The provision.
        citation: String,
    },
    /// The arithmetic left the calendar.
    #[error(transparent)]
    OutOfRange(#[from] DateOutOfRange),
}

/// The committee kinds that may review a plan of this class.
pub fn required_committees(rules: &RuleSet, class: RiskClass) -> &[CommitteeKind] {
    rules.parameters().committee.accepted(class)
}

/// Checks that a committee of kind `given` may review a plan of class `class`.
pub fn check_committee(
    rules: &RuleSet,
    class: RiskClass,
    given: CommitteeKind,
) -> Result<(), LifecycleError> {
    let committee = &rules.parameters().committee;
    let accepted = committee.accepted(class);
    if accepted.contains(&given) {
        Ok(())
    } else {
        Err(LifecycleError::WrongCommittee {
            class,
            given,
            accepted: accepted.to_vec(),
            rule_set: rules.id().to_owned(),
            citation: committee.source.clone(),
        })
    }
}

/// The earliest day a plan of this class filed on `filed_on` may become active: filing
/// day + the waiting period for class 1, the filing day itself otherwise.
pub fn earliest_activation(
    rules: &RuleSet,
    class: RiskClass,
    filed_on: Date,
) -> Result<Date, DateOutOfRange> {
    match class {
        RiskClass::One => add_days(
            filed_on,
            i64::from(rules.parameters().waiting_period.class_1_days),
        ),
        RiskClass::Two | RiskClass::Three => Ok(filed_on),
    }
}

/// Checks that a plan may become active on `activate_on`.
pub fn check_activation(
    rules: &RuleSet,
    class: RiskClass,
    filed_on: Date,
    activate_on: Date,
) -> Result<(), LifecycleError> {
    let earliest = earliest_activation(rules, class, filed_on)?;
    if activate_on >= earliest {
        Ok(())
    } else {
        Err(LifecycleError::WaitingPeriod {
            class,
            filed_on,
            earliest,
            requested: activate_on,
            rule_set: rules.id().to_owned(),
            citation: rules.parameters().waiting_period.source.clone(),
        })
    }
}

/// Which retention period applies to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordClass {
    /// Records of a provided therapy (再生医療等の記録).
    ClinicalRecord,
    /// Records that concern specified products, kept longer.
    SpecifiedProduct,
}

/// Years a record of this class is kept under the rule set.
pub fn retention_years(rules: &RuleSet, record: RecordClass) -> u32 {
    let r = &rules.parameters().retention;
    match record {
        RecordClass::ClinicalRecord => r.clinical_record_years,
        RecordClass::SpecifiedProduct => r.specified_product_years,
    }
}

/// The last day a record dated `recorded_on` must be kept.
pub fn retain_until(
    rules: &RuleSet,
    record: RecordClass,
    recorded_on: Date,
) -> Result<Date, DateOutOfRange> {
    let months = retention_years(rules, record)
        .checked_mul(12)
        .ok_or(DateOutOfRange { from: recorded_on })?;
    period_end(recorded_on, months)
}
