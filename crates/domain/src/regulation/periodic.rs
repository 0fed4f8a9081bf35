//! Periodic report (定期報告) periods and their deadlines.
//!
//! Periods are counted from the day the provision plan was **filed** (submitted to the
//! Minister / regional bureau, 提出した日), not from activation: the Act counts "every year
//! from the day the plan was submitted" (起算して1年ごと). The filing day is day one of
//! period 1; period N ends on the day before the N-th anniversary of filing (民法 第143条,
//! with 29 February handled as in the `civil` module), and its report is due the rule
//! set's number of days (90) after that last day. Reports are due even when no patient was
//! treated, so the periods depend on nothing but the filing date.

use time::Date;

use super::civil::{DateOutOfRange, add_days, period_end};
use super::deadlines::{Deadline, DeadlineCategory, DeadlineError, ReportingPeriod};
use super::rule_set::RuleSet;

fn end_of(rules: &RuleSet, filed_on: Date, n: u32) -> Result<Date, DateOutOfRange> {
    let months = rules
        .parameters()
        .periodic_report
        .period_months
        .checked_mul(n)
        .ok_or(DateOutOfRange { from: filed_on })?;
    period_end(filed_on, months)
}

fn period(rules: &RuleSet, filed_on: Date, n: u32) -> Result<ReportingPeriod, DeadlineError> {
    if n == 0 {
        return Err(DeadlineError::PeriodZero);
    }
    let start = match n {
        1 => filed_on,
        _ => add_days(end_of(rules, filed_on, n - 1)?, 1)?,
    };
    let end = end_of(rules, filed_on, n)?;
    Ok(ReportingPeriod {
        number: n,
        start,
        end,
    })
}

fn deadline_for(rules: &RuleSet, period: ReportingPeriod) -> Result<Deadline, DeadlineError> {
    let p = &rules.parameters().periodic_report;
    let due = add_days(period.end, i64::from(p.due_days_after_period_end))?;
    Deadline::new(
        rules,
        DeadlineCategory::PeriodicReport,
        due,
        Some(period),
        &p.source,
    )
}

/// Period `n` (from 1) of a plan filed on `filed_on`, with its report deadline.
pub fn periodic_period(rules: &RuleSet, filed_on: Date, n: u32) -> Result<Deadline, DeadlineError> {
    deadline_for(rules, period(rules, filed_on, n)?)
}

/// Every period that has ended on or before `as_of` (so its report is owed), oldest first,
/// each with its deadline. Empty before the first period ends.
pub fn periodic_periods_due(
    rules: &RuleSet,
    filed_on: Date,
    as_of: Date,
) -> Result<Vec<Deadline>, DeadlineError> {
    let mut out = Vec::new();
    for n in 1u32.. {
        // A period whose end is beyond the calendar certainly ends after `as_of`.
        let Ok(p) = period(rules, filed_on, n) else {
            break;
        };
        if p.end > as_of {
            break;
        }
        out.push(deadline_for(rules, p)?);
    }
    Ok(out)
}

/// The period in progress on `as_of`, or `None` before the plan was filed.
pub fn current_period(
    rules: &RuleSet,
    filed_on: Date,
    as_of: Date,
) -> Result<Option<ReportingPeriod>, DeadlineError> {
    if as_of < filed_on {
        return Ok(None);
    }
    let months = i64::from(rules.parameters().periodic_report.period_months);
    let elapsed = (i64::from(as_of.year()) - i64::from(filed_on.year())) * 12
        + i64::from(u8::from(as_of.month()))
        - i64::from(u8::from(filed_on.month()));
    // Start one period early to absorb the day-of-month, then walk forward.
    let guess = u32::try_from((elapsed / months).max(1)).unwrap_or(1);
    let mut n = guess;
    loop {
        let p = period(rules, filed_on, n)?;
        if p.contains(as_of) {
            return Ok(Some(p));
        }
        if p.start > as_of && n > 1 {
            n -= 1;
        } else {
            n += 1;
        }
    }
}
