//! The results of an evaluation, as stored with a run and rendered in the report.
//!
//! Every type here serialises and deserialises, so a stored run re-renders exactly the
//! report it was filed with.

use crate::cohort::FlowStep;
use crate::power::PowerResult;
use saisei_domain::evaluation::{DataSnapshot, EffectMeasure, PlanGap, Verdict};
use saisei_stats::agreement::Kappa;
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// Everything one analysis found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationResults {
    /// The plan and product.
    pub plan: PlanSummary,
    /// The data cut.
    pub as_of: Date,
    /// The verdict on the primary endpoint.
    pub verdict: Verdict,
    /// Why.
    pub verdict_reasons: Vec<String>,
    /// What the plan leaves open (with the power check).
    pub plan_check: Vec<PlanGap>,
    /// What the plan's power assumptions require.
    pub power: Option<PowerResult>,
    /// Why the power calculation failed, if it did.
    pub power_problem: Option<String>,
    /// Who was identified and excluded.
    pub flow: Vec<FlowStep>,
    /// The cohort at baseline.
    pub cohort: CohortSummary,
    /// One result per endpoint, primary first.
    pub endpoints: Vec<EndpointResult>,
    /// Central adjudication.
    pub adjudication: AdjudicationSummary,
    /// Quality attributes against efficacy.
    #[serde(alias = "quality")]
    pub cqa: Option<CqaResult>,
    /// What the analysis read.
    pub snapshot: DataSnapshot,
    /// Caveats of the methods, in words.
    pub notes: Vec<String>,
}

/// The plan and product as analysed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// The plan's id, when stored.
    pub plan_id: Option<Uuid>,
    /// The plan's record version.
    pub plan_version: i64,
    /// Its title.
    pub title: String,
    /// The product's name.
    pub product: String,
    /// The approval, in words.
    pub approval: Option<String>,
    /// Conditions of approval.
    pub conditions: Vec<String>,
    /// When the marketing-authorisation holder must re-apply.
    pub reapplication_due: Option<Date>,
    /// How controls are made comparable, in words.
    pub method: Option<String>,
    /// Baseline covariates.
    pub covariates: Vec<String>,
    /// The control source, in words.
    pub control_source: Option<String>,
    /// The target numbers (treated, controls).
    pub targets: (Option<u32>, Option<u32>),
}

/// Baseline description of the cohort.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CohortSummary {
    /// Treated patients analysed.
    pub treated: usize,
    /// Controls analysed.
    pub control: usize,
    /// Patients per site.
    pub sites: Vec<SiteCount>,
    /// Baseline characteristics by arm.
    pub baseline: Vec<BaselineRow>,
}

/// Patients at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteCount {
    /// Site name.
    pub site: String,
    /// Treated.
    pub treated: usize,
    /// Controls.
    pub control: usize,
}

/// One baseline characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineRow {
    /// The characteristic.
    pub name: String,
    /// Mean (or proportion) among treated.
    pub mean_treated: f64,
    /// SD among treated.
    pub sd_treated: f64,
    /// Mean (or proportion) among controls.
    pub mean_control: f64,
    /// SD among controls.
    pub sd_control: f64,
}

/// Balance of one covariate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// Covariate.
    pub name: String,
    /// SMD before adjustment.
    pub smd_before: f64,
    /// SMD after.
    pub smd_after: f64,
}

/// The adjusted design of one endpoint's comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignResult {
    /// The method, in words.
    pub method: String,
    /// Treated in the adjusted sample.
    pub n_treated: usize,
    /// Controls in the adjusted sample.
    pub n_control: usize,
    /// Treated left out (unmatched, or in strata without controls).
    pub dropped_treated: usize,
    /// Balance before and after.
    pub balance: Vec<Balance>,
    /// Propensity-score histogram (20 bins over [0, 1]): treated, controls before,
    /// controls after weighting.
    pub ps_histogram: PsHistogram,
}

/// Propensity-score distributions by arm.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PsHistogram {
    /// Treated counts per bin.
    pub treated: Vec<f64>,
    /// Control counts per bin, unadjusted.
    pub control_before: Vec<f64>,
    /// Control weights per bin after adjustment (rescaled to the control count).
    pub control_after: Vec<f64>,
}

/// One effect estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectEstimate {
    /// Which analysis, in words.
    pub analysis: String,
    /// The effect measure.
    pub measure: EffectMeasure,
    /// The estimate.
    pub value: f64,
    /// Lower confidence limit.
    pub lower: f64,
    /// Upper confidence limit.
    pub upper: f64,
    /// Confidence level.
    pub level: f64,
    /// Standard error (of log HR for hazard ratios).
    pub se: f64,
    /// Two-sided p-value against no effect.
    pub p: f64,
    /// Treated patients in the analysis.
    pub n_treated: usize,
    /// Controls in the analysis.
    pub n_control: usize,
    /// Events (or responders) among treated, where counted.
    pub events_treated: Option<usize>,
    /// Events (or responders) among controls.
    pub events_control: Option<usize>,
}

impl EffectEstimate {
    /// The interval at another confidence level, from the same estimate and SE.
    pub fn at_level(&self, level: f64) -> (f64, f64) {
        let z = saisei_stats::inference::z_for(level);
        match self.measure {
            EffectMeasure::HazardRatio => {
                let b = self.value.ln();
                ((b - z * self.se).exp(), (b + z * self.se).exp())
            }
            _ => (self.value - z * self.se, self.value + z * self.se),
        }
    }
}

/// A Kaplan–Meier curve of one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmArm {
    /// Treated or control.
    pub label: String,
    /// Patients.
    pub n: usize,
    /// Events.
    pub events: usize,
    /// Median time to event in months (None when not reached).
    pub median_months: Option<f64>,
    /// Steps (months, survival) of the adjusted (weighted) curve, from (0, 1).
    pub steps: Vec<(f64, f64)>,
}

/// Numbers at risk at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtRisk {
    /// Months from the index date.
    pub months: f64,
    /// Treated at risk.
    pub treated: usize,
    /// Controls at risk.
    pub control: usize,
}

/// Kaplan–Meier results of a time-to-event endpoint in the adjusted sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmResult {
    /// Treated and control curves.
    pub arms: Vec<KmArm>,
    /// Numbers at risk.
    pub at_risk: Vec<AtRisk>,
    /// Log-rank p-value in the unadjusted cohort.
    pub logrank_p: Option<f64>,
}

/// An interim look as planned and as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterimLook {
    /// Planned information fraction.
    pub fraction: f64,
    /// Cumulative two-sided α spent by then.
    pub cumulative_alpha: f64,
    /// Nominal α of this look.
    pub nominal_alpha: f64,
    /// The confidence level the criterion is read at in this look.
    pub level: f64,
    /// Whether the accrued information has reached it.
    pub reached: bool,
    /// Whether it is the look due now.
    pub current: bool,
    /// The estimate's interval at this look's level (current look only).
    pub interval: Option<(f64, f64)>,
    /// Whether the criterion holds at this look's level (current look only).
    pub criterion_met: Option<bool>,
}

/// Summary of one arm's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmOutcome {
    /// Patients with an outcome.
    pub n: usize,
    /// Responders or events (binary, time-to-event).
    pub count: Option<usize>,
    /// Proportion responding, or mean.
    pub value: f64,
}

/// One endpoint's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointResult {
    /// Key.
    pub key: String,
    /// Name.
    pub name: String,
    /// Primary or secondary.
    pub primary: bool,
    /// `time_to_event`, `binary` or `continuous`.
    pub kind: String,
    /// The definition in words.
    pub definition: String,
    /// The success criterion in words.
    pub criterion: Option<String>,
    /// Whether the criterion holds on the primary analysis.
    pub criterion_met: Option<bool>,
    /// Whether events are adjudicated.
    pub adjudicated: bool,
    /// Subjects without an outcome, by reason (treated, control).
    pub missing: Vec<(String, usize, usize)>,
    /// Treated outcome (unadjusted).
    pub treated: Option<ArmOutcome>,
    /// Control outcome (unadjusted).
    pub control: Option<ArmOutcome>,
    /// The adjusted design.
    pub design: Option<DesignResult>,
    /// The pre-specified analysis.
    pub estimate: Option<EffectEstimate>,
    /// Sensitivity analyses.
    pub sensitivity: Vec<EffectEstimate>,
    /// Kaplan–Meier (time-to-event).
    pub km: Option<KmResult>,
    /// Why the pre-specified analysis could not be done.
    pub problem: Option<String>,
    /// Candidate events awaiting adjudication.
    pub pending_adjudications: usize,
    /// Candidate events rejected by adjudication.
    pub rejected_by_adjudication: usize,
    /// Accrued over target information (primary endpoint).
    pub information_fraction: Option<f64>,
    /// Interim looks (primary endpoint).
    pub interim: Vec<InterimLook>,
}

/// Agreement between two adjudicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairAgreement {
    /// First adjudicator.
    pub a: String,
    /// Second adjudicator.
    pub b: String,
    /// Cohen's kappa, or why it is undefined.
    pub kappa: Option<Kappa>,
    /// Why kappa could not be computed.
    pub problem: Option<String>,
}

/// The state of central adjudication.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AdjudicationSummary {
    /// The panel.
    pub adjudicators: Vec<String>,
    /// Tasks.
    pub tasks: usize,
    /// Awaiting independent assessments.
    pub awaiting: usize,
    /// Awaiting consensus.
    pub needs_consensus: usize,
    /// Decided by agreement.
    pub by_agreement: usize,
    /// Decided by consensus.
    pub by_consensus: usize,
    /// Confirmed as endpoint events.
    pub confirmed: usize,
    /// Rejected.
    pub rejected: usize,
    /// Agreement of each pair of adjudicators on their independent assessments.
    pub agreement: Vec<PairAgreement>,
}

/// One quality attribute against the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeResult {
    /// The QC attribute.
    pub attribute: String,
    /// Its unit.
    pub unit: String,
    /// Patients with a value.
    pub n: usize,
    /// Lots with a value.
    pub lots: usize,
    /// Mean over patients.
    pub mean: f64,
    /// SD over patients.
    pub sd: f64,
    /// Effect per SD of the attribute (odds ratio, hazard ratio or slope).
    pub effect: Option<f64>,
    /// Lower 95 % limit.
    pub lower: Option<f64>,
    /// Upper 95 % limit.
    pub upper: Option<f64>,
    /// p-value.
    pub p: Option<f64>,
    /// Benjamini–Hochberg q-value.
    pub q: Option<f64>,
    /// Whether it is proposed as a candidate CQA (q ≤ the plan's FDR).
    pub candidate: bool,
    /// Outcome below and above the median value.
    pub subgroups: Option<Subgroups>,
    /// Why it could not be analysed.
    pub problem: Option<String>,
}

/// The outcome in patients whose lots were below or above the attribute's median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subgroups {
    /// The median.
    pub median: f64,
    /// Below or at the median.
    pub below: ArmOutcome,
    /// Above it.
    pub above: ArmOutcome,
    /// Mean attribute value among responders (binary endpoints) or patients with an
    /// event (time-to-event).
    pub mean_responders: Option<f64>,
    /// Mean among the others.
    pub mean_others: Option<f64>,
}

/// Quality–efficacy analysis (MHLW evaluation index, 7-B).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CqaResult {
    /// The endpoint related.
    pub endpoint: String,
    /// The model: logistic, cox or linear.
    pub model: String,
    /// The effect's name per SD (odds ratio, hazard ratio, slope).
    pub effect_name: String,
    /// Treated patients with an outcome and lot quality data.
    pub patients: usize,
    /// The FDR for proposing candidates.
    pub fdr: f64,
    /// Per attribute.
    pub attributes: Vec<AttributeResult>,
    /// Attributes proposed as candidate CQAs.
    pub candidates: Vec<String>,
    /// Why the analysis could not be done, if it could not.
    pub problem: Option<String>,
}
