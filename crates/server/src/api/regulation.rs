//! The regulatory engine over HTTP: classification, rule sets, what-if, periodic
//! reports and deadlines.

use super::resource::Resource;
use super::trust::SignatureInput;
use super::{ApiBuilder, operation};
use crate::access::{Action, Actor, authorize, visible};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use saisei_domain::Record;
use saisei_domain::registry::{PeriodicReport, Plan};
use saisei_domain::regulation::{
    ClassificationResult, DeadlineStatus, RuleSet, RuleSetSummary, TherapyDescription, classify,
    periodic_periods_due,
};
use saisei_store::value::parse_date;
use saisei_store::workflow::deadlines::{DeadlineQuery, DeadlineReport, deadlines};
use saisei_store::workflow::reports::{
    SubmitError, compile_periodic_report, filing_rules, submit_periodic_report,
};
use saisei_store::workflow::what_if::{WhatIfReport, what_if};
use serde::{Deserialize, Serialize};
use serde_json::{Value as JsonValue, json};
use time::Date;
use utoipa::openapi::path::HttpMethod;

impl Resource for PeriodicReport {
    type Input = PeriodicReport;

    fn from_input(_input: PeriodicReport, _state: &AppState) -> Result<Self, ApiError> {
        Err(ApiError::new(
            Code::MethodNotAllowed,
            "periodic reports are filed with POST /api/v1/plans/{id}/periodic-reports/{n}/submit",
        ))
    }
}

/// The body of `POST /api/v1/classify`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyRequest {
    /// The therapy to classify.
    pub therapy: TherapyDescription,
    /// The date whose rules apply (default: today in JST).
    #[serde(default)]
    pub date: Option<Date>,
    /// A rule set id instead of the date (e.g. a proposal).
    #[serde(default)]
    pub rule_set: Option<String>,
}

/// Picks the rule set: by id, else the one in force on `date`.
pub fn choose_rule_set<'a>(
    state: &'a AppState,
    id: Option<&str>,
    date: Option<Date>,
) -> Result<&'a RuleSet, ApiError> {
    match id {
        Some(id) => state
            .rules
            .get(id)
            .map_err(|e| ApiError::field(Code::ValidationFailed, "rule_set", e.to_string())),
        None => {
            let date = date.unwrap_or_else(|| state.clock.today_jst());
            state
                .rules
                .in_force_on(date)
                .map_err(|e| ApiError::field(Code::ValidationFailed, "date", e.to_string()))
        }
    }
}

async fn post_classify(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<Json<ClassificationResult>, ApiError> {
    authorize(&actor, Action::Read, "classification")?;
    let req: ClassifyRequest = parse(body)?;
    let set = choose_rule_set(&state, req.rule_set.as_deref(), req.date)?;
    Ok(Json(classify(set, &req.therapy)))
}

async fn list_rule_sets(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "rule_set")?;
    let items: Vec<RuleSetSummary> = state
        .rules
        .rule_sets()
        .iter()
        .map(|r| r.summary())
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

async fn get_rule_set(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<RuleSetSummary>, ApiError> {
    authorize(&actor, Action::Read, "rule_set")?;
    let set = state
        .rules
        .get(&id)
        .map_err(|e| ApiError::new(Code::NotFound, e.to_string()))?;
    Ok(Json(set.summary()))
}

/// Query of `GET /api/v1/what-if`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatIfQuery {
    rule_set: String,
}

/// Body of `POST /api/v1/what-if`: a rule set not (yet) embedded, as TOML text.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfRequest {
    /// The rule set, in the same TOML form as the files under `rules/asrm/`.
    pub rule_set_toml: String,
}

async fn get_what_if(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<WhatIfQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<WhatIfReport>, ApiError> {
    authorize(&actor, Action::Read, "what_if")?;
    let Query(q) = query.map_err(|e| {
        ApiError::field(
            Code::BadParameter,
            "rule_set",
            format!("give ?rule_set=ID: {e}"),
        )
    })?;
    // The rule set is named in the query: an unknown one is a bad parameter (400).
    let set = choose_rule_set(&state, Some(&q.rule_set), None)
        .map_err(|e| e.with_code(Code::BadParameter))?;
    Ok(Json(what_if(&state.store, set).await?))
}

async fn post_what_if(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<Json<WhatIfReport>, ApiError> {
    authorize(&actor, Action::Read, "what_if")?;
    let req: WhatIfRequest = parse(body)?;
    let set = RuleSet::from_toml_str("request body", &req.rule_set_toml)
        .map_err(|e| ApiError::field(Code::ValidationFailed, "rule_set_toml", e.to_string()))?;
    Ok(Json(what_if(&state.store, &set).await?))
}

fn plan_period(raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=200).contains(n))
        .ok_or_else(|| {
            ApiError::field(
                Code::BadParameter,
                "period",
                "must be a whole number from 1",
            )
        })
}

async fn list_plan_reports(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    let (_plan, items) = plan_periods(&state, &actor, parse_id(&id)?).await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

/// One reporting period of a plan: its deadline, and the report filed for it if any.
#[derive(Debug, Clone, Serialize)]
pub struct PlanPeriod {
    /// The period's number (from 1).
    pub period: u32,
    /// Its first day.
    pub start: Date,
    /// Its last day.
    pub end: Date,
    /// When its report is due.
    pub due_on: Date,
    /// due, overdue or done.
    pub status: DeadlineStatus,
    /// Days left (negative when overdue).
    pub days_remaining: i64,
    /// When the report was submitted.
    pub submitted_on: Option<Date>,
    /// The filed report.
    pub report_id: Option<uuid::Uuid>,
    /// The rule set the deadline comes from.
    pub rule_set: String,
    /// The provision.
    pub citation: String,
}

/// A plan the actor may see and its reporting periods so far (the API's list and the
/// plan's page share it).
pub async fn plan_periods(
    state: &AppState,
    actor: &Actor,
    plan_id: uuid::Uuid,
) -> Result<(Record<Plan>, Vec<PlanPeriod>), ApiError> {
    authorize(actor, Action::Read, "periodic_report")?;
    let plan = visible::<Plan>(state, actor, plan_id).await?;
    let (set, filed_on) = filing_rules(state.rules, &plan)?;
    let today = state.clock.today_jst();
    let filed = state
        .store
        .all::<PeriodicReport>(vec![saisei_store::Filter::eq(
            "plan_id",
            saisei_store::Value::Uuid(plan.meta.id),
        )])
        .await?;
    let periods = periodic_periods_due(set, filed_on, plan.data.ended_on, today)
        .map_err(|e| ApiError::new(Code::RuleViolation, e.to_string()))?;
    let items = periods
        .iter()
        .filter_map(|d| {
            let p = d.period?;
            let report = filed
                .iter()
                .find(|r| r.data.period_number == i64::from(p.number));
            let state = d.status(today, report.map(|r| r.data.submitted_on));
            Some(PlanPeriod {
                period: p.number,
                start: p.start,
                end: p.end,
                due_on: d.due_on,
                status: state.status,
                days_remaining: state.days_remaining,
                submitted_on: state.done_on,
                report_id: report.map(|r| r.meta.id),
                rule_set: d.rule_set.clone(),
                citation: d.citation.clone(),
            })
        })
        .collect();
    Ok((plan, items))
}

/// Query of the report endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    #[serde(default)]
    format: Option<String>,
}

async fn get_plan_report(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, n)): Path<(String, String)>,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    authorize(&actor, Action::Export, "periodic_report")?;
    let Query(q) =
        query.map_err(|e| ApiError::field(Code::BadParameter, "format", e.to_string()))?;
    let plan = visible::<Plan>(&state, &actor, parse_id(&id)?).await?;
    let n = plan_period(&n)?;
    let content = compile_periodic_report(&state.store, state.rules, &plan, n).await?;
    // Reports leave the system: the export is audited.
    state
        .store
        .record_audit(vec![saisei_domain::audit::AuditDraft {
            actor: actor.audit(),
            action: saisei_domain::audit::AuditAction::Export,
            entity: "plan".into(),
            entity_id: Some(plan.meta.id),
            before: None,
            after: Some(json!({ "report": "periodic", "period": n, "format": q.format.as_deref().unwrap_or("json") })),
            reason: None,
        }])
        .await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(content).into_response()),
        Some("html") => {
            let html = crate::reports::periodic_report_html(&content)
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
            Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
        }
        Some(other) => Err(ApiError::field(
            Code::BadParameter,
            "format",
            format!("'{other}' is not json or html"),
        )),
    }
}

/// Body of the submit endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    /// The day the report was submitted (default: today in JST).
    #[serde(default)]
    pub submitted_on: Option<Date>,
    /// The responsible physician's electronic signature (password and code).
    pub signature: SignatureInput,
}

async fn submit_plan_report(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Read, "periodic_report")?;
    let req: SubmitReport = parse(body)?;
    let plan_id = parse_id(&id)?;
    // The plan's reach before the period's form, as the other plan endpoints answer.
    visible::<Plan>(&state, &actor, plan_id).await?;
    let n = plan_period(&n)?;
    let (record, signature) = submit_report(&state, &actor, plan_id, n, req).await?;
    let mut json = super::resource::to_json(&record);
    json["signature"] = serde_json::to_value(&signature).unwrap_or_default();
    Ok((StatusCode::CREATED, Json(json)))
}

/// Files period `n`'s periodic report of a plan the actor may see, signed by the actor
/// (password and current code): the API's submit and the plan page's form share it.
pub async fn submit_report(
    state: &AppState,
    actor: &Actor,
    plan_id: uuid::Uuid,
    n: u32,
    req: SubmitReport,
) -> Result<
    (
        Record<PeriodicReport>,
        Record<saisei_domain::auth::Signature>,
    ),
    ApiError,
> {
    authorize(actor, Action::Read, "periodic_report")?;
    let plan = visible::<Plan>(state, actor, plan_id).await?;
    let on = req.submitted_on.unwrap_or_else(|| state.clock.today_jst());
    let check = state.credential_check(actor.address);
    submit_periodic_report(
        &state.store,
        &check,
        state.rules,
        &plan,
        n,
        on,
        req.signature.signer(actor),
    )
    .await
    .map_err(|e| match e {
        SubmitError::NotAllowed => ApiError::new(Code::Forbidden, e.to_string()),
        SubmitError::Signing(s) => super::trust::signing_problem(s),
        SubmitError::Store(saisei_store::StoreError::Invalid(v))
            if v.0.iter().any(|f| f.field == "period") =>
        {
            ApiError::from(v).with_code(Code::Duplicate)
        }
        SubmitError::Store(s) => s.into(),
    })
}

/// Query of `GET /api/v1/deadlines`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlineParams {
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    institution_id: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

/// Obligations listed per institution unless `limit` asks otherwise: a worklist's page.
/// Totals count every one.
const DEADLINES_LISTED: usize = 100;

async fn get_deadlines(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<DeadlineParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DeadlineReport>, ApiError> {
    authorize(&actor, Action::Read, "deadline")?;
    let Query(p) =
        query.map_err(|e| ApiError::new(Code::BadParameter, format!("bad query: {e}")))?;
    let as_of = match p.as_of.as_deref() {
        Some(s) => parse_date(s).ok_or_else(|| {
            ApiError::field(
                Code::BadParameter,
                "as_of",
                format!("'{s}' is not a YYYY-MM-DD date"),
            )
        })?,
        None => state.clock.today_jst(),
    };
    let status = match p.status.as_deref() {
        None => None,
        Some("due") => Some(DeadlineStatus::Due),
        Some("overdue") => Some(DeadlineStatus::Overdue),
        Some("done") => Some(DeadlineStatus::Done),
        Some(other) => {
            return Err(ApiError::field(
                Code::BadParameter,
                "status",
                format!("'{other}' is not due, overdue or done"),
            ));
        }
    };
    let asked = p
        .institution_id
        .as_deref()
        .map(parse_id)
        .transpose()
        .map_err(|_| ApiError::field(Code::BadParameter, "institution_id", "is not a UUID"))?;
    let institution_id = crate::access::deadline_institution(&actor, asked)?;
    let limit = match p.limit.as_deref() {
        Some(raw) => super::resource::parse_limit(raw)? as usize,
        None => DEADLINES_LISTED,
    };
    let q = DeadlineQuery {
        status,
        institution_id,
        limit: Some(limit),
    };
    Ok(Json(deadlines(&state.store, state.rules, as_of, &q).await?))
}

async fn get_retention(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "rule_set")?;
    let today = state.clock.today_jst();
    let set = choose_rule_set(&state, None, Some(today))?;
    let classes: Vec<JsonValue> = [
        saisei_domain::regulation::RecordClass::ClinicalRecord,
        saisei_domain::regulation::RecordClass::SpecifiedProduct,
    ]
    .into_iter()
    .map(|c| {
        json!({
            "record_class": c,
            "years": saisei_domain::regulation::retention_years(set, c),
            "records_of_today_kept_until": saisei_domain::regulation::retain_until(set, c, today).ok(),
        })
    })
    .collect();
    Ok(Json(json!({
        "rule_set": set.id(),
        "source": set.parameters().retention.source,
        "classes": classes,
        "note": "Saisei never deletes a record: withdrawal keeps it, with the reason, past its retention period.",
    })))
}

/// Mounts the regulatory endpoints.
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    use super::{q, q_required, with_query};
    use utoipa::openapi::schema::Type;
    b.schema::<ClassifyRequest>()
        .schema::<ClassificationResult>()
        .schema::<WhatIfRequest>()
        .schema::<WhatIfReport>()
        .schema::<SubmitReport>()
        .schema::<DeadlineReport>()
        .schema::<RuleSetSummary>()
        .route(
            "/classify",
            post(post_classify),
            vec![(HttpMethod::Post, operation("regulation", "classify", "Classify a therapy under the Act by the rules in force on a date (or a named rule set), with the reasons", Some("ClassifyRequest"), &[("200", "ClassificationResult"), ("422", "Invalid therapy description or no rule set")]))],
        )
        .route(
            "/rule-sets",
            get(list_rule_sets),
            vec![(HttpMethod::Get, operation("regulation", "list_rule_sets", "The ASRM rule sets, in force and proposed, with their sources", None, &[("200", "Rule set summaries")]))],
        )
        .route(
            "/rule-sets/{id}",
            get(get_rule_set),
            vec![(HttpMethod::Get, operation("regulation", "get_rule_set", "One rule set with its rules and parameters", None, &[("200", "RuleSetSummary"), ("404", "No such rule set")]))],
        )
        .route(
            "/what-if",
            get(get_what_if).post(post_what_if),
            vec![
                (HttpMethod::Get, with_query(operation("regulation", "what_if", "Re-classify every plan on file under an embedded rule set", None, &[("200", "WhatIfReport")]), vec![q_required("rule_set", Type::String, "The rule set's id (see /rule-sets)")])),
                (HttpMethod::Post, operation("regulation", "what_if_toml", "Re-classify every plan on file under a rule set given as TOML", Some("WhatIfRequest"), &[("200", "WhatIfReport"), ("422", "Invalid rule set")])),
            ],
        )
        .route(
            "/plans/{id}/periodic-reports",
            get(list_plan_reports),
            vec![(HttpMethod::Get, operation("regulation", "list_plan_periodic_reports", "A plan's reporting periods so far, with deadlines and status", None, &[("200", "Periods")]))],
        )
        .route(
            "/plans/{id}/periodic-reports/{n}",
            get(get_plan_report),
            vec![(HttpMethod::Get, with_query(operation("regulation", "compile_periodic_report", "Compile period n's periodic report from registry data", None, &[("200", "PeriodicReportContent or HTML")]), vec![q("format", Type::String, "json (default) or html")]))],
        )
        .route(
            "/plans/{id}/periodic-reports/{n}/submit",
            post(submit_plan_report),
            vec![(HttpMethod::Post, operation("regulation", "submit_periodic_report", "File period n's report: the compiled content is frozen with its hash", Some("SubmitReport"), &[("201", "The filed report"), ("409", "Already filed"), ("422", "Period not ended or plan not filed")]))],
        )
        .route(
            "/retention",
            get(get_retention),
            vec![(HttpMethod::Get, operation("regulation", "retention", "Record retention periods by record class, from the rule set in force", None, &[("200", "Retention periods")]))],
        )
        .route(
            "/deadlines",
            get(get_deadlines),
            vec![(HttpMethod::Get, with_query(operation("regulation", "deadlines", "Periodic-report and adverse-event deadlines per institution", None, &[("200", "DeadlineReport")]), vec![
                q("as_of", Type::String, "Statuses as of this date, YYYY-MM-DD (default: today in Japan)"),
                q("status", Type::String, "Only this status: due, overdue or done"),
                q("institution_id", Type::String, "Only this institution (a regulator's view)"),
                q("limit", Type::Integer, "Obligations listed per institution, the most pressing first, 1–1000 (default 100); totals count every one"),
            ]))],
        )
}
