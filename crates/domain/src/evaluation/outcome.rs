//! From one patient's registry records to an endpoint's outcome.
//!
//! Endpoints are defined as data (see [`super::EndpointDefinition`]); these functions
//! read them against a patient's observations, visits and adverse events, counting from
//! the patient's index date and ignoring anything after the data cut. They are used both
//! by the analysis and by the adjudication workflow, so the events adjudicators see are
//! exactly the events the analysis counts.

use super::adjudication::{BlindedDetail, BlindedEvent, EventSource};
use super::plan::{Direction, EventDefinition, MeasureAtVisit};
use crate::registry::{AdverseEvent, Observation};
use crate::wire_name as wire;
use std::collections::BTreeMap;
use time::Date;
use uuid::Uuid;

/// An observation with its id and the label of the visit it was recorded at.
#[derive(Debug, Clone, Copy)]
pub struct ObservationRef<'a> {
    /// The observation's id.
    pub id: Uuid,
    /// The observation.
    pub observation: &'a Observation,
    /// The label of its visit, if it was recorded at one.
    pub visit_label: Option<&'a str>,
}

/// An adverse event with its id.
#[derive(Debug, Clone, Copy)]
pub struct AdverseEventRef<'a> {
    /// The event's id.
    pub id: Uuid,
    /// The event.
    pub event: &'a AdverseEvent,
}

/// What the endpoint functions need to know about one patient.
#[derive(Debug, Clone)]
pub struct PatientRecords<'a> {
    /// The index date outcomes count from.
    pub index_date: Date,
    /// Nothing after this date is used.
    pub data_cut: Date,
    /// The patient's observations.
    pub observations: Vec<ObservationRef<'a>>,
    /// The patient's adverse events.
    pub adverse_events: Vec<AdverseEventRef<'a>>,
    /// Baseline values by observation code (see [`baseline_value`]).
    pub baselines: BTreeMap<String, f64>,
}

/// The baseline of `code`: the latest numeric value on or before the index date and at
/// most `window_days` before it.
pub fn baseline_value(
    observations: &[ObservationRef<'_>],
    code: &str,
    index_date: Date,
    window_days: u32,
) -> Option<f64> {
    let earliest = index_date - time::Duration::days(i64::from(window_days));
    observations
        .iter()
        .filter(|o| o.observation.code.as_str() == code)
        .filter(|o| {
            o.observation.observed_on <= index_date && o.observation.observed_on >= earliest
        })
        .filter_map(|o| {
            o.observation
                .value_number
                .map(|v| (o.observation.observed_on, v))
        })
        .max_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// Why an endpoint measured at a visit has no value for a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Missing {
    /// The change from baseline is needed and there is no baseline value.
    NoBaseline,
    /// No value was recorded at the visit by the data cut.
    NoMeasurement,
}

impl Missing {
    /// In words, for the flow table.
    pub fn describe(self) -> &'static str {
        match self {
            Missing::NoBaseline => "no baseline value of the endpoint measure",
            Missing::NoMeasurement => "no measurement at the endpoint visit by the data cut",
        }
    }
}

/// The measure's value (or its change from baseline) at its visit.
pub fn value_at_visit(m: &MeasureAtVisit, p: &PatientRecords<'_>) -> Result<f64, Missing> {
    let baseline = if m.change_from_baseline {
        Some(
            *p.baselines
                .get(m.code.as_str())
                .ok_or(Missing::NoBaseline)?,
        )
    } else {
        None
    };
    let value = p
        .observations
        .iter()
        .filter(|o| o.observation.code == m.code)
        .filter(|o| o.visit_label == Some(m.visit_label.as_str()))
        .filter(|o| {
            o.observation.observed_on > p.index_date && o.observation.observed_on <= p.data_cut
        })
        .filter_map(|o| {
            o.observation
                .value_number
                .map(|v| (o.observation.observed_on, v))
        })
        .max_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
        .ok_or(Missing::NoMeasurement)?;
    Ok(match baseline {
        Some(b) => value - b,
        None => value,
    })
}

/// Whether the patient responded: the value (or change) at the visit crosses the
/// threshold in the given direction.
pub fn response(
    m: &MeasureAtVisit,
    direction: Direction,
    threshold: f64,
    p: &PatientRecords<'_>,
) -> Result<bool, Missing> {
    value_at_visit(m, p).map(|v| direction.holds(v, threshold))
}

/// A candidate event of a time-to-event endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateEvent {
    /// The kind of record it comes from.
    pub source_kind: EventSource,
    /// The record's id.
    pub source_id: Uuid,
    /// When it happened.
    pub on: Date,
    /// What an adjudicator is shown.
    pub blinded: BlindedEvent,
}

fn matches_ae(def: &EventDefinition, e: &AdverseEvent) -> bool {
    let EventDefinition::AdverseEvent {
        ctcae_terms,
        seriousness,
        min_grade,
    } = def
    else {
        return false;
    };
    let term_ok = ctcae_terms.is_empty()
        || e.ctcae_term.as_ref().is_some_and(|t| {
            ctcae_terms
                .iter()
                .any(|w| w.as_str().eq_ignore_ascii_case(t.as_str()))
        });
    let serious_ok =
        seriousness.is_empty() || e.seriousness.iter().any(|c| seriousness.contains(c));
    let grade_ok = match min_grade {
        None => true,
        Some(g) => e.grade.is_some_and(|x| x >= *g),
    };
    term_ok && serious_ok && grade_ok
}

/// Removes every mention of the words in `redact` (case-insensitive): free text can
/// name the product, which would unblind an adjudicator.
pub fn redact(text: &str, redact: &[String]) -> String {
    let mut out = text.to_string();
    for word in redact.iter().filter(|w| w.chars().count() >= 3) {
        let lower = out.to_lowercase();
        let needle = word.to_lowercase();
        if needle.len() != word.len() || lower.len() != out.len() {
            // Case mapping changed byte lengths: fall back to an exact match.
            out = out.replace(word.as_str(), "[redacted]");
            continue;
        }
        let mut result = String::with_capacity(out.len());
        let mut rest = 0;
        for (at, _) in lower.match_indices(&needle) {
            if at < rest {
                continue;
            }
            result.push_str(&out[rest..at]);
            result.push_str("[redacted]");
            rest = at + needle.len();
        }
        result.push_str(&out[rest..]);
        out = result;
    }
    out
}

fn detail(label: &str, value: impl Into<String>) -> BlindedDetail {
    BlindedDetail {
        label: label.into(),
        value: value.into(),
    }
}

fn blind_ae(e: &AdverseEvent, day: i64, words: &[String]) -> BlindedEvent {
    let mut details = Vec::new();
    if let Some(t) = &e.ctcae_term {
        details.push(detail("CTCAE term", redact(t.as_str(), words)));
    }
    if let Some(g) = e.grade {
        details.push(detail("CTCAE grade", g.get().to_string()));
    }
    let serious: Vec<String> = e.seriousness.iter().map(wire).collect();
    details.push(detail(
        "Seriousness",
        if serious.is_empty() {
            "not serious".to_string()
        } else {
            serious.join(", ")
        },
    ));
    details.push(detail("Outcome", wire(&e.outcome)));
    if let Some(r) = e.resolved_on {
        details.push(detail(
            "Resolved on day",
            (r - e.onset_on)
                .whole_days()
                .saturating_add(day)
                .to_string(),
        ));
    }
    let mut description = redact(e.verbatim_term.as_str(), words);
    if let Some(d) = &e.description {
        description.push_str(" — ");
        description.push_str(&redact(d.as_str(), words));
    }
    BlindedEvent {
        description,
        day,
        details,
    }
}

/// The candidate events of a time-to-event endpoint for one patient, in date order:
/// adverse events matching a definition (by onset), and the first post-index
/// observation crossing each threshold. Events after `until` (the data cut or the
/// horizon) are left out.
pub fn candidate_events(
    events: &[EventDefinition],
    p: &PatientRecords<'_>,
    until: Date,
    redact_words: &[String],
) -> Vec<CandidateEvent> {
    let mut out = Vec::new();
    let day = |d: Date| (d - p.index_date).whole_days();
    for def in events {
        match def {
            EventDefinition::AdverseEvent { .. } => {
                for e in &p.adverse_events {
                    let on = e.event.onset_on;
                    if on < p.index_date || on > until || !matches_ae(def, e.event) {
                        continue;
                    }
                    if out.iter().any(|c: &CandidateEvent| c.source_id == e.id) {
                        continue;
                    }
                    out.push(CandidateEvent {
                        source_kind: EventSource::AdverseEvent,
                        source_id: e.id,
                        on,
                        blinded: blind_ae(e.event, day(on), redact_words),
                    });
                }
            }
            EventDefinition::ObservationThreshold {
                code,
                change_from_baseline,
                direction,
                threshold,
            } => {
                let baseline = if *change_from_baseline {
                    match p.baselines.get(code.as_str()) {
                        Some(b) => Some(*b),
                        None => continue,
                    }
                } else {
                    None
                };
                let mut crossing: Vec<(&ObservationRef<'_>, f64)> = p
                    .observations
                    .iter()
                    .filter(|o| &o.observation.code == code)
                    .filter(|o| {
                        o.observation.observed_on > p.index_date
                            && o.observation.observed_on <= until
                    })
                    .filter_map(|o| {
                        let v = o.observation.value_number?;
                        let x = baseline.map(|b| v - b).unwrap_or(v);
                        direction.holds(x, *threshold).then_some((o, v))
                    })
                    .collect();
                crossing.sort_by_key(|(o, _)| (o.observation.observed_on, o.id));
                if let Some((o, v)) = crossing.first() {
                    let on = o.observation.observed_on;
                    let unit = o
                        .observation
                        .unit
                        .as_ref()
                        .map(|u| format!(" {u}"))
                        .unwrap_or_default();
                    let mut details = Vec::new();
                    if let Some(b) = baseline {
                        details.push(detail("Baseline value", format!("{b}{unit}")));
                        details.push(detail(
                            "Change from baseline",
                            format!("{:+.2}{unit}", v - b),
                        ));
                    }
                    details.push(detail("Value", format!("{v}{unit}")));
                    if let Some(l) = o.visit_label {
                        details.push(detail("Visit", l));
                    }
                    details.push(detail(
                        "Definition",
                        format!(
                            "{}{} {} {}",
                            code,
                            if baseline.is_some() {
                                " change from baseline"
                            } else {
                                ""
                            },
                            direction.symbol(),
                            threshold
                        ),
                    ));
                    out.push(CandidateEvent {
                        source_kind: EventSource::Observation,
                        source_id: o.id,
                        on,
                        blinded: BlindedEvent {
                            description: format!(
                                "{code} measurement crossing the endpoint threshold"
                            ),
                            day: day(on),
                            details,
                        },
                    });
                }
            }
        }
    }
    out.sort_by_key(|c| (c.on, c.source_id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{AeOutcome, Causality, CtcaeGrade, SeriousnessCriterion};
    use time::macros::date;

    fn obs(code: &str, on: Date, v: f64) -> Observation {
        Observation {
            patient_id: Uuid::nil(),
            visit_id: None,
            code: code.parse().unwrap(),
            system: None,
            value_number: Some(v),
            value_text: None,
            unit: None,
            observed_on: on,
        }
    }

    fn ae(term: &str, on: Date, serious: bool) -> AdverseEvent {
        AdverseEvent {
            patient_id: Uuid::nil(),
            treatment_id: None,
            verbatim_term: format!("{term} after Regenecel-K injection")
                .parse()
                .unwrap(),
            ctcae_term: Some(term.parse().unwrap()),
            grade: Some(CtcaeGrade::try_from(3).unwrap()),
            seriousness: if serious {
                vec![SeriousnessCriterion::Hospitalisation]
            } else {
                vec![]
            },
            causality: Causality::Probable,
            onset_on: on,
            known_on: on,
            outcome: AeOutcome::Recovered,
            resolved_on: None,
            description: None,
            reported_on: None,
        }
    }

    #[test]
    fn baseline_visit_values_and_candidate_events() {
        let o = [
            obs("KOOS-pain", date!(2024 - 01 - 01), 40.0),
            obs("KOOS-pain", date!(2023 - 06 - 01), 99.0),
            obs("KOOS-pain", date!(2024 - 04 - 01), 52.0),
            obs("KOOS-pain", date!(2025 - 01 - 05), 28.0),
            obs("KOOS-pain", date!(2025 - 06 - 05), 20.0),
        ];
        let labels = [None, None, Some("M3"), Some("M12"), Some("Y2")];
        let refs: Vec<ObservationRef<'_>> = o
            .iter()
            .zip(labels)
            .enumerate()
            .map(|(i, (ob, l))| ObservationRef {
                id: Uuid::from_u128(i as u128 + 1),
                observation: ob,
                visit_label: l,
            })
            .collect();
        let index = date!(2024 - 01 - 10);
        assert_eq!(baseline_value(&refs, "KOOS-pain", index, 60), Some(40.0));
        assert_eq!(baseline_value(&refs, "KOOS-pain", index, 5), None);
        let events = [ae("Joint infection", date!(2024 - 09 - 01), true)];
        let mut p = PatientRecords {
            index_date: index,
            data_cut: date!(2025 - 03 - 01),
            observations: refs.clone(),
            adverse_events: vec![AdverseEventRef {
                id: Uuid::from_u128(99),
                event: &events[0],
            }],
            baselines: BTreeMap::from([("KOOS-pain".to_string(), 40.0)]),
        };
        let m12 = MeasureAtVisit {
            code: "KOOS-pain".parse().unwrap(),
            visit_label: "M12".parse().unwrap(),
            change_from_baseline: true,
        };
        assert_eq!(value_at_visit(&m12, &p), Ok(-12.0));
        assert_eq!(response(&m12, Direction::AtMost, -10.0, &p), Ok(true));
        let y2 = MeasureAtVisit {
            visit_label: "Y2".parse().unwrap(),
            ..m12.clone()
        };
        assert_eq!(
            value_at_visit(&y2, &p),
            Err(Missing::NoMeasurement),
            "after the data cut"
        );

        let defs = vec![
            EventDefinition::ObservationThreshold {
                code: "KOOS-pain".parse().unwrap(),
                change_from_baseline: true,
                direction: Direction::AtMost,
                threshold: -10.0,
            },
            EventDefinition::AdverseEvent {
                ctcae_terms: vec!["joint INFECTION".parse().unwrap()],
                seriousness: vec![],
                min_grade: None,
            },
        ];
        let c = candidate_events(&defs, &p, p.data_cut, &["Regenecel-K".to_string()]);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].source_kind, EventSource::AdverseEvent);
        assert_eq!(
            c[0].blinded.day,
            (date!(2024 - 09 - 01) - index).whole_days()
        );
        assert!(
            !c[0].blinded.description.contains("Regenecel"),
            "{}",
            c[0].blinded.description
        );
        assert!(c[0].blinded.description.contains("[redacted]"));
        assert!(
            c[0].blinded
                .details
                .iter()
                .all(|d| !d.value.contains("probable")),
            "causality is hidden"
        );
        assert_eq!(c[1].source_id, Uuid::from_u128(4));
        // Without a baseline the change-based definition yields nothing.
        p.baselines.clear();
        assert_eq!(candidate_events(&defs, &p, p.data_cut, &[]).len(), 1);
        assert_eq!(value_at_visit(&m12, &p), Err(Missing::NoBaseline));
    }

    #[test]
    fn redaction_is_case_insensitive() {
        assert_eq!(
            redact(
                "Swelling after REGENECEL-K (demo) dose",
                &["Regenecel-K (demo)".into(), "Regenecel-K".into()]
            ),
            "Swelling after [redacted] dose"
        );
        assert_eq!(redact("nothing here", &["ab".into()]), "nothing here");
    }
}
