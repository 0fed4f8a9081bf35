//! The evidence engine as the store's workflows see it.
//!
//! Running an evaluation is a workflow (load the plan's data, analyse it off the async
//! runtime, file the run), and the API and the command line must run it the same way.
//! The store cannot depend on the statistics, so it asks for an engine through this
//! trait; `saisei-evidence` implements it. The dependency points from the statistics to
//! the domain, never from the store to the statistics.

use super::adjudication::AdjudicationTask;
use super::data::RegistryData;
use super::plan::EvaluationPlan;
use super::run::DataSnapshot;
use super::verdict::Verdict;
use time::Date;
use uuid::Uuid;

/// How to run one analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// The data cut.
    pub as_of: Date,
    /// The plan's id, when stored.
    pub plan_id: Option<Uuid>,
    /// The plan's record version.
    pub plan_version: i64,
}

/// An analysis engine for evaluation plans.
pub trait EvidenceEngine: Copy + Send + Sync + 'static {
    /// Everything one analysis produces.
    type Results: serde::Serialize + Send + 'static;
    /// Why a plan could not be analysed at all.
    type Error: std::error::Error + Send + 'static;

    /// Analyses `plan` on `data`.
    fn analyse(
        self,
        plan: &EvaluationPlan,
        data: &RegistryData,
        options: &AnalysisOptions,
    ) -> Result<Self::Results, Self::Error>;

    /// The verdict the results reached.
    fn verdict(results: &Self::Results) -> Verdict;

    /// What the analysis read.
    fn snapshot(results: &Self::Results) -> DataSnapshot;

    /// The adjudication tasks to create for `plan` (stored as `plan_id`): candidate
    /// events of its adjudicated endpoints as of `as_of` that have no task yet.
    fn adjudication_tasks(
        self,
        plan_id: Uuid,
        plan: &EvaluationPlan,
        data: &RegistryData,
        as_of: Date,
    ) -> Vec<AdjudicationTask>;
}

/// The data cut of an analysis: the one asked for, else the plan's own, else today.
pub fn data_cut(plan: &EvaluationPlan, asked: Option<Date>, today: Date) -> Date {
    asked.or(plan.data_cut).unwrap_or(today)
}
