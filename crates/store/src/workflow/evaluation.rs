//! Post-marketing evaluation's workflows: loading everything an evaluation reads in one
//! pass, running the analysis, and filing runs with their data snapshot.
//!
//! The analysis itself is pure and lives in `saisei-evidence`, which these functions
//! reach through [`EvidenceEngine`]; they read, run the engine off the async runtime and
//! write, each write as one transaction with its audit entries. Central adjudication's
//! workflows are in [`super::adjudication`].

use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::{AuditActor, content_hash};
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, AnalysisOptions, DataSnapshot, EvaluationPlan,
    EvaluationRun, EvidenceEngine, RegistryData, Verdict,
};
use saisei_domain::quality::records::{Lot, LotQcResult, ProductUnit};
use saisei_domain::registry::*;
use std::collections::BTreeSet;
use time::Date;
use uuid::Uuid;

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

/// Why an evaluation could not be run.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError<E: std::error::Error> {
    /// Reading or filing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine could not analyse the plan.
    #[error(transparent)]
    Engine(E),
    /// The plan has no central adjudication committee of at least two adjudicators.
    #[error("the plan has no central adjudication committee of at least two adjudicators")]
    NoPanel,
    /// The analysis stopped before it finished.
    #[error("the analysis stopped unexpectedly")]
    Stopped,
}

/// Analyses `plan` on the registry as of `as_of`: its data read in one pass, the engine
/// run off the async runtime.
pub async fn analyse<E: EvidenceEngine>(
    store: &Store,
    engine: E,
    plan: &Record<EvaluationPlan>,
    as_of: Date,
) -> Result<E::Results, AnalysisError<E::Error>> {
    let data = load_data(store, plan).await?;
    let p = plan.data.clone();
    let options = AnalysisOptions {
        as_of,
        plan_id: Some(plan.meta.id),
        plan_version: plan.meta.version,
    };
    crate::blocking::run(move || engine.analyse(&p, &data, &options))
        .await
        .ok_or(AnalysisError::Stopped)?
        .map_err(AnalysisError::Engine)
}

/// Analyses `plan` as of `as_of` and files the run, guarded by the plan's version: the
/// one way a verdict is recorded, for the API and the command line alike.
pub async fn run_evaluation<E: EvidenceEngine>(
    store: &Store,
    engine: E,
    actor: &AuditActor,
    plan: &Record<EvaluationPlan>,
    as_of: Date,
) -> Result<(Record<EvaluationRun>, E::Results), AnalysisError<E::Error>> {
    let results = analyse(store, engine, plan, as_of).await?;
    let json = serde_json::to_value(&results)
        .map_err(|e| StoreError::Corrupt(format!("the results cannot be written: {e}")))?;
    let run = record_run(
        store,
        actor,
        plan,
        as_of,
        E::verdict(&results),
        E::snapshot(&results),
        json,
    )
    .await?;
    Ok((run, results))
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
