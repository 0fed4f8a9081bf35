//! Pre-specified success criteria and the verdict they give.
//!
//! Seed 003 asks for the success criterion (達成基準) to be agreed before the evaluation
//! starts, because a product whose evaluation falls short of it may not be approved on
//! re-application. A criterion here names the effect measure, which statistic of it
//! (the estimate or a confidence limit), a comparison and a threshold — "the upper 95 %
//! limit of the hazard ratio below 1.0", "the lower limit of the risk difference above
//! 0.10". [`decide_verdict`] turns the primary endpoint's estimate, the information
//! accrued and the state of adjudication into met, not met, or not yet evaluable.

use crate::error::ValidationErrors;
use serde::{Deserialize, Serialize};

/// How treated and control patients are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EffectMeasure {
    /// Hazard ratio, treated over control (time-to-event endpoints).
    HazardRatio,
    /// Difference in response proportions, treated minus control (binary endpoints).
    RiskDifference,
    /// Difference in means, treated minus control (continuous endpoints).
    MeanDifference,
}

impl EffectMeasure {
    /// The name in words.
    pub fn as_str(self) -> &'static str {
        match self {
            EffectMeasure::HazardRatio => "hazard ratio",
            EffectMeasure::RiskDifference => "risk difference",
            EffectMeasure::MeanDifference => "mean difference",
        }
    }
}

/// Which number of an estimate a criterion looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// The point estimate.
    Estimate,
    /// The lower confidence limit.
    LowerLimit,
    /// The upper confidence limit.
    UpperLimit,
}

/// A comparison with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// Strictly below.
    Lt,
    /// At most.
    Le,
    /// Strictly above.
    Gt,
    /// At least.
    Ge,
}

impl Comparator {
    /// Whether `value` compares with `threshold` this way.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparator::Lt => value < threshold,
            Comparator::Le => value <= threshold,
            Comparator::Gt => value > threshold,
            Comparator::Ge => value >= threshold,
        }
    }

    /// The symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Lt => "<",
            Comparator::Le => "≤",
            Comparator::Gt => ">",
            Comparator::Ge => "≥",
        }
    }
}

/// A pre-specified success criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessCriterion {
    /// The effect measure (must suit the endpoint's type).
    pub measure: EffectMeasure,
    /// Which statistic of it.
    pub statistic: Statistic,
    /// How it compares with the threshold.
    pub comparator: Comparator,
    /// The threshold.
    pub threshold: f64,
    /// Confidence level of the limits (default 0.95).
    #[serde(default)]
    pub confidence: Option<f64>,
}

impl SuccessCriterion {
    /// The confidence level of the limits.
    pub fn level(&self) -> f64 {
        self.confidence.unwrap_or(0.95)
    }

    /// Records problems under `at`.
    pub fn check(&self, at: &str, errors: &mut ValidationErrors) {
        if !self.threshold.is_finite() {
            errors.push(format!("{at}.threshold"), "must be finite");
        }
        if self.measure == EffectMeasure::HazardRatio && self.threshold <= 0.0 {
            errors.push(
                format!("{at}.threshold"),
                "a hazard ratio is positive, so its threshold must be too",
            );
        }
        if let Some(c) = self.confidence
            && !(0.5..1.0).contains(&c)
        {
            errors.push(
                format!("{at}.confidence"),
                "must be at least 0.5 and below 1",
            );
        }
    }

    /// Whether the estimate meets the criterion; `None` when the statistic it looks at
    /// could not be computed (e.g. an infinite limit).
    pub fn is_met(&self, e: &Estimate) -> Option<bool> {
        let v = match self.statistic {
            Statistic::Estimate => e.value,
            Statistic::LowerLimit => e.lower,
            Statistic::UpperLimit => e.upper,
        };
        v.is_finite()
            .then(|| self.comparator.holds(v, self.threshold))
    }

    /// The criterion in words, e.g. "upper 95 % limit of the hazard ratio < 1".
    pub fn describe(&self) -> String {
        let level = format!("{} %", trim(self.level() * 100.0));
        let what = match self.statistic {
            Statistic::Estimate => format!("the {}", self.measure.as_str()),
            Statistic::LowerLimit => {
                format!("the lower {level} limit of the {}", self.measure.as_str())
            }
            Statistic::UpperLimit => {
                format!("the upper {level} limit of the {}", self.measure.as_str())
            }
        };
        format!(
            "{what} {} {}",
            self.comparator.symbol(),
            trim(self.threshold)
        )
    }
}

/// Formats a number without trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// An effect estimate with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// Lower confidence limit.
    pub lower: f64,
    /// Upper confidence limit.
    pub upper: f64,
    /// Confidence level.
    pub level: f64,
}

/// The verdict against the pre-specified criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The criterion is met (at the final analysis, or early at an interim boundary).
    Met,
    /// The final analysis does not meet the criterion.
    NotMet,
    /// The data do not yet allow a decision.
    NotYetEvaluable,
}

impl Verdict {
    /// The word used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::NotMet => "not_met",
            Verdict::NotYetEvaluable => "not_yet_evaluable",
        }
    }
}

/// What the verdict is decided on: the primary endpoint's evidence.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PrimaryEvidence {
    /// The estimate at the criterion's confidence level.
    pub final_estimate: Option<Estimate>,
    /// The estimate at the level the interim boundary allows, when an interim look is
    /// due at the information accrued.
    pub interim_estimate: Option<Estimate>,
    /// Accrued over target information (patients or events); `None` without a target.
    pub information_fraction: Option<f64>,
    /// Candidate events of the primary endpoint still awaiting adjudication.
    pub pending_adjudications: usize,
    /// Why the estimate could not be computed, if it could not.
    pub problem: Option<String>,
}

/// A verdict and the reasons for it, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerdictDecision {
    /// Met, not met, or not yet evaluable.
    pub verdict: Verdict,
    /// Why, in the order the rules were applied.
    pub reasons: Vec<String>,
}

/// Decides the verdict on the primary endpoint.
///
/// In order: no criterion, or no estimate, or events still awaiting adjudication leave
/// the evaluation not yet evaluable; once the target information is reached the
/// criterion is met or not; before that it is met only if an interim boundary is crossed
/// (the criterion holds at the interim confidence level), and otherwise not yet
/// evaluable.
pub fn decide_verdict(
    criterion: Option<&SuccessCriterion>,
    e: &PrimaryEvidence,
) -> VerdictDecision {
    let not_yet = |reason: String| VerdictDecision {
        verdict: Verdict::NotYetEvaluable,
        reasons: vec![reason],
    };
    let Some(c) = criterion else {
        return not_yet("the primary endpoint has no pre-specified success criterion".into());
    };
    if let Some(p) = &e.problem {
        return not_yet(format!("the primary endpoint could not be estimated: {p}"));
    }
    let Some(est) = e.final_estimate else {
        return not_yet("the primary endpoint could not be estimated".into());
    };
    if e.pending_adjudications > 0 {
        return not_yet(format!(
            "{} candidate event(s) of the primary endpoint await central adjudication",
            e.pending_adjudications
        ));
    }
    let Some(fraction) = e.information_fraction else {
        return not_yet("the plan sets no target number of cases, so no analysis is final".into());
    };
    if fraction >= 1.0 {
        return match c.is_met(&est) {
            Some(true) => VerdictDecision {
                verdict: Verdict::Met,
                reasons: vec![format!("final analysis: {} holds", c.describe())],
            },
            Some(false) => VerdictDecision {
                verdict: Verdict::NotMet,
                reasons: vec![format!("final analysis: {} does not hold", c.describe())],
            },
            None => not_yet(format!(
                "final analysis: the statistic of '{}' is not finite",
                c.describe()
            )),
        };
    }
    let accrued = format!(
        "{:.0} % of the target information has accrued",
        fraction * 100.0
    );
    match e.interim_estimate {
        Some(interim) => match c.is_met(&interim) {
            Some(true) => VerdictDecision {
                verdict: Verdict::Met,
                reasons: vec![
                    accrued,
                    format!(
                        "interim analysis: {} holds at the interim confidence level {:.4}, crossing the efficacy boundary",
                        c.describe(),
                        interim.level
                    ),
                ],
            },
            _ => VerdictDecision {
                verdict: Verdict::NotYetEvaluable,
                reasons: vec![
                    accrued,
                    format!(
                        "interim analysis: {} does not hold at the interim confidence level {:.4}; continue to the target",
                        c.describe(),
                        interim.level
                    ),
                ],
            },
        },
        None => not_yet(format!("{accrued}; no interim look is due")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hr_upper_below_one() -> SuccessCriterion {
        SuccessCriterion {
            measure: EffectMeasure::HazardRatio,
            statistic: Statistic::UpperLimit,
            comparator: Comparator::Lt,
            threshold: 1.0,
            confidence: None,
        }
    }

    fn est(value: f64, lower: f64, upper: f64) -> Estimate {
        Estimate {
            value,
            lower,
            upper,
            level: 0.95,
        }
    }

    fn evidence(e: Estimate, fraction: f64) -> PrimaryEvidence {
        PrimaryEvidence {
            final_estimate: Some(e),
            information_fraction: Some(fraction),
            ..Default::default()
        }
    }

    #[test]
    fn criterion_reads_the_right_statistic() {
        let c = hr_upper_below_one();
        assert_eq!(c.is_met(&est(0.6, 0.4, 0.9)), Some(true));
        assert_eq!(c.is_met(&est(0.6, 0.4, 1.0)), Some(false));
        assert_eq!(c.is_met(&est(0.6, 0.4, f64::INFINITY)), None);
        assert_eq!(c.describe(), "the upper 95 % limit of the hazard ratio < 1");
        let rd = SuccessCriterion {
            measure: EffectMeasure::RiskDifference,
            statistic: Statistic::Estimate,
            comparator: Comparator::Ge,
            threshold: 0.1,
            confidence: Some(0.9),
        };
        assert_eq!(rd.is_met(&est(0.1, -0.2, 0.4)), Some(true));
        assert_eq!(rd.describe(), "the risk difference ≥ 0.1");
    }

    #[test]
    fn final_analysis_is_met_or_not() {
        let c = hr_upper_below_one();
        let met = decide_verdict(Some(&c), &evidence(est(0.6, 0.4, 0.9), 1.0));
        assert_eq!(met.verdict, Verdict::Met);
        let not = decide_verdict(Some(&c), &evidence(est(0.8, 0.6, 1.1), 1.3));
        assert_eq!(not.verdict, Verdict::NotMet);
        assert!(not.reasons[0].contains("does not hold"));
    }

    #[test]
    fn before_the_target_only_an_interim_boundary_decides() {
        let c = hr_upper_below_one();
        let mut e = evidence(est(0.8, 0.6, 1.1), 0.6);
        assert_eq!(
            decide_verdict(Some(&c), &e).verdict,
            Verdict::NotYetEvaluable
        );
        // The final-level interval would meet it, but no interim look is due: not yet.
        e.final_estimate = Some(est(0.6, 0.4, 0.9));
        let d = decide_verdict(Some(&c), &e);
        assert_eq!(d.verdict, Verdict::NotYetEvaluable);
        assert!(d.reasons[0].contains("60 %"));
        // A look is due and its (wider) interval clears the threshold: met early.
        e.interim_estimate = Some(Estimate {
            value: 0.5,
            lower: 0.3,
            upper: 0.95,
            level: 0.997,
        });
        assert_eq!(decide_verdict(Some(&c), &e).verdict, Verdict::Met);
        e.interim_estimate = Some(Estimate {
            value: 0.6,
            lower: 0.3,
            upper: 1.2,
            level: 0.997,
        });
        assert_eq!(
            decide_verdict(Some(&c), &e).verdict,
            Verdict::NotYetEvaluable
        );
    }

    #[test]
    fn missing_pieces_leave_it_open() {
        let c = hr_upper_below_one();
        assert_eq!(
            decide_verdict(None, &evidence(est(0.5, 0.3, 0.8), 1.0)).verdict,
            Verdict::NotYetEvaluable
        );
        let mut e = evidence(est(0.5, 0.3, 0.8), 1.0);
        e.pending_adjudications = 3;
        let d = decide_verdict(Some(&c), &e);
        assert_eq!(d.verdict, Verdict::NotYetEvaluable);
        assert!(d.reasons[0].contains("3 candidate"));
        let e = PrimaryEvidence {
            problem: Some("no events".into()),
            information_fraction: Some(1.0),
            ..Default::default()
        };
        assert_eq!(
            decide_verdict(Some(&c), &e).verdict,
            Verdict::NotYetEvaluable
        );
        let mut e = evidence(est(0.5, 0.3, 0.8), 1.0);
        e.information_fraction = None;
        assert_eq!(
            decide_verdict(Some(&c), &e).verdict,
            Verdict::NotYetEvaluable
        );
        assert_eq!(
            serde_json::to_value(Verdict::NotYetEvaluable).unwrap(),
            "not_yet_evaluable"
        );
    }
}
