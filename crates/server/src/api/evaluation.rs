//! Post-marketing evaluation over HTTP: evaluation plans and their check, the cohort,
//! analysis runs and the report, and blinded central adjudication.
//!
//! Two kinds of endpoint serve adjudication. The coordinator's (under
//! `/evaluation-plans/{id}/…`) create tasks and show their state and agreement. The
//! adjudicator's (under `/adjudication/…`) show only [`BlindedTask`]s — a type that has
//! no field for the product, arm, site, patient or plan, so no handler can leak them —
//! to the adjudicators named on the task's plan, each seeing others' assessments only
//! after submitting their own.

use super::resource::Resource;
use super::{ApiBuilder, operation};
use crate::access::{Action, Actor, authorize, read_filters, visible};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use saisei_domain::auth::Role;
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, AssessmentRound, BlindedEvent, EvaluationPlan,
    EvaluationRun, EventDecision, TaskStatus, check_plan,
};
use saisei_domain::registry::{Patient, Product};
use saisei_domain::text::{Code as TextCode, Text};
use saisei_domain::{Entity, Record};
use saisei_evidence::{AnalysisOptions, EvaluationResults};
use saisei_store::value::parse_date;
use saisei_store::workflow::evaluation::{
    Submission, create_tasks, load_data, record_run, stage_assessment, treated_patients,
};
use saisei_store::{Filter, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as JsonValue, json};
use time::Date;
use utoipa::openapi::path::HttpMethod;
use uuid::Uuid;

impl Resource for EvaluationPlan {
    type Input = EvaluationPlan;

    fn from_input(input: EvaluationPlan, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    /// Adds how many points the guidance asks to settle are still open.
    fn decorate(record: &Record<Self>, json: &mut Map<String, JsonValue>) {
        let (gaps, _, _) = saisei_evidence::check_with_power(&record.data);
        let open = gaps
            .iter()
            .filter(|g| g.severity == saisei_domain::evaluation::Severity::Gap)
            .count();
        json.insert("open_points".into(), json!(open));
    }

    fn derived() -> Vec<(
        &'static str,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )> {
        vec![(
            "open_points",
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::Integer)
                .minimum(Some(0))
                .description(Some(
                    "Points the guidance asks a plan to settle that it leaves open",
                ))
                .into(),
        )]
    }
}

impl Resource for EvaluationRun {
    type Input = EvaluationRun;

    fn from_input(_input: EvaluationRun, _state: &AppState) -> Result<Self, ApiError> {
        Err(ApiError::new(
            Code::MethodNotAllowed,
            "evaluation runs are made with POST /api/v1/evaluation-plans/{id}/runs",
        ))
    }
}

/// Query of the analysis endpoints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalysisQuery {
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// Body of `POST /evaluation-plans/{id}/runs` and `…/adjudication-tasks`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The data cut (default: the plan's, else today in JST).
    #[serde(default)]
    pub as_of: Option<Date>,
}

fn query_date(raw: Option<&str>) -> Result<Option<Date>, ApiError> {
    raw.map(|s| {
        parse_date(s).ok_or_else(|| {
            ApiError::field(
                Code::BadParameter,
                "as_of",
                format!("'{s}' is not a YYYY-MM-DD date"),
            )
        })
    })
    .transpose()
}

fn as_of(state: &AppState, plan: &Record<EvaluationPlan>, asked: Option<Date>) -> Date {
    asked
        .or(plan.data.data_cut)
        .unwrap_or_else(|| state.clock.today_jst())
}

fn evidence_error(e: saisei_evidence::EvidenceError) -> ApiError {
    match e {
        saisei_evidence::EvidenceError::Plan(m) => ApiError::new(Code::RuleViolation, m),
        saisei_evidence::EvidenceError::Render(m) => ApiError::new(Code::Internal, m),
    }
}

/// Runs the analysis off the async runtime (it is CPU-bound on large registries).
async fn run_analysis(
    state: &AppState,
    plan: &Record<EvaluationPlan>,
    as_of: Date,
) -> Result<EvaluationResults, ApiError> {
    let data = load_data(&state.store, plan).await?;
    let p = plan.data.clone();
    let options = AnalysisOptions {
        as_of,
        plan_id: Some(plan.meta.id),
        plan_version: plan.meta.version,
    };
    tokio::task::spawn_blocking(move || saisei_evidence::analyse(&p, &data, &options))
        .await
        .map_err(|_| ApiError::new(Code::Internal, "the analysis stopped unexpectedly"))?
        .map_err(evidence_error)
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// The plan check, with the power calculation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanCheck {
    /// Open points: gaps first, then warnings.
    pub findings: Vec<saisei_domain::evaluation::PlanGap>,
    /// Gaps (points the guidance asks to settle that the plan leaves open).
    pub gaps: usize,
    /// What the power assumptions require, if they are given.
    #[schema(value_type = Option<Object>)]
    pub power: Option<saisei_evidence::power::PowerResult>,
}

async fn get_check(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<PlanCheck>, ApiError> {
    authorize(&actor, Action::Read, EvaluationPlan::KIND)?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let (findings, power, _) = saisei_evidence::check_with_power(&plan.data);
    let gaps = findings
        .iter()
        .filter(|g| g.severity == saisei_domain::evaluation::Severity::Gap)
        .count();
    Ok(Json(PlanCheck {
        findings,
        gaps,
        power,
    }))
}

/// Checks a plan as posted, without storing it.
async fn post_check(
    State(_state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, EvaluationPlan::KIND)?;
    let plan: EvaluationPlan = parse(body)?;
    saisei_domain::Validate::validate(&plan)?;
    let findings = check_plan(&plan);
    Ok(Json(json!({ "findings": findings })))
}

async fn get_cohort(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    query: Result<Query<AnalysisQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, EvaluationPlan::KIND)?;
    let Query(q) = query.map_err(super::resource::query_rejection)?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let cut = as_of(&state, &plan, query_date(q.as_of.as_deref())?);
    let data = load_data(&state.store, &plan).await?;
    let p = plan.data.clone();
    let (flow, treated, control) = tokio::task::spawn_blocking(move || {
        let c = saisei_evidence::cohort::build(&p, &data, cut);
        let t = c.subjects.iter().filter(|s| s.treated).count();
        let k = c.subjects.len() - t;
        (c.flow, t, k)
    })
    .await
    .map_err(|_| ApiError::new(Code::Internal, "the cohort could not be built"))?;
    Ok(Json(
        json!({ "as_of": cut, "treated": treated, "control": control, "flow": flow }),
    ))
}

async fn post_run(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Create, EvaluationRun::KIND)?;
    let req: RunRequest = parse(body)?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let cut = as_of(&state, &plan, req.as_of);
    let results = run_analysis(&state, &plan, cut).await?;
    let json_results =
        serde_json::to_value(&results).map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
    let run = record_run(
        &state.store,
        &actor.audit(),
        &plan,
        cut,
        results.verdict,
        results.snapshot.clone(),
        json_results,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "run_id": run.meta.id,
            "verdict": run.data.verdict,
            "verdict_reasons": results.verdict_reasons,
            "as_of": cut,
            "snapshot": run.data.snapshot,
            "results_hash": run.data.results_hash,
            "report": format!("/api/v1/evaluation-runs/{}/report", run.meta.id),
        })),
    ))
}

async fn get_plan_report(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    query: Result<Query<AnalysisQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    authorize(&actor, Action::Export, EvaluationPlan::KIND)?;
    let Query(q) = query.map_err(super::resource::query_rejection)?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let cut = as_of(&state, &plan, query_date(q.as_of.as_deref())?);
    let results = run_analysis(&state, &plan, cut).await?;
    render(&results, q.format.as_deref())
}

fn render(results: &EvaluationResults, format: Option<&str>) -> Result<Response, ApiError> {
    match format {
        None | Some("html") => Ok(html(
            saisei_evidence::report::html(results).map_err(evidence_error)?,
        )),
        Some("json") => Ok(Json(results).into_response()),
        Some(other) => Err(ApiError::field(
            Code::BadParameter,
            "format",
            format!("'{other}' is not html or json"),
        )),
    }
}

async fn get_run_report(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    query: Result<Query<AnalysisQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    authorize(&actor, Action::Export, EvaluationRun::KIND)?;
    let Query(q) = query.map_err(super::resource::query_rejection)?;
    if q.as_of.is_some() {
        return Err(ApiError::field(
            Code::BadParameter,
            "as_of",
            "a stored run has its own data cut",
        ));
    }
    let run = visible::<EvaluationRun>(&state, &actor, parse_id(&id)?).await?;
    let results: EvaluationResults =
        serde_json::from_value(run.data.results.clone()).map_err(|e| {
            ApiError::new(
                Code::Internal,
                format!("the stored results cannot be read: {e}"),
            )
        })?;
    render(&results, q.format.as_deref())
}

/// Patients treated with a product, as far as the actor may see them.
async fn get_product_patients(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    query: Result<Query<super::resource::Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, Patient::KIND)?;
    let Query(params) = query.map_err(super::resource::query_rejection)?;
    let page = super::resource::PageRequest::parse(&params, &[])?;
    let product = visible::<Product>(&state, &actor, parse_id(&id)?).await?;
    let treated = treated_patients(&state.store, product.meta.id).await?;
    let ids: Vec<Uuid> = treated.iter().map(|(p, _)| *p).collect();
    let seen = state
        .store
        .all_in::<Patient>("id", &ids, read_filters::<Patient>(&actor)?)
        .await?;
    let seen: std::collections::HashSet<Uuid> = seen.iter().map(|p| p.meta.id).collect();
    let visible: Vec<(Uuid, time::Date)> = treated
        .into_iter()
        .filter(|(p, _)| seen.contains(p))
        .collect();
    let (shown, next) = super::resource::paginate(visible, |(p, _)| *p, &page)?;
    let items: Vec<JsonValue> = shown
        .iter()
        .map(|(p, d)| json!({"patient_id": p, "first_administered_on": d}))
        .collect();
    let body = json!({ "product_id": product.meta.id, "items": items, "next_cursor": next });
    let path = format!("/api/v1/products/{}/patients", product.meta.id);
    crate::access_log::disclosed_patients_in(&state, &actor, "list", &path, &body).await?;
    Ok(Json(body))
}

/// Coordinators only: adjudicators never reach unblinded task data, whatever the policy
/// says of the table.
fn not_adjudicator(actor: &Actor) -> Result<(), ApiError> {
    if actor.role == Role::Adjudicator {
        return Err(ApiError::new(
            Code::Forbidden,
            "adjudicators see tasks only blinded, at /api/v1/adjudication/tasks",
        ));
    }
    Ok(())
}

async fn post_tasks(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Create, AdjudicationTask::KIND)?;
    not_adjudicator(&actor)?;
    let req: RunRequest = parse(body)?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    if !plan.data.blinding.central_adjudication || plan.data.blinding.adjudicators.len() < 2 {
        return Err(ApiError::field(
            Code::RuleViolation,
            "blinding.adjudicators",
            "the plan has no central adjudication committee of at least two adjudicators",
        ));
    }
    let cut = as_of(&state, &plan, req.as_of);
    let data = load_data(&state.store, &plan).await?;
    let (plan_id, p) = (plan.meta.id, plan.data.clone());
    let tasks = tokio::task::spawn_blocking(move || {
        saisei_evidence::adjudication::new_tasks(plan_id, &p, &data, cut)
    })
    .await
    .map_err(|_| ApiError::new(Code::Internal, "tasks could not be derived"))?;
    let created = create_tasks(&state.store, &actor.audit(), &plan, tasks).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "created": created.len(), "as_of": cut })),
    ))
}

async fn get_tasks(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    query: Result<Query<super::resource::Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, AdjudicationTask::KIND)?;
    not_adjudicator(&actor)?;
    let Query(params) = query.map_err(super::resource::query_rejection)?;
    let page = super::resource::PageRequest::parse(&params, &[])?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let q = saisei_store::ListQuery {
        filters: vec![Filter::eq("plan_id", Value::Uuid(plan.meta.id))],
        after: page.cursor_id()?,
        limit: page.limit,
        include_withdrawn: false,
    };
    let listed = state.store.list::<AdjudicationTask>(&q).await?;
    let tasks = listed.items;
    let path = format!(
        "/api/v1/evaluation-plans/{}/adjudication-tasks",
        plan.meta.id
    );
    crate::access_log::disclosed(&state, &actor, "list", &path, &tasks).await?;
    let items: Vec<JsonValue> = tasks
        .iter()
        .map(|t| serde_json::to_value(t).unwrap_or(JsonValue::Null))
        .collect();
    Ok(Json(
        json!({ "items": items, "next_cursor": listed.next_cursor }),
    ))
}

async fn get_agreement(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<saisei_evidence::results::AdjudicationSummary>, ApiError> {
    authorize(&actor, Action::Read, AdjudicationTask::KIND)?;
    not_adjudicator(&actor)?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let tasks = state
        .store
        .all::<AdjudicationTask>(vec![Filter::eq("plan_id", Value::Uuid(plan.meta.id))])
        .await?;
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.meta.id).collect();
    let assessments = state
        .store
        .all_in::<AdjudicationAssessment>("task_id", &ids, vec![])
        .await?;
    Ok(Json(saisei_evidence::analysis::agreement_summary(
        &plan.data,
        &tasks,
        &assessments,
    )))
}

/// What an adjudicator sees of a task: the event and its endpoint's definition, their
/// own assessment, and others' only once they have submitted. It has no field for the
/// product, arm, site, patient or plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
    /// `awaiting_you`, `awaiting_others`, `needs_consensus` or `decided`.
    pub state: String,
    /// The final decision, once decided.
    pub decision: Option<EventDecision>,
    /// This adjudicator's assessments.
    pub yours: Vec<AssessmentView>,
    /// The other adjudicators' assessments: empty until this adjudicator has
    /// submitted their independent assessment.
    pub others: Vec<AssessmentView>,
}

/// One assessment as adjudicators see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    /// Who.
    pub adjudicator: String,
    /// Independent or consensus.
    pub round: AssessmentRound,
    /// The answer.
    pub decision: EventDecision,
    /// The reasoning.
    pub comment: Option<String>,
}

/// The panel name the actor goes by on `plan`, if they are on its panel.
fn panel_name(actor: &Actor, plan: &EvaluationPlan) -> Option<TextCode> {
    plan.blinding
        .adjudicators
        .iter()
        .find(|a| {
            a.as_str().eq_ignore_ascii_case(&actor.email) || a.as_str() == actor.user_id.to_string()
        })
        .cloned()
}

fn blinded(
    me: &TextCode,
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
    let mine: Vec<&Record<AdjudicationAssessment>> = assessments
        .iter()
        .filter(|a| &a.data.adjudicator == me)
        .collect();
    let submitted = mine
        .iter()
        .any(|a| a.data.round == AssessmentRound::Independent);
    let ep = plan.endpoint(task.data.endpoint.as_str());
    let redact = |s: &str| saisei_domain::evaluation::outcome::redact(s, product_words);
    let state = match task.data.status {
        TaskStatus::Decided => "decided",
        TaskStatus::NeedsConsensus => "needs_consensus",
        TaskStatus::AwaitingAssessments if submitted => "awaiting_others",
        TaskStatus::AwaitingAssessments => "awaiting_you",
    };
    BlindedTask {
        task_id: task.meta.id,
        task_code: task.data.task_code.to_string(),
        endpoint: ep.map(|e| redact(e.name.as_str())).unwrap_or_default(),
        definition: ep
            .map(|e| redact(&e.definition.describe()))
            .unwrap_or_default(),
        event: task.data.event.clone(),
        state: state.into(),
        decision: task.data.decision,
        yours: mine.iter().map(|a| view(a)).collect(),
        others: if submitted {
            assessments
                .iter()
                .filter(|a| &a.data.adjudicator != me)
                .map(view)
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// The plans the actor adjudicates, with the name they go by on each.
async fn my_plans(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(Record<EvaluationPlan>, TextCode)>, ApiError> {
    let plans = state.store.all::<EvaluationPlan>(vec![]).await?;
    Ok(plans
        .into_iter()
        .filter_map(|p| {
            let me = panel_name(actor, &p.data)?;
            Some((p, me))
        })
        .collect())
}

async fn product_words(state: &AppState, plan: &EvaluationPlan) -> Result<Vec<String>, ApiError> {
    let product = state.store.get::<Product>(plan.product_id).await?;
    Ok(saisei_evidence::adjudication::product_words(
        product.data.name.as_str(),
    ))
}

/// Query of the adjudicator's task list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskQuery {
    #[serde(default)]
    state: Option<String>,
}

async fn my_tasks(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<super::resource::Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "adjudication")?;
    let Query(params) = query.map_err(super::resource::query_rejection)?;
    let page = super::resource::PageRequest::parse(&params, &["state"])?;
    let q = TaskQuery {
        state: page.get("state").map(str::to_string),
    };
    const STATES: [&str; 4] = [
        "awaiting_you",
        "awaiting_others",
        "needs_consensus",
        "decided",
    ];
    if let Some(s) = &q.state
        && !STATES.contains(&s.as_str())
    {
        return Err(ApiError::field(
            Code::BadParameter,
            "state",
            "must be awaiting_you, awaiting_others, needs_consensus or decided",
        ));
    }
    let mut items = Vec::new();
    for (plan, me) in my_plans(&state, &actor).await? {
        let words = product_words(&state, &plan.data).await?;
        let tasks = state
            .store
            .all::<AdjudicationTask>(vec![Filter::eq("plan_id", Value::Uuid(plan.meta.id))])
            .await?;
        let ids: Vec<Uuid> = tasks.iter().map(|t| t.meta.id).collect();
        let assessments = state
            .store
            .all_in::<AdjudicationAssessment>("task_id", &ids, vec![])
            .await?;
        for t in &tasks {
            let of: Vec<Record<AdjudicationAssessment>> = assessments
                .iter()
                .filter(|a| a.data.task_id == t.meta.id)
                .cloned()
                .collect();
            let b = blinded(&me, &plan.data, &words, t, &of);
            if q.state.as_deref().is_none_or(|s| s == b.state) {
                items.push(b);
            }
        }
    }
    let (items, next) = super::resource::paginate(items, |t| t.task_id, &page)?;
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

/// Loads a task the actor adjudicates (others are "not found": their existence is not
/// disclosed).
async fn my_task(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<(Record<AdjudicationTask>, Record<EvaluationPlan>, TextCode), ApiError> {
    let not_found = || {
        ApiError::from(saisei_store::StoreError::NotFound {
            entity: "adjudication_task",
            id,
        })
    };
    let task = state
        .store
        .find::<AdjudicationTask>(id)
        .await?
        .ok_or_else(not_found)?;
    let plan = state.store.get::<EvaluationPlan>(task.data.plan_id).await?;
    let me = panel_name(actor, &plan.data).ok_or_else(not_found)?;
    Ok((task, plan, me))
}

async fn my_task_view(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<BlindedTask>, ApiError> {
    authorize(&actor, Action::Read, "adjudication")?;
    let (task, plan, me) = my_task(&state, &actor, parse_id(&id)?).await?;
    let assessments = state
        .store
        .all::<AdjudicationAssessment>(vec![Filter::eq("task_id", Value::Uuid(task.meta.id))])
        .await?;
    let words = product_words(&state, &plan.data).await?;
    Ok(Json(blinded(&me, &plan.data, &words, &task, &assessments)))
}

/// Body of an assessment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRequest {
    /// Whether the event meets the endpoint's definition.
    pub decision: EventDecision,
    /// Independent (default) or, after a disagreement, consensus.
    #[serde(default)]
    pub round: Option<AssessmentRound>,
    /// The reasoning.
    #[serde(default)]
    pub comment: Option<Text>,
    /// The adjudicator's electronic signature (password and code) over the assessment.
    pub signature: crate::api::trust::SignatureInput,
}

async fn post_assessment(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<BlindedTask>), ApiError> {
    authorize(&actor, Action::Create, "adjudication")?;
    let req: AssessmentRequest = parse(body)?;
    let (task, plan, me) = my_task(&state, &actor, parse_id(&id)?).await?;
    let mut batch = saisei_store::Batch::new(&actor.audit());
    let (task, assessment) = stage_assessment(
        &state.store,
        task.meta.id,
        Submission {
            adjudicator: me.clone(),
            round: req.round.unwrap_or(AssessmentRound::Independent),
            decision: req.decision,
            comment: req.comment,
        },
        &mut batch,
    )
    .await?;
    let mut signature = req.signature;
    signature.meaning = Some(saisei_domain::auth::SignatureMeaning::Assessment);
    let hash = saisei_store::store::content_hash_of(&assessment.data)?;
    crate::api::trust::sign_into(
        &state,
        &actor,
        &mut batch,
        crate::api::trust::Signed {
            entity: "adjudication_assessment",
            id: assessment.meta.id,
            version: 1,
            content_hash: hash,
        },
        signature,
    )
    .await?;
    state.store.commit(batch).await?;
    let assessments = state
        .store
        .all::<AdjudicationAssessment>(vec![Filter::eq("task_id", Value::Uuid(task.meta.id))])
        .await?;
    let words = product_words(&state, &plan.data).await?;
    Ok((
        StatusCode::CREATED,
        Json(blinded(&me, &plan.data, &words, &task, &assessments)),
    ))
}

/// Mounts the evaluation endpoints.
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    use super::{page_query, q, with_query};
    use utoipa::openapi::schema::Type;
    let op = |id: &str, summary: &str, body: Option<&str>, responses: &[(&str, &str)]| {
        operation("evaluation", id, summary, body, responses)
    };
    let as_of = || {
        q(
            "as_of",
            Type::String,
            "The data cut, YYYY-MM-DD (default: the plan's, else today in Japan)",
        )
    };
    let format = || q("format", Type::String, "html (default) or json");
    b.resource::<EvaluationPlan>()
        .resource::<EvaluationRun>()
        .schema::<RunRequest>()
        .schema::<AssessmentRequest>()
        .schema::<BlindedTask>()
        .schema::<PlanCheck>()
        .route(
            "/evaluation-plans/check",
            post(post_check),
            vec![(HttpMethod::Post, op("check_evaluation_plan_draft", "Check a draft plan against the MHLW evaluation index without storing it", Some("EvaluationPlan"), &[("200", "Findings"), ("422", "Invalid plan")]))],
        )
        .route(
            "/evaluation-plans/{id}/check",
            get(get_check),
            vec![(HttpMethod::Get, op("check_evaluation_plan", "Every point the guidance asks to settle or justify that the plan leaves open, with the power calculation", None, &[("200", "PlanCheck"), ("404", "No such plan")]))],
        )
        .route(
            "/evaluation-plans/{id}/cohort",
            get(get_cohort),
            vec![(HttpMethod::Get, with_query(op("evaluation_cohort", "The cohort's flow: who was identified and excluded and why", None, &[("200", "Flow and counts")]), vec![as_of()]))],
        )
        .route(
            "/evaluation-plans/{id}/runs",
            post(post_run),
            vec![(HttpMethod::Post, op("run_evaluation", "Run the analysis and file it with its data snapshot", Some("RunRequest"), &[("201", "The run: verdict, snapshot, report link"), ("409", "The plan changed meanwhile")]))],
        )
        .route(
            "/evaluation-plans/{id}/report",
            get(get_plan_report),
            vec![(HttpMethod::Get, with_query(op("evaluation_report", "Run the analysis now and return the report", None, &[("200", "Self-contained HTML or the results as JSON")]), vec![as_of(), format()]))],
        )
        .route(
            "/evaluation-runs/{id}/report",
            get(get_run_report),
            vec![(HttpMethod::Get, with_query(op("evaluation_run_report", "A filed run's report", None, &[("200", "Self-contained HTML or JSON")]), vec![format()]))],
        )
        .route(
            "/evaluation-plans/{id}/adjudication-tasks",
            get(get_tasks).post(post_tasks),
            vec![
                (HttpMethod::Get, with_query(op("list_adjudication_tasks", "The plan's adjudication tasks with their state (coordinators; not adjudicators)", None, &[("200", "Tasks")]), page_query())),
                (HttpMethod::Post, op("create_adjudication_tasks", "Turn new candidate endpoint events into adjudication tasks", Some("RunRequest"), &[("201", "How many were created"), ("422", "No adjudication committee")])),
            ],
        )
        .route(
            "/evaluation-plans/{id}/adjudication/agreement",
            get(get_agreement),
            vec![(HttpMethod::Get, op("adjudication_agreement", "Task states and each pair of adjudicators' agreement (Cohen's kappa)", None, &[("200", "Summary")]))],
        )
        .route(
            "/adjudication/tasks",
            get(my_tasks),
            vec![(HttpMethod::Get, with_query(op("my_adjudication_tasks", "The acting adjudicator's tasks, blinded", None, &[("200", "BlindedTask list")]), {
                let mut p = page_query();
                p.push(q("state", Type::String, "awaiting_you, awaiting_others, needs_consensus or decided"));
                p
            }))],
        )
        .route(
            "/adjudication/tasks/{id}",
            get(my_task_view),
            vec![(HttpMethod::Get, op("my_adjudication_task", "One task, blinded", None, &[("200", "BlindedTask"), ("404", "Not one of your tasks")]))],
        )
        .route(
            "/adjudication/tasks/{id}/assessments",
            post(post_assessment),
            vec![(HttpMethod::Post, op("assess_adjudication_task", "Submit an independent assessment, or the consensus after a disagreement", Some("AssessmentRequest"), &[("201", "The task after the assessment, blinded"), ("409", "Already assessed"), ("422", "Not the right round")]))],
        )
        .route(
            "/products/{id}/patients",
            get(get_product_patients),
            vec![(HttpMethod::Get, with_query(op("product_patients", "Registry patients treated with the product (recorded treatments or units of its lots)", None, &[("200", "Patients with first administration")]), page_query()))],
        )
}
