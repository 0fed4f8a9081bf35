//! Follow-up: schedule definitions, the visits they generate, and visit status.
//!
//! A schedule is data ("day 30, month 6, month 12, then yearly to year 10"), so a
//! disease-specific registry can define its own without code. Visits are generated from
//! the treatment date; their status is computed from dates at the moment of asking, never
//! stored, so it cannot go stale.

use crate::dates::add_months;
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Code, Name, Text};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};
use uuid::Uuid;

/// One visit in a schedule: when it falls after treatment and how wide its window is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitSpec {
    /// Label, e.g. `D30`, `M6`.
    pub label: Code,
    /// Days after treatment (give this or `months`).
    #[serde(default)]
    pub days: Option<u32>,
    /// Calendar months after treatment (give this or `days`).
    #[serde(default)]
    pub months: Option<u32>,
    /// How many days before the due date the window opens.
    pub window_before_days: u32,
    /// How many days after the due date the window closes.
    pub window_after_days: u32,
}

/// Repeat visits after the listed ones, e.g. yearly until year 10.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    /// Interval in months (12 = yearly).
    pub every_months: u32,
    /// Last visit at this many months after treatment.
    pub until_months: u32,
    /// Window either side of each repeated visit, in days.
    pub window_days: u32,
}

/// A follow-up schedule definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpSchedule {
    /// Its name.
    pub name: Name,
    /// What it is for.
    #[serde(default)]
    pub description: Option<Text>,
    /// The listed visits, in order.
    pub visits: Vec<VisitSpec>,
    /// Repeats after the last listed visit.
    #[serde(default)]
    pub repeat: Option<Repeat>,
}

/// A visit generated from a schedule, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVisit {
    /// Label.
    pub label: String,
    /// Due date.
    pub due_on: Date,
    /// First acceptable date.
    pub window_opens_on: Date,
    /// Last acceptable date.
    pub window_closes_on: Date,
}

impl FollowUpSchedule {
    /// The visits for a treatment given on `treated_on`.
    pub fn plan_visits(&self, treated_on: Date) -> Vec<PlannedVisit> {
        let mut out = Vec::new();
        let mut last_months = 0u32;
        for v in &self.visits {
            let due = match (v.days, v.months) {
                (Some(d), _) => treated_on + Duration::days(i64::from(d)),
                (None, Some(m)) => {
                    last_months = last_months.max(m);
                    add_months(treated_on, m as i32)
                }
                (None, None) => continue,
            };
            if let Some(d) = v.days {
                last_months = last_months.max(d / 30);
            }
            out.push(PlannedVisit {
                label: v.label.to_string(),
                due_on: due,
                window_opens_on: due - Duration::days(i64::from(v.window_before_days)),
                window_closes_on: due + Duration::days(i64::from(v.window_after_days)),
            });
        }
        if let Some(r) = &self.repeat
            && let Some(steps) = last_months.checked_div(r.every_months)
        {
            let mut m = (steps + 1) * r.every_months;
            while m <= r.until_months {
                let due = add_months(treated_on, m as i32);
                let label = if r.every_months % 12 == 0 {
                    format!("Y{}", m / 12)
                } else {
                    format!("M{m}")
                };
                out.push(PlannedVisit {
                    label,
                    due_on: due,
                    window_opens_on: due - Duration::days(i64::from(r.window_days)),
                    window_closes_on: due + Duration::days(i64::from(r.window_days)),
                });
                m += r.every_months;
            }
        }
        out
    }
}

impl Validate for FollowUpSchedule {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.visits.is_empty() && self.repeat.is_none() {
            errors.push("visits", "a schedule needs at least one visit or a repeat");
        }
        if self.visits.len() > 200 {
            errors.push("visits", "at most 200 visits");
        }
        let mut labels = std::collections::HashSet::new();
        for (i, v) in self.visits.iter().enumerate() {
            let f = format!("visits[{i}]");
            match (v.days, v.months) {
                (Some(_), Some(_)) => errors.push(&f, "give either days or months, not both"),
                (None, None) => errors.push(&f, "give days or months after treatment"),
                (Some(d), None) if d > 36_500 => errors.push(format!("{f}.days"), "at most 36500"),
                (None, Some(m)) if m > 1_200 => errors.push(format!("{f}.months"), "at most 1200"),
                _ => {}
            }
            if v.window_before_days > 3_650 || v.window_after_days > 3_650 {
                errors.push(&f, "windows are at most 3650 days");
            }
            if !labels.insert(v.label.as_str().to_string()) {
                errors.push(format!("{f}.label"), format!("duplicate label {}", v.label));
            }
        }
        if let Some(r) = &self.repeat {
            if r.every_months == 0 || r.every_months > 120 {
                errors.push("repeat.every_months", "must be between 1 and 120");
            }
            if r.until_months > 1_200 {
                errors.push("repeat.until_months", "at most 1200");
            }
            if r.window_days > 3_650 {
                errors.push("repeat.window_days", "at most 3650");
            }
        }
        errors.into_result()
    }
}

impl Entity for FollowUpSchedule {
    const KIND: &'static str = "follow_up_schedule";
}

/// Where a visit stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    /// The window has not opened yet.
    Scheduled,
    /// The window is open and the due date has not passed.
    Due,
    /// The due date has passed but the window is still open.
    Overdue,
    /// The visit took place.
    Done,
    /// The window closed without a visit, or the visit was recorded as not done.
    Missed,
}

/// A scheduled follow-up visit of one patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    /// The patient.
    pub patient_id: Uuid,
    /// The treatment the schedule counts from.
    #[serde(default)]
    pub treatment_id: Option<Uuid>,
    /// Label, e.g. `M6`.
    pub label: Code,
    /// Due date.
    pub due_on: Date,
    /// First acceptable date.
    pub window_opens_on: Date,
    /// Last acceptable date.
    pub window_closes_on: Date,
    /// When the visit took place.
    #[serde(default)]
    pub done_on: Option<Date>,
    /// Why it will not take place (lost to follow-up, died, withdrew consent…).
    #[serde(default)]
    pub not_done_reason: Option<Text>,
}

impl Visit {
    /// The visit's status on `as_of`.
    pub fn status(&self, as_of: Date) -> VisitStatus {
        if self.done_on.is_some() {
            VisitStatus::Done
        } else if self.not_done_reason.is_some() || as_of > self.window_closes_on {
            VisitStatus::Missed
        } else if as_of < self.window_opens_on {
            VisitStatus::Scheduled
        } else if as_of <= self.due_on {
            VisitStatus::Due
        } else {
            VisitStatus::Overdue
        }
    }
}

impl Validate for Visit {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        for (f, d) in [
            ("due_on", self.due_on),
            ("window_opens_on", self.window_opens_on),
            ("window_closes_on", self.window_closes_on),
        ] {
            crate::dates::check_plausible(f, d, &mut errors);
        }
        if let Some(d) = self.done_on {
            crate::dates::check_plausible("done_on", d, &mut errors);
        }
        if self.window_opens_on > self.due_on {
            errors.push("window_opens_on", "must not be after due_on");
        }
        if self.window_closes_on < self.due_on {
            errors.push("window_closes_on", "must not be before due_on");
        }
        if self.done_on.is_some() && self.not_done_reason.is_some() {
            errors.push(
                "not_done_reason",
                "a visit that was done has no not-done reason",
            );
        }
        errors.into_result()
    }
}

impl Entity for Visit {
    const KIND: &'static str = "visit";
    fn past_dates(&self) -> Vec<(String, Date)> {
        self.done_on
            .map(|d| ("done_on".to_string(), d))
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn standard() -> FollowUpSchedule {
        serde_json::from_value(serde_json::json!({
            "name": "standard",
            "visits": [
                {"label": "D30", "days": 30, "window_before_days": 7, "window_after_days": 14},
                {"label": "M6", "months": 6, "window_before_days": 30, "window_after_days": 30},
                {"label": "M12", "months": 12, "window_before_days": 30, "window_after_days": 30}
            ],
            "repeat": {"every_months": 12, "until_months": 60, "window_days": 60}
        }))
        .unwrap()
    }

    #[test]
    fn generates_listed_then_yearly() {
        let s = standard();
        s.validate().unwrap();
        let v = s.plan_visits(date!(2024 - 01 - 31));
        let labels: Vec<_> = v.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(labels, ["D30", "M6", "M12", "Y2", "Y3", "Y4", "Y5"]);
        assert_eq!(v[0].due_on, date!(2024 - 03 - 01));
        assert_eq!(v[1].due_on, date!(2024 - 07 - 31));
        assert_eq!(v[3].due_on, date!(2026 - 01 - 31));
        assert_eq!(v[3].window_opens_on, date!(2025 - 12 - 02));
    }

    #[test]
    fn status_follows_dates() {
        let mut v = Visit {
            patient_id: Uuid::nil(),
            treatment_id: None,
            label: "M6".parse().unwrap(),
            due_on: date!(2024 - 07 - 01),
            window_opens_on: date!(2024 - 06 - 01),
            window_closes_on: date!(2024 - 08 - 01),
            done_on: None,
            not_done_reason: None,
        };
        assert_eq!(v.status(date!(2024 - 05 - 31)), VisitStatus::Scheduled);
        assert_eq!(v.status(date!(2024 - 06 - 01)), VisitStatus::Due);
        assert_eq!(v.status(date!(2024 - 07 - 01)), VisitStatus::Due);
        assert_eq!(v.status(date!(2024 - 07 - 02)), VisitStatus::Overdue);
        assert_eq!(v.status(date!(2024 - 08 - 01)), VisitStatus::Overdue);
        assert_eq!(v.status(date!(2024 - 08 - 02)), VisitStatus::Missed);
        v.done_on = Some(date!(2024 - 07 - 10));
        assert_eq!(v.status(date!(2030 - 01 - 01)), VisitStatus::Done);
    }

    #[test]
    fn rejects_ambiguous_offsets() {
        let mut s = standard();
        s.visits[0].months = Some(1);
        let e = s.validate().unwrap_err();
        assert_eq!(e.0[0].field, "visits[0]");
    }
}
