//! Post-marketing evaluation over HTTP: evaluation plans and their check, the cohort,
//! analysis runs and the report. Each handler checks access and calls the store's
//! evaluation workflows with this build's evidence engine; central adjudication is in
//! [`super::adjudication`].

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
use saisei_domain::evaluation::{EvaluationPlan, EvaluationRun, check_plan, data_cut};
use saisei_domain::registry::{Patient, Product};
use saisei_domain::{Entity, Record};
use saisei_evidence::{Engine, EvaluationResults};
use saisei_store::value::parse_date;
use saisei_store::workflow::evaluation::{
    AnalysisError, analyse, load_data, run_evaluation, treated_patients,
};
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

pub(super) fn as_of(state: &AppState, plan: &Record<EvaluationPlan>, asked: Option<Date>) -> Date {
    data_cut(&plan.data, asked, state.clock.today_jst())
}

fn evidence_error(e: saisei_evidence::EvidenceError) -> ApiError {
    match e {
        saisei_evidence::EvidenceError::Plan(m) => ApiError::new(Code::RuleViolation, m),
    }
}

/// Maps a refused or failed evaluation workflow to a problem.
pub(super) fn analysis_problem(e: AnalysisError<saisei_evidence::EvidenceError>) -> ApiError {
    match e {
        AnalysisError::Store(s) => s.into(),
        AnalysisError::Engine(e) => evidence_error(e),
        AnalysisError::NoPanel => {
            ApiError::field(Code::RuleViolation, "blinding.adjudicators", e.to_string())
        }
        AnalysisError::Stopped => ApiError::new(Code::Internal, e.to_string()),
    }
}

/// Runs the analysis (the store's workflow, with this build's evidence engine).
async fn run_analysis(
    state: &AppState,
    plan: &Record<EvaluationPlan>,
    as_of: Date,
) -> Result<EvaluationResults, ApiError> {
    analyse(&state.store, Engine, plan, as_of)
        .await
        .map_err(analysis_problem)
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
    let (run, results) = run_evaluation(&state.store, Engine, &actor.audit(), &plan, cut)
        .await
        .map_err(analysis_problem)?;
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
            crate::reports::evaluation_report_html(results).map_err(|m| {
                ApiError::new(
                    Code::Internal,
                    format!("the report could not be drawn: {m}"),
                )
            })?,
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
    b.schema::<RunRequest>()
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
            "/products/{id}/patients",
            get(get_product_patients),
            vec![(HttpMethod::Get, with_query(op("product_patients", "Registry patients treated with the product (recorded treatments or units of its lots)", None, &[("200", "Patients with first administration")]), page_query()))],
        )
}
