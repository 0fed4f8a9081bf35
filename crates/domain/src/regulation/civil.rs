//! Civil-date arithmetic for regulatory periods (Japanese Civil Code counting).
//!
//! Deadlines are civil dates in Japan (JST); there is no time of day. The rules below are
//! the Civil Code's (民法 第140条〜第143条) as the Act's periods use them:
//!
//! - "N days from the day X happened" (知った日から N 日以内): the first day is not counted,
//!   so the deadline is `X + N` days.
//! - "N months/years counted from day S" (S から起算して): S is day one, and the period ends
//!   on the day *before* the day corresponding to S in the last month; when that month has
//!   no such day (S = 31 January + 1 month, or 29 February + 1 year) the period ends on the
//!   last day of that month. [`period_end`] computes this.
//! - "within N days after a period ends" (期間満了後 N 日以内): `end + N` days.
//!
//! Whether a deadline falling on a weekend or holiday moves to the next working day is a
//! rule-set parameter ([`super::CalendarRules`]), applied by [`roll_forward`].

use time::{Date, Duration, Month, Weekday};

use super::parameters::CalendarRules;

time::serde::format_description!(pub(crate) civil_date, Date, "[year]-[month]-[day]");

/// Date arithmetic left the calendar `time` supports (years −9999 to 9999).
///
/// Only absurd inputs (a period number in the thousands, a date near year 9999) get here;
/// it is an error rather than a panic because those inputs come from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("date arithmetic starting from {from} leaves the supported calendar")]
pub struct DateOutOfRange {
    /// The date the computation started from.
    pub from: Date,
}

/// `date + days`, checked.
pub(crate) fn add_days(date: Date, days: i64) -> Result<Date, DateOutOfRange> {
    date.checked_add(Duration::days(days))
        .ok_or(DateOutOfRange { from: date })
}

/// The last day of a period of `months` months counted from (and including) `start`,
/// per 民法 第143条 (see the module docs).
pub(crate) fn period_end(start: Date, months: u32) -> Result<Date, DateOutOfRange> {
    let out = DateOutOfRange { from: start };
    let month0 = i64::from(u8::from(start.month()) - 1) + i64::from(months);
    let year = i64::from(start.year()) + month0.div_euclid(12);
    let year = i32::try_from(year).map_err(|_| out)?;
    let month = u8::try_from(month0.rem_euclid(12) + 1).map_err(|_| out)?;
    let month = Month::try_from(month).map_err(|_| out)?;
    match Date::from_calendar_date(year, month, start.day()) {
        Ok(corresponding) => corresponding.previous_day().ok_or(out),
        Err(_) => {
            let last = month.length(year);
            Date::from_calendar_date(year, month, last).map_err(|_| out)
        }
    }
}

/// Moves a deadline past weekends and listed holidays when the calendar says they extend
/// deadlines; otherwise returns it unchanged.
pub(crate) fn roll_forward(date: Date, calendar: &CalendarRules) -> Result<Date, DateOutOfRange> {
    if !calendar.weekends_extend_deadlines {
        return Ok(date);
    }
    let mut day = date;
    while matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
        || calendar.holidays.binary_search(&day).is_ok()
    {
        day = day.next_day().ok_or(DateOutOfRange { from: date })?;
    }
    Ok(day)
}

/// A TOML local date (`2014-11-25`) as a civil date; times and offsets are rejected.
pub(crate) fn from_toml(value: &toml::value::Datetime) -> Result<Date, String> {
    match (value.date, value.time, value.offset) {
        (Some(d), None, None) => Month::try_from(d.month)
            .ok()
            .and_then(|m| Date::from_calendar_date(i32::from(d.year), m, d.day).ok())
            .ok_or_else(|| format!("`{value}` is not a valid date")),
        _ => Err(format!(
            "`{value}` must be a plain date (YYYY-MM-DD) without time or offset"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_year_from_a_day_ends_the_day_before_its_anniversary() {
        assert_eq!(
            period_end(date!(2020 - 04 - 01), 12),
            Ok(date!(2021 - 03 - 31))
        );
        assert_eq!(
            period_end(date!(2020 - 04 - 01), 24),
            Ok(date!(2022 - 03 - 31))
        );
        assert_eq!(
            period_end(date!(2023 - 01 - 01), 12),
            Ok(date!(2023 - 12 - 31))
        );
    }

    #[test]
    fn a_period_without_a_corresponding_day_ends_at_month_end() {
        // 29 February: no 29 February in 2025, so the year ends on 28 February 2025.
        assert_eq!(
            period_end(date!(2024 - 02 - 29), 12),
            Ok(date!(2025 - 02 - 28))
        );
        // … but four years on the corresponding day exists again.
        assert_eq!(
            period_end(date!(2024 - 02 - 29), 48),
            Ok(date!(2028 - 02 - 28))
        );
        assert_eq!(
            period_end(date!(2024 - 01 - 31), 1),
            Ok(date!(2024 - 02 - 29))
        );
        assert_eq!(
            period_end(date!(2023 - 01 - 31), 1),
            Ok(date!(2023 - 02 - 28))
        );
        assert_eq!(
            period_end(date!(2024 - 03 - 30), 1),
            Ok(date!(2024 - 04 - 29))
        );
    }

    #[test]
    fn arithmetic_off_the_calendar_is_an_error() {
        assert!(period_end(date!(9999 - 06 - 01), 12).is_err());
        assert!(add_days(date!(9999 - 12 - 31), 1).is_err());
        assert!(period_end(date!(2000 - 01 - 01), u32::MAX).is_err());
    }

    #[test]
    fn toml_dates_must_be_plain_dates() {
        let d: toml::value::Datetime = "2014-11-25".parse().unwrap();
        assert_eq!(from_toml(&d), Ok(date!(2014 - 11 - 25)));
        let dt: toml::value::Datetime = "2014-11-25T00:00:00".parse().unwrap();
        assert!(from_toml(&dt).is_err());
    }
}
