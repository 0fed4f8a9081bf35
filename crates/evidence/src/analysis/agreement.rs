//! The state of a plan's central adjudication and each pair of adjudicators' agreement.

use crate::data::RegistryData;
use crate::results::*;
use saisei_domain::Record;
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, AssessmentRound, DecisionBasis, EvaluationPlan,
    EventDecision, TaskStatus,
};
use saisei_stats::agreement::cohen_kappa;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The state of the plan's central adjudication and each pair's agreement.
pub fn adjudication_summary(plan: &EvaluationPlan, data: &RegistryData) -> AdjudicationSummary {
    agreement_summary(plan, &data.tasks, &data.assessments)
}

/// The state of a plan's adjudication tasks and each pair of adjudicators' agreement
/// (Cohen's kappa over the events both assessed independently).
pub fn agreement_summary(
    plan: &EvaluationPlan,
    tasks: &[Record<AdjudicationTask>],
    assessments: &[Record<AdjudicationAssessment>],
) -> AdjudicationSummary {
    let panel: Vec<String> = plan
        .blinding
        .adjudicators
        .iter()
        .map(|a| a.to_string())
        .collect();
    let mut s = AdjudicationSummary {
        adjudicators: panel.clone(),
        tasks: tasks.len(),
        ..Default::default()
    };
    for t in tasks {
        match t.data.status {
            TaskStatus::AwaitingAssessments => s.awaiting += 1,
            TaskStatus::NeedsConsensus => s.needs_consensus += 1,
            TaskStatus::Decided => {
                match t.data.decided_by {
                    Some(DecisionBasis::Consensus) => s.by_consensus += 1,
                    _ => s.by_agreement += 1,
                }
                match t.data.decision {
                    Some(EventDecision::Confirmed) => s.confirmed += 1,
                    _ => s.rejected += 1,
                }
            }
        }
    }
    let mut by_task: BTreeMap<Uuid, BTreeMap<String, EventDecision>> = BTreeMap::new();
    for a in assessments {
        if a.data.round == AssessmentRound::Independent {
            by_task
                .entry(a.data.task_id)
                .or_default()
                .insert(a.data.adjudicator.to_string(), a.data.decision);
        }
    }
    for i in 0..panel.len() {
        for j in i + 1..panel.len() {
            let pairs: Vec<(EventDecision, EventDecision)> = by_task
                .values()
                .filter_map(|m| Some((*m.get(&panel[i])?, *m.get(&panel[j])?)))
                .collect();
            let (kappa, problem) = match cohen_kappa(&pairs) {
                Ok(k) => (Some(k), None),
                Err(e) => (None, Some(e.to_string())),
            };
            s.agreement.push(PairAgreement {
                a: panel[i].clone(),
                b: panel[j].clone(),
                kappa,
                problem,
            });
        }
    }
    s
}
