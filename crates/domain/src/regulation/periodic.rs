//! Periodic report (定期報告) periods and their deadlines.
//!
//! Periods are counted from the day the provision plan was **filed** (submitted to the
//! Minister / regional bureau, 提出した日), not from activation: the Act counts "every year
//! from the day the plan was submitted" (起算して1年ごと). The filing day is day one of
//! period 1; period N ends on the day before the N-th anniversary of filing (民法 第143条,
//! with 29 February handled as in the `civil` module), and its report is due the rule
//! set's number of days (90) after that last day. Reports are due even when no patient was
//! treated, so the periods depend on the filing date and, once provision stopped for good
//! (a plan ended, or withdrawn after filing), on the day it stopped: the period in progress
//! that day ends on it (a last, shorter period, whose report is due the same number of
//! days after), and no period starts after it. A plan that stopped therefore owes no
//! report for the years after (the stop notification and its final report replace them).

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

/// Period `n` as far as provision lasted: `None` when it starts after the plan ended, cut
/// short at the end day when provision stopped within it.
fn period_until(
    rules: &RuleSet,
    filed_on: Date,
    ended_on: Option<Date>,
    n: u32,
) -> Result<Option<ReportingPeriod>, DeadlineError> {
    let mut p = period(rules, filed_on, n)?;
    if let Some(end) = ended_on {
        if p.start > end {
            return Ok(None);
        }
        p.end = p.end.min(end);
    }
    Ok(Some(p))
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

/// Period `n` (from 1) of a plan filed on `filed_on` and, if provision stopped, ended on
/// `ended_on`, with its report deadline. A period that would start after the end is
/// [`DeadlineError::AfterEnd`].
pub fn periodic_period(
    rules: &RuleSet,
    filed_on: Date,
    ended_on: Option<Date>,
    n: u32,
) -> Result<Deadline, DeadlineError> {
    match period_until(rules, filed_on, ended_on, n)? {
        Some(p) => deadline_for(rules, p),
        None => Err(DeadlineError::AfterEnd {
            period: n,
            ended_on: ended_on.unwrap_or(filed_on),
        }),
    }
}

/// Every period that has ended on or before `as_of` (so its report is owed), oldest first,
/// each with its deadline; none starting after `ended_on`. Empty before the first period
/// ends.
pub fn periodic_periods_due(
    rules: &RuleSet,
    filed_on: Date,
    ended_on: Option<Date>,
    as_of: Date,
) -> Result<Vec<Deadline>, DeadlineError> {
    let mut out = Vec::new();
    for n in 1u32.. {
        // A period whose end is beyond the calendar certainly ends after `as_of`.
        let Ok(p) = period_until(rules, filed_on, ended_on, n) else {
            break;
        };
        let Some(p) = p else {
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
