//! The treating site's steps with a unit: receipt, delivery to the ward, thawing and the
//! bedside identity check. They are recorded by the institution caring for the patient
//! the unit is for — who otherwise has no reach into the facility's custody logs — so
//! the checks here are the patient (visible to the actor) and the unit (one of the
//! institution's patients' units, made for or allocated to this patient).

use crate::access::{Action, Actor, authorize, visible};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use saisei_domain::Record;
use saisei_domain::quality::records::{NewCustodyEvent, ProductUnit, UnitCustodyEvent};
use saisei_domain::quality::{CustodyAction, Party, check_recipient};
use saisei_domain::registry::Patient;
use saisei_domain::registry::Treatment;
use saisei_domain::text::Name;
use saisei_store::workflow::quality::custody::{BedsideSteps, append_custody_event};
use saisei_store::workflow::record_administration;
use serde::Deserialize;
use serde_json::Value as JsonValue;
use time::OffsetDateTime;
use uuid::Uuid;

/// The step taken.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BedsideStep {
    /// The site received the unit from the courier.
    Received,
    /// The unit reached the ward or theatre.
    Delivered,
    /// The unit was thawed for use.
    Thawed,
    /// The unit's identity was checked against the patient at the bedside.
    IdentityVerified,
}

/// Body of `POST /api/v1/units/{id}/bedside`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BedsideRequest {
    /// The patient the unit is for.
    pub patient_id: Uuid,
    /// The step.
    pub step: BedsideStep,
    /// When (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who did it.
    pub person: Name,
}

/// `POST /api/v1/units/{id}/bedside`.
pub async fn post_bedside(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Record<UnitCustodyEvent>>), ApiError> {
    authorize(&actor, Action::Update, "patient")?;
    let unit_id = parse_id(&id)?;
    let req: BedsideRequest = parse(body)?;
    let patient = visible::<Patient>(&state, &actor, req.patient_id).await?;
    let organisation_id = actor.organisation_id.ok_or_else(|| {
        ApiError::new(
            Code::Forbidden,
            "bedside steps are recorded for an institution",
        )
    })?;
    // A unit outside the institution's reach, or for another of its patients, is
    // reported as not found: its existence is the facility's business, not the ward's.
    let unit = match visible::<ProductUnit>(&state, &actor, unit_id).await {
        Ok(u) if check_recipient(&u.data.recipient, patient.meta.id).is_ok() => u,
        Ok(_) => {
            return Err(saisei_store::StoreError::NotFound {
                entity: "unit",
                id: unit_id,
            }
            .into());
        }
        Err(e) => return Err(e),
    };
    let action = match req.step {
        BedsideStep::Received => CustodyAction::Received,
        BedsideStep::Delivered => CustodyAction::Delivered,
        BedsideStep::Thawed => CustodyAction::Thawed,
        BedsideStep::IdentityVerified => CustodyAction::IdentityVerified {
            patient_id: patient.meta.id,
        },
    };
    let record = append_custody_event(
        &state.store,
        &actor.audit(),
        NewCustodyEvent {
            unit_id: unit.meta.id,
            at: req.at,
            by: Party {
                organisation_id,
                person: req.person,
            },
            action,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// Records an administration from a unit together with the ward's bedside steps
/// (thawing, the identity check by `person`, as typed), in one commit: the page's
/// administration form calls this. `treatment` is the body `POST /api/v1/treatments`
/// takes, with the unit's `unit_id`; it passes the same checks. The steps are the
/// institution's, as on `POST /api/v1/units/{id}/bedside`.
pub async fn administer_at_bedside(
    state: &AppState,
    actor: &Actor,
    treatment: JsonValue,
    thawed: bool,
    identity_verified: bool,
    person: &str,
) -> Result<Record<Treatment>, ApiError> {
    authorize(actor, Action::Update, "patient")?;
    let data = crate::api::resource::new_record::<Treatment>(state, actor, treatment).await?;
    let organisation_id = actor.organisation_id.ok_or_else(|| {
        ApiError::new(
            Code::Forbidden,
            "bedside steps are recorded for an institution",
        )
    })?;
    let person: Name = match person.trim() {
        "" => return Err(saisei_store::StoreError::invalid("person", "is required").into()),
        typed => typed
            .parse()
            .map_err(|e: String| saisei_store::StoreError::invalid("person", e))?,
    };
    let steps = BedsideSteps {
        thawed,
        identity_verified,
        by: Party {
            organisation_id,
            person,
        },
    };
    let (record, _visits) =
        record_administration(&state.store, &actor.audit(), data, Some(&steps)).await?;
    Ok(record)
}
