//! Which endpoint events go to central adjudication.
//!
//! Every candidate event of an adjudicated endpoint among the analysis cohort becomes a
//! task, once. Tasks are numbered per endpoint in the order the events happened (not in
//! the cohort's order, which lists treated patients first and would let a task's number
//! betray the arm), and what adjudicators see has the product's name removed.

use crate::cohort::build;
use crate::endpoints::candidates;
use saisei_domain::evaluation::{
    AdjudicationTask, EvaluationPlan, RegistryData, TaskStatus, product_words,
};
use std::collections::{BTreeMap, HashSet};
use time::Date;
use uuid::Uuid;

/// The tasks to create for `plan` (stored as `plan_id`): candidate events of its
/// adjudicated endpoints as of `as_of` that have no task yet.
pub fn new_tasks(
    plan_id: Uuid,
    plan: &EvaluationPlan,
    data: &RegistryData,
    as_of: Date,
) -> Vec<AdjudicationTask> {
    let cohort = build(plan, data, as_of);
    let redact = product_words(data.product.data.name.as_str());
    let existing: HashSet<(String, Uuid)> = data
        .tasks
        .iter()
        .filter(|t| t.data.plan_id == plan_id)
        .map(|t| (t.data.endpoint.to_string(), t.data.source_id))
        .collect();
    let mut numbered: BTreeMap<String, usize> = BTreeMap::new();
    for t in data.tasks.iter().filter(|t| t.data.plan_id == plan_id) {
        *numbered.entry(t.data.endpoint.to_string()).or_default() += 1;
    }
    let mut out = Vec::new();
    for ep in plan.endpoints.iter().filter(|e| e.adjudicated) {
        let mut found = candidates(ep, &cohort, data, &redact);
        found.sort_by_key(|(_, c)| (c.on, c.source_id));
        for (subject, c) in found {
            if existing.contains(&(ep.key.to_string(), c.source_id)) {
                continue;
            }
            let n = numbered.entry(ep.key.to_string()).or_default();
            *n += 1;
            let Ok(task_code) = format!("{}-{:05}", ep.key, n).parse() else {
                continue;
            };
            out.push(AdjudicationTask {
                plan_id,
                endpoint: ep.key.clone(),
                patient_id: cohort.subjects[subject].patient_id,
                source_kind: c.source_kind,
                source_id: c.source_id,
                task_code,
                event: c.blinded,
                status: TaskStatus::AwaitingAssessments,
                decision: None,
                decided_by: None,
            });
        }
    }
    out
}
