//! The registry core's resources and the workflows behind their writes.

use super::resource::Resource;
use super::{ApiBuilder, operation};
use axum::routing::post;
use utoipa::openapi::path::HttpMethod;
use crate::access::{Action, Actor, authorize};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use saisei_domain::Record;
use saisei_domain::dates::today_jst;
use saisei_domain::registry::*;
use saisei_store::workflow::{TransitionRequest, record_treatment, transition_plan};
use serde_json::{Map, Value as JsonValue};

macro_rules! plain_resource {
    ($ty:ty, $path:literal, $tag:literal, [$($immutable:literal),*]) => {
        impl Resource for $ty {
            const PATH: &'static str = $path;
            const TAG: &'static str = $tag;
            const IMMUTABLE: &'static [&'static str] = &[$($immutable),*];
            type Input = $ty;
            fn from_input(input: Self::Input, _state: &AppState) -> Result<Self, ApiError> {
                Ok(input)
            }
        }
    };
}

plain_resource!(Organisation, "organisations", "organisations", ["kind"]);
plain_resource!(Practitioner, "practitioners", "organisations", []);
plain_resource!(Product, "products", "products", []);
plain_resource!(FollowUpSchedule, "follow-up-schedules", "follow-up", []);
plain_resource!(Enrollment, "enrollments", "patients", ["patient_id"]);
plain_resource!(Consent, "consents", "patients", ["patient_id"]);
plain_resource!(Observation, "observations", "follow-up", ["patient_id"]);
plain_resource!(
    AdverseEvent,
    "adverse-events",
    "adverse-events",
    ["patient_id"]
);

impl Resource for Patient {
    const PATH: &'static str = "patients";
    const TAG: &'static str = "patients";
    const IMMUTABLE: &'static [&'static str] = &["institution_id"];
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
    const PATH: &'static str = "plans";
    const TAG: &'static str = "plans";
    const IMMUTABLE: &'static [&'static str] = &["institution_id"];
    type Input = Plan;

    fn from_input(input: Plan, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    fn update_needs_reason(current: &Record<Self>) -> bool {
        current.data.status != PlanStatus::Draft
    }
}

impl Resource for PlanTransition {
    const PATH: &'static str = "plan-transitions";
    const TAG: &'static str = "plans";
    type Input = PlanTransition;

    fn from_input(_input: PlanTransition, _state: &AppState) -> Result<Self, ApiError> {
        Err(ApiError::new(
            Code::MethodNotAllowed,
            "plan transitions are made with POST /api/v1/plans/{id}/transitions",
        ))
    }
}

impl Resource for Treatment {
    const PATH: &'static str = "treatments";
    const TAG: &'static str = "treatments";
    const IMMUTABLE: &'static [&'static str] = &["patient_id", "schedule_id"];
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
    const PATH: &'static str = "visits";
    const TAG: &'static str = "follow-up";
    const IMMUTABLE: &'static [&'static str] = &["patient_id", "treatment_id"];
    type Input = Visit;

    fn from_input(input: Visit, _state: &AppState) -> Result<Self, ApiError> {
        Ok(input)
    }

    fn decorate(record: &Record<Self>, json: &mut Map<String, JsonValue>) {
        let today = today_jst(time::OffsetDateTime::now_utc());
        let status = serde_json::to_value(record.data.status(today)).unwrap_or(JsonValue::Null);
        json.insert("status".into(), status);
    }
}

/// `POST /api/v1/plans/{id}/transitions`: moves a plan through its lifecycle.
pub async fn post_transition(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Update, "plan")?;
    let id = parse_id(&id)?;
    let request: TransitionRequest = parse(body)?;
    let (plan, transition) =
        transition_plan(&state.store, &actor.audit(), state.rules, id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "plan": plan, "transition": transition })),
    ))
}

/// Mounts the registry core's resources and workflows.
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    b.resource::<Organisation>(true)
        .resource::<Practitioner>(true)
        .resource::<Product>(true)
        .resource::<Plan>(true)
        .resource::<PlanTransition>(false)
        .resource::<Patient>(true)
        .resource::<Enrollment>(true)
        .resource::<Consent>(true)
        .resource::<FollowUpSchedule>(true)
        .resource::<Treatment>(true)
        .resource::<Visit>(true)
        .resource::<Observation>(true)
        .resource::<AdverseEvent>(true)
        .schema::<TransitionRequest>()
        .route(
            "/plans/{id}/transitions",
            post(post_transition),
            vec![(
                HttpMethod::Post,
                operation(
                    "plans",
                    "transition_plan",
                    "Move a plan through its lifecycle (dated, attributed, checked against the rules in force)",
                    Some("TransitionRequest"),
                    &[
                        ("201", "The plan after the move and the transition record"),
                        ("409", "Stale version"),
                        ("422", "The move breaks a lifecycle or regulatory rule"),
                    ],
                ),
            )],
        )
}
