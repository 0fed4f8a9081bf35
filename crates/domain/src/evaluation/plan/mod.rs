//! The evaluation plan: what the MHLW evaluation index asks a post-marketing approval-condition
//! evaluation to settle, item by item, as typed data.
//!
//! Each field maps to one of the guidance's points: (1) number of cases, (2) number of
//! sites, (3) objective endpoints with pre-set success criteria, (4) randomisation,
//! (5) blinding and a central adjudication committee, (6) the control group and its
//! direction, (7) why a use-results survey suffices, plus the interim-analysis plan and
//! the quality–efficacy analysis of 7-B. Fields the guidance lets a sponsor leave open
//! *with a reason* are optional here; [`super::check_plan`] lists what is still open.

mod control;
mod endpoint;
mod validate;

pub use control::*;
pub use endpoint::*;

use crate::entity::Entity;
use crate::error::ValidationErrors;
use crate::text::{Code, Text, Title};
use serde::{Deserialize, Serialize};
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

impl Entity for EvaluationPlan {
    const KIND: &'static str = "evaluation_plan";
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::Validate;
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
