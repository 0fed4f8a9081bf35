//! Post-marketing evaluation's workflows: loading everything an evaluation reads in one
//! pass, creating adjudication tasks, recording assessments under the committee's
//! rules, and filing analysis runs with their data snapshot.
//!
//! The analysis itself is pure and lives in `saisei-evidence`; these functions only
//! read and write, each write as one transaction with its audit entries.

use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditActor, content_hash};
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, AssessmentRound, DataSnapshot, EvaluationPlan,
    EvaluationRun, EventDecision, RegistryData, TaskStatus, Verdict, task_state,
};
use saisei_domain::quality::records::{Lot, LotQcResult, ProductUnit};
use saisei_domain::registry::*;
use saisei_domain::text::{Code, Text};
use std::collections::BTreeSet;
use time::Date;
use uuid::Uuid;

/// Tasks written per transaction when many are created at once.
const TASK_BATCH: usize = 500;

fn uuid_filter(column: &'static str, id: Uuid) -> Vec<Filter> {
    vec![Filter::eq(column, Value::Uuid(id))]
}

/// Reads everything the evaluation of `plan` needs: the product's treated patients
/// (treatments naming it, and treatments with a unit of one of its lots), its enrolled
/// controls, their records, the lots' QC results and the plan's adjudication.
pub async fn load_data(
    store: &Store,
    plan: &Record<EvaluationPlan>,
) -> Result<RegistryData, StoreError> {
    let product = store.get::<Product>(plan.data.product_id).await?;
    let pid = product.meta.id;
    let enrollments = store
        .all::<Enrollment>(uuid_filter("product_id", pid))
        .await?;
    let lots = store.all::<Lot>(uuid_filter("product_id", pid)).await?;
    let lot_ids: Vec<Uuid> = lots.iter().map(|l| l.meta.id).collect();
    let units = store
        .all_in::<ProductUnit>("lot_id", &lot_ids, vec![])
        .await?;
    let unit_ids: Vec<Uuid> = units.iter().map(|u| u.meta.id).collect();
    let mut treatments = store
        .all::<Treatment>(uuid_filter("product_id", pid))
        .await?;
    let named: BTreeSet<Uuid> = treatments.iter().map(|t| t.meta.id).collect();
    for t in store
        .all_in::<Treatment>("unit_id", &unit_ids, vec![])
        .await?
    {
        if !named.contains(&t.meta.id) {
            treatments.push(t);
        }
    }
    let patient_ids: Vec<Uuid> = enrollments
        .iter()
        .map(|e| e.data.patient_id)
        .chain(treatments.iter().map(|t| t.data.patient_id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let patients = store.all_in::<Patient>("id", &patient_ids, vec![]).await?;
    let site_ids: Vec<Uuid> = patients.iter().map(|p| p.data.institution_id).collect();
    let sites = store
        .all_in::<Organisation>("id", &site_ids, vec![])
        .await?;
    let qc_results = store
        .all_in::<LotQcResult>("lot_id", &lot_ids, vec![])
        .await?;
    let tasks = store
        .all::<AdjudicationTask>(uuid_filter("plan_id", plan.meta.id))
        .await?;
    let task_ids: Vec<Uuid> = tasks.iter().map(|t| t.meta.id).collect();
    let assessments = store
        .all_in::<AdjudicationAssessment>("task_id", &task_ids, vec![])
        .await?;
    Ok(RegistryData {
        visits: store
            .all_in::<Visit>("patient_id", &patient_ids, vec![])
            .await?,
        observations: store
            .all_in::<Observation>("patient_id", &patient_ids, vec![])
            .await?,
        adverse_events: store
            .all_in::<AdverseEvent>("patient_id", &patient_ids, vec![])
            .await?,
        consents: store
            .all_in::<Consent>("patient_id", &patient_ids, vec![])
            .await?,
        product,
        enrollments,
        patients,
        sites,
        treatments,
        lots,
        units,
        qc_results,
        tasks,
        assessments,
    })
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

/// Files an analysis run: the results frozen with their hash and the data snapshot,
/// guarded by the plan's version.
pub async fn record_run(
    store: &Store,
    actor: &AuditActor,
    plan: &Record<EvaluationPlan>,
    as_of: Date,
    verdict: Verdict,
    snapshot: DataSnapshot,
    results: serde_json::Value,
) -> Result<Record<EvaluationRun>, StoreError> {
    let mut batch = Batch::new(actor);
    batch.check(plan);
    let run = batch.insert(EvaluationRun {
        plan_id: plan.meta.id,
        plan_version: plan.meta.version,
        as_of,
        verdict,
        snapshot,
        results_hash: content_hash(&results),
        results,
    })?;
    store.commit(batch).await?;
    Ok(run)
}

/// The product's treated patients: those with a treatment naming it or with a unit of
/// one of its lots, with their first administration date.
pub async fn treated_patients(
    store: &Store,
    product_id: Uuid,
) -> Result<Vec<(Uuid, Date)>, StoreError> {
    let lots = store
        .all::<Lot>(uuid_filter("product_id", product_id))
        .await?;
    let lot_ids: Vec<Uuid> = lots.iter().map(|l| l.meta.id).collect();
    let units = store
        .all_in::<ProductUnit>("lot_id", &lot_ids, vec![])
        .await?;
    let unit_ids: Vec<Uuid> = units.iter().map(|u| u.meta.id).collect();
    let mut first: std::collections::BTreeMap<Uuid, Date> = std::collections::BTreeMap::new();
    let named = store
        .all::<Treatment>(uuid_filter("product_id", product_id))
        .await?;
    let via_units = store
        .all_in::<Treatment>("unit_id", &unit_ids, vec![])
        .await?;
    for t in named.iter().chain(via_units.iter()) {
        let e = first
            .entry(t.data.patient_id)
            .or_insert(t.data.administered_on);
        *e = (*e).min(t.data.administered_on);
    }
    Ok(first.into_iter().collect())
}
