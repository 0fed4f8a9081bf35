//! Civil dates as the registry uses them.
//!
//! Regulatory deadlines count calendar days in Japan Standard Time, so the registry stores
//! civil dates (`time::Date`, ISO `YYYY-MM-DD`) rather than instants for clinical facts.
//! Dates outside a plausible range are refused: a birth in 1066 or an administration in
//! 3024 is a typing error, not a fact.

use crate::error::ValidationErrors;
use time::{Date, Month, OffsetDateTime, UtcOffset};

/// The earliest date the registry accepts for any clinical or regulatory fact.
pub const EARLIEST: Date = time::macros::date!(1900 - 01 - 01);
/// The latest date the registry accepts (follow-up schedules may run decades ahead).
pub const LATEST: Date = time::macros::date!(2200 - 12 - 31);

/// Records a problem when `date` is outside the plausible range.
pub fn check_plausible(field: &str, date: Date, errors: &mut ValidationErrors) {
    if date < EARLIEST || date > LATEST {
        errors.push(
            field,
            format!("date {date} is out of range ({EARLIEST} to {LATEST})"),
        );
    }
}

/// Records a problem when `later` precedes `earlier`.
pub fn check_order(
    field: &str,
    earlier_name: &str,
    earlier: Date,
    later: Date,
    errors: &mut ValidationErrors,
) {
    if later < earlier {
        errors.push(
            field,
            format!("must not be before {earlier_name} ({earlier})"),
        );
    }
}

/// Today's civil date in Japan Standard Time (UTC+9), the calendar deadlines use.
pub fn today_jst(now: OffsetDateTime) -> Date {
    let jst = UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC);
    now.to_offset(jst).date()
}

/// Formats an instant as RFC 3339 in UTC.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Adds whole calendar months, clamping the day to the end of a shorter month
/// (31 January + 1 month = 28/29 February), as clinical schedules are written.
pub fn add_months(date: Date, months: i32) -> Date {
    let total = date.year() * 12 + (date.month() as i32 - 1) + months;
    let year = total.div_euclid(12);
    let month_index = total.rem_euclid(12) as u8 + 1;
    let month = Month::try_from(month_index).unwrap_or(Month::January);
    let last = month.length(year);
    let day = date.day().min(last);
    Date::from_calendar_date(year, month, day).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2023 - 01 - 31), 1), date!(2023 - 02 - 28));
        assert_eq!(add_months(date!(2023 - 11 - 15), 14), date!(2025 - 01 - 15));
        assert_eq!(add_months(date!(2023 - 03 - 15), -3), date!(2022 - 12 - 15));
    }

    #[test]
    fn jst_rolls_over_at_15_utc() {
        let t = time::macros::datetime!(2024-03-31 15:30 UTC);
        assert_eq!(today_jst(t), date!(2024 - 04 - 01));
    }
}
