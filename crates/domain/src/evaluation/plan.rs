//! The evaluation plan: what seed 003 asks a post-marketing approval-condition
//! evaluation to settle, item by item, as typed data.
//!
//! Each field maps to one of the guidance's points: (1) number of cases, (2) number of
//! sites, (3) objective endpoints with pre-set success criteria, (4) randomisation,
//! (5) blinding and a central adjudication committee, (6) the control group and its
//! direction, (7) why a use-results survey suffices, plus the interim-analysis plan and
//! the quality–efficacy analysis of 7-B. Fields the guidance lets a sponsor leave open
//! *with a reason* are optional here; [`super::check_plan`] lists what is still open.

use super::verdict::{EffectMeasure, SuccessCriterion};
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::registry::{ControlSource, CtcaeGrade, SeriousnessCriterion, Sex};
use crate::text::{Code, Text, Title};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;
use uuid::Uuid;

/// A post-marketing evaluation plan for one product (製造販売後承認条件評価計画).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationPlan {
    /// The product under evaluation.
    pub product_id: Uuid,
    /// A title for the plan.
    pub title: Title,
    /// The planned data cut of the analysis; analyses default to it (else to today).
    #[serde(default)]
    pub data_cut: Option<Date>,
    /// Item (1): the number of cases and the power calculation behind it.
    pub sample_size: SampleSize,
    /// Item (2): the number of evaluation sites.
    pub sites: Sites,
    /// Item (3): primary and secondary endpoints with their success criteria.
    #[schema(min_items = 1)]
    pub endpoints: Vec<Endpoint>,
    /// Item (4): randomisation, or why there is none.
    pub randomisation: Randomisation,
    /// Item (5): blinding of assessment and the central adjudication committee.
    pub blinding: Blinding,
    /// Item (6): the control group, its direction and how it is adjusted.
    pub control: ControlGroup,
    /// Item (7): why a use-results survey is adequate (severity, patient numbers, QOL,
    /// alternatives).
    #[serde(default)]
    pub use_results_rationale: Option<Text>,
    /// Interim analyses (and any sample-size re-estimation), fixed in advance.
    #[serde(default)]
    pub interim: Option<InterimPlan>,
    /// Item 7-B: the analysis of lot quality attributes against efficacy.
    #[serde(default)]
    pub quality_efficacy: Option<QualityEfficacyPlan>,
}

/// Item (1): how many cases, and why.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleSize {
    /// Treated patients to be analysed for the primary endpoint.
    #[serde(default)]
    pub target_treated: Option<u32>,
    /// Control patients to be analysed.
    #[serde(default)]
    pub target_controls: Option<u32>,
    /// The assumptions of the power calculation; the evidence engine computes the
    /// number they require and the plan check compares it with the targets.
    #[serde(default)]
    pub assumptions: Option<PowerAssumptions>,
    /// Why this number is adequate given the number of patients in Japan, severity, QOL
    /// and alternatives (the guidance lets the number vary with these).
    #[serde(default)]
    pub justification: Option<Text>,
}

/// The assumptions a sample size is computed from (two-sided α).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "design", rename_all = "snake_case", deny_unknown_fields)]
pub enum PowerAssumptions {
    /// Comparing response proportions.
    TwoProportions {
        /// Expected proportion among treated patients.
        p_treated: f64,
        /// Expected proportion among controls.
        p_control: f64,
        /// Two-sided significance level.
        alpha: f64,
        /// Power.
        power: f64,
        /// Treated patients per control (0.5 = one treated for two controls).
        allocation: f64,
    },
    /// Comparing time to an event by a hazard ratio.
    Survival {
        /// The hazard ratio to detect.
        hazard_ratio: f64,
        /// Two-sided significance level.
        alpha: f64,
        /// Power.
        power: f64,
        /// Treated patients per control.
        allocation: f64,
        /// Share of patients expected to have the event during follow-up, turning the
        /// required events into patients.
        event_probability: f64,
    },
    /// Comparing means of a continuous endpoint.
    TwoMeans {
        /// The difference in means to detect.
        difference: f64,
        /// The common standard deviation.
        sd: f64,
        /// Two-sided significance level.
        alpha: f64,
        /// Power.
        power: f64,
        /// Treated patients per control.
        allocation: f64,
    },
}

impl PowerAssumptions {
    fn check(&self, errors: &mut ValidationErrors) {
        let prob = |field: &str, v: f64, errors: &mut ValidationErrors| {
            if !(v > 0.0 && v < 1.0) {
                errors.push(
                    format!("sample_size.assumptions.{field}"),
                    "must be strictly between 0 and 1",
                );
            }
        };
        let positive = |field: &str, v: f64, errors: &mut ValidationErrors| {
            if !(v.is_finite() && v > 0.0) {
                errors.push(
                    format!("sample_size.assumptions.{field}"),
                    "must be a positive number",
                );
            }
        };
        match *self {
            PowerAssumptions::TwoProportions {
                p_treated,
                p_control,
                alpha,
                power,
                allocation,
            } => {
                prob("p_treated", p_treated, errors);
                prob("p_control", p_control, errors);
                if p_treated == p_control {
                    errors.push(
                        "sample_size.assumptions.p_treated",
                        "equals p_control: there is no difference to detect",
                    );
                }
                prob("alpha", alpha, errors);
                prob("power", power, errors);
                positive("allocation", allocation, errors);
            }
            PowerAssumptions::Survival {
                hazard_ratio,
                alpha,
                power,
                allocation,
                event_probability,
            } => {
                positive("hazard_ratio", hazard_ratio, errors);
                if hazard_ratio == 1.0 {
                    errors.push(
                        "sample_size.assumptions.hazard_ratio",
                        "is 1: there is no difference to detect",
                    );
                }
                prob("alpha", alpha, errors);
                prob("power", power, errors);
                positive("allocation", allocation, errors);
                prob("event_probability", event_probability, errors);
            }
            PowerAssumptions::TwoMeans {
                difference,
                sd,
                alpha,
                power,
                allocation,
            } => {
                if !(difference.is_finite() && difference != 0.0) {
                    errors.push(
                        "sample_size.assumptions.difference",
                        "must be a finite, non-zero number",
                    );
                }
                positive("sd", sd, errors);
                prob("alpha", alpha, errors);
                prob("power", power, errors);
                positive("allocation", allocation, errors);
            }
        }
    }
}

/// Item (2): evaluation sites.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sites {
    /// Number of sites planned.
    #[serde(default)]
    pub planned: Option<u32>,
    /// Why few sites suffice (storage, transport, manufacturing constraints), required
    /// when only one is planned.
    #[serde(default)]
    pub justification: Option<Text>,
}

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

/// Item (4).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Randomisation {
    /// Whether patients are randomised.
    #[serde(default)]
    pub randomised: bool,
    /// Why they are not (e.g. the product is used preferentially; no control arm
    /// possible after approval).
    #[serde(default)]
    pub reason_not_randomised: Option<Text>,
}

/// Item (5).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Blinding {
    /// Whether assessors are blind to treatment.
    #[serde(default)]
    pub assessor_blinded: bool,
    /// Why assessment is not blinded.
    #[serde(default)]
    pub reason_not_blinded: Option<Text>,
    /// Whether a central adjudication committee (中央判定委員会) reviews endpoint events.
    #[serde(default)]
    pub central_adjudication: bool,
    /// The committee's adjudicators (identifiers of the users who assess); at least two.
    #[serde(default)]
    pub adjudicators: Vec<Code>,
    /// Why there is no central adjudication committee.
    #[serde(default)]
    pub reason_no_central_adjudication: Option<Text>,
}

/// Whether control data are collected forward or taken from the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataDirection {
    /// Collected prospectively, concurrently with the treated patients.
    Prospective,
    /// Taken retrospectively from existing data.
    Retrospective,
}

/// A baseline covariate for adjustment, written `age`, `sex`, `index_year` or
/// `baseline:<code>` (the baseline value of an observation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CovariateSpec {
    /// Age in years at the index date.
    Age,
    /// Female sex (1) or not (0).
    Sex,
    /// Calendar year of the index date (secular trends in care).
    IndexYear,
    /// Baseline value of an observation code.
    Baseline(Code),
}

impl CovariateSpec {
    /// The column name used in datasets and balance tables.
    pub fn column(&self) -> String {
        match self {
            CovariateSpec::Age => "age".into(),
            CovariateSpec::Sex => "female".into(),
            CovariateSpec::IndexYear => "index_year".into(),
            CovariateSpec::Baseline(c) => format!("baseline {c}"),
        }
    }
}

impl TryFrom<String> for CovariateSpec {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.trim() {
            "age" => Ok(CovariateSpec::Age),
            "sex" => Ok(CovariateSpec::Sex),
            "index_year" => Ok(CovariateSpec::IndexYear),
            other => match other.strip_prefix("baseline:") {
                Some(code) => Code::try_from(code)
                    .map(CovariateSpec::Baseline)
                    .map_err(|e| format!("baseline code {e}")),
                None => Err(format!(
                    "'{other}' is not a covariate: use age, sex, index_year or baseline:<code>"
                )),
            },
        }
    }
}

impl From<CovariateSpec> for String {
    fn from(c: CovariateSpec) -> String {
        c.to_string()
    }
}

impl fmt::Display for CovariateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CovariateSpec::Age => f.write_str("age"),
            CovariateSpec::Sex => f.write_str("sex"),
            CovariateSpec::IndexYear => f.write_str("index_year"),
            CovariateSpec::Baseline(c) => write!(f, "baseline:{c}"),
        }
    }
}

impl utoipa::PartialSchema for CovariateSpec {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^(age|sex|index_year|baseline:.+)$"))
            .examples(["baseline:KOOS-pain"])
            .into()
    }
}

impl utoipa::ToSchema for CovariateSpec {}

/// The estimand of weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeightingEstimand {
    /// Effect in the treated (controls weighted e/(1 − e)).
    Att,
    /// Effect in the whole population.
    Ate,
    /// Effect in the overlap population (overlap weights).
    Ato,
}

/// How the control group is made comparable (item 6 D-⑦: matching, propensity scores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdjustmentMethod {
    /// Nearest-neighbour matching on the logit of the propensity score.
    Matching {
        /// Controls per treated patient.
        ratio: u32,
        /// Caliper in SDs of the logit of the propensity score.
        #[serde(default)]
        caliper: Option<f64>,
    },
    /// Inverse probability of treatment weighting.
    Weighting {
        /// The estimand.
        estimand: WeightingEstimand,
        /// Truncate weights at this quantile (e.g. 0.99).
        #[serde(default)]
        truncate: Option<f64>,
    },
    /// Stratification on propensity-score quantiles.
    Stratification {
        /// Number of strata (e.g. 5).
        strata: u32,
    },
}

impl AdjustmentMethod {
    /// A short name for reports.
    pub fn label(&self) -> String {
        match self {
            AdjustmentMethod::Matching { ratio, caliper } => format!(
                "1:{ratio} propensity-score matching{}",
                caliper
                    .map(|c| format!(" (caliper {c} SD of the logit)"))
                    .unwrap_or_default()
            ),
            AdjustmentMethod::Weighting { estimand, .. } => format!(
                "inverse probability of treatment weighting ({})",
                match estimand {
                    WeightingEstimand::Att => "ATT",
                    WeightingEstimand::Ate => "ATE",
                    WeightingEstimand::Ato => "overlap",
                }
            ),
            AdjustmentMethod::Stratification { strata } => {
                format!("stratification on {strata} propensity-score strata")
            }
        }
    }
}

/// Who may enter the analysis, treated and controls alike.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// Youngest age at the index date.
    #[serde(default)]
    pub min_age: Option<u32>,
    /// Oldest age at the index date.
    #[serde(default)]
    pub max_age: Option<u32>,
    /// Sexes eligible; empty: all.
    #[serde(default)]
    pub sexes: Vec<Sex>,
    /// Earliest index date.
    #[serde(default)]
    pub index_from: Option<Date>,
    /// Latest index date.
    #[serde(default)]
    pub index_to: Option<Date>,
    /// Controls only from the sites that use the product.
    #[serde(default)]
    pub same_sites_only: bool,
    /// How many days before the index date a baseline value may be (default 60).
    #[serde(default)]
    pub baseline_window_days: Option<u32>,
}

impl Eligibility {
    /// The baseline window in days.
    pub fn baseline_window(&self) -> u32 {
        self.baseline_window_days.unwrap_or(60)
    }
}

/// Item (6): the control group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlGroup {
    /// Where controls come from.
    #[serde(default)]
    pub source: Option<ControlSource>,
    /// Prospective or retrospective collection.
    #[serde(default)]
    pub direction: Option<DataDirection>,
    /// Why this source is appropriate, required unless controls are concurrent at the
    /// same sites (item 6 B).
    #[serde(default)]
    pub source_justification: Option<Text>,
    /// For retrospective controls: that the data the evaluation needs were confirmed to
    /// exist beforehand (item 6 E).
    #[serde(default)]
    pub data_availability_confirmed: bool,
    /// Who may enter the analysis.
    #[serde(default)]
    pub eligibility: Eligibility,
    /// Baseline covariates for the propensity score.
    #[serde(default)]
    pub covariates: Vec<CovariateSpec>,
    /// How controls are made comparable.
    #[serde(default)]
    pub method: Option<AdjustmentMethod>,
}

/// Alpha-spending function for interim looks (Lan–DeMets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpendingFunction {
    /// O'Brien–Fleming-type: spends little α early.
    OBrienFleming,
    /// Pocock-type: spends α evenly.
    Pocock,
}

/// Interim analyses, fixed in advance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterimPlan {
    /// Information fractions of the interim looks, in (0, 1), increasing.
    pub looks: Vec<f64>,
    /// How α is spent across looks.
    pub spending: SpendingFunction,
    /// Whether the sample size may be re-estimated at an interim look.
    #[serde(default)]
    pub sample_size_reestimation: bool,
    /// The re-estimation procedure, which the guidance asks to be fixed in advance.
    #[serde(default)]
    pub reestimation_procedure: Option<Text>,
}

/// Item 7-B: lot quality attributes against clinical efficacy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityEfficacyPlan {
    /// The endpoint (key) related to the attributes.
    pub endpoint: Code,
    /// The QC attributes to examine; empty: every numeric attribute found.
    #[serde(default)]
    pub attributes: Vec<Code>,
    /// The false-discovery rate at which an attribute is proposed as a candidate CQA.
    #[serde(default = "default_fdr")]
    pub fdr: f64,
}

fn default_fdr() -> f64 {
    0.10
}

impl EvaluationPlan {
    /// The primary endpoint, if the plan names exactly one.
    pub fn primary(&self) -> Option<&Endpoint> {
        let mut it = self
            .endpoints
            .iter()
            .filter(|e| e.role == EndpointRole::Primary);
        let first = it.next();
        if it.next().is_some() { None } else { first }
    }

    /// The endpoint with this key.
    pub fn endpoint(&self, key: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.key.as_str() == key)
    }

    /// The observation codes whose baseline values the analysis needs: those of the
    /// covariates and of endpoints measured as change from baseline.
    pub fn baseline_codes(&self) -> Vec<Code> {
        let mut out: Vec<Code> = Vec::new();
        for c in &self.control.covariates {
            if let CovariateSpec::Baseline(code) = c
                && !out.contains(code)
            {
                out.push(code.clone());
            }
        }
        for e in &self.endpoints {
            for code in e.definition.baseline_codes() {
                if !out.contains(code) {
                    out.push(code.clone());
                }
            }
        }
        out
    }
}

/// The most endpoints one plan holds.
const MAX_ENDPOINTS: usize = 20;

impl Validate for EvaluationPlan {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Some(d) = self.data_cut {
            crate::dates::check_plausible("data_cut", d, &mut errors);
        }
        if let Some(a) = &self.sample_size.assumptions {
            a.check(&mut errors);
        }
        if self.sample_size.target_treated == Some(0) {
            errors.push("sample_size.target_treated", "must be at least 1");
        }
        if self.sites.planned == Some(0) {
            errors.push("sites.planned", "must be at least 1");
        }
        if self.endpoints.is_empty() {
            errors.push("endpoints", "a plan has at least one endpoint");
        }
        if self.endpoints.len() > MAX_ENDPOINTS {
            errors.push("endpoints", format!("at most {MAX_ENDPOINTS} endpoints"));
        }
        let primaries = self
            .endpoints
            .iter()
            .filter(|e| e.role == EndpointRole::Primary)
            .count();
        if !self.endpoints.is_empty() && primaries != 1 {
            errors.push(
                "endpoints",
                format!("a plan has exactly one primary endpoint (found {primaries})"),
            );
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            let at = |f: &str| format!("endpoints[{i}].{f}");
            if self.endpoints[..i].iter().any(|o| o.key == e.key) {
                errors.push(
                    at("key"),
                    format!("'{}' is used by another endpoint", e.key),
                );
            }
            match &e.definition {
                EndpointDefinition::TimeToEvent {
                    events,
                    horizon_days,
                } => {
                    if events.is_empty() {
                        errors.push(at("definition.events"), "name at least one kind of event");
                    }
                    if *horizon_days == Some(0) {
                        errors.push(at("definition.horizon_days"), "must be at least 1");
                    }
                    for (j, ev) in events.iter().enumerate() {
                        if let EventDefinition::ObservationThreshold { threshold, .. } = ev
                            && !threshold.is_finite()
                        {
                            errors.push(
                                at(&format!("definition.events[{j}].threshold")),
                                "must be finite",
                            );
                        }
                    }
                }
                EndpointDefinition::Binary { threshold, .. } => {
                    if !threshold.is_finite() {
                        errors.push(at("definition.threshold"), "must be finite");
                    }
                }
                EndpointDefinition::Continuous { .. } => {}
            }
            if e.adjudicated && !matches!(e.definition, EndpointDefinition::TimeToEvent { .. }) {
                errors.push(
                    at("adjudicated"),
                    "only time-to-event endpoints are adjudicated event by event",
                );
            }
            if let Some(s) = &e.success {
                let want = e.definition.effect_measure();
                if s.measure != want {
                    errors.push(
                        at("success.measure"),
                        format!(
                            "a {} endpoint is compared by {}",
                            match e.definition {
                                EndpointDefinition::TimeToEvent { .. } => "time-to-event",
                                EndpointDefinition::Binary { .. } => "binary",
                                EndpointDefinition::Continuous { .. } => "continuous",
                            },
                            want.as_str()
                        ),
                    );
                }
                s.check(&at("success"), &mut errors);
            }
        }
        let mut seen = Vec::new();
        for (i, a) in self.blinding.adjudicators.iter().enumerate() {
            if seen.contains(&a) {
                errors.push(format!("blinding.adjudicators[{i}]"), "is listed twice");
            }
            seen.push(a);
        }
        if !self.blinding.central_adjudication && !self.blinding.adjudicators.is_empty() {
            errors.push(
                "blinding.adjudicators",
                "adjudicators are named only with central_adjudication",
            );
        }
        let el = &self.control.eligibility;
        if let (Some(lo), Some(hi)) = (el.min_age, el.max_age)
            && lo > hi
        {
            errors.push("control.eligibility.max_age", "must not be below min_age");
        }
        if let (Some(from), Some(to)) = (el.index_from, el.index_to) {
            crate::dates::check_order(
                "control.eligibility.index_to",
                "index_from",
                from,
                to,
                &mut errors,
            );
        }
        match &self.control.method {
            Some(AdjustmentMethod::Matching { ratio, caliper }) => {
                if !(1..=10).contains(ratio) {
                    errors.push("control.method.ratio", "must be 1 to 10");
                }
                if let Some(c) = caliper
                    && !(c.is_finite() && *c > 0.0)
                {
                    errors.push("control.method.caliper", "must be a positive number");
                }
            }
            Some(AdjustmentMethod::Weighting { truncate, .. }) => {
                if let Some(q) = truncate
                    && !(*q > 0.5 && *q < 1.0)
                {
                    errors.push("control.method.truncate", "must be between 0.5 and 1");
                }
            }
            Some(AdjustmentMethod::Stratification { strata }) if !(2..=20).contains(strata) => {
                errors.push("control.method.strata", "must be 2 to 20");
            }
            Some(AdjustmentMethod::Stratification { .. }) | None => {}
        }
        let mut cov_seen = Vec::new();
        for (i, c) in self.control.covariates.iter().enumerate() {
            if cov_seen.contains(&c) {
                errors.push(format!("control.covariates[{i}]"), "is listed twice");
            }
            cov_seen.push(c);
        }
        if let Some(interim) = &self.interim {
            let mut last = 0.0;
            for (i, t) in interim.looks.iter().enumerate() {
                if !(*t > last && *t < 1.0) {
                    errors.push(
                        format!("interim.looks[{i}]"),
                        "information fractions are increasing and between 0 and 1",
                    );
                }
                last = *t;
            }
            if interim.looks.len() > 10 {
                errors.push("interim.looks", "at most 10 interim looks");
            }
        }
        if let Some(q) = &self.quality_efficacy {
            if !(q.fdr > 0.0 && q.fdr < 1.0) {
                errors.push("quality_efficacy.fdr", "must be strictly between 0 and 1");
            }
            if !self.endpoints.is_empty() && self.endpoint(q.endpoint.as_str()).is_none() {
                errors.push(
                    "quality_efficacy.endpoint",
                    format!("no endpoint has the key '{}'", q.endpoint),
                );
            }
        }
        errors.into_result()
    }
}

impl Entity for EvaluationPlan {
    const KIND: &'static str = "evaluation_plan";
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A complete plan: every guidance point settled.
    pub fn complete() -> Value {
        json!({
            "product_id": Uuid::nil(),
            "title": "Regenecel-K post-marketing evaluation",
            "sample_size": {
                "target_treated": 60, "target_controls": 120,
                "assumptions": {"design": "two_proportions", "p_treated": 0.45, "p_control": 0.2,
                                "alpha": 0.05, "power": 0.8, "allocation": 0.5},
                "justification": "About 2,000 eligible patients a year in Japan"
            },
            "sites": {"planned": 3},
            "endpoints": [{
                "key": "koos_response", "name": "KOOS-pain response at 12 months",
                "role": "primary",
                "definition": {"type": "binary", "measure": {"code": "KOOS-pain", "visit_label": "M12", "change_from_baseline": true},
                               "direction": "at_least", "threshold": 10},
                "objectivity": "subjective",
                "objectivity_justification": "Pain is the symptom treated; KOOS is validated in Japanese",
                "assessed_by": "patient",
                "success": {"measure": "risk_difference", "statistic": "lower_limit", "comparator": "gt", "threshold": 0.0}
            }, {
                "key": "failure", "name": "Time to treatment failure", "role": "secondary",
                "definition": {"type": "time_to_event", "events": [
                    {"source": "observation_threshold", "code": "KOOS-pain", "change_from_baseline": true, "direction": "at_most", "threshold": -10},
                    {"source": "adverse_event", "ctcae_terms": ["Joint infection"]}
                ]},
                "objectivity": "objective", "assessed_by": "central_committee", "adjudicated": true,
                "success": {"measure": "hazard_ratio", "statistic": "upper_limit", "comparator": "lt", "threshold": 1.0}
            }],
            "randomisation": {"randomised": false, "reason_not_randomised": "The product is used preferentially once approved"},
            "blinding": {"assessor_blinded": false, "reason_not_blinded": "Intra-articular injection cannot be masked",
                         "central_adjudication": true, "adjudicators": ["adj-a@demo.example", "adj-b@demo.example"]},
            "control": {"source": "registry", "direction": "prospective",
                        "source_justification": "NRMD controls at the same and comparable sites, collected over the same period",
                        "eligibility": {"min_age": 40, "max_age": 90},
                        "covariates": ["age", "sex", "baseline:KOOS-pain"],
                        "method": {"method": "matching", "ratio": 2, "caliper": 0.2}},
            "use_results_rationale": "Knee OA is common; a randomised trial after approval is not feasible",
            "interim": {"looks": [0.5], "spending": "o_brien_fleming"},
            "quality_efficacy": {"endpoint": "koos_response", "fdr": 0.1}
        })
    }

    pub fn parse(v: Value) -> Result<EvaluationPlan, String> {
        let p: EvaluationPlan = serde_json::from_value(v).map_err(|e| e.to_string())?;
        p.validate().map_err(|e| e.to_string())?;
        Ok(p)
    }

    #[test]
    fn complete_plan_parses() {
        let p = parse(complete()).unwrap();
        assert_eq!(p.primary().unwrap().key.as_str(), "koos_response");
        assert_eq!(
            p.baseline_codes()
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            vec!["KOOS-pain"]
        );
        assert_eq!(
            serde_json::to_value(&p.control.covariates).unwrap(),
            json!(["age", "sex", "baseline:KOOS-pain"])
        );
    }

    #[test]
    fn refuses_inconsistent_plans() {
        let mut v = complete();
        v["endpoints"][1]["role"] = json!("primary");
        assert!(parse(v).unwrap_err().contains("exactly one primary"));
        let mut v = complete();
        v["endpoints"][0]["success"]["measure"] = json!("hazard_ratio");
        assert!(
            parse(v)
                .unwrap_err()
                .contains("endpoints[0].success.measure")
        );
        let mut v = complete();
        v["endpoints"][0]["adjudicated"] = json!(true);
        assert!(parse(v).unwrap_err().contains("endpoints[0].adjudicated"));
        let mut v = complete();
        v["control"]["covariates"] = json!(["age", "weight"]);
        assert!(parse(v).unwrap_err().contains("not a covariate"));
        let mut v = complete();
        v["interim"]["looks"] = json!([0.6, 0.4]);
        assert!(parse(v).unwrap_err().contains("interim.looks[1]"));
        let mut v = complete();
        v["quality_efficacy"]["endpoint"] = json!("nope");
        assert!(parse(v).unwrap_err().contains("quality_efficacy.endpoint"));
        let mut v = complete();
        v["sample_size"]["assumptions"]["p_control"] = json!(0.45);
        assert!(parse(v).unwrap_err().contains("no difference"));
        let mut v = complete();
        v["surprise"] = json!(1);
        assert!(parse(v).unwrap_err().contains("unknown field"));
    }
}
