//! The numbers a rule set fixes besides the classes: committees, waiting period, report
//! and adverse-event deadlines, calendar handling and record retention.
//!
//! Each parameter table in the TOML carries a `source` (the article it comes from and how
//! sure we are), so a deadline shown to a user can cite where it comes from. In the file:
//!
//! ```toml
//! [parameters.committee]
//! class_1 = ["specially_certified"]
//! class_2 = ["specially_certified"]
//! class_3 = ["certified", "specially_certified"]
//! source = "…"
//!
//! [parameters.waiting_period]
//! class_1_days = 90
//! source = "…"
//!
//! [parameters.periodic_report]
//! period_months = 12
//! due_days_after_period_end = 90
//! source = "…"
//!
//! [parameters.adverse_events.death_or_possible_death]
//! days = 7
//! source = "…"
//! [parameters.adverse_events.serious]
//! days = 15
//! source = "…"
//! [parameters.adverse_events.non_serious]
//! cycle_days = 60
//! due_days_after_cycle_end = 10
//! source = "…"
//! [parameters.adverse_events.reportable]
//! causality = ["possible", "probable", "definite", "not_assessed"]
//! source = "…"
//!
//! [parameters.calendar]
//! weekends_extend_deadlines = false
//! holidays = []          # plain dates; used only when weekends_extend_deadlines = true
//! source = "…"
//!
//! [parameters.retention]
//! clinical_record_years = 10
//! specified_product_years = 30
//! source = "…"
//! ```

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::civil::{civil_date, from_toml};
use super::class::{CommitteeKind, RiskClass};
use crate::registry::Causality;

/// All parameters of a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Parameters {
    /// Which committee kinds may review a plan of each class.
    pub committee: CommitteeRules,
    /// The class 1 waiting period.
    pub waiting_period: WaitingPeriod,
    /// Periodic report periods and their deadline.
    pub periodic_report: PeriodicReportRules,
    /// Adverse-event reporting deadlines.
    pub adverse_events: AdverseEventReporting,
    /// Whether weekends and holidays extend deadlines.
    pub calendar: CalendarRules,
    /// Record retention periods.
    pub retention: RetentionRules,
}

/// Which committee kinds may review a plan of each class (認定/特定認定再生医療等委員会).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CommitteeRules {
    /// Kinds accepted for class 1 plans.
    pub class_1: Vec<CommitteeKind>,
    /// Kinds accepted for class 2 plans.
    pub class_2: Vec<CommitteeKind>,
    /// Kinds accepted for class 3 plans.
    pub class_3: Vec<CommitteeKind>,
    /// Where this comes from.
    pub source: String,
}

impl CommitteeRules {
    /// The committee kinds accepted for a class.
    pub fn accepted(&self, class: RiskClass) -> &[CommitteeKind] {
        match class {
            RiskClass::One => &self.class_1,
            RiskClass::Two => &self.class_2,
            RiskClass::Three => &self.class_3,
        }
    }
}

/// The class 1 waiting period (提供制限期間): days after filing before treatment may start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WaitingPeriod {
    /// Days counted from (and including) the day the plan was filed with the Minister.
    pub class_1_days: u32,
    /// Where this comes from.
    pub source: String,
}

/// Periodic reports (定期報告): period length counted from filing, and the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PeriodicReportRules {
    /// Length of one reporting period in months (12 = yearly).
    pub period_months: u32,
    /// Days after a period's last day by which its report is due.
    pub due_days_after_period_end: u32,
    /// Where this comes from.
    pub source: String,
}

/// Adverse-event reporting deadlines (疾病等報告).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdverseEventReporting {
    /// Death or possible death.
    pub death_or_possible_death: DayLimit,
    /// Other serious events (hospitalisation, disability, life-threatening, congenital
    /// anomaly, other serious).
    pub serious: DayLimit,
    /// Non-serious events, collected per cycle counted from the plan's filing.
    pub non_serious: NonSeriousCycle,
    /// Which events are reportable at all: those suspected to result from the treatment.
    pub reportable: ReportableCausality,
}

/// The causality assessments under which an event is *suspected* to result from the
/// treatment, and so reportable. An event assessed otherwise has no deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReportableCausality {
    /// The assessments that make an event reportable; an event not yet assessed is
    /// reportable only if `not_assessed` is listed.
    pub causality: Vec<Causality>,
    /// Where this comes from.
    pub source: String,
}

impl ReportableCausality {
    /// Whether an event with this assessment is reportable.
    pub fn includes(&self, causality: Causality) -> bool {
        self.causality.contains(&causality)
    }
}

/// A deadline of N days from the day the event became known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DayLimit {
    /// Days from knowledge; the day of knowledge is not counted.
    pub days: u32,
    /// Where this comes from.
    pub source: String,
}

/// Non-serious events are reported per fixed cycle counted from the plan's filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NonSeriousCycle {
    /// Length of a cycle in days; the filing day is day one of cycle 1.
    pub cycle_days: u32,
    /// Days after a cycle's last day by which its events are due.
    pub due_days_after_cycle_end: u32,
    /// Where this comes from.
    pub source: String,
}

/// Whether deadlines that fall on weekends or holidays move to the next working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CalendarRules {
    /// `true`: roll a deadline forward over Saturdays, Sundays and `holidays`.
    pub weekends_extend_deadlines: bool,
    /// Holidays (sorted) that also extend deadlines when the above is true.
    #[serde(serialize_with = "serialize_dates")]
    #[schema(value_type = Vec<String>, format = Date)]
    pub holidays: Vec<Date>,
    /// Where this comes from.
    pub source: String,
}

fn serialize_dates<S: serde::Serializer>(dates: &[Date], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Civil(#[serde(with = "civil_date")] Date);
    s.collect_seq(dates.iter().map(|d| Civil(*d)))
}

/// How long records are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RetentionRules {
    /// Years to keep records of a provided therapy.
    pub clinical_record_years: u32,
    /// Years to keep records for specified products (e.g. 指定再生医療等製品).
    pub specified_product_years: u32,
    /// Where this comes from.
    pub source: String,
}

// ---- TOML form -------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawParameters {
    committee: RawCommittee,
    waiting_period: RawWaiting,
    periodic_report: RawPeriodic,
    adverse_events: RawAdverseEvents,
    calendar: RawCalendar,
    retention: RawRetention,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommittee {
    class_1: Vec<CommitteeKind>,
    class_2: Vec<CommitteeKind>,
    class_3: Vec<CommitteeKind>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiting {
    class_1_days: u32,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriodic {
    period_months: u32,
    due_days_after_period_end: u32,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdverseEvents {
    death_or_possible_death: RawDayLimit,
    serious: RawDayLimit,
    non_serious: RawCycle,
    reportable: RawReportable,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReportable {
    causality: Vec<Causality>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDayLimit {
    days: u32,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCycle {
    cycle_days: u32,
    due_days_after_cycle_end: u32,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    weekends_extend_deadlines: bool,
    #[serde(default)]
    holidays: Vec<toml::value::Datetime>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    clinical_record_years: u32,
    specified_product_years: u32,
    source: String,
}

/// A parameter problem: the field path and what is wrong.
type Problem = (String, String);

fn positive(at: &str, value: u32) -> Result<u32, Problem> {
    if value == 0 {
        Err((format!("parameters.{at}"), "must be at least 1".to_owned()))
    } else {
        Ok(value)
    }
}

fn sourced(at: &str, source: String) -> Result<String, Problem> {
    if source.trim().is_empty() {
        Err((
            format!("parameters.{at}.source"),
            "every parameter needs its source".to_owned(),
        ))
    } else {
        Ok(source)
    }
}

fn committee_list(at: &str, kinds: Vec<CommitteeKind>) -> Result<Vec<CommitteeKind>, Problem> {
    if kinds.is_empty() {
        return Err((
            format!("parameters.committee.{at}"),
            "at least one committee kind must be accepted".to_owned(),
        ));
    }
    let mut kinds = kinds;
    kinds.sort();
    kinds.dedup();
    Ok(kinds)
}

impl RawParameters {
    /// Checks the parameters and types them.
    pub(crate) fn check(self) -> Result<Parameters, Problem> {
        let c = self.committee;
        let committee = CommitteeRules {
            class_1: committee_list("class_1", c.class_1)?,
            class_2: committee_list("class_2", c.class_2)?,
            class_3: committee_list("class_3", c.class_3)?,
            source: sourced("committee", c.source)?,
        };
        let waiting_period = WaitingPeriod {
            class_1_days: self.waiting_period.class_1_days,
            source: sourced("waiting_period", self.waiting_period.source)?,
        };
        let p = self.periodic_report;
        let periodic_report = PeriodicReportRules {
            period_months: positive("periodic_report.period_months", p.period_months)?,
            due_days_after_period_end: p.due_days_after_period_end,
            source: sourced("periodic_report", p.source)?,
        };
        let a = self.adverse_events;
        let adverse_events = AdverseEventReporting {
            death_or_possible_death: DayLimit {
                days: a.death_or_possible_death.days,
                source: sourced(
                    "adverse_events.death_or_possible_death",
                    a.death_or_possible_death.source,
                )?,
            },
            serious: DayLimit {
                days: a.serious.days,
                source: sourced("adverse_events.serious", a.serious.source)?,
            },
            non_serious: NonSeriousCycle {
                cycle_days: positive(
                    "adverse_events.non_serious.cycle_days",
                    a.non_serious.cycle_days,
                )?,
                due_days_after_cycle_end: a.non_serious.due_days_after_cycle_end,
                source: sourced("adverse_events.non_serious", a.non_serious.source)?,
            },
            reportable: {
                let mut causality = a.reportable.causality;
                if !causality.contains(&Causality::Definite) {
                    return Err((
                        "parameters.adverse_events.reportable.causality".to_owned(),
                        "an event certainly caused by the treatment must be reportable: list definite".to_owned(),
                    ));
                }
                causality.sort_by_key(|c| Causality::ALL.iter().position(|x| x == c));
                causality.dedup();
                ReportableCausality {
                    causality,
                    source: sourced("adverse_events.reportable", a.reportable.source)?,
                }
            },
        };
        let mut holidays = Vec::with_capacity(self.calendar.holidays.len());
        for (i, h) in self.calendar.holidays.iter().enumerate() {
            holidays
                .push(from_toml(h).map_err(|m| (format!("parameters.calendar.holidays[{i}]"), m))?);
        }
        holidays.sort();
        holidays.dedup();
        let calendar = CalendarRules {
            weekends_extend_deadlines: self.calendar.weekends_extend_deadlines,
            holidays,
            source: sourced("calendar", self.calendar.source)?,
        };
        let r = self.retention;
        let retention = RetentionRules {
            clinical_record_years: positive(
                "retention.clinical_record_years",
                r.clinical_record_years,
            )?,
            specified_product_years: positive(
                "retention.specified_product_years",
                r.specified_product_years,
            )?,
            source: sourced("retention", r.source)?,
        };
        Ok(Parameters {
            committee,
            waiting_period,
            periodic_report,
            adverse_events,
            calendar,
            retention,
        })
    }
}
