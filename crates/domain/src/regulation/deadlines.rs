//! Reporting deadlines: adverse events, and the status of any deadline as of a date.
//!
//! All dates are civil dates in Japan (JST); callers convert timestamps before calling.
//! Counting follows the Civil Code (see the `civil` module): "7 days from knowledge" means
//! the day of knowledge is not counted, so an event known on 1 April is due on 8 April.
//! A deadline is computed by day count (`nominal_due_on`) and then, only if the rule set's
//! calendar says weekends and holidays extend deadlines, rolled forward to the next working
//! day (`due_on`). Under the shipped rule sets they do not, so both dates are equal.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::civil::{DateOutOfRange, add_days, civil_date, roll_forward};
use super::class::wire_enum;
use super::rule_set::RuleSet;
use crate::registry::Causality;

wire_enum! {
    /// What a deadline is for.
    pub enum DeadlineCategory {
        /// Adverse event: death or possible death (死亡・死亡のおそれ).
        AeDeathOrPossibleDeath => "ae_death_or_possible_death",
        /// Adverse event: other serious (hospitalisation, disability, life-threatening,
        /// congenital anomaly, other serious).
        AeSerious => "ae_serious",
        /// Adverse event: non-serious, reported per cycle.
        AeNonSerious => "ae_non_serious",
        /// Periodic report (定期報告) for one period.
        PeriodicReport => "periodic_report",
    }
}

/// A numbered period a report covers: a periodic report year, or a non-serious AE cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportingPeriod {
    /// 1 for the period starting on the filing date, then 2, 3…
    pub number: u32,
    /// First day (inclusive).
    #[serde(with = "civil_date")]
    pub start: Date,
    /// Last day (inclusive).
    #[serde(with = "civil_date")]
    pub end: Date,
}

impl ReportingPeriod {
    /// Whether the date lies in the period.
    pub fn contains(&self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }
}

/// A reporting deadline with the rule it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deadline {
    /// What it is for.
    pub category: DeadlineCategory,
    /// The last day the report is on time (after any weekend/holiday extension).
    #[serde(with = "civil_date")]
    pub due_on: Date,
    /// The last day by plain day count, before any extension.
    #[serde(with = "civil_date")]
    pub nominal_due_on: Date,
    /// The period the report covers, for periodic reports and non-serious AE cycles.
    pub period: Option<ReportingPeriod>,
    /// The rule set whose parameters were used.
    pub rule_set: String,
    /// The provision the deadline comes from (the parameter's source).
    pub citation: String,
}

impl Deadline {
    /// The deadline's status as of a date, given when (if ever) the report was made.
    pub fn status(&self, as_of: Date, done_on: Option<Date>) -> DeadlineState {
        DeadlineState::assess(self.due_on, as_of, done_on)
    }

    /// Builds a deadline from a nominal due date, applying the rule set's calendar.
    pub(crate) fn new(
        rules: &RuleSet,
        category: DeadlineCategory,
        nominal_due_on: Date,
        period: Option<ReportingPeriod>,
        citation: &str,
    ) -> Result<Deadline, DeadlineError> {
        let due_on = roll_forward(nominal_due_on, &rules.parameters().calendar)?;
        Ok(Deadline {
            category,
            due_on,
            nominal_due_on,
            period,
            rule_set: rules.id().to_owned(),
            citation: citation.to_owned(),
        })
    }
}

wire_enum! {
    /// Where a deadline stands on a given day.
    pub enum DeadlineStatus {
        /// Not yet made, and the due day has not passed (the due day itself is still due).
        Due => "due",
        /// Not made, and the due day has passed.
        Overdue => "overdue",
        /// Made on or before the as-of date (possibly late).
        Done => "done",
    }
}

/// A deadline's status as of a date, with the numbers a list of deadlines shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeadlineState {
    /// Due, overdue or done.
    pub status: DeadlineStatus,
    /// The deadline assessed.
    #[serde(with = "civil_date")]
    pub due_on: Date,
    /// Days from the as-of date to the due date: negative once overdue.
    pub days_remaining: i64,
    /// When it was done, if done by the as-of date.
    #[serde(with = "civil_date::option")]
    pub done_on: Option<Date>,
    /// Whether it was done after the due date.
    pub done_late: bool,
}

impl DeadlineState {
    /// Assesses a due date as of a day. A report made after `as_of` does not count yet.
    pub fn assess(due_on: Date, as_of: Date, done_on: Option<Date>) -> DeadlineState {
        let done_on = done_on.filter(|d| *d <= as_of);
        let status = match done_on {
            Some(_) => DeadlineStatus::Done,
            None if as_of <= due_on => DeadlineStatus::Due,
            None => DeadlineStatus::Overdue,
        };
        DeadlineState {
            status,
            due_on,
            days_remaining: (due_on - as_of).whole_days(),
            done_on,
            done_late: done_on.is_some_and(|d| d > due_on),
        }
    }
}

/// What the deadline of an adverse event depends on.
///
/// The lead maps a recorded adverse event to this: seriousness as judged, the day the
/// provider learnt of it, and the plan's cycle anchor (its filing date) for non-serious
/// events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdverseEventFacts {
    /// Death or possible death (takes precedence over `serious`).
    pub death_or_possible_death: bool,
    /// Serious: hospitalisation, disability or its risk, life-threatening, congenital
    /// anomaly, or otherwise serious.
    pub serious: bool,
    /// The day the provider learnt of the event (JST).
    #[serde(with = "civil_date")]
    pub known_on: Date,
    /// The first day of the plan's non-serious reporting cycles: the day the plan was
    /// filed. Required for non-serious events.
    #[serde(default, with = "civil_date::option")]
    pub cycle_anchor: Option<Date>,
    /// How likely the treatment caused it. Absent: not assessed (reportable under the
    /// shipped rule sets, the conservative answer).
    #[serde(default)]
    pub causality: Option<Causality>,
}

/// Why a deadline could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    /// A non-serious event needs the plan's cycle anchor (filing date).
    #[error("a non-serious adverse event needs the plan's cycle anchor (its filing date)")]
    MissingCycleAnchor,
    /// The event was known before the plan's cycles start.
    #[error(
        "the event was known on {known_on}, before the plan's reporting cycles start on {anchor}"
    )]
    BeforeAnchor {
        /// The day of knowledge.
        known_on: Date,
        /// The first day of cycle 1.
        anchor: Date,
    },
    /// The event is not suspected to result from the treatment, so it is not reported.
    #[error(
        "an event assessed as {causality} is not suspected to result from the treatment, so it has no reporting deadline"
    )]
    NotSuspected {
        /// The assessment given.
        causality: &'static str,
    },
    /// Periods are numbered from 1.
    #[error("reporting periods are numbered from 1")]
    PeriodZero,
    /// The period would start after provision under the plan stopped.
    #[error(
        "provision under the plan stopped on {ended_on}, before period {period} would start: no report is due for it"
    )]
    AfterEnd {
        /// The period asked for.
        period: u32,
        /// The day provision stopped.
        ended_on: Date,
    },
    /// The arithmetic left the calendar.
    #[error(transparent)]
    OutOfRange(#[from] DateOutOfRange),
}

/// The reporting deadline of an adverse event under a rule set.
///
/// Only events suspected to result from the treatment are reportable: one whose
/// causality the rule set does not list as reportable gets [`DeadlineError::NotSuspected`].
///
/// Death or possible death: `known_on` + the rule set's days (7). Other serious:
/// `known_on` + its days (15). Non-serious: the cycle (60 days, the filing day being day
/// one of cycle 1) containing `known_on`, due the given days (10) after the cycle's last
/// day.
pub fn adverse_event_deadline(
    rules: &RuleSet,
    facts: &AdverseEventFacts,
) -> Result<Deadline, DeadlineError> {
    let ae = &rules.parameters().adverse_events;
    let causality = facts.causality.unwrap_or(Causality::NotAssessed);
    if !ae.reportable.includes(causality) {
        return Err(DeadlineError::NotSuspected {
            causality: causality.wire(),
        });
    }
    if facts.death_or_possible_death || facts.serious {
        let (category, limit) = if facts.death_or_possible_death {
            (
                DeadlineCategory::AeDeathOrPossibleDeath,
                &ae.death_or_possible_death,
            )
        } else {
            (DeadlineCategory::AeSerious, &ae.serious)
        };
        let due = add_days(facts.known_on, i64::from(limit.days))?;
        return Deadline::new(rules, category, due, None, &limit.source);
    }
    let anchor = facts
        .cycle_anchor
        .ok_or(DeadlineError::MissingCycleAnchor)?;
    if facts.known_on < anchor {
        return Err(DeadlineError::BeforeAnchor {
            known_on: facts.known_on,
            anchor,
        });
    }
    let cycle = &ae.non_serious;
    let length = i64::from(cycle.cycle_days);
    let index = (facts.known_on - anchor).whole_days() / length;
    let start = add_days(anchor, index * length)?;
    let end = add_days(start, length - 1)?;
    let number = u32::try_from(index + 1).map_err(|_| DateOutOfRange { from: anchor })?;
    let due = add_days(end, i64::from(cycle.due_days_after_cycle_end))?;
    Deadline::new(
        rules,
        DeadlineCategory::AeNonSerious,
        due,
        Some(ReportingPeriod { number, start, end }),
        &cycle.source,
    )
}
