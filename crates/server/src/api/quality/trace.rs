//! Look-back and trace-back over HTTP: the same structures `saisei trace` prints.
//!
//! Both join manufacturing records with patients and their adverse events, so both need
//! read access to lots *and* to adverse events (a regulator, or a marketing-authorisation
//! holder for its own products), and the starting lot or event must be within reach.

use crate::access::{Action, Actor, authorize, visible};
use crate::extract::parse_id;
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use saisei_domain::quality::records::Lot;
use saisei_domain::registry::AdverseEvent;
use saisei_store::workflow::quality::trace::{self, TraceError};
use serde_json::Value as JsonValue;

impl From<TraceError> for ApiError {
    fn from(e: TraceError) -> Self {
        match e {
            TraceError::NotFound(m) => ApiError::new(Code::NotFound, m),
            TraceError::Store(e) => e.into(),
        }
    }
}

/// `GET /api/v1/trace/lots/{lot}`: every unit of the lot (by number or id), every
/// patient who received one, with dates and adverse events.
pub async fn get_lot_trace(
    State(state): State<AppState>,
    actor: Actor,
    Path(lot): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "lot")?;
    authorize(&actor, Action::Read, "adverse_event")?;
    // A lot out of reach is answered as one that does not exist, in the same words.
    let unknown = || ApiError::new(Code::NotFound, format!("no lot numbered {:?}", lot.trim()));
    let found = trace::find_lot(&state.store, &lot)
        .await
        .map_err(|_| unknown())?;
    visible::<Lot>(&state, &actor, found.id())
        .await
        .map_err(|e| {
            if e.code == Code::NotFound {
                unknown()
            } else {
                e
            }
        })?;
    let trace = trace::trace_lot(&state.store, &found.id().to_string()).await?;
    let body = serde_json::to_value(trace).unwrap_or_default();
    let path = format!("/api/v1/trace/lots/{}", found.id());
    crate::access_log::disclosed_patients_in(&state, &actor, "trace", &path, &body).await?;
    Ok(Json(body))
}

/// `GET /api/v1/trace/adverse-events/{id}`: from the event back to the unit, the lot's
/// dossier, the cell banks, the collection and the donor.
pub async fn get_event_trace(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "adverse_event")?;
    authorize(&actor, Action::Read, "lot")?;
    let id = parse_id(&id)?;
    visible::<AdverseEvent>(&state, &actor, id).await?;
    let trace = trace::trace_adverse_event(&state.store, id).await?;
    let body = serde_json::to_value(trace).unwrap_or_default();
    let path = format!("/api/v1/trace/adverse-events/{id}");
    crate::access_log::disclosed_patients_in(&state, &actor, "trace", &path, &body).await?;
    Ok(Json(body))
}
