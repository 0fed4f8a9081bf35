//! The patient's grid of time points, as a registry's record home page draws it: one
//! column per administration and per scheduled follow-up visit, in date order, with the
//! day counted from the first administration and the visit's window; one row per kind
//! of record (the administration, the visit, its measurements, adverse events with
//! onset in the interval). Each cell says its status in words beside an icon, and links
//! to where the work is done.
//!
//! This is a view over records the page has already read through the access policy;
//! it decides nothing about them (the visit's status is the domain's
//! [`Visit::status`]; the report status of an event comes from the deadline workflow).

use super::home::visit_class;
use crate::i18n::Ui;
use saisei_domain::Record;
use saisei_domain::registry::{Observation, Treatment, Visit, VisitStatus};
use time::Date;

/// A column: one time point.
pub struct Point {
    /// What it is (the visit's label, or "administration").
    pub label: String,
    /// The day counted from the first administration ("day 30"), when there is one.
    pub day: Option<String>,
    /// Its date: the administration's day, or the visit's target day.
    pub date: String,
    /// The visit's window, for a visit.
    pub window: Option<String>,
}

/// One cell of the grid.
pub struct Cell {
    /// The status in words; `None` when the row does not apply at this time point.
    pub text: Option<String>,
    /// The status token for the icon and colour.
    pub class: &'static str,
    /// Where the record is (or is to be) entered.
    pub href: Option<String>,
}

impl Cell {
    fn none() -> Cell {
        Cell {
            text: None,
            class: "na",
            href: None,
        }
    }
}

/// A row: one kind of record across the time points.
pub struct Row {
    /// The kind of record, in words.
    pub label: String,
    /// One cell per time point.
    pub cells: Vec<Cell>,
}

/// The whole grid.
pub struct Grid {
    /// The time points, in date order.
    pub points: Vec<Point>,
    /// The rows, each with one cell per point.
    pub rows: Vec<Row>,
}

/// An adverse event as the grid needs it: its anchor on the page, onset, and the
/// status of the report it needs (`None` when the Act asks for none).
pub struct EventMark {
    /// The event's anchor on the patient's page.
    pub anchor: String,
    /// Onset.
    pub onset_on: Date,
    /// The status token of its report (`due`, `overdue`, `done`), if it needs one.
    pub report_class: Option<&'static str>,
}

enum At<'a> {
    Given(&'a Record<Treatment>),
    Visit(&'a Record<Visit>),
}

impl At<'_> {
    fn date(&self) -> Date {
        match self {
            At::Given(t) => t.data.administered_on,
            At::Visit(v) => v.data.due_on,
        }
    }
}

/// How bad a status is, so that a cell holding several events shows the worst.
fn severity(class: &str) -> u8 {
    match class {
        "overdue" => 3,
        "due" => 2,
        "done" => 1,
        _ => 0,
    }
}

/// The grid of a patient's records, or `None` when nothing is scheduled or given yet.
pub fn grid(
    ui: &Ui,
    today: Date,
    treatments: &[Record<Treatment>],
    visits: &[Record<Visit>],
    observations: &[Record<Observation>],
    events: &[EventMark],
) -> Option<Grid> {
    let mut at: Vec<At> = treatments
        .iter()
        .map(At::Given)
        .chain(visits.iter().map(At::Visit))
        .collect();
    if at.is_empty() {
        return None;
    }
    // Date order; on one day the administration comes before the visit.
    at.sort_by_key(|a| (a.date(), matches!(a, At::Visit(_))));
    let first_given = treatments.iter().map(|t| t.data.administered_on).min();
    let points = at
        .iter()
        .map(|a| Point {
            label: match a {
                At::Given(_) => ui.t("grid-administration"),
                At::Visit(v) => v.data.label.to_string(),
            },
            day: first_given.map(|d| ui.t1("grid-day", "n", (a.date() - d).whole_days())),
            date: ui.date(&a.date()),
            window: match a {
                At::Visit(v) => Some(format!(
                    "{} – {}",
                    ui.date(&v.data.window_opens_on),
                    ui.date(&v.data.window_closes_on)
                )),
                At::Given(_) => None,
            },
        })
        .collect();
    // Each time point holds what happened from its date until the next one's (the
    // first also what came before it), for the records that have only a date.
    let bounds: Vec<Date> = at.iter().map(At::date).collect();
    let slot = |d: Date| bounds.iter().rposition(|b| *b <= d).unwrap_or(0);

    let given = at
        .iter()
        .map(|a| match a {
            At::Given(t) => Cell {
                text: Some(ui.t("grid-given")),
                class: "done",
                href: Some(format!("#treatment-{}", t.meta.id)),
            },
            At::Visit(_) => Cell::none(),
        })
        .collect();
    let visit_cells = at
        .iter()
        .map(|a| match a {
            At::Visit(v) => {
                let status = v.data.status(today);
                Cell {
                    text: Some(ui.term("visit-status", &status)),
                    class: visit_class(status),
                    href: Some(format!("/visits/{}", v.meta.id)),
                }
            }
            At::Given(_) => Cell::none(),
        })
        .collect();
    let mut measured = vec![0usize; at.len()];
    for o in observations {
        let i = o
            .data
            .visit_id
            .and_then(|id| {
                at.iter()
                    .position(|a| matches!(a, At::Visit(v) if v.meta.id == id))
            })
            .unwrap_or_else(|| slot(o.data.observed_on));
        measured[i] += 1;
    }
    let measure_cells = at
        .iter()
        .zip(&measured)
        .map(|(a, n)| match a {
            At::Visit(v) => {
                let status = v.data.status(today);
                let href = Some(format!("/visits/{}#measurements", v.meta.id));
                if *n > 0 {
                    Cell {
                        text: Some(ui.count("count-items", n)),
                        class: "done",
                        href,
                    }
                } else if status == VisitStatus::Done {
                    Cell {
                        text: Some(ui.t("grid-not-entered")),
                        class: "due",
                        href,
                    }
                } else if status == VisitStatus::Missed {
                    Cell {
                        text: Some(ui.term("visit-status", &status)),
                        class: "missed",
                        href: None,
                    }
                } else {
                    Cell {
                        text: Some(ui.term("visit-status", &status)),
                        class: "scheduled",
                        href: None,
                    }
                }
            }
            At::Given(_) if *n > 0 => Cell {
                text: Some(ui.count("count-items", n)),
                class: "done",
                href: None,
            },
            At::Given(_) => Cell::none(),
        })
        .collect();
    let mut by_slot: Vec<Vec<&EventMark>> = (0..at.len()).map(|_| Vec::new()).collect();
    for e in events {
        by_slot[slot(e.onset_on)].push(e);
    }
    let event_cells = by_slot
        .iter()
        .map(|es| match es.first() {
            None => Cell {
                text: Some(ui.t("grid-no-events")),
                class: "na",
                href: None,
            },
            Some(first) => {
                let worst = es
                    .iter()
                    .filter_map(|e| e.report_class)
                    .max_by_key(|c| severity(c));
                let n = es.len();
                let text = match worst {
                    Some(c) => format!(
                        "{} · {}",
                        ui.count("count-items", &n),
                        ui.t(&format!("grid-report-{c}"))
                    ),
                    None => ui.count("count-items", &n),
                };
                Cell {
                    text: Some(text),
                    class: worst.unwrap_or("scheduled"),
                    href: Some(format!("#{}", first.anchor)),
                }
            }
        })
        .collect();
    Some(Grid {
        points,
        rows: vec![
            Row {
                label: ui.t("grid-row-administration"),
                cells: given,
            },
            Row {
                label: ui.t("grid-row-visit"),
                cells: visit_cells,
            },
            Row {
                label: ui.t("grid-row-measurements"),
                cells: measure_cells,
            },
            Row {
                label: ui.t("grid-row-events"),
                cells: event_cells,
            },
        ],
    })
}
