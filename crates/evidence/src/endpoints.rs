//! Each endpoint's outcome for each subject of the cohort.
//!
//! Binary and continuous endpoints are read at their visit; subjects without a value
//! there are counted by reason and left out of that endpoint's analysis. Time-to-event
//! endpoints follow each subject from the index date to the first event, the horizon,
//! the last contact or the data cut. Where the plan asks for central adjudication the
//! first *confirmed* event counts: a rejected candidate is passed over, and a candidate
//! not yet decided counts as reported by the site but keeps the endpoint pending.

use crate::cohort::Cohort;
use crate::data::RegistryData;
use saisei_domain::evaluation::outcome::{
    CandidateEvent, Missing, candidate_events, response, value_at_visit,
};
use saisei_domain::evaluation::{
    Endpoint, EndpointDefinition, EventDecision, EventSource, TaskStatus,
};
use std::collections::{BTreeMap, HashMap};
use time::Duration;
use uuid::Uuid;

/// Days in an average month, for reporting times in months.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// One subject's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRow {
    /// Index into the cohort's subjects.
    pub subject: usize,
    /// 0/1 for binary endpoints, the value for continuous ones, the follow-up time in
    /// days for time-to-event ones.
    pub value: f64,
    /// For time-to-event: whether follow-up ended in an (adjudicated) event.
    pub event: bool,
    /// For time-to-event: the outcome as the sites reported it, before adjudication
    /// (time in days, event).
    pub site_reported: Option<(f64, bool)>,
    /// Whether the outcome rests on an event still awaiting adjudication.
    pub pending: bool,
}

/// An endpoint's analysis data.
#[derive(Debug, Clone)]
pub struct EndpointData {
    /// The rows with an outcome.
    pub rows: Vec<OutcomeRow>,
    /// Subjects without an outcome, by reason: (treated, control).
    pub missing: BTreeMap<String, (usize, usize)>,
    /// Candidate events awaiting adjudication among the rows.
    pub pending: usize,
    /// Candidate events rejected by adjudication.
    pub rejected: usize,
}

/// Candidate events of every subject for a time-to-event endpoint, with the subject's
/// index: what the adjudication workflow turns into tasks.
pub fn candidates(
    endpoint: &Endpoint,
    cohort: &Cohort,
    data: &RegistryData,
    redact: &[String],
) -> Vec<(usize, CandidateEvent)> {
    let EndpointDefinition::TimeToEvent {
        events,
        horizon_days,
    } = &endpoint.definition
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, s) in cohort.subjects.iter().enumerate() {
        let records = cohort.records(data, s);
        let until = horizon(s.index_date, *horizon_days).min(cohort.data_cut);
        for c in candidate_events(events, &records, until, redact) {
            out.push((i, c));
        }
    }
    out
}

fn horizon(index: time::Date, days: Option<u32>) -> time::Date {
    match days {
        Some(d) => index + Duration::days(i64::from(d)),
        None => time::Date::MAX,
    }
}

/// The final adjudication decision of each task of the plan, by (endpoint key, source
/// record id); `None` while a task is undecided.
pub fn decisions(data: &RegistryData) -> HashMap<(String, Uuid), Option<EventDecision>> {
    data.tasks
        .iter()
        .map(|t| {
            let decided = (t.data.status == TaskStatus::Decided)
                .then_some(t.data.decision)
                .flatten();
            ((t.data.endpoint.to_string(), t.data.source_id), decided)
        })
        .collect()
}

/// The endpoint's outcomes over the cohort.
pub fn outcomes(
    endpoint: &Endpoint,
    cohort: &Cohort,
    data: &RegistryData,
    adjudicated: &HashMap<(String, Uuid), Option<EventDecision>>,
) -> EndpointData {
    let mut rows = Vec::new();
    let mut missing: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut miss = |m: Missing, treated: bool| {
        let e = missing.entry(m.describe().to_string()).or_default();
        if treated {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    };
    let (mut pending_total, mut rejected_total) = (0, 0);
    for (i, s) in cohort.subjects.iter().enumerate() {
        let records = cohort.records(data, s);
        match &endpoint.definition {
            EndpointDefinition::Binary {
                measure,
                direction,
                threshold,
            } => match response(measure, *direction, *threshold, &records) {
                Ok(r) => rows.push(OutcomeRow {
                    subject: i,
                    value: if r { 1.0 } else { 0.0 },
                    event: false,
                    site_reported: None,
                    pending: false,
                }),
                Err(m) => miss(m, s.treated),
            },
            EndpointDefinition::Continuous { measure } => match value_at_visit(measure, &records) {
                Ok(v) => rows.push(OutcomeRow {
                    subject: i,
                    value: v,
                    event: false,
                    site_reported: None,
                    pending: false,
                }),
                Err(m) => miss(m, s.treated),
            },
            EndpointDefinition::TimeToEvent {
                events,
                horizon_days,
            } => {
                let end = horizon(s.index_date, *horizon_days)
                    .min(cohort.data_cut)
                    .min(s.last_contact);
                let until = horizon(s.index_date, *horizon_days).min(cohort.data_cut);
                let found = candidate_events(events, &records, until, &[]);
                let days = |d: time::Date| (d - s.index_date).whole_days().max(0) as f64;
                let censored = days(end);
                let site_reported = found
                    .first()
                    .map(|c| (days(c.on), true))
                    .unwrap_or((censored, false));
                let (mut time, mut event, mut pending) = (censored, false, false);
                if endpoint.adjudicated {
                    for c in &found {
                        match adjudicated.get(&(endpoint.key.to_string(), c.source_id)) {
                            Some(Some(EventDecision::Confirmed)) => {
                                time = days(c.on);
                                event = true;
                                break;
                            }
                            Some(Some(EventDecision::Rejected)) => {
                                rejected_total += 1;
                                continue;
                            }
                            // Undecided, or never sent: counts as reported, pending.
                            _ => {
                                time = days(c.on);
                                event = true;
                                pending = true;
                                pending_total += 1;
                                break;
                            }
                        }
                    }
                } else if let Some(c) = found.first() {
                    time = days(c.on);
                    event = true;
                }
                rows.push(OutcomeRow {
                    subject: i,
                    value: time,
                    event,
                    site_reported: Some(site_reported),
                    pending,
                });
            }
        }
    }
    EndpointData {
        rows,
        missing,
        pending: pending_total,
        rejected: rejected_total,
    }
}

/// The kind of source record, as a word for reports.
pub fn source_word(s: EventSource) -> &'static str {
    match s {
        EventSource::AdverseEvent => "adverse event",
        EventSource::Observation => "observation",
    }
}
