//! Blinded central adjudication (中央判定委員会) of endpoint events.
//!
//! Each candidate event of an adjudicated endpoint becomes an [`AdjudicationTask`]. What
//! an adjudicator sees of it is the [`BlindedEvent`]: the event in words and numbers,
//! counted in days from the index date — never the product, the arm, the site, the
//! patient or the event's causality (which a site assesses knowing the treatment).
//! Every adjudicator of the plan's panel assesses independently
//! ([`AssessmentRound::Independent`]); when they agree the task is decided by agreement,
//! otherwise it needs a consensus assessment. [`task_state`] applies those rules.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Code, Text};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The record an adjudication task is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    /// An adverse event.
    AdverseEvent,
    /// An observation crossing a threshold.
    Observation,
}

/// One labelled fact of a blinded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlindedDetail {
    /// What the value is, e.g. `CTCAE grade`.
    pub label: String,
    /// The value, e.g. `3`.
    pub value: String,
}

/// An event as an adjudicator sees it: no product, arm, site, patient or causality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlindedEvent {
    /// The event in words (the reported term or the measurement), with any mention of
    /// the product removed.
    pub description: String,
    /// Days from the index date to the event.
    pub day: i64,
    /// Further facts (grade, seriousness, outcome, baseline and value…).
    pub details: Vec<BlindedDetail>,
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not every adjudicator has assessed it.
    AwaitingAssessments,
    /// The independent assessments disagree; a consensus is needed.
    NeedsConsensus,
    /// Decided.
    Decided,
}

/// An adjudicator's answer: does the event meet the endpoint's definition?
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EventDecision {
    /// It is an endpoint event.
    Confirmed,
    /// It is not.
    Rejected,
}

/// How a task's decision was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionBasis {
    /// All independent assessments agreed.
    Agreement,
    /// The committee reached a consensus after disagreeing.
    Consensus,
}

/// A candidate endpoint event awaiting (or having had) central adjudication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjudicationTask {
    /// The evaluation plan.
    pub plan_id: Uuid,
    /// The endpoint's key in the plan.
    pub endpoint: Code,
    /// The patient (never shown to adjudicators).
    pub patient_id: Uuid,
    /// The kind of record the event comes from.
    pub source_kind: EventSource,
    /// The record's id (never shown to adjudicators).
    pub source_id: Uuid,
    /// A neutral label adjudicators refer to, e.g. `failure-0007`.
    pub task_code: Code,
    /// What adjudicators see.
    pub event: BlindedEvent,
    /// Where the task stands (set by the adjudication workflow).
    #[serde(default = "awaiting")]
    pub status: TaskStatus,
    /// The final decision, once decided.
    #[serde(default)]
    pub decision: Option<EventDecision>,
    /// How it was decided.
    #[serde(default)]
    pub decided_by: Option<DecisionBasis>,
}

fn awaiting() -> TaskStatus {
    TaskStatus::AwaitingAssessments
}

impl Validate for AdjudicationTask {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        match (self.status, self.decision, self.decided_by) {
            (TaskStatus::Decided, Some(_), Some(_)) => {}
            (TaskStatus::Decided, _, _) => {
                errors.push("decision", "a decided task has a decision and its basis")
            }
            (_, None, None) => {}
            _ => errors.push("decision", "only a decided task has a decision"),
        }
        if self.event.details.len() > 50 {
            errors.push("event.details", "at most 50 details");
        }
        errors.into_result()
    }
}

impl Entity for AdjudicationTask {
    const KIND: &'static str = "adjudication_task";
    const READ_ONLY: &'static [&'static str] = &["status", "decision", "decided_by"];
}

/// Independent assessment or the consensus after a disagreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentRound {
    /// Each adjudicator alone, without seeing the others'.
    Independent,
    /// The committee's consensus after the independent assessments disagreed.
    Consensus,
}

/// One adjudicator's assessment of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjudicationAssessment {
    /// The task.
    pub task_id: Uuid,
    /// Who assessed (as named in the plan's panel).
    pub adjudicator: Code,
    /// Independent or consensus.
    pub round: AssessmentRound,
    /// The answer.
    pub decision: EventDecision,
    /// The reasoning.
    #[serde(default)]
    pub comment: Option<Text>,
}

impl Validate for AdjudicationAssessment {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

impl Entity for AdjudicationAssessment {
    const KIND: &'static str = "adjudication_assessment";
}

/// A task's state given its assessments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskState {
    /// Where it stands.
    pub status: TaskStatus,
    /// The decision, once decided.
    pub decision: Option<EventDecision>,
    /// How it was decided.
    pub decided_by: Option<DecisionBasis>,
}

/// Applies the committee's rules: every panel member assesses independently; if they
/// all agree the task is decided by agreement, otherwise a consensus assessment decides
/// it. Assessments by anyone outside the panel are ignored.
pub fn task_state(panel: &[Code], assessments: &[&AdjudicationAssessment]) -> TaskState {
    let in_panel = |a: &&&AdjudicationAssessment| panel.contains(&a.adjudicator);
    if let Some(c) = assessments
        .iter()
        .filter(in_panel)
        .find(|a| a.round == AssessmentRound::Consensus)
    {
        return TaskState {
            status: TaskStatus::Decided,
            decision: Some(c.decision),
            decided_by: Some(DecisionBasis::Consensus),
        };
    }
    let independent: Vec<&&AdjudicationAssessment> = assessments
        .iter()
        .filter(in_panel)
        .filter(|a| a.round == AssessmentRound::Independent)
        .collect();
    let all_in = panel.len() >= 2
        && panel
            .iter()
            .all(|p| independent.iter().any(|a| &a.adjudicator == p));
    if !all_in {
        return TaskState {
            status: TaskStatus::AwaitingAssessments,
            decision: None,
            decided_by: None,
        };
    }
    let first = independent[0].decision;
    if independent.iter().all(|a| a.decision == first) {
        TaskState {
            status: TaskStatus::Decided,
            decision: Some(first),
            decided_by: Some(DecisionBasis::Agreement),
        }
    } else {
        TaskState {
            status: TaskStatus::NeedsConsensus,
            decision: None,
            decided_by: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(who: &str, round: AssessmentRound, decision: EventDecision) -> AdjudicationAssessment {
        AdjudicationAssessment {
            task_id: Uuid::nil(),
            adjudicator: who.parse().unwrap(),
            round,
            decision,
            comment: None,
        }
    }

    #[test]
    fn agreement_disagreement_and_consensus() {
        use AssessmentRound::*;
        use EventDecision::*;
        let panel: Vec<Code> = vec!["a".parse().unwrap(), "b".parse().unwrap()];
        let one = a("a", Independent, Confirmed);
        assert_eq!(
            task_state(&panel, &[&one]).status,
            TaskStatus::AwaitingAssessments
        );
        let outsider = a("z", Independent, Confirmed);
        assert_eq!(
            task_state(&panel, &[&one, &outsider]).status,
            TaskStatus::AwaitingAssessments
        );
        let agree = a("b", Independent, Confirmed);
        let s = task_state(&panel, &[&one, &agree]);
        assert_eq!(
            (s.status, s.decision, s.decided_by),
            (
                TaskStatus::Decided,
                Some(Confirmed),
                Some(DecisionBasis::Agreement)
            )
        );
        let differ = a("b", Independent, Rejected);
        assert_eq!(
            task_state(&panel, &[&one, &differ]).status,
            TaskStatus::NeedsConsensus
        );
        let consensus = a("a", Consensus, Rejected);
        let s = task_state(&panel, &[&one, &differ, &consensus]);
        assert_eq!(
            (s.status, s.decision, s.decided_by),
            (
                TaskStatus::Decided,
                Some(Rejected),
                Some(DecisionBasis::Consensus)
            )
        );
        // A panel of one cannot decide by agreement.
        assert_eq!(
            task_state(&panel[..1], &[&one]).status,
            TaskStatus::AwaitingAssessments
        );
    }
}
