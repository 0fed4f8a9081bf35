//! Endpoints: what is measured, how an event or a response is defined, and how the
//! endpoint is judged (role, objectivity, assessor, success criterion).

use super::super::verdict::{EffectMeasure, SuccessCriterion};
use crate::registry::{CtcaeGrade, SeriousnessCriterion};
use crate::text::{Code, Text, Title};
use serde::{Deserialize, Serialize};

/// Primary or secondary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointRole {
    /// The endpoint the verdict rests on (exactly one per plan).
    Primary,
    /// Important secondary endpoints, also compared with controls.
    Secondary,
}

/// Whether an endpoint is free of the assessor's and patient's judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Objectivity {
    /// Objective and quantitative (e.g. death, a laboratory value).
    Objective,
    /// Subjective (patient-reported or assessor-judged); needs a justification.
    Subjective,
}

/// Who assesses an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Assessor {
    /// The treating physician (needs a justification under item 5).
    TreatingPhysician,
    /// An assessor who does not share the patient's care (third party).
    IndependentAssessor,
    /// The central adjudication committee.
    CentralCommittee,
    /// The patient (patient-reported outcome).
    Patient,
}

/// Which way a value must move to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The value (or change) is at least the threshold.
    AtLeast,
    /// The value (or change) is at most the threshold.
    AtMost,
}

impl Direction {
    /// Whether `value` satisfies the direction against `threshold`.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Direction::AtLeast => value >= threshold,
            Direction::AtMost => value <= threshold,
        }
    }

    /// "≥" or "≤".
    pub fn symbol(self) -> &'static str {
        match self {
            Direction::AtLeast => "≥",
            Direction::AtMost => "≤",
        }
    }
}

/// A measure read at one visit, as itself or as its change from baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureAtVisit {
    /// Observation code, e.g. `KOOS-pain`.
    pub code: Code,
    /// Visit label, e.g. `M12`.
    pub visit_label: Code,
    /// Whether the value is the change from the baseline value (at or before the index
    /// date) rather than the value itself.
    #[serde(default)]
    pub change_from_baseline: bool,
}

/// What counts as an event of a time-to-event endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventDefinition {
    /// An adverse event matching any of the listed terms or seriousness criteria.
    AdverseEvent {
        /// CTCAE terms that count (case-insensitive); empty: any term.
        #[serde(default)]
        ctcae_terms: Vec<Title>,
        /// Seriousness criteria that count; empty: seriousness does not matter.
        #[serde(default)]
        seriousness: Vec<SeriousnessCriterion>,
        /// Only events of at least this grade.
        #[serde(default)]
        min_grade: Option<CtcaeGrade>,
    },
    /// An observation crossing a threshold (e.g. a pain score worsening by 10 points).
    ObservationThreshold {
        /// Observation code.
        code: Code,
        /// Whether the threshold applies to the change from baseline.
        #[serde(default)]
        change_from_baseline: bool,
        /// Which way the value must cross.
        direction: Direction,
        /// The threshold.
        threshold: f64,
    },
}

/// What an endpoint measures and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EndpointDefinition {
    /// Time from the index date to the first event of any listed kind.
    TimeToEvent {
        /// What counts as an event (any of these).
        events: Vec<EventDefinition>,
        /// Follow-up is cut at this many days after the index date.
        #[serde(default)]
        horizon_days: Option<u32>,
    },
    /// Response at a visit: the measure (or its change) crosses a threshold.
    Binary {
        /// The measure and visit.
        measure: MeasureAtVisit,
        /// Which way counts as response.
        direction: Direction,
        /// The response threshold.
        threshold: f64,
    },
    /// The measure (or its change) at a visit, compared as a mean.
    Continuous {
        /// The measure and visit.
        measure: MeasureAtVisit,
    },
}

impl EndpointDefinition {
    /// The effect measure this kind of endpoint is compared by.
    pub fn effect_measure(&self) -> EffectMeasure {
        match self {
            EndpointDefinition::TimeToEvent { .. } => EffectMeasure::HazardRatio,
            EndpointDefinition::Binary { .. } => EffectMeasure::RiskDifference,
            EndpointDefinition::Continuous { .. } => EffectMeasure::MeanDifference,
        }
    }

    /// The observation codes whose baseline values the endpoint needs.
    pub fn baseline_codes(&self) -> Vec<&Code> {
        match self {
            EndpointDefinition::TimeToEvent { events, .. } => events
                .iter()
                .filter_map(|e| match e {
                    EventDefinition::ObservationThreshold {
                        code,
                        change_from_baseline: true,
                        ..
                    } => Some(code),
                    _ => None,
                })
                .collect(),
            EndpointDefinition::Binary { measure, .. }
            | EndpointDefinition::Continuous { measure } => {
                if measure.change_from_baseline {
                    vec![&measure.code]
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// A one-line description in words.
    pub fn describe(&self) -> String {
        fn measure(m: &MeasureAtVisit) -> String {
            if m.change_from_baseline {
                format!("change in {} from baseline at {}", m.code, m.visit_label)
            } else {
                format!("{} at {}", m.code, m.visit_label)
            }
        }
        match self {
            EndpointDefinition::TimeToEvent {
                events,
                horizon_days,
            } => {
                let parts: Vec<String> = events
                    .iter()
                    .map(|e| match e {
                        EventDefinition::AdverseEvent {
                            ctcae_terms,
                            seriousness,
                            min_grade,
                        } => {
                            let mut s = String::from("adverse event");
                            if !ctcae_terms.is_empty() {
                                let t: Vec<&str> = ctcae_terms.iter().map(|t| t.as_str()).collect();
                                s.push_str(&format!(" ({})", t.join(", ")));
                            }
                            if !seriousness.is_empty() {
                                let t: Vec<String> = seriousness
                                    .iter()
                                    .map(|c| format!("{c:?}").to_lowercase())
                                    .collect();
                                s.push_str(&format!(" meeting {}", t.join(" or ")));
                            }
                            if let Some(g) = min_grade {
                                s.push_str(&format!(" of grade ≥ {}", g.get()));
                            }
                            s
                        }
                        EventDefinition::ObservationThreshold {
                            code,
                            change_from_baseline,
                            direction,
                            threshold,
                        } => format!(
                            "{}{} {} {}",
                            code,
                            if *change_from_baseline {
                                " change from baseline"
                            } else {
                                ""
                            },
                            direction.symbol(),
                            threshold
                        ),
                    })
                    .collect();
                let horizon = horizon_days
                    .map(|d| format!(", within {d} days"))
                    .unwrap_or_default();
                format!(
                    "time from the index date to the first of: {}{horizon}",
                    parts.join("; ")
                )
            }
            EndpointDefinition::Binary {
                measure: m,
                direction,
                threshold,
            } => format!(
                "response: {} {} {}",
                measure(m),
                direction.symbol(),
                threshold
            ),
            EndpointDefinition::Continuous { measure: m } => measure(m),
        }
    }
}

/// One endpoint of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// A short key, unique in the plan, naming the endpoint in tasks and results.
    pub key: Code,
    /// Its name.
    pub name: Title,
    /// Primary or secondary.
    pub role: EndpointRole,
    /// What it measures.
    pub definition: EndpointDefinition,
    /// Objective or subjective.
    pub objectivity: Objectivity,
    /// Why a subjective endpoint is necessary (item 3).
    #[serde(default)]
    pub objectivity_justification: Option<Text>,
    /// Who assesses it.
    pub assessed_by: Assessor,
    /// Why the treating physician assesses it, if they do (item 5).
    #[serde(default)]
    pub assessor_justification: Option<Text>,
    /// Whether its events go to central adjudication and the analysis uses the
    /// adjudicated outcome (time-to-event endpoints only).
    #[serde(default)]
    pub adjudicated: bool,
    /// The pre-specified success criterion.
    #[serde(default)]
    pub success: Option<SuccessCriterion>,
}
