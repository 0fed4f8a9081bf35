//! The registry core's resources and the workflows behind their writes.

use super::resource::Resource;
use super::trust::{SignatureInput, sign_into};
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
use saisei_domain::auth::{Role, SignatureMeaning};
use saisei_domain::dates::today_jst;
use saisei_domain::registry::*;
use saisei_store::workflow::{TransitionRequest, record_treatment, transition_plan};
use serde_json::{Map, Value as JsonValue};
use utoipa::openapi::path::HttpMethod;

/// A kind whose input is the record itself (where, area and fixed fields come from its
/// catalogue entry).
macro_rules! plain_resource {
    ($($ty:ty),* $(,)?) => {$(
        impl Resource for $ty {
            type Input = $ty;
            fn from_input(input: Self::Input, _state: &AppState) -> Result<Self, ApiError> {
                Ok(input)
            }
        }
    )*};
}

plain_resource!(
    Organisation,
    Practitioner,
    Product,
    FollowUpSchedule,
    Enrollment,
    Consent,
    Observation,
    AdverseEvent,
);

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

/// Who may make a move: the institution's physicians move their own plans; the
/// reviewing committee's members review, accept or return them.
fn check_mover(actor: &Actor, plan: &Record<Plan>, to: PlanStatus) -> Result<(), ApiError> {
    use PlanStatus::*;
    let org = actor.organisation_id;
    let allowed = match actor.role {
        Role::Physician => {
            org == Some(plan.data.institution_id)
                && matches!(to, Submitted | Withdrawn | Active | Suspended | Ended)
                || (org == Some(plan.data.institution_id)
                    && to == Draft
                    && plan.data.status == Submitted)
        }
        Role::CommitteeMember => {
            org == Some(plan.data.committee_id) && matches!(to, UnderReview | Accepted | Draft)
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
            format!("a {} may not move this plan to {to}", actor.role),
        ))
    }
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
    let plan = visible::<Plan>(&state, &actor, id).await?;
    check_mover(&actor, &plan, body.to)?;
    let meaning = match body.to {
        PlanStatus::Submitted => Some(SignatureMeaning::Responsibility),
        PlanStatus::Accepted => Some(SignatureMeaning::Approval),
        _ => None,
    };
    let request = TransitionRequest {
        to: body.to,
        on: body.on,
        reason: body.reason,
        version: body.version,
    };
    let (plan, transition, signature) = match meaning {
        None => {
            let (p, t) =
                transition_plan(&state.store, &actor.audit(), state.rules, id, request).await?;
            (p, t, None)
        }
        Some(meaning) => {
            let mut input = body.signature.ok_or_else(|| {
                ApiError::field(
                    Code::ValidationFailed,
                    "signature",
                    format!(
                        "moving a plan to {} needs your electronic signature (password and code)",
                        body.to
                    ),
                )
            })?;
            input.meaning = Some(meaning);
            // The signature covers the plan as submitted or accepted: sign the content
            // after the move, in the same transaction as the move.
            let mut batch = saisei_store::Batch::new(&actor.audit());
            let (p, t) = saisei_store::workflow::plan::prepare_transition(
                &state.store,
                &actor.audit(),
                state.rules,
                id,
                request,
                &mut batch,
            )
            .await?;
            let hash = saisei_store::store::content_hash_of(&p.data)?;
            let sig = sign_into(
                &state,
                &actor,
                &mut batch,
                crate::api::trust::Signed {
                    entity: "plan",
                    id: p.meta.id,
                    version: p.meta.version,
                    content_hash: hash,
                },
                input,
            )
            .await?;
            state.store.commit(batch).await?;
            (p, t, Some(sig))
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "plan": plan, "transition": transition, "signature": signature })),
    ))
}

/// Mounts the registry core's resources and workflows.
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    b.resource::<Organisation>()
        .resource::<Practitioner>()
        .resource::<Product>()
        .resource::<Plan>()
        .resource::<PlanTransition>()
        .resource::<Patient>()
        .resource::<Enrollment>()
        .resource::<Consent>()
        .resource::<FollowUpSchedule>()
        .resource::<Treatment>()
        .resource::<Visit>()
        .resource::<Observation>()
        .resource::<AdverseEvent>()
        .schema::<TransitionBody>()
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
