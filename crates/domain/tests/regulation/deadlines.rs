//! Deadline arithmetic at its edges: 7/15-day limits, weekends (not) extending, 60-day
//! cycles, leap years, periodic report periods, and deadline status.

use saisei_domain::regulation::{
    AdverseEventFacts, DeadlineCategory, DeadlineError, DeadlineState, DeadlineStatus, RuleSet,
    adverse_event_deadline, current_period, periodic_period, periodic_periods_due,
};
use time::{Date, Weekday, macros::date};

use crate::common::{ASRM_2014, set};

fn ae(death: bool, serious: bool, known_on: Date, anchor: Option<Date>) -> AdverseEventFacts {
    AdverseEventFacts {
        death_or_possible_death: death,
        serious,
        known_on,
        cycle_anchor: anchor,
        causality: None,
    }
}

/// The 2014 rules with weekends (and 2025-03-10, 2025-03-11 as holidays) extending deadlines.
fn extending() -> RuleSet {
    let text = ASRM_2014.replace(
        "weekends_extend_deadlines = false\nholidays = []",
        "weekends_extend_deadlines = true\nholidays = [2025-03-11, 2025-03-10]",
    );
    assert_ne!(text, ASRM_2014);
    RuleSet::from_toml_str("extending.toml", &text).unwrap()
}

#[test]
fn death_is_due_seven_days_after_knowledge_not_counting_that_day() {
    let rules = set("asrm-2025");
    let d = adverse_event_deadline(rules, &ae(true, true, date!(2025 - 04 - 01), None)).unwrap();
    assert_eq!(d.category, DeadlineCategory::AeDeathOrPossibleDeath);
    assert_eq!(d.due_on, date!(2025 - 04 - 08));
    assert_eq!(d.nominal_due_on, d.due_on);
    assert_eq!(d.rule_set, "asrm-2025");
    assert!(d.citation.contains("7日"), "{}", d.citation);
    assert_eq!(d.period, None);
    // Death takes precedence even if `serious` was left false.
    let d = adverse_event_deadline(rules, &ae(true, false, date!(2025 - 04 - 01), None)).unwrap();
    assert_eq!(d.due_on, date!(2025 - 04 - 08));
}

#[test]
fn seven_day_limits_cross_february_in_leap_and_common_years() {
    let rules = set("asrm-2020-genome-editing");
    let due = |known| {
        adverse_event_deadline(rules, &ae(true, true, known, None))
            .unwrap()
            .due_on
    };
    assert_eq!(due(date!(2024 - 02 - 22)), date!(2024 - 02 - 29));
    assert_eq!(due(date!(2023 - 02 - 22)), date!(2023 - 03 - 01));
    assert_eq!(due(date!(2024 - 12 - 28)), date!(2025 - 01 - 04));
}

#[test]
fn other_serious_events_are_due_in_fifteen_days() {
    let rules = set("asrm-2025");
    let d = adverse_event_deadline(rules, &ae(false, true, date!(2025 - 04 - 01), None)).unwrap();
    assert_eq!(d.category, DeadlineCategory::AeSerious);
    assert_eq!(d.due_on, date!(2025 - 04 - 16));
    let d = adverse_event_deadline(rules, &ae(false, true, date!(2024 - 02 - 14), None)).unwrap();
    assert_eq!(d.due_on, date!(2024 - 02 - 29));
}

#[test]
fn weekends_do_not_extend_deadlines_under_the_shipped_rules() {
    let rules = set("asrm-2025");
    // Known Saturday 2025-03-01: 7 days later is Saturday 2025-03-08, and stays so.
    let d = adverse_event_deadline(rules, &ae(true, true, date!(2025 - 03 - 01), None)).unwrap();
    assert_eq!(d.due_on.weekday(), Weekday::Saturday);
    assert_eq!(d.due_on, date!(2025 - 03 - 08));
    assert_eq!(
        d.status(date!(2025 - 03 - 08), None).status,
        DeadlineStatus::Due
    );
    assert_eq!(
        d.status(date!(2025 - 03 - 09), None).status,
        DeadlineStatus::Overdue
    );
    assert_eq!(
        d.status(date!(2025 - 03 - 10), None).status,
        DeadlineStatus::Overdue
    );
}

#[test]
fn weekends_and_listed_holidays_extend_when_the_rule_set_says_so() {
    let rules = extending();
    // Saturday 8 March → Monday 10 (holiday) → Tuesday 11 (holiday) → Wednesday 12.
    let d = adverse_event_deadline(&rules, &ae(true, true, date!(2025 - 03 - 01), None)).unwrap();
    assert_eq!(d.nominal_due_on, date!(2025 - 03 - 08));
    assert_eq!(d.due_on, date!(2025 - 03 - 12));
    assert_eq!(
        d.status(date!(2025 - 03 - 11), None).status,
        DeadlineStatus::Due
    );
    // A Sunday deadline without holidays moves to Monday.
    let d = adverse_event_deadline(&rules, &ae(false, true, date!(2025 - 03 - 08), None)).unwrap();
    assert_eq!(d.nominal_due_on, date!(2025 - 03 - 23));
    assert_eq!(d.due_on, date!(2025 - 03 - 24));
    // A weekday deadline does not move.
    let d = adverse_event_deadline(&rules, &ae(true, true, date!(2025 - 03 - 06), None)).unwrap();
    assert_eq!(d.due_on, date!(2025 - 03 - 13));
}

#[test]
fn non_serious_events_fall_in_sixty_day_cycles_from_filing() {
    let rules = set("asrm-2025");
    let anchor = Some(date!(2024 - 01 - 01));
    // 2024 is a leap year: 1 January + 59 days = 29 February, the last day of cycle 1.
    for known in [date!(2024 - 01 - 01), date!(2024 - 02 - 29)] {
        let d = adverse_event_deadline(rules, &ae(false, false, known, anchor)).unwrap();
        assert_eq!(d.category, DeadlineCategory::AeNonSerious);
        let p = d.period.unwrap();
        assert_eq!(
            (p.number, p.start, p.end),
            (1, date!(2024 - 01 - 01), date!(2024 - 02 - 29))
        );
        assert_eq!(d.due_on, date!(2024 - 03 - 10));
    }
    let d =
        adverse_event_deadline(rules, &ae(false, false, date!(2024 - 03 - 01), anchor)).unwrap();
    let p = d.period.unwrap();
    assert_eq!(
        (p.number, p.start, p.end),
        (2, date!(2024 - 03 - 01), date!(2024 - 04 - 29))
    );
    assert_eq!(d.due_on, date!(2024 - 05 - 09));
    // In a common year the first cycle ends on 1 March.
    let d = adverse_event_deadline(
        rules,
        &ae(
            false,
            false,
            date!(2023 - 03 - 01),
            Some(date!(2023 - 01 - 01)),
        ),
    )
    .unwrap();
    assert_eq!(d.period.unwrap().end, date!(2023 - 03 - 01));
    assert_eq!(d.due_on, date!(2023 - 03 - 11));
}

#[test]
fn non_serious_events_need_a_valid_anchor() {
    let rules = set("asrm-2025");
    assert_eq!(
        adverse_event_deadline(rules, &ae(false, false, date!(2024 - 03 - 01), None)),
        Err(DeadlineError::MissingCycleAnchor)
    );
    assert_eq!(
        adverse_event_deadline(
            rules,
            &ae(
                false,
                false,
                date!(2024 - 03 - 01),
                Some(date!(2024 - 03 - 02))
            )
        ),
        Err(DeadlineError::BeforeAnchor {
            known_on: date!(2024 - 03 - 01),
            anchor: date!(2024 - 03 - 02)
        })
    );
    assert!(matches!(
        adverse_event_deadline(rules, &ae(true, true, date!(9999 - 12 - 30), None)),
        Err(DeadlineError::OutOfRange(_))
    ));
}

#[test]
fn periodic_periods_run_yearly_from_filing_and_are_due_ninety_days_after() {
    let rules = set("asrm-2025");
    let filed = date!(2020 - 04 - 01);
    let p1 = periodic_period(rules, filed, None, 1).unwrap();
    assert_eq!(p1.category, DeadlineCategory::PeriodicReport);
    let period = p1.period.unwrap();
    assert_eq!(
        (period.start, period.end),
        (date!(2020 - 04 - 01), date!(2021 - 03 - 31))
    );
    assert_eq!(p1.due_on, date!(2021 - 06 - 29));
    let p3 = periodic_period(rules, filed, None, 3).unwrap();
    let period = p3.period.unwrap();
    assert_eq!(
        (period.number, period.start, period.end),
        (3, date!(2022 - 04 - 01), date!(2023 - 03 - 31))
    );
    assert_eq!(p3.due_on, date!(2023 - 06 - 29));
    assert_eq!(
        periodic_period(rules, filed, None, 0),
        Err(DeadlineError::PeriodZero)
    );
    assert!(periodic_period(rules, filed, None, u32::MAX).is_err());
}

#[test]
fn periodic_periods_from_29_february_end_on_28_february() {
    let rules = set("asrm-2025");
    let filed = date!(2024 - 02 - 29);
    let bounds = |n| {
        let p = periodic_period(rules, filed, None, n)
            .unwrap()
            .period
            .unwrap();
        (p.start, p.end)
    };
    assert_eq!(bounds(1), (date!(2024 - 02 - 29), date!(2025 - 02 - 28)));
    assert_eq!(bounds(2), (date!(2025 - 03 - 01), date!(2026 - 02 - 28)));
    assert_eq!(bounds(4), (date!(2027 - 03 - 01), date!(2028 - 02 - 28)));
    assert_eq!(bounds(5), (date!(2028 - 02 - 29), date!(2029 - 02 - 28)));
    // Due 90 days after 28 February 2025.
    assert_eq!(
        periodic_period(rules, filed, None, 1).unwrap().due_on,
        date!(2025 - 05 - 29)
    );
}

#[test]
fn periods_due_by_a_date_are_those_that_have_ended() {
    let rules = set("asrm-2025");
    let filed = date!(2020 - 04 - 01);
    assert!(
        periodic_periods_due(rules, filed, None, date!(2021 - 03 - 30))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        periodic_periods_due(rules, filed, None, date!(2021 - 03 - 31))
            .unwrap()
            .len(),
        1
    );
    let due = periodic_periods_due(rules, filed, None, date!(2023 - 04 - 01)).unwrap();
    let numbers: Vec<u32> = due.iter().map(|d| d.period.unwrap().number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(
        periodic_periods_due(rules, filed, None, date!(2019 - 01 - 01))
            .unwrap()
            .is_empty()
    );
    // Far in the future the list simply stops at the calendar's end.
    assert!(
        periodic_periods_due(rules, filed, None, date!(9999 - 12 - 31))
            .unwrap()
            .len()
            > 7000
    );
}

#[test]
fn the_current_period_contains_the_date() {
    let rules = set("asrm-2025");
    let filed = date!(2024 - 02 - 29);
    assert_eq!(
        current_period(rules, filed, date!(2024 - 02 - 28)).unwrap(),
        None
    );
    for (day, n) in [
        (date!(2024 - 02 - 29), 1),
        (date!(2025 - 02 - 28), 1),
        (date!(2025 - 03 - 01), 2),
        (date!(2028 - 02 - 28), 4),
        (date!(2028 - 02 - 29), 5),
        (date!(2031 - 12 - 31), 8),
    ] {
        let p = current_period(rules, filed, day).unwrap().unwrap();
        assert_eq!(p.number, n, "{day}");
        assert!(p.contains(day));
    }
}

#[test]
fn deadline_status_is_due_overdue_or_done() {
    let due = date!(2025 - 06 - 30);
    let s = DeadlineState::assess(due, date!(2025 - 06 - 30), None);
    assert_eq!((s.status, s.days_remaining), (DeadlineStatus::Due, 0));
    let s = DeadlineState::assess(due, date!(2025 - 06 - 20), None);
    assert_eq!((s.status, s.days_remaining), (DeadlineStatus::Due, 10));
    let s = DeadlineState::assess(due, date!(2025 - 07 - 01), None);
    assert_eq!((s.status, s.days_remaining), (DeadlineStatus::Overdue, -1));
    let s = DeadlineState::assess(due, date!(2025 - 07 - 05), Some(date!(2025 - 06 - 30)));
    assert_eq!((s.status, s.done_late), (DeadlineStatus::Done, false));
    let s = DeadlineState::assess(due, date!(2025 - 07 - 05), Some(date!(2025 - 07 - 02)));
    assert_eq!((s.status, s.done_late), (DeadlineStatus::Done, true));
    // A report made after the as-of date does not count yet.
    let s = DeadlineState::assess(due, date!(2025 - 07 - 01), Some(date!(2025 - 07 - 02)));
    assert_eq!((s.status, s.done_on), (DeadlineStatus::Overdue, None));
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(json["status"], "overdue");
    assert_eq!(json["due_on"], "2025-06-30");
}

#[test]
fn deadlines_serialise_with_civil_dates() {
    let d = periodic_period(set("asrm-2025"), date!(2020 - 04 - 01), None, 1).unwrap();
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["category"], "periodic_report");
    assert_eq!(v["due_on"], "2021-06-29");
    assert_eq!(v["period"]["start"], "2020-04-01");
    let back: saisei_domain::regulation::Deadline = serde_json::from_value(v).unwrap();
    assert_eq!(back, d);
    let facts: AdverseEventFacts = serde_json::from_value(serde_json::json!({
        "death_or_possible_death": false, "serious": false, "known_on": "2024-03-01"
    }))
    .unwrap();
    assert_eq!(facts.cycle_anchor, None);
}

/// Only events suspected to result from the treatment are reportable: an unrelated or
/// unlikely one has no deadline whatever its seriousness; a possible, probable, definite
/// or not yet assessed one keeps its deadline.
#[test]
fn only_suspected_events_have_a_deadline() {
    use saisei_domain::registry::Causality;
    for id in ["asrm-2014", "asrm-2025"] {
        let rules = set(id);
        for causality in Causality::ALL {
            for (death, serious) in [(true, true), (false, true), (false, false)] {
                let mut facts = ae(
                    death,
                    serious,
                    date!(2025 - 04 - 01),
                    Some(date!(2025 - 01 - 01)),
                );
                facts.causality = Some(*causality);
                let result = adverse_event_deadline(rules, &facts);
                match causality {
                    Causality::Unrelated | Causality::Unlikely => assert_eq!(
                        result,
                        Err(DeadlineError::NotSuspected {
                            causality: causality.wire()
                        }),
                        "{id} {causality:?}"
                    ),
                    _ => assert!(result.is_ok(), "{id} {causality:?}: {result:?}"),
                }
            }
        }
        assert!(
            rules
                .parameters()
                .adverse_events
                .reportable
                .source
                .contains("第35条")
        );
    }
}

/// A plan that stopped owes the report of the period it stopped in, cut short at the
/// stop, and none after: a plan filed 2025-02-01 and ended 2026-03-31 owes period 1
/// (to 2026-01-31) and period 2 (2026-02-01 to 2026-03-31, due 90 days later), and
/// nothing for 2027–29.
#[test]
fn a_stopped_plan_owes_no_reports_after_it_stopped() {
    let rules = set("asrm-2025");
    let filed = date!(2025 - 02 - 01);
    let ended = Some(date!(2026 - 03 - 31));
    let due = periodic_periods_due(rules, filed, ended, date!(2029 - 12 - 31)).unwrap();
    let periods: Vec<(u32, Date, Date, Date)> = due
        .iter()
        .map(|d| {
            let p = d.period.unwrap();
            (p.number, p.start, p.end, d.due_on)
        })
        .collect();
    assert_eq!(
        periods,
        [
            (1, filed, date!(2026 - 01 - 31), date!(2026 - 05 - 01)),
            (
                2,
                date!(2026 - 02 - 01),
                date!(2026 - 03 - 31),
                date!(2026 - 06 - 29)
            ),
        ]
    );
    // The last, shorter period is owed once provision stopped, not before.
    assert_eq!(
        periodic_periods_due(rules, filed, ended, date!(2026 - 03 - 30))
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        periodic_period(rules, filed, ended, 3),
        Err(DeadlineError::AfterEnd { period: 3, .. })
    ));
    // Stopping on the last day of a period leaves that period whole.
    let on_boundary = Some(date!(2026 - 01 - 31));
    let due = periodic_periods_due(rules, filed, on_boundary, date!(2029 - 12 - 31)).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].due_on, date!(2026 - 05 - 01));
}
