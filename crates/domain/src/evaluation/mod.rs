//! Post-marketing evaluation of products under conditional and time-limited approval
//! (条件及び期限付承認後の承認条件評価), structured on the MHLW evaluation index for MSC
//! products (次世代再生医療等製品評価指標: ヒト由来の間葉系幹細胞若しくは間葉系間質細胞を原料とする
//! ヒト細胞加工製品の条件及び期限付承認並びにその後の有効性評価計画に関する評価指標).
//!
//! A product approved on the presumption of efficacy must confirm it within its term,
//! mostly against non-randomised registry controls. Seed 003 lists what such an
//! evaluation must settle before it starts; this module holds those decisions as data
//! and the pure rules around them:
//!
//! - [`EvaluationPlan`]: the plan itself — target number of cases and the power
//!   assumptions behind it, sites, endpoints with pre-specified success criteria,
//!   randomisation, blinding and central adjudication, the control group and how it is
//!   adjusted, why a use-results survey suffices, interim looks, and the
//!   quality–efficacy (CQA) analysis.
//! - [`check_plan`]: every point the guidance asks to settle or justify that a plan
//!   leaves open, so a reviewer sees the gaps at once.
//! - [`outcome`]: how an endpoint's definition turns one patient's registry records
//!   (observations, visits, adverse events) into an outcome or candidate events.
//! - [`AdjudicationTask`] and [`AdjudicationAssessment`]: blinded central adjudication,
//!   with [`task_state`] deciding agreement and consensus, and [`blind`] building what an
//!   adjudicator may see (the panel's agreement beyond chance is a statistic, in
//!   `saisei-stats`).
//! - [`EvidenceEngine`]: the analysis as the store's workflows call it, implemented by
//!   `saisei-evidence`.
//! - [`SuccessCriterion`] and [`decide_verdict`]: met, not met, or not yet evaluable.
//! - [`EvaluationRun`]: a stored analysis with the data snapshot it came from.
//!
//! The numerics (propensity scores, Cox models, power) live in `saisei-evidence`, which
//! builds on these types; nothing here does I/O.

pub mod adjudication;
pub mod blinding;
pub mod check;
pub mod data;
pub mod engine;
pub mod outcome;
pub mod plan;
pub mod run;
pub mod verdict;

pub use adjudication::{
    AdjudicationAssessment, AdjudicationTask, AssessmentRound, BlindedDetail, BlindedEvent,
    DecisionBasis, EventDecision, EventSource, TaskState, TaskStatus, task_state,
};
pub use blinding::{AssessmentView, BlindedState, BlindedTask, blind, panel_name, product_words};
pub use check::{GuidanceItem, PlanGap, Severity, check_plan};
pub use data::RegistryData;
pub use engine::{AnalysisOptions, EvidenceEngine, data_cut};
pub use plan::{
    AdjustmentMethod, Assessor, Blinding, ControlGroup, CovariateSpec, DataDirection, Direction,
    Eligibility, Endpoint, EndpointDefinition, EndpointRole, EvaluationPlan, EventDefinition,
    InterimPlan, MeasureAtVisit, Objectivity, PowerAssumptions, QualityEfficacyPlan, Randomisation,
    SampleSize, Sites, SpendingFunction, WeightingEstimand,
};
pub use run::{DataSnapshot, EvaluationRun};
pub use verdict::{
    Comparator, EffectMeasure, Estimate, PrimaryEvidence, Statistic, SuccessCriterion, Verdict,
    VerdictDecision, decide_verdict,
};
