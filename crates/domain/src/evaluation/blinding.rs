//! What a central adjudicator is shown of a task: the event and the endpoint's
//! definition with the product's name removed, their own assessments, and the others'
//! only once they have submitted their independent one.
//!
//! Blinding is a rule of the evaluation, not of any one screen: the API, the pages and
//! the store's workflows all build an adjudicator's view through [`blind`], so no path
//! can show an adjudicator the product, arm, site, patient or plan.

use super::adjudication::{
    AdjudicationAssessment, AdjudicationTask, AssessmentRound, BlindedEvent, EventDecision,
    TaskStatus,
};
use super::plan::EvaluationPlan;
use crate::Record;
use crate::text::Code;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Words that would name the product in free text: its name, and its name without a
/// parenthesised suffix ("Regenecel-K (demo)" → "Regenecel-K").
pub fn product_words(name: &str) -> Vec<String> {
    let mut words = vec![name.trim().to_string()];
    if let Some((base, _)) = name.split_once('(') {
        let base = base.trim();
        if base.chars().count() >= 3 {
            words.push(base.to_string());
        }
    }
    words
}

/// The name a user goes by on `plan`'s adjudication panel (their e-mail or user id as
/// the plan lists it), if they are on it.
pub fn panel_name(plan: &EvaluationPlan, email: &str, user_id: Uuid) -> Option<Code> {
    plan.blinding
        .adjudicators
        .iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(email) || a.as_str() == user_id.to_string())
        .cloned()
}

/// Where a task stands for the adjudicator looking at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlindedState {
    /// Their independent assessment is awaited.
    AwaitingYou,
    /// They have assessed; others have not.
    AwaitingOthers,
    /// The independent assessments disagree: a consensus is needed.
    NeedsConsensus,
    /// The task is decided.
    Decided,
}

impl BlindedState {
    /// Every state, in the order a task passes through them.
    pub const ALL: [BlindedState; 4] = [
        BlindedState::AwaitingYou,
        BlindedState::AwaitingOthers,
        BlindedState::NeedsConsensus,
        BlindedState::Decided,
    ];

    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            BlindedState::AwaitingYou => "awaiting_you",
            BlindedState::AwaitingOthers => "awaiting_others",
            BlindedState::NeedsConsensus => "needs_consensus",
            BlindedState::Decided => "decided",
        }
    }
}

impl std::str::FromStr for BlindedState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("'{s}' is not awaiting_you, awaiting_others, needs_consensus or decided")
            })
    }
}

/// What an adjudicator sees of a task. It has no field for the product, arm, site,
/// patient or plan.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BlindedTask {
    /// The task's id (for submitting).
    pub task_id: Uuid,
    /// Its neutral label.
    pub task_code: String,
    /// The endpoint's name.
    pub endpoint: String,
    /// The endpoint's definition, in words.
    pub definition: String,
    /// The event.
    pub event: BlindedEvent,
    /// Where the task stands for this adjudicator.
    pub state: BlindedState,
    /// The final decision, once decided.
    pub decision: Option<EventDecision>,
    /// This adjudicator's assessments.
    pub yours: Vec<AssessmentView>,
    /// The other adjudicators' assessments: empty until this adjudicator has
    /// submitted their independent assessment.
    pub others: Vec<AssessmentView>,
}

/// One assessment as adjudicators see it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    /// Who (their panel name).
    pub adjudicator: String,
    /// Independent or consensus.
    pub round: AssessmentRound,
    /// The answer.
    pub decision: EventDecision,
    /// The reasoning.
    pub comment: Option<String>,
}

/// The view of `task` for the adjudicator `me`, given the task's assessments and the
/// words that would name the product.
pub fn blind(
    me: &Code,
    plan: &EvaluationPlan,
    product_words: &[String],
    task: &Record<AdjudicationTask>,
    assessments: &[Record<AdjudicationAssessment>],
) -> BlindedTask {
    let view = |a: &Record<AdjudicationAssessment>| AssessmentView {
        adjudicator: a.data.adjudicator.to_string(),
        round: a.data.round,
        decision: a.data.decision,
        comment: a.data.comment.as_ref().map(|c| c.to_string()),
    };
    let of_task = |a: &&Record<AdjudicationAssessment>| a.data.task_id == task.meta.id;
    let mine: Vec<&Record<AdjudicationAssessment>> = assessments
        .iter()
        .filter(of_task)
        .filter(|a| &a.data.adjudicator == me)
        .collect();
    let submitted = mine
        .iter()
        .any(|a| a.data.round == AssessmentRound::Independent);
    let ep = plan.endpoint(task.data.endpoint.as_str());
    let redact = |s: &str| super::outcome::redact(s, product_words);
    let state = match task.data.status {
        TaskStatus::Decided => BlindedState::Decided,
        TaskStatus::NeedsConsensus => BlindedState::NeedsConsensus,
        TaskStatus::AwaitingAssessments if submitted => BlindedState::AwaitingOthers,
        TaskStatus::AwaitingAssessments => BlindedState::AwaitingYou,
    };
    BlindedTask {
        task_id: task.meta.id,
        task_code: task.data.task_code.to_string(),
        endpoint: ep.map(|e| redact(e.name.as_str())).unwrap_or_default(),
        definition: ep
            .map(|e| redact(&e.definition.describe()))
            .unwrap_or_default(),
        event: task.data.event.clone(),
        state,
        decision: task.data.decision,
        yours: mine.iter().map(|a| view(a)).collect(),
        others: if submitted {
            assessments
                .iter()
                .filter(of_task)
                .filter(|a| &a.data.adjudicator != me)
                .map(view)
                .collect()
        } else {
            Vec::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_words_include_the_name_without_its_suffix() {
        assert_eq!(
            product_words("Regenecel-K (demo)"),
            vec!["Regenecel-K (demo)".to_string(), "Regenecel-K".to_string()]
        );
        assert_eq!(product_words("AB (x)"), vec!["AB (x)".to_string()]);
    }

    #[test]
    fn states_read_back() {
        for s in BlindedState::ALL {
            assert_eq!(s.as_str().parse::<BlindedState>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("pending".parse::<BlindedState>().is_err());
    }
}
