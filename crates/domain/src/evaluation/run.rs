//! A stored evaluation run: the results of one analysis with the data snapshot they
//! came from, so that a verdict can be traced to exactly the records it rested on.

use super::verdict::Verdict;
use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;
use uuid::Uuid;

/// What the analysis read: how many records of each kind, a hash over them, the plan's
/// hash and the engine that ran.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSnapshot {
    /// Records read, by kind.
    pub counts: BTreeMap<String, u64>,
    /// SHA-256 over the analysis dataset (ids, versions and the values used).
    pub data_hash: String,
    /// SHA-256 over the plan as analysed.
    pub plan_hash: String,
    /// The evidence engine and its version.
    pub engine: String,
}

/// One analysis of an evaluation plan, frozen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRun {
    /// The plan analysed.
    pub plan_id: Uuid,
    /// The plan's record version at the time.
    pub plan_version: i64,
    /// The data cut of the analysis.
    pub as_of: Date,
    /// The verdict on the primary endpoint.
    pub verdict: Verdict,
    /// What the analysis read.
    pub snapshot: DataSnapshot,
    /// The full results, as the evidence engine produced them.
    pub results: serde_json::Value,
    /// SHA-256 over the results (canonical JSON), so a later change is visible.
    pub results_hash: String,
}

impl Validate for EvaluationRun {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        crate::dates::check_plausible("as_of", self.as_of, &mut errors);
        if crate::audit::content_hash(&self.results) != self.results_hash {
            errors.push("results_hash", "does not match the results");
        }
        errors.into_result()
    }
}

impl Entity for EvaluationRun {
    const KIND: &'static str = "evaluation_run";
    const READ_ONLY: &'static [&'static str] = &["results", "results_hash", "snapshot", "verdict"];
}
