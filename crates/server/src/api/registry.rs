//! The registry core's resources and the workflows behind their writes.

use super::resource::Resource;
use super::trust::{SignatureInput, signing_problem};
use super::{ApiBuilder, operation};
use crate::access::{Action, Actor, authorize, visible};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use saisei_domain::Record;
use saisei_domain::dates::today_jst;
use saisei_domain::registry::*;
use saisei_store::workflow::plan::{MoveError, move_plan};
use saisei_store::workflow::{TransitionRequest, record_treatment};
use serde_json::{Map, Value as JsonValue};
use utoipa::openapi::path::HttpMethod;

impl Resource for Patient {
    type Input = NewPatient;

    fn from_input(input: NewPatient, state: &AppState) -> Result<Self, ApiError> {
        let key = state.pseudonym_key.as_ref().ok_or_else(|| {
            ApiError::new(
                Code::NotConfigured,
                "no pseudonym key is configured (SAISEI_PSEUDONYM_KEY or --key-file): patients cannot be registered",
            )
        })?;
        Ok(Patient {
            institution_id: input.institution_id,
            pseudonym: key.pseudonym(
                &input.institution_id.to_string(),
                input.record_number.as_str(),
            ),
            birth_year_month: input.birth_year_month,
            sex: input.sex,
        })
    }
}

impl Resource for Plan {
    type Input = Plan;

    fn from_input(input: Plan, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    fn update_needs_reason(current: &Record<Self>) -> bool {
        current.data.status != PlanStatus::Draft
    }
}

impl Resource for PlanTransition {
    type Input = PlanTransition;

    fn from_input(_input: PlanTransition, _state: &AppState) -> Result<Self, ApiError> {
        Err(ApiError::new(
            Code::MethodNotAllowed,
            "plan transitions are made with POST /api/v1/plans/{id}/transitions",
        ))
    }
}

impl Resource for Treatment {
    type Input = Treatment;

    fn from_input(input: Treatment, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    async fn create(state: &AppState, actor: &Actor, data: Self) -> Result<Record<Self>, ApiError> {
        let (record, _visits) = record_treatment(&state.store, &actor.audit(), data).await?;
        Ok(record)
    }
}

impl Resource for Visit {
    type Input = Visit;

    fn from_input(input: Visit, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    fn decorate(record: &Record<Self>, json: &mut Map<String, JsonValue>) {
        let today = today_jst(time::OffsetDateTime::now_utc());
        let status = serde_json::to_value(record.data.status(today)).unwrap_or(JsonValue::Null);
        json.insert("status".into(), status);
    }

    fn derived() -> Vec<(
        &'static str,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )> {
        vec![("status", <VisitStatus as utoipa::PartialSchema>::schema())]
    }
}

/// Body of `POST /api/v1/plans/{id}/transitions`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// The status to move to.
    pub to: PlanStatus,
    /// The date the move takes effect.
    pub on: time::Date,
    /// Why (required for suspension, withdrawal and returns to draft).
    #[serde(default)]
    pub reason: Option<saisei_domain::text::Text>,
    /// The plan version the client read.
    pub version: i64,
    /// The mover's electronic signature: required to submit a plan (the responsible
    /// physician) and to accept it (a committee member).
    #[serde(default)]
    pub signature: Option<SignatureInput>,
}

/// `POST /api/v1/plans/{id}/transitions`: moves a plan through its lifecycle.
pub async fn post_transition(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Read, "plan")?;
    let id = parse_id(&id)?;
    let body: TransitionBody = parse(body)?;
    let moved = transition_plan(&state, &actor, id, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "plan": moved.plan,
            "transition": moved.transition,
            "signature": moved.signature,
        })),
    ))
}

/// Patients with an enrolment under `plan_id` and/or in `arm`: a
/// condition on the patients list that follows the enrolments, for finding a plan's
/// treated patients or its controls. `None` when neither is given.
pub fn enrolled(plan_id: Option<uuid::Uuid>, arm: Option<Arm>) -> Option<saisei_store::Filter> {
    use saisei_store::{Filter, Value};
    // The sub-select leaves withdrawn enrolments out, as every list does.
    let mut on = Vec::new();
    if let Some(p) = plan_id {
        on.push(Filter::eq("plan_id", Value::Uuid(p)));
    }
    if let Some(a) = arm {
        let name = serde_json::to_value(a).ok()?.as_str()?.to_string();
        on.push(Filter::eq("arm", Value::Text(name)));
    }
    (!on.is_empty())
        .then(|| Filter::in_select("id", &saisei_store::tables::ENROLLMENTS, "patient_id", on))
}

/// Moves plan `id` (in the actor's reach) through its lifecycle, for the API and the
/// pages alike: the store's [`move_plan`] decides who may and signs where the move
/// needs it.
pub async fn transition_plan(
    state: &AppState,
    actor: &Actor,
    id: uuid::Uuid,
    body: TransitionBody,
) -> Result<saisei_store::workflow::plan::Moved, ApiError> {
    authorize(actor, Action::Read, "plan")?;
    visible::<Plan>(state, actor, id).await?;
    let request = TransitionRequest {
        to: body.to,
        on: body.on,
        reason: body.reason,
        version: body.version,
    };
    move_plan(
        &state.store,
        &state.credential_check(actor.address),
        state.rules,
        actor.user_id,
        body.signature.map(SignatureInput::into_store),
        id,
        request,
    )
    .await
    .map_err(|e| match e {
        MoveError::NotAllowed { .. } => ApiError::new(Code::Forbidden, e.to_string()),
        MoveError::Signing(s) => signing_problem(s),
        MoveError::Store(s) => s.into(),
    })
}

/// Mounts the registry core's workflows (its kinds are mounted from `api::kinds`).
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    b.schema::<TransitionBody>()
        .route(
            "/plans/{id}/transitions",
            post(post_transition),
            vec![(
                HttpMethod::Post,
                operation(
                    "plans",
                    "transition_plan",
                    "Move a plan through its lifecycle (dated, attributed, checked against the rules in force)",
                    Some("TransitionBody"),
                    &[
                        ("201", "The plan after the move and the transition record"),
                        ("409", "Stale version"),
                        ("422", "The move breaks a lifecycle or regulatory rule"),
                    ],
                ),
            )],
        )
}
