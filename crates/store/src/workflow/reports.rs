//! Periodic reports: compiled from the registry for one plan and period, and filed as a
//! frozen snapshot.

use super::auth::{CredentialCheck, Signer, SigningError, SigningRequest, actor_of, sign};
use crate::backend::Filter;
use crate::error::StoreError;
use crate::store::{Batch, Store};
use crate::value::Value;
use saisei_domain::Record;
use saisei_domain::audit::content_hash;
use saisei_domain::auth::duties::may_file_periodic_report;
use saisei_domain::auth::{Signature, SignatureMeaning, User};
use saisei_domain::registry::periodic_report::{ReportInput, compile};
use saisei_domain::registry::*;
use saisei_domain::regulation::{Deadline, RuleBook, RuleSet, periodic_period};
use time::Date;
use uuid::Uuid;

/// The rule set that governs a plan's reporting: the one in force on its filing date.
pub fn filing_rules<'a>(
    rules: &'a RuleBook,
    plan: &Record<Plan>,
) -> Result<(&'a RuleSet, Date), StoreError> {
    let filed_on = plan.data.filed_on.ok_or_else(|| {
        StoreError::invalid(
            "plan",
            format!(
                "plan {} has not been filed, so it has no reporting periods",
                plan.data.plan_number
            ),
        )
    })?;
    let set = rules.in_force_on(filed_on).map_err(|e| {
        StoreError::invalid(
            "plan",
            format!("no rule set in force on the filing date {filed_on}: {e}"),
        )
    })?;
    Ok((set, filed_on))
}

/// Period `n`'s deadline for a plan.
pub fn period_deadline(
    rules: &RuleBook,
    plan: &Record<Plan>,
    n: u32,
) -> Result<Deadline, StoreError> {
    if n == 0 {
        return Err(StoreError::invalid("period", "periods are numbered from 1"));
    }
    let (set, filed_on) = filing_rules(rules, plan)?;
    periodic_period(set, filed_on, plan.data.ended_on, n)
        .map_err(|e| StoreError::invalid("period", e.to_string()))
}

/// Finds a plan by id or by plan number.
pub async fn find_plan(store: &Store, id_or_number: &str) -> Result<Record<Plan>, StoreError> {
    if let Ok(id) = Uuid::parse_str(id_or_number) {
        return store.get::<Plan>(id).await;
    }
    store
        .all::<Plan>(vec![Filter::eq(
            "plan_number",
            Value::Text(id_or_number.to_string()),
        )])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            StoreError::invalid(
                "plan",
                format!("no plan with id or number '{id_or_number}'"),
            )
        })
}

/// Everything a plan's periodic reports are compiled from, loaded once so that several
/// periods can be compiled without reading the registry again.
pub struct PlanReportData {
    plan: Record<Plan>,
    institution: String,
    committee: String,
    treatments: Vec<Record<Treatment>>,
    patients: Vec<Record<Patient>>,
    visits: Vec<Record<Visit>>,
    observations: Vec<Record<Observation>>,
    adverse_events: Vec<Record<AdverseEvent>>,
}

impl PlanReportData {
    /// Reads the plan's treatments and everything about their patients.
    pub async fn load(store: &Store, plan: &Record<Plan>) -> Result<Self, StoreError> {
        let institution = store.get::<Organisation>(plan.data.institution_id).await?;
        let committee = store.get::<Organisation>(plan.data.committee_id).await?;
        let treatments = store
            .all::<Treatment>(vec![Filter::eq("plan_id", Value::Uuid(plan.meta.id))])
            .await?;
        let treatment_ids: Vec<Uuid> = treatments.iter().map(|t| t.meta.id).collect();
        let patient_ids: Vec<Uuid> = treatments.iter().map(|t| t.data.patient_id).collect();
        Ok(PlanReportData {
            plan: plan.clone(),
            institution: institution.data.name.to_string(),
            committee: committee.data.name.to_string(),
            patients: store.all_in::<Patient>("id", &patient_ids, vec![]).await?,
            visits: store
                .all_in::<Visit>("treatment_id", &treatment_ids, vec![])
                .await?,
            observations: store
                .all_in::<Observation>("patient_id", &patient_ids, vec![])
                .await?,
            adverse_events: store
                .all_in::<AdverseEvent>("patient_id", &patient_ids, vec![])
                .await?,
            treatments,
        })
    }

    /// Compiles one period.
    pub fn compile(&self, rules: &RuleBook, n: u32) -> Result<PeriodicReportContent, StoreError> {
        let deadline = period_deadline(rules, &self.plan, n)?;
        let input = ReportInput {
            plan: &self.plan,
            institution: &self.institution,
            committee: &self.committee,
            deadline: &deadline,
            treatments: &self.treatments,
            patients: &self.patients,
            visits: &self.visits,
            observations: &self.observations,
            adverse_events: &self.adverse_events,
        };
        compile(&input).ok_or_else(|| StoreError::invalid("period", "the deadline names no period"))
    }
}

/// Compiles period `n` of a plan's periodic report from the registry as it is now.
pub async fn compile_periodic_report(
    store: &Store,
    rules: &RuleBook,
    plan: &Record<Plan>,
    n: u32,
) -> Result<PeriodicReportContent, StoreError> {
    // Check the period before reading the plan's data.
    period_deadline(rules, plan, n)?;
    PlanReportData::load(store, plan).await?.compile(rules, n)
}

/// The stored form of a compiled report.
pub fn filed_report(
    content: &PeriodicReportContent,
    submitted_on: Date,
) -> Result<PeriodicReport, StoreError> {
    let json = serde_json::to_value(content).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(PeriodicReport {
        plan_id: content.plan.id,
        period_number: i64::from(content.period_number),
        period_start: content.period_start,
        period_end: content.period_end,
        due_on: content.due_on,
        submitted_on,
        rule_set: content
            .rule_set
            .parse()
            .map_err(|e: String| StoreError::invalid("rule_set", e))?,
        content_hash: content_hash(&json),
        content: json,
    })
}

/// Why a report could not be submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The signer is not a physician of the plan's institution.
    #[error("periodic reports are submitted by a physician of the plan's institution")]
    NotAllowed,
    /// The signature was refused (credentials, throttling, role).
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The report cannot be filed (period, data, already filed).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Files period `n` of a plan as submitted on `submitted_on`: compiles it, freezes the
/// content with its hash, and binds the submitter's electronic signature to it, in one
/// transaction. A period is filed once. The API, the pages and the command line all
/// file through here, so none of them can file without a physician's signature.
pub async fn submit_periodic_report(
    store: &Store,
    check: &CredentialCheck<'_>,
    rules: &RuleBook,
    plan: &Record<Plan>,
    n: u32,
    submitted_on: Date,
    submitter: Signer,
) -> Result<(Record<PeriodicReport>, Record<Signature>), SubmitError> {
    let signer = store.get::<User>(submitter.user_id).await?;
    if !may_file_periodic_report(signer.data.role, signer.data.organisation_id, &plan.data) {
        return Err(SubmitError::NotAllowed);
    }
    let content = compile_periodic_report(store, rules, plan, n).await?;
    let report = filed_report(&content, submitted_on)?;
    let mut batch = Batch::new(&actor_of(&signer));
    batch.check(plan);
    let record = batch.insert(report)?;
    let signature = sign(
        store,
        check,
        &mut batch,
        signer.meta.id,
        &submitter.credentials,
        SigningRequest {
            entity: "periodic_report",
            entity_id: record.meta.id,
            entity_version: 1,
            content_hash: crate::store::content_hash_of(&record.data)?,
            meaning: SignatureMeaning::Responsibility,
            comment: submitter.comment,
        },
    )
    .await?;
    store.commit(batch).await.map_err(|e| match e {
        StoreError::Duplicate { .. } => StoreError::invalid(
            "period",
            format!(
                "period {n} of plan {} is already filed",
                plan.data.plan_number
            ),
        ),
        other => other,
    })?;
    Ok((record, signature))
}
