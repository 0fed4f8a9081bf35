//! Recording which patient-level records a response disclosed, to whom (see
//! `saisei_domain::access_log`). The entries are written before the response leaves:
//! a read that cannot be logged is not answered.

use crate::access::{Action, Actor, authorize};
use crate::api::resource::{PageRequest, Params, query_rejection};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use saisei_domain::Record;
use saisei_domain::access_log::{AccessEntry, AccessQuery};
use saisei_store::Stored;
use saisei_store::tables::evaluation::ADJUDICATION_TASKS;
use serde_json::{Value as JsonValue, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Whether records of `entity` are about one patient: patients, their clinical records
/// (by access class) and adjudication tasks.
pub fn is_patient_level(entity: &str) -> bool {
    entity == ADJUDICATION_TASKS.entity
        || saisei_store::tables::all().iter().any(|t| {
            t.entity == entity
                && matches!(
                    t.class,
                    saisei_store::AccessClass::Patient | saisei_store::AccessClass::PatientRecord
                )
        })
}

/// The request an entry belongs to: who read, when, through which path and how.
struct Disclosure<'a> {
    actor: &'a Actor,
    request_id: Uuid,
    at: OffsetDateTime,
    action: &'a str,
    path: &'a str,
}

impl<'a> Disclosure<'a> {
    fn new(state: &AppState, actor: &'a Actor, action: &'a str, path: &'a str) -> Self {
        Disclosure {
            actor,
            request_id: Uuid::now_v7(),
            at: state.clock.now(),
            action,
            path,
        }
    }

    fn entry(&self, entity: &str, record_id: Uuid, patient_id: Option<Uuid>) -> AccessEntry {
        AccessEntry {
            seq: 0,
            at: self.at,
            request_id: self.request_id,
            actor: self.actor.user_id.to_string(),
            role: self.actor.role.to_string(),
            organisation_id: self.actor.organisation_id,
            action: self.action.to_string(),
            path: self.path.chars().take(500).collect(),
            entity: entity.to_string(),
            record_id,
            patient_id,
        }
    }
}

async fn append(state: &AppState, entries: Vec<AccessEntry>) -> Result<(), ApiError> {
    if entries.is_empty() {
        return Ok(());
    }
    state.store.append_access_log(&entries).await.map_err(|e| {
        tracing::error!(error = %e, "the access log could not be written");
        ApiError::new(
            Code::DatabaseUnavailable,
            "the access log could not be written, so the records are not shown",
        )
    })
}

/// Logs the records of a patient-level kind a response discloses (`read` or `list`).
pub async fn disclosed<T: Stored>(
    state: &AppState,
    actor: &Actor,
    action: &str,
    path: &str,
    records: &[Record<T>],
) -> Result<(), ApiError> {
    if !is_patient_level(T::KIND) {
        return Ok(());
    }
    let d = Disclosure::new(state, actor, action, path);
    let entries = records
        .iter()
        .map(|r| {
            let patient = if T::KIND == "patient" {
                Some(r.meta.id)
            } else {
                serde_json::to_value(&r.data)
                    .ok()
                    .and_then(|v| {
                        v.get("patient_id")
                            .and_then(|p| p.as_str())
                            .map(str::to_string)
                    })
                    .and_then(|s| Uuid::parse_str(&s).ok())
            };
            d.entry(T::KIND, r.meta.id, patient)
        })
        .collect();
    append(state, entries).await
}

/// Logs the audit entries whose content a response showed, for patient-level records.
pub async fn disclosed_entries(
    state: &AppState,
    actor: &Actor,
    path: &str,
    records: &[(String, Uuid)],
) -> Result<(), ApiError> {
    let d = Disclosure::new(state, actor, "audit", path);
    let mut seen = std::collections::HashSet::new();
    let entries = records
        .iter()
        .filter(|(entity, id)| is_patient_level(entity) && seen.insert((entity.clone(), *id)))
        .map(|(entity, id)| {
            let patient = (entity == "patient").then_some(*id);
            d.entry(entity, *id, patient)
        })
        .collect();
    append(state, entries).await
}

/// Logs every patient a JSON response names under a `patient_id` key (traces, a
/// product's patients, coordinator task lists).
pub async fn disclosed_patients_in(
    state: &AppState,
    actor: &Actor,
    action: &str,
    path: &str,
    body: &JsonValue,
) -> Result<(), ApiError> {
    fn collect(v: &JsonValue, out: &mut Vec<Uuid>) {
        match v {
            JsonValue::Object(map) => {
                for (k, v) in map {
                    if k == "patient_id"
                        && let Some(id) = v.as_str().and_then(|s| Uuid::parse_str(s).ok())
                    {
                        out.push(id);
                    }
                    collect(v, out);
                }
            }
            JsonValue::Array(items) => items.iter().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    let mut ids = Vec::new();
    collect(body, &mut ids);
    ids.sort();
    ids.dedup();
    let d = Disclosure::new(state, actor, action, path);
    let entries = ids
        .into_iter()
        .map(|p| d.entry("patient", p, Some(p)))
        .collect();
    append(state, entries).await
}

/// `GET /api/v1/access-log`: who was shown which patient-level record (admins and
/// regulators). Filters: `actor`, `entity`, `record_id`, `patient_id`, `from`, `to`
/// (RFC 3339); pages by `cursor`.
pub async fn get_access_log(
    State(state): State<AppState>,
    actor: Actor,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "access_log")?;
    let Query(params) = params.map_err(query_rejection)?;
    let page = PageRequest::parse(
        &params,
        &["actor", "entity", "record_id", "patient_id", "from", "to"],
    )?;
    let uuid = |name: &str| {
        page.get(name)
            .map(|s| {
                Uuid::parse_str(s)
                    .map_err(|_| ApiError::field(Code::BadParameter, name, "is not a UUID"))
            })
            .transpose()
    };
    let instant = |name: &str| {
        page.get(name)
            .map(|s| {
                OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
                    ApiError::field(Code::BadParameter, name, "must be an RFC 3339 time")
                })
            })
            .transpose()
    };
    let after_seq = page.cursor_seq()?;
    let entries = state
        .store
        .access_log(&AccessQuery {
            after_seq,
            limit: page.limit,
            actor: page.get("actor").map(str::to_string),
            entity: page.get("entity").map(str::to_string),
            record_id: uuid("record_id")?,
            patient_id: uuid("patient_id")?,
            from: instant("from")?,
            to: instant("to")?,
        })
        .await?;
    let next = (entries.len() as u32 == page.limit)
        .then(|| entries.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(json!({ "items": entries, "next_cursor": next })))
}
