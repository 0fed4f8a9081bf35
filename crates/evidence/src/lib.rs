//! Saisei's post-marketing evaluation engine: from registry records to a verdict.
//!
//! A product under conditional and time-limited approval must show, against registry
//! controls, that it works (the MHLW evaluation index, 次世代再生医療等製品評価指標). This crate takes the records a store workflow
//! loaded ([`RegistryData`]) and an [`saisei_domain::evaluation::EvaluationPlan`], and:
//!
//! 1. builds the analysis cohort — treated patients and eligible controls with baseline
//!    covariates as of their index date, and a flow count of who was excluded and why
//!    ([`cohort`]);
//! 2. derives each endpoint's outcome, using adjudicated decisions where the plan asks
//!    for central adjudication ([`endpoints`]);
//! 3. adjusts for confounding as the plan says — propensity-score matching, weighting
//!    or stratification — and reports balance ([`adjust`]);
//! 4. estimates hazard ratios, risk differences and mean differences with confidence
//!    intervals, Kaplan–Meier curves with numbers at risk, sensitivity analyses and
//!    interim looks, and decides the verdict ([`analysis`]);
//! 5. relates lot quality attributes to outcomes to propose candidate critical quality
//!    attributes ([`cqa`]);
//! 6. draws the report's plots as inline SVG ([`plot`]); the server renders the report
//!    page around them.
//!
//! The store's workflows run it through [`Engine`], its implementation of
//! [`saisei_domain::evaluation::EvidenceEngine`].
//!
//! Every statistic comes from `saisei-stats`; this crate decides which to compute from
//! the plan and the registry's records, and must never compute one itself, render HTML,
//! or do I/O (no files, clock, network or database).

pub mod adjudication;
pub mod adjust;
pub mod analysis;
pub mod cohort;
pub mod cqa;
pub mod data;
pub mod endpoints;
pub mod error;
pub mod plot;
pub mod power;
pub mod results;

pub use analysis::{AnalysisOptions, analyse, check_with_power};
pub use data::RegistryData;
pub use error::EvidenceError;
pub use results::EvaluationResults;

/// The engine's name and version, recorded with every stored run.
pub const ENGINE: &str = concat!("saisei-evidence ", env!("CARGO_PKG_VERSION"));

/// This crate as the engine the store's evaluation workflows run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Engine;

impl saisei_domain::evaluation::EvidenceEngine for Engine {
    type Results = EvaluationResults;
    type Error = EvidenceError;

    fn analyse(
        self,
        plan: &saisei_domain::evaluation::EvaluationPlan,
        data: &RegistryData,
        options: &AnalysisOptions,
    ) -> Result<EvaluationResults, EvidenceError> {
        analyse(plan, data, options)
    }

    fn verdict(results: &EvaluationResults) -> saisei_domain::evaluation::Verdict {
        results.verdict
    }

    fn snapshot(results: &EvaluationResults) -> saisei_domain::evaluation::DataSnapshot {
        results.snapshot.clone()
    }

    fn adjudication_tasks(
        self,
        plan_id: uuid::Uuid,
        plan: &saisei_domain::evaluation::EvaluationPlan,
        data: &RegistryData,
        as_of: time::Date,
    ) -> Vec<saisei_domain::evaluation::AdjudicationTask> {
        adjudication::new_tasks(plan_id, plan, data, as_of)
    }
}
