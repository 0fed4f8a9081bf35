//! Central adjudication over HTTP.
//!
//! Two kinds of endpoint serve it. The coordinator's (under `/evaluation-plans/{id}/…`)
//! create tasks and show their state and agreement; adjudicators never reach them
//! ([`check_unblinded`]). The adjudicator's (under `/adjudication/…`) show only
//! [`BlindedTask`]s, built by the domain's one blinding function through the store's
//! adjudication workflows: a type with no field for the product, arm, site, patient or
//! plan, shown to the adjudicators on the task's plan, each seeing others' assessments
//! only after submitting their own.

use super::evaluation::{RunRequest, analysis_problem, as_of};
use super::{ApiBuilder, operation};
use crate::access::{Action, Actor, authorize, check_unblinded, visible};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use saisei_domain::Entity;
use saisei_domain::evaluation::{
    AdjudicationTask, AssessmentRound, BlindedState, BlindedTask, EvaluationPlan, EventDecision,
};
use saisei_domain::text::Text;
use saisei_evidence::Engine;
use saisei_store::workflow::adjudication::{
    Adjudicator, SignedAssessment, assess, blinded_task, blinded_tasks, new_tasks, tasks_of,
};
use saisei_store::{Filter, Value};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use utoipa::openapi::path::HttpMethod;

fn adjudicator(actor: &Actor) -> Adjudicator<'_> {
    Adjudicator {
        user_id: actor.user_id,
        email: &actor.email,
    }
}

async fn post_tasks(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Create, AdjudicationTask::KIND)?;
    check_unblinded(&actor)?;
    let req: RunRequest = parse(body)?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let cut = as_of(&state, &plan, req.as_of);
    let created = new_tasks(&state.store, Engine, &actor.audit(), &plan, cut)
        .await
        .map_err(analysis_problem)?;
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
    check_unblinded(&actor)?;
    let Query(params) = query.map_err(super::resource::query_rejection)?;
    let page = super::resource::PageRequest::parse(&params, &[])?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let q = saisei_store::ListQuery {
        filters: vec![Filter::eq("plan_id", Value::Uuid(plan.meta.id))],
        after: page.cursor_id()?,
        limit: page.limit,
        include_withdrawn: false,
        order: None,
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
    check_unblinded(&actor)?;
    let plan = visible::<EvaluationPlan>(&state, &actor, parse_id(&id)?).await?;
    let (tasks, assessments) = tasks_of(&state.store, plan.meta.id).await?;
    Ok(Json(saisei_evidence::analysis::agreement_summary(
        &plan.data,
        &tasks,
        &assessments,
    )))
}

async fn my_tasks(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<super::resource::Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "adjudication")?;
    let Query(params) = query.map_err(super::resource::query_rejection)?;
    let page = super::resource::PageRequest::parse(&params, &["state"])?;
    let wanted = page
        .get("state")
        .map(|s| s.parse::<BlindedState>())
        .transpose()
        .map_err(|e| ApiError::field(Code::BadParameter, "state", e))?;
    let items = blinded_tasks(&state.store, adjudicator(&actor), wanted).await?;
    let (items, next) = super::resource::paginate(items, |t| t.task_id, &page)?;
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

async fn my_task_view(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<BlindedTask>, ApiError> {
    authorize(&actor, Action::Read, "adjudication")?;
    let task = blinded_task(&state.store, adjudicator(&actor), parse_id(&id)?).await?;
    Ok(Json(task))
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
    let signature = req.signature.into_store();
    let task = assess(
        &state.store,
        &state.credential_check(actor.address),
        &actor.audit(),
        adjudicator(&actor),
        parse_id(&id)?,
        SignedAssessment {
            decision: req.decision,
            round: req.round.unwrap_or(AssessmentRound::Independent),
            comment: req.comment,
            credentials: signature.credentials,
            signature_comment: signature.comment,
        },
    )
    .await
    .map_err(crate::api::trust::signing_problem)?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// Mounts the adjudication endpoints.
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    use super::{page_query, q, with_query};
    use utoipa::openapi::schema::Type;
    let op = |id: &str, summary: &str, body: Option<&str>, responses: &[(&str, &str)]| {
        operation("evaluation", id, summary, body, responses)
    };
    b.schema::<AssessmentRequest>()
        .schema::<BlindedTask>()
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
}
