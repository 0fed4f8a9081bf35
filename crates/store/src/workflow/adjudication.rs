//! Central adjudication's workflows: creating tasks from the plan's candidate events,
//! showing adjudicators their tasks blinded, and recording signed assessments under the
//! committee's rules.
//!
//! An adjudicator reaches a task only through the plan's panel: a task of a plan they
//! do not adjudicate is "not found", exactly like one that does not exist. What they
//! see is built by [`saisei_domain::evaluation::blind`], for the API and the pages alike.

use super::auth::{CredentialCheck, SignerCredentials, SigningError, SigningRequest, sign};
use super::evaluation::{AnalysisError, load_data};
use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor};
use saisei_domain::auth::SignatureMeaning;
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, AssessmentRound, BlindedState, BlindedTask,
    EvaluationPlan, EventDecision, EvidenceEngine, TaskStatus, blind, panel_name, product_words,
    task_state,
};
use saisei_domain::registry::Product;
use saisei_domain::text::{Code, Text};
use time::Date;
use uuid::Uuid;

/// Tasks written per transaction when many are created at once.
const TASK_BATCH: usize = 500;

fn uuid_filter(column: &'static str, id: Uuid) -> Vec<Filter> {
    vec![Filter::eq(column, Value::Uuid(id))]
}

/// Derives the adjudication tasks `plan`'s data calls for as of `as_of` (with the
/// evidence engine, off the async runtime) and stores the new ones. Refused when the
/// plan has no central adjudication committee of at least two adjudicators.
pub async fn new_tasks<E: EvidenceEngine>(
    store: &Store,
    engine: E,
    actor: &AuditActor,
    plan: &Record<EvaluationPlan>,
    as_of: Date,
) -> Result<Vec<Record<AdjudicationTask>>, AnalysisError<E::Error>> {
    if !plan.data.blinding.central_adjudication || plan.data.blinding.adjudicators.len() < 2 {
        return Err(AnalysisError::NoPanel);
    }
    let data = load_data(store, plan).await?;
    let (plan_id, p) = (plan.meta.id, plan.data.clone());
    let tasks = crate::blocking::run(move || engine.adjudication_tasks(plan_id, &p, &data, as_of))
        .await
        .ok_or(AnalysisError::Stopped)?;
    Ok(create_tasks(store, actor, plan, tasks).await?)
}

/// Stores new adjudication tasks (a few hundred per transaction), guarded by the plan's
/// version so tasks are never made from a plan that changed meanwhile. A task for an
/// event that already has one is refused by the database.
pub async fn create_tasks(
    store: &Store,
    actor: &AuditActor,
    plan: &Record<EvaluationPlan>,
    tasks: Vec<AdjudicationTask>,
) -> Result<Vec<Record<AdjudicationTask>>, StoreError> {
    let mut out = Vec::with_capacity(tasks.len());
    let mut rest = tasks.into_iter().peekable();
    while rest.peek().is_some() {
        let mut batch = Batch::new(actor);
        batch.check(plan);
        for t in rest.by_ref().take(TASK_BATCH) {
            if t.plan_id != plan.meta.id {
                return Err(StoreError::invalid(
                    "plan_id",
                    "a task belongs to the plan it is created for",
                ));
            }
            out.push(batch.insert(t)?);
        }
        store.commit(batch).await?;
    }
    Ok(out)
}

/// An adjudicator's assessment as submitted.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The adjudicator (as named in the plan's panel).
    pub adjudicator: Code,
    /// Independent or consensus.
    pub round: AssessmentRound,
    /// The answer.
    pub decision: EventDecision,
    /// The reasoning.
    pub comment: Option<Text>,
}

/// Records an assessment and moves the task on (agreement, disagreement, consensus)
/// in the same transaction. Refused when the adjudicator is not on the plan's panel,
/// has already assessed the task in this round, or the round does not fit the task's
/// state (a consensus only after a disagreement, nothing after a decision).
pub async fn submit_assessment(
    store: &Store,
    actor: &AuditActor,
    task_id: Uuid,
    s: Submission,
) -> Result<(Record<AdjudicationTask>, Record<AdjudicationAssessment>), StoreError> {
    let mut batch = Batch::new(actor);
    let result = stage_assessment(store, task_id, s, &mut batch).await?;
    store.commit(batch).await?;
    Ok(result)
}

/// Checks an assessment and stages it, with the task's next state, in `batch` (the
/// caller commits, e.g. after adding the adjudicator's signature).
pub async fn stage_assessment(
    store: &Store,
    task_id: Uuid,
    s: Submission,
    batch: &mut Batch,
) -> Result<(Record<AdjudicationTask>, Record<AdjudicationAssessment>), StoreError> {
    let task = store.get::<AdjudicationTask>(task_id).await?;
    let plan = store.get::<EvaluationPlan>(task.data.plan_id).await?;
    let panel = &plan.data.blinding.adjudicators;
    if !panel.contains(&s.adjudicator) {
        return Err(StoreError::invalid(
            "adjudicator",
            format!(
                "'{}' is not on the plan's adjudication committee",
                s.adjudicator
            ),
        ));
    }
    match (task.data.status, s.round) {
        (TaskStatus::Decided, _) => {
            return Err(StoreError::invalid(
                "task",
                format!("task {} is already decided", task.data.task_code),
            ));
        }
        (TaskStatus::AwaitingAssessments, AssessmentRound::Consensus) => {
            return Err(StoreError::invalid(
                "round",
                "a consensus is recorded only after the independent assessments disagree",
            ));
        }
        (TaskStatus::NeedsConsensus, AssessmentRound::Independent) => {
            return Err(StoreError::invalid(
                "round",
                "every independent assessment is in and they disagree: record the consensus",
            ));
        }
        _ => {}
    }
    let mut existing = store
        .all::<AdjudicationAssessment>(uuid_filter("task_id", task_id))
        .await?;
    if existing
        .iter()
        .any(|a| a.data.adjudicator == s.adjudicator && a.data.round == s.round)
    {
        return Err(StoreError::Duplicate {
            entity: "adjudication_assessment",
            field: "adjudicator".into(),
        });
    }
    batch.check(&plan);
    let assessment = batch.insert(AdjudicationAssessment {
        task_id,
        adjudicator: s.adjudicator,
        round: s.round,
        decision: s.decision,
        comment: s.comment,
    })?;
    existing.push(assessment.clone());
    let refs: Vec<&AdjudicationAssessment> = existing.iter().map(|a| &a.data).collect();
    let state = task_state(panel, &refs);
    let mut next = task.data.clone();
    next.status = state.status;
    next.decision = state.decision;
    next.decided_by = state.decided_by;
    // Always bump the task: a concurrent assessment of the same task then conflicts
    // instead of both deciding on stale state.
    let updated = batch.update(
        &task,
        next,
        AuditAction::Update,
        Some("adjudication assessment recorded".into()),
    )?;
    Ok((updated, assessment))
}

/// The user an adjudicator view is for: the panel lists adjudicators by e-mail or user
/// id.
#[derive(Debug, Clone, Copy)]
pub struct Adjudicator<'a> {
    /// The user.
    pub user_id: Uuid,
    /// Their sign-in e-mail.
    pub email: &'a str,
}

/// The plans `who` adjudicates, with the name they go by on each.
pub async fn panel_plans(
    store: &Store,
    who: Adjudicator<'_>,
) -> Result<Vec<(Record<EvaluationPlan>, Code)>, StoreError> {
    let plans = store.all::<EvaluationPlan>(vec![]).await?;
    Ok(plans
        .into_iter()
        .filter_map(|p| {
            let me = panel_name(&p.data, who.email, who.user_id)?;
            Some((p, me))
        })
        .collect())
}

async fn words_of(store: &Store, plan: &EvaluationPlan) -> Result<Vec<String>, StoreError> {
    let product = store.get::<Product>(plan.product_id).await?;
    Ok(product_words(product.data.name.as_str()))
}

/// A plan's tasks and all their assessments.
pub async fn tasks_of(
    store: &Store,
    plan_id: Uuid,
) -> Result<
    (
        Vec<Record<AdjudicationTask>>,
        Vec<Record<AdjudicationAssessment>>,
    ),
    StoreError,
> {
    let tasks = store
        .all::<AdjudicationTask>(uuid_filter("plan_id", plan_id))
        .await?;
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.meta.id).collect();
    let assessments = store
        .all_in::<AdjudicationAssessment>("task_id", &ids, vec![])
        .await?;
    Ok((tasks, assessments))
}

/// Every task of every plan `who` adjudicates, blinded, optionally only those in
/// `state`.
pub async fn blinded_tasks(
    store: &Store,
    who: Adjudicator<'_>,
    state: Option<BlindedState>,
) -> Result<Vec<BlindedTask>, StoreError> {
    let mut out = Vec::new();
    for (plan, me) in panel_plans(store, who).await? {
        let words = words_of(store, &plan.data).await?;
        let (tasks, assessments) = tasks_of(store, plan.meta.id).await?;
        for t in &tasks {
            let b = blind(&me, &plan.data, &words, t, &assessments);
            if state.is_none_or(|s| s == b.state) {
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// A task `who` adjudicates, with its plan and the name they go by on its panel. Any
/// other task is "not found": its existence is not disclosed.
async fn panel_task(
    store: &Store,
    who: Adjudicator<'_>,
    task_id: Uuid,
) -> Result<(Record<AdjudicationTask>, Record<EvaluationPlan>, Code), StoreError> {
    let not_found = || StoreError::NotFound {
        entity: "adjudication_task",
        id: task_id,
    };
    let task = store
        .find::<AdjudicationTask>(task_id)
        .await?
        .ok_or_else(not_found)?;
    let plan = store.get::<EvaluationPlan>(task.data.plan_id).await?;
    let me = panel_name(&plan.data, who.email, who.user_id).ok_or_else(not_found)?;
    Ok((task, plan, me))
}

/// One task `who` adjudicates, blinded.
pub async fn blinded_task(
    store: &Store,
    who: Adjudicator<'_>,
    task_id: Uuid,
) -> Result<BlindedTask, StoreError> {
    let (task, plan, me) = panel_task(store, who, task_id).await?;
    let assessments = store
        .all::<AdjudicationAssessment>(uuid_filter("task_id", task.meta.id))
        .await?;
    let words = words_of(store, &plan.data).await?;
    Ok(blind(&me, &plan.data, &words, &task, &assessments))
}

/// An assessment as an adjudicator submits it, with their signature.
#[derive(Debug, Clone)]
pub struct SignedAssessment {
    /// Whether the event meets the endpoint's definition.
    pub decision: EventDecision,
    /// Independent or, after a disagreement, consensus.
    pub round: AssessmentRound,
    /// The reasoning.
    pub comment: Option<Text>,
    /// The adjudicator's password and code.
    pub credentials: SignerCredentials,
    /// A statement with the signature.
    pub signature_comment: Option<Text>,
}

/// Records `who`'s assessment of a task, signed (password and code re-entered) over the
/// assessment, with the task's next state, in one transaction; answers the task as they
/// now see it.
pub async fn assess(
    store: &Store,
    check: &CredentialCheck<'_>,
    actor: &AuditActor,
    who: Adjudicator<'_>,
    task_id: Uuid,
    input: SignedAssessment,
) -> Result<BlindedTask, SigningError> {
    let (task, plan, me) = panel_task(store, who, task_id).await?;
    let mut batch = Batch::new(actor);
    let (task, assessment) = stage_assessment(
        store,
        task.meta.id,
        Submission {
            adjudicator: me.clone(),
            round: input.round,
            decision: input.decision,
            comment: input.comment,
        },
        &mut batch,
    )
    .await?;
    sign(
        store,
        check,
        &mut batch,
        who.user_id,
        &input.credentials,
        SigningRequest {
            entity: "adjudication_assessment",
            entity_id: assessment.meta.id,
            entity_version: 1,
            content_hash: crate::store::content_hash_of(&assessment.data)?,
            meaning: SignatureMeaning::Assessment,
            comment: input.signature_comment,
        },
    )
    .await?;
    store.commit(batch).await?;
    let assessments = store
        .all::<AdjudicationAssessment>(uuid_filter("task_id", task.meta.id))
        .await?;
    let words = words_of(store, &plan.data).await?;
    Ok(blind(&me, &plan.data, &words, &task, &assessments))
}
