//! Temperature logs: parsing the CSV a data logger exports, finding excursions outside a
//! unit's storage range, and what an excursion implies.
//!
//! **Format.** One reading per line: `time,celsius`, where `time` is RFC 3339 with an
//! offset (`2025-04-01T09:00:00+09:00`) and `celsius` a decimal number. An optional header
//! line (its first field `time…`, `date…`, `timestamp` or `at`), a byte-order mark (as
//! spreadsheet exports write), blank lines and lines starting with `#` are skipped. Times must strictly increase. Every malformed line is reported with its line
//! number and column, not just the first.
//!
//! **Excursions.** Readings are samples, so the true moments a temperature left and
//! re-entered the range are unknown. An excursion is a maximal run of consecutive
//! out-of-range readings; we bound it conservatively on the late side:
//! - it *starts* at the first out-of-range reading (nothing earlier was observed out of
//!   range);
//! - it *ends* at the first in-range reading after the run (the earliest moment the unit is
//!   known to be back in range), or at the last reading when the log ends out of range
//!   (then `open_at_end_of_log` is set: the unit may still be out of range).
//!
//! So spans never overlap, and their durations add up to at most the log's span. The
//! minimum and maximum are over the out-of-range readings.
//!
//! **Policy.** Any excursion puts every affected unit on hold ([`quarantine_action`])
//! until a QA manager decides a [`Disposition`]: use as is (with a reason), or destroy.
//! Product-specific tolerances (e.g. "up to 30 minutes at ≤ 8 °C is acceptable") are a
//! QA judgement recorded in the disposition's reason, not an automatic pass.

use super::custody::CustodyAction;
use super::measure::StorageRange;
use super::release::{Approver, QualityRole};
use crate::text::{Code, Text};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};
use utoipa::ToSchema;

/// One logged temperature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemperatureReading {
    /// When (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The temperature, °C.
    pub celsius: f64,
}

/// A parsed temperature log: readings in strictly increasing time, at least one.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TemperatureLog {
    readings: Vec<TemperatureReading>,
}

/// One problem in a temperature log, located by line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LogLineError {
    /// The 1-based line number.
    pub line: u64,
    /// The column name (`time`, `celsius`), or `None` for whole-line problems.
    pub column: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for LogLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.problem),
            None => write!(f, "line {}: {}", self.line, self.problem),
        }
    }
}

/// Why a temperature log was refused: every problem found (up to a limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, thiserror::Error)]
pub struct TemperatureLogError {
    /// The problems, in line order.
    pub problems: Vec<LogLineError>,
}

impl fmt::Display for TemperatureLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.problems.iter().map(|p| p.to_string()).collect();
        write!(f, "temperature log: {}", parts.join("; "))
    }
}

/// At most this many problems are reported; a wholly wrong file does not need 10,000.
const MAX_PROBLEMS: usize = 50;

const HEADER_WORDS: &[&str] = &["time", "timestamp", "datetime", "date_time", "at"];

impl TemperatureLog {
    /// Parses CSV text (see the module documentation for the format).
    pub fn parse_csv(text: &str) -> Result<Self, TemperatureLogError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes());
        let mut readings: Vec<TemperatureReading> = Vec::new();
        let mut problems: Vec<LogLineError> = Vec::new();
        let mut first_record = true;
        let mut previous: Option<(u64, OffsetDateTime)> = None;
        for record in reader.records() {
            if problems.len() >= MAX_PROBLEMS {
                break;
            }
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    problems.push(LogLineError {
                        line,
                        column: None,
                        problem: format!("not readable as CSV: {e}"),
                    });
                    continue;
                }
            };
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if record.iter().all(|f| f.is_empty()) {
                continue;
            }
            let time_field = record.get(0).unwrap_or("");
            if first_record {
                first_record = false;
                let lower = time_field.to_ascii_lowercase();
                if HEADER_WORDS.contains(&lower.as_str())
                    || lower.starts_with("time")
                    || lower.starts_with("date")
                {
                    continue;
                }
            }
            if record.len() != 2 {
                problems.push(LogLineError {
                    line,
                    column: None,
                    problem: format!("expected 2 columns (time, celsius), found {}", record.len()),
                });
                continue;
            }
            let at = match OffsetDateTime::parse(time_field, &Rfc3339) {
                Ok(t) => Some(t),
                Err(_) => {
                    problems.push(LogLineError {
                        line,
                        column: Some("time".into()),
                        problem: format!(
                            "{time_field:?} is not an RFC 3339 time with offset, e.g. 2025-04-01T09:00:00+09:00"
                        ),
                    });
                    None
                }
            };
            let t_field = record.get(1).unwrap_or("");
            let celsius = match t_field.parse::<f64>() {
                Ok(c) if !c.is_finite() => {
                    problems.push(LogLineError {
                        line,
                        column: Some("celsius".into()),
                        problem: format!("{t_field:?} is not a finite number"),
                    });
                    None
                }
                Ok(c) if c < -273.15 => {
                    problems.push(LogLineError {
                        line,
                        column: Some("celsius".into()),
                        problem: format!("{c} °C is below absolute zero"),
                    });
                    None
                }
                Ok(c) => Some(c),
                Err(_) => {
                    problems.push(LogLineError {
                        line,
                        column: Some("celsius".into()),
                        problem: format!("{t_field:?} is not a number"),
                    });
                    None
                }
            };
            if let Some(at) = at {
                if let Some((prev_line, prev)) = previous
                    && at <= prev
                {
                    problems.push(LogLineError {
                        line,
                        column: Some("time".into()),
                        problem: format!(
                            "{time_field} is not after the reading on line {prev_line}; times must strictly increase"
                        ),
                    });
                } else {
                    previous = Some((line, at));
                    if let Some(celsius) = celsius {
                        readings.push(TemperatureReading { at, celsius });
                    }
                }
            }
        }
        if problems.is_empty() && readings.is_empty() {
            problems.push(LogLineError {
                line: 1,
                column: None,
                problem: "the log has no readings".into(),
            });
        }
        if problems.is_empty() {
            Ok(TemperatureLog { readings })
        } else {
            Err(TemperatureLogError { problems })
        }
    }

    /// Builds a log from readings already in memory; they must be finite and strictly
    /// increasing in time.
    pub fn from_readings(readings: Vec<TemperatureReading>) -> Result<Self, TemperatureLogError> {
        let mut problems = Vec::new();
        for (i, r) in readings.iter().enumerate() {
            let line = i as u64 + 1;
            if !r.celsius.is_finite() || r.celsius < -273.15 {
                problems.push(LogLineError {
                    line,
                    column: Some("celsius".into()),
                    problem: format!("{} is not a possible temperature", r.celsius),
                });
            }
            if i > 0 && r.at <= readings[i - 1].at {
                problems.push(LogLineError {
                    line,
                    column: Some("time".into()),
                    problem: "times must strictly increase".into(),
                });
            }
        }
        if readings.is_empty() {
            problems.push(LogLineError {
                line: 1,
                column: None,
                problem: "the log has no readings".into(),
            });
        }
        if problems.is_empty() {
            Ok(TemperatureLog { readings })
        } else {
            Err(TemperatureLogError { problems })
        }
    }

    /// The readings, in time order.
    pub fn readings(&self) -> &[TemperatureReading] {
        &self.readings
    }

    /// The first and last reading times.
    pub fn span(&self) -> (OffsetDateTime, OffsetDateTime) {
        match (self.readings.first(), self.readings.last()) {
            (Some(a), Some(b)) => (a.at, b.at),
            _ => (OffsetDateTime::UNIX_EPOCH, OffsetDateTime::UNIX_EPOCH),
        }
    }
}

/// Which side of the range an excursion went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExcursionDirection {
    /// Warmer than the maximum.
    Above,
    /// Colder than the minimum.
    Below,
    /// Both, within one run of readings.
    Both,
}

/// A span of time when the unit was out of its storage range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Excursion {
    /// The first out-of-range reading.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// The first in-range reading after it, or the last reading if the log ends out of range.
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    /// `end − start`, in whole seconds.
    pub duration_seconds: i64,
    /// The lowest out-of-range reading, °C.
    pub min_celsius: f64,
    /// The highest out-of-range reading, °C.
    pub max_celsius: f64,
    /// Above, below or both.
    pub direction: ExcursionDirection,
    /// The number of out-of-range readings.
    pub readings: usize,
    /// Whether the log ends while out of range.
    pub open_at_end_of_log: bool,
}

impl Excursion {
    /// `end − start`.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// Finds the excursions of a log outside a storage range (see the module documentation
/// for how spans are bounded).
pub fn find_excursions(log: &TemperatureLog, range: &StorageRange) -> Vec<Excursion> {
    let mut out = Vec::new();
    let mut current: Option<Excursion> = None;
    for r in &log.readings {
        if range.contains(r.celsius) {
            if let Some(mut e) = current.take() {
                e.end = r.at;
                e.duration_seconds = e.duration().whole_seconds();
                out.push(e);
            }
            continue;
        }
        let side = if r.celsius > range.max_celsius() {
            ExcursionDirection::Above
        } else {
            ExcursionDirection::Below
        };
        match &mut current {
            None => {
                current = Some(Excursion {
                    start: r.at,
                    end: r.at,
                    duration_seconds: 0,
                    min_celsius: r.celsius,
                    max_celsius: r.celsius,
                    direction: side,
                    readings: 1,
                    open_at_end_of_log: false,
                });
            }
            Some(e) => {
                e.end = r.at;
                e.min_celsius = e.min_celsius.min(r.celsius);
                e.max_celsius = e.max_celsius.max(r.celsius);
                e.readings += 1;
                if e.direction != side {
                    e.direction = ExcursionDirection::Both;
                }
            }
        }
    }
    if let Some(mut e) = current {
        e.open_at_end_of_log = true;
        e.duration_seconds = e.duration().whole_seconds();
        out.push(e);
    }
    out
}

/// A log checked against a storage range.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TemperatureAssessment {
    /// The range checked against.
    pub range: StorageRange,
    /// The number of readings.
    pub readings: usize,
    /// The first reading.
    #[serde(with = "time::serde::rfc3339")]
    pub first: OffsetDateTime,
    /// The last reading.
    #[serde(with = "time::serde::rfc3339")]
    pub last: OffsetDateTime,
    /// The excursions, in time order.
    pub excursions: Vec<Excursion>,
    /// Whether every reading was in range.
    pub within_range: bool,
}

/// Checks a log against a range: the summary to store with a shipment or storage record.
pub fn assess(log: &TemperatureLog, range: &StorageRange) -> TemperatureAssessment {
    let excursions = find_excursions(log, range);
    let (first, last) = log.span();
    TemperatureAssessment {
        range: *range,
        readings: log.readings.len(),
        first,
        last,
        within_range: excursions.is_empty(),
        excursions,
    }
}

/// The custody action that puts an affected unit on hold for an excursion. `hold` names
/// the excursion (e.g. its record id) so the disposition can lift exactly this hold.
pub fn quarantine_action(hold: Code, excursion: &Excursion, range: &StorageRange) -> CustodyAction {
    let reason = format!(
        "temperature excursion outside {range}: {} to {} ({} s), readings {} to {} °C{}",
        excursion
            .start
            .format(&Rfc3339)
            .unwrap_or_else(|_| excursion.start.to_string()),
        excursion
            .end
            .format(&Rfc3339)
            .unwrap_or_else(|_| excursion.end.to_string()),
        excursion.duration_seconds,
        excursion.min_celsius,
        excursion.max_celsius,
        if excursion.open_at_end_of_log {
            "; the log ends out of range"
        } else {
            ""
        }
    );
    CustodyAction::Quarantined {
        hold,
        reason: composed_text(reason),
    }
}

/// Text for a reason composed here (one short line, always valid); should it ever be
/// refused, the fixed phrase below (valid Text) is used, so this never fails.
fn composed_text(s: String) -> Text {
    match Text::try_from(s) {
        Ok(t) => t,
        Err(_) => composed_text("temperature excursion".to_string()),
    }
}

/// What QA decided for units held for an excursion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum DispositionDecision {
    /// The excursion does not affect quality; the hold is lifted.
    UseAsIs {
        /// Why (stability data, product tolerance, duration…).
        reason: Text,
    },
    /// The units are destroyed.
    Destroy {
        /// Why.
        reason: Text,
    },
}

/// QA's decision on an excursion hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disposition {
    /// The hold decided on (as opened by [`quarantine_action`]).
    pub hold: Code,
    /// The decision.
    pub decision: DispositionDecision,
    /// Who decided.
    pub approved_by: Approver,
    /// When.
    pub decided_on: Date,
}

/// Why a disposition cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DispositionError {
    /// Only a QA manager may decide.
    #[error("approved_by.role: a disposition must be decided by a QA manager, not {0:?}")]
    NotQaManager(QualityRole),
}

impl Disposition {
    /// The custody action that records the decision on each affected unit: `released` with
    /// the hold (use as is) or `destroyed`.
    pub fn custody_action(&self) -> Result<CustodyAction, DispositionError> {
        if self.approved_by.role != QualityRole::QaManager {
            return Err(DispositionError::NotQaManager(self.approved_by.role));
        }
        Ok(match &self.decision {
            DispositionDecision::UseAsIs { .. } => CustodyAction::Released {
                hold: Some(self.hold.clone()),
            },
            DispositionDecision::Destroy { reason } => CustodyAction::Destroyed {
                reason: reason.clone(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Name;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn fridge() -> StorageRange {
        StorageRange::new(2.0, 8.0).unwrap()
    }

    #[test]
    fn log_without_excursion() {
        let log = TemperatureLog::parse_csv(
            "\u{feff}Time (JST),Temperature (°C)\n2025-04-01T09:00:00+09:00,4.0\n2025-04-01T09:05:00+09:00,4.5\n\n# door opened\n2025-04-01T09:10:00+09:00, 8.0\n",
        )
        .unwrap();
        assert_eq!(log.readings().len(), 3);
        let a = assess(&log, &fridge());
        assert!(a.within_range);
        assert_eq!(a.readings, 3);
        assert_eq!(a.first, datetime!(2025-04-01 00:00 UTC));
    }

    #[test]
    fn one_excursion_bounded_by_samples() {
        let log = TemperatureLog::parse_csv(
            "2025-04-01T00:00:00Z,5\n2025-04-01T00:10:00Z,9.5\n2025-04-01T00:20:00Z,12.25\n2025-04-01T00:30:00Z,7\n2025-04-01T00:40:00Z,6\n",
        )
        .unwrap();
        let ex = find_excursions(&log, &fridge());
        assert_eq!(ex.len(), 1);
        let e = ex[0];
        assert_eq!(e.start, datetime!(2025-04-01 00:10 UTC));
        assert_eq!(e.end, datetime!(2025-04-01 00:30 UTC));
        assert_eq!(e.duration_seconds, 1200);
        assert_eq!((e.min_celsius, e.max_celsius), (9.5, 12.25));
        assert_eq!(e.direction, ExcursionDirection::Above);
        assert_eq!(e.readings, 2);
        assert!(!e.open_at_end_of_log);
    }

    #[test]
    fn two_excursions_one_open_at_the_end() {
        let log = TemperatureLog::parse_csv(
            "timestamp,°C\n2025-04-01T00:00:00Z,1.5\n2025-04-01T00:05:00Z,3\n2025-04-01T00:10:00Z,4\n2025-04-01T00:15:00Z,10\n2025-04-01T00:20:00Z,11\n",
        )
        .unwrap();
        let ex = find_excursions(&log, &fridge());
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].direction, ExcursionDirection::Below);
        assert_eq!(ex[0].duration_seconds, 300);
        assert_eq!(ex[1].start, datetime!(2025-04-01 00:15 UTC));
        assert_eq!(ex[1].end, datetime!(2025-04-01 00:20 UTC));
        assert!(ex[1].open_at_end_of_log);
        assert_eq!(ex[1].max_celsius, 11.0);
        let single_open = TemperatureLog::parse_csv("2025-04-01T00:00:00Z,30\n").unwrap();
        let ex = find_excursions(&single_open, &fridge());
        assert_eq!(ex[0].duration_seconds, 0);
        assert!(ex[0].open_at_end_of_log);
    }

    #[test]
    fn malformed_lines_are_all_reported() {
        let err = TemperatureLog::parse_csv(
            "time,celsius\n2025-04-01T00:00:00Z,4\n2025-04-01 00:05,4\n2025-04-01T00:10:00Z,warm\n2025-04-01T00:15:00Z\n2025-04-01T00:08:00Z,4\n2025-04-01T00:20:00Z,NaN\n2025-04-01T00:25:00Z,-300\n",
        )
        .unwrap_err();
        let got: Vec<(u64, Option<&str>)> = err
            .problems
            .iter()
            .map(|p| (p.line, p.column.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, Some("time")),
                (4, Some("celsius")),
                (5, None),
                (6, Some("time")),
                (7, Some("celsius")),
                (8, Some("celsius")),
            ],
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("line 4, column celsius: \"warm\" is not a number")
        );
        let empty = TemperatureLog::parse_csv("time,celsius\n").unwrap_err();
        assert!(empty.to_string().contains("no readings"));
        assert!(TemperatureLog::parse_csv("").is_err());
    }

    #[test]
    fn excursion_policy_and_disposition() {
        let log = TemperatureLog::parse_csv(
            "2025-04-01T00:00:00Z,5\n2025-04-01T00:10:00Z,9\n2025-04-01T00:20:00Z,5\n",
        )
        .unwrap();
        let ex = find_excursions(&log, &fridge());
        let hold = Code::try_from("EXC-2025-001").unwrap();
        match quarantine_action(hold.clone(), &ex[0], &fridge()) {
            CustodyAction::Quarantined { hold: h, reason } => {
                assert_eq!(h, hold);
                assert!(reason.as_str().contains("2 to 8 °C"), "{reason}");
                assert!(reason.as_str().contains("600 s"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let mut d = Disposition {
            hold: hold.clone(),
            decision: DispositionDecision::UseAsIs {
                reason: Text::try_from("10 min at 9 °C is within validated stability").unwrap(),
            },
            approved_by: Approver {
                person: Name::try_from("QA Suzuki").unwrap(),
                role: QualityRole::QaManager,
            },
            decided_on: time::macros::date!(2025 - 04 - 02),
        };
        assert_eq!(
            d.custody_action(),
            Ok(CustodyAction::Released { hold: Some(hold) })
        );
        d.decision = DispositionDecision::Destroy {
            reason: Text::try_from("out of range too long").unwrap(),
        };
        assert!(matches!(
            d.custody_action(),
            Ok(CustodyAction::Destroyed { .. })
        ));
        d.approved_by.role = QualityRole::QcAnalyst;
        assert_eq!(
            d.custody_action(),
            Err(DispositionError::NotQaManager(QualityRole::QcAnalyst))
        );
    }

    fn readings_strategy() -> impl Strategy<Value = Vec<TemperatureReading>> {
        prop::collection::vec((1i64..3600, -5.0f64..15.0), 1..60).prop_map(|steps| {
            let mut t = datetime!(2025-01-01 00:00 UTC);
            steps
                .into_iter()
                .map(|(dt, c)| {
                    t += Duration::seconds(dt);
                    TemperatureReading { at: t, celsius: c }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn excursions_are_disjoint_and_within_the_log(readings in readings_strategy()) {
            let log = TemperatureLog::from_readings(readings).unwrap();
            let range = fridge();
            let ex = find_excursions(&log, &range);
            let (first, last) = log.span();
            let mut total = 0i64;
            for (i, e) in ex.iter().enumerate() {
                prop_assert!(e.start <= e.end);
                prop_assert!(e.start >= first && e.end <= last);
                prop_assert!(e.min_celsius <= e.max_celsius);
                prop_assert!(!range.contains(e.min_celsius) && !range.contains(e.max_celsius));
                if let Some(next) = ex.get(i + 1) {
                    prop_assert!(e.end < next.start, "overlap: {:?} / {:?}", e, next);
                }
                total += e.duration_seconds;
            }
            prop_assert!(total <= (last - first).whole_seconds());
            let out_of_range = log.readings().iter().filter(|r| !range.contains(r.celsius)).count();
            prop_assert_eq!(ex.iter().map(|e| e.readings).sum::<usize>(), out_of_range);
        }

        #[test]
        fn csv_round_trip(readings in readings_strategy()) {
            let text: String = readings
                .iter()
                .map(|r| format!("{},{}\n", r.at.format(&Rfc3339).unwrap(), r.celsius))
                .collect();
            let log = TemperatureLog::parse_csv(&text).unwrap();
            prop_assert_eq!(log.readings(), readings.as_slice());
        }
    }
}
