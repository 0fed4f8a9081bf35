//! Unit endpoints beyond create/read: allocation, shipping (packed + handover), the
//! custody log with the unit's state, temperature-log upload (CSV or JSON), and the
//! dispositions that decide excursion holds. Each handler first checks that the unit (or
//! excursion) is within the actor's reach; one of another facility is "not found".

use crate::access::{Action, Actor, authorize, visible};
use crate::api::resource::{Params, query_rejection};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use saisei_domain::quality::TemperatureLog;
use saisei_domain::quality::records::{NewDisposition, ProductUnit, UnitTemperatureExcursion};
use saisei_store::workflow::quality::custody::{self, AllocationRequest, ShipmentRequest};
use saisei_store::workflow::quality::temperature::{
    self, TemperatureLogRequest, TemperatureUpload, csv_errors,
};
use serde_json::Value as JsonValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// `POST /api/v1/units/{id}/allocate`: allocates an allogeneic unit to a patient.
pub async fn post_allocate(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Update, "unit")?;
    let id = parse_id(&id)?;
    visible::<ProductUnit>(&state, &actor, id).await?;
    let request: AllocationRequest = parse(body)?;
    let unit = custody::allocate_unit(&state.store, &actor.audit(), id, request).await?;
    Ok(Json(serde_json::to_value(unit).unwrap_or_default()))
}

/// `POST /api/v1/units/{id}/ship`: packs the unit and hands it from the releasing to the
/// receiving party; refused for units of an unreleased or quarantined lot.
pub async fn post_ship(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Create, "custody_event")?;
    let id = parse_id(&id)?;
    visible::<ProductUnit>(&state, &actor, id).await?;
    let request: ShipmentRequest = parse(body)?;
    let events = custody::ship_unit(&state.store, &actor.audit(), id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "events": events })),
    ))
}

/// `GET /api/v1/units/{id}/custody`: the unit's custody log, where it is, its holds and
/// whether it may be shipped.
pub async fn get_custody(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "custody_event")?;
    let id = parse_id(&id)?;
    visible::<ProductUnit>(&state, &actor, id).await?;
    let view = custody::unit_custody(&state.store, id).await?;
    Ok(Json(serde_json::to_value(view).unwrap_or_default()))
}

/// Checks that a record named in a request body is within the actor's reach; one that
/// does not exist or is outside it is a problem with `field` (422), like any reference.
async fn reachable<T: saisei_store::Stored>(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    field: &str,
) -> Result<(), ApiError> {
    match visible::<T>(state, actor, id).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == Code::NotFound => {
            let e = crate::access::no_such_reference(field, T::KIND, id);
            Err(ApiError::field(Code::ValidationFailed, e.field, e.problem))
        }
        Err(e) => Err(e),
    }
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The query parameters a CSV upload may carry: `also_unit_ids` (comma-separated) and
/// `recorded_at` (RFC 3339).
fn csv_options(params: &Params) -> Result<(Vec<Uuid>, Option<OffsetDateTime>), ApiError> {
    let mut also = Vec::new();
    let mut recorded_at = None;
    for (name, value) in params {
        match name.as_str() {
            "also_unit_ids" => {
                for part in value.split(',').filter(|p| !p.trim().is_empty()) {
                    also.push(Uuid::parse_str(part.trim()).map_err(|_| {
                        ApiError::field(
                            Code::BadParameter,
                            "also_unit_ids",
                            format!("{:?} is not a UUID", crate::extract::truncate(part)),
                        )
                    })?);
                }
            }
            "recorded_at" => {
                recorded_at = Some(OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
                    ApiError::field(
                        Code::BadParameter,
                        "recorded_at",
                        "must be an RFC 3339 time with offset",
                    )
                })?);
            }
            other => {
                return Err(ApiError::field(
                    Code::BadParameter,
                    crate::extract::truncate(other),
                    "unknown parameter; use also_unit_ids or recorded_at",
                ));
            }
        }
    }
    Ok((also, recorded_at))
}

/// `POST /api/v1/units/{id}/temperature-log`: a data logger's CSV (`text/csv`, one
/// `time,celsius` reading per line) or JSON ([`TemperatureLogRequest`]). Excursions are
/// stored with their duration and extremes and put the affected units on hold.
pub async fn post_temperature_log(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    params: Result<Query<Params>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Create, "temperature_log")?;
    let id = parse_id(&id)?;
    visible::<ProductUnit>(&state, &actor, id).await?;
    let Query(params) = params.map_err(query_rejection)?;
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(Code::PayloadTooLarge, "the body exceeds the size limit")
        } else {
            ApiError::new(Code::InvalidJson, format!("could not read the body: {e}"))
        }
    })?;
    let mime = media_type(&headers);
    let upload = if mime == "text/csv" || mime == "text/plain" {
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            ApiError::field(Code::ValidationFailed, "body", "the CSV is not UTF-8 text")
        })?;
        let (also_unit_ids, recorded_at) = csv_options(&params)?;
        TemperatureUpload {
            log: TemperatureLog::parse_csv(text).map_err(csv_errors)?,
            also_unit_ids,
            recorded_at,
        }
    } else if mime == "application/json" || mime.ends_with("+json") {
        if !params.is_empty() {
            return Err(ApiError::field(
                Code::BadParameter,
                "also_unit_ids",
                "with a JSON body, give the options in the body",
            ));
        }
        let value: JsonValue = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                Code::InvalidJson,
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        let request: TemperatureLogRequest = parse(value)?;
        request.into_upload()?
    } else {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send the log as text/csv (time,celsius per line) or application/json",
        ));
    };
    for (i, other) in upload.also_unit_ids.iter().enumerate() {
        reachable::<ProductUnit>(&state, &actor, *other, &format!("also_unit_ids[{i}]")).await?;
    }
    let outcome =
        temperature::upload_temperature_log(&state.store, &actor.audit(), id, upload).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(outcome).unwrap_or_default()),
    ))
}

/// `POST /api/v1/dispositions`: a QA manager decides an excursion hold; each affected
/// unit's hold is lifted (use as is) or the unit destroyed.
pub async fn post_disposition(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Create, "disposition")?;
    let request: NewDisposition = parse(body)?;
    reachable::<UnitTemperatureExcursion>(&state, &actor, request.excursion_id, "excursion_id")
        .await?;
    let outcome = temperature::decide_disposition(&state.store, &actor.audit(), request).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(outcome).unwrap_or_default()),
    ))
}
