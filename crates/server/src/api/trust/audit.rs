//! The audit trail: entries (content only for who may read the record) and its check.

use crate::access::{Action, Actor, authorize, may_read_audited};
use crate::api::resource::{PageRequest, Params, query_rejection};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use saisei_domain::audit::AuditEntry;
use saisei_store::AuditQuery;
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

pub(crate) async fn get_audit(
    State(state): State<AppState>,
    actor: Actor,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "audit")?;
    let Query(params) = params.map_err(query_rejection)?;
    let page = PageRequest::parse(&params, &["entity", "entity_id"])?;
    let after_seq = page.cursor_seq()?;
    let entity_id = page
        .get("entity_id")
        .map(|s| {
            Uuid::parse_str(s)
                .map_err(|_| ApiError::field(Code::BadParameter, "entity_id", "is not a UUID"))
        })
        .transpose()?;
    let entries: Vec<AuditEntry> = state
        .store
        .audit(&AuditQuery {
            after_seq,
            limit: page.limit,
            entity: page.get("entity").map(str::to_string),
            entity_id,
        })
        .await?;
    let next = (entries.len() as u32 == page.limit)
        .then(|| entries.last().map(|e| e.seq.to_string()))
        .flatten();
    let mut decided: std::collections::HashMap<(String, Option<Uuid>), bool> =
        std::collections::HashMap::new();
    let mut items = Vec::with_capacity(entries.len());
    let mut disclosed = Vec::new();
    for e in entries {
        let key = (e.entity.clone(), e.entity_id);
        let readable = match decided.get(&key) {
            Some(r) => *r,
            None => {
                let r = may_read_audited(&state, &actor, &e.entity, e.entity_id).await?;
                decided.insert(key, r);
                r
            }
        };
        if readable && let Some(id) = e.entity_id {
            disclosed.push((e.entity.clone(), id));
        }
        items.push(audit_item(e, readable));
    }
    crate::access_log::disclosed_entries(&state, &actor, "/api/v1/audit", &disclosed).await?;
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

/// An audit entry as the reader may see it: with its content when they may read the
/// record it describes; otherwise who, when, what kind of change to which record, and
/// `content_withheld`.
pub(crate) fn audit_item(e: AuditEntry, readable: bool) -> JsonValue {
    let mut v = serde_json::to_value(&e).unwrap_or(JsonValue::Null);
    if let JsonValue::Object(map) = &mut v {
        if !readable {
            map.insert("before".into(), JsonValue::Null);
            map.insert("after".into(), JsonValue::Null);
            map.insert("reason".into(), JsonValue::Null);
        }
        map.insert("content_withheld".into(), JsonValue::Bool(!readable));
    }
    v
}

pub(crate) async fn get_audit_verify(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "audit")?;
    let verdict = saisei_store::workflow::integrity::verify(&state.store, |_| {}).await?;
    let mut body = json!({
        "ok": verdict.finding.is_none(),
        "entries": verdict.entries,
        "records": verdict.records,
    });
    match verdict.finding {
        Some(saisei_store::workflow::integrity::Finding::Chain { seq, problem }) => {
            body["first_broken"] = json!(seq);
            body["problem"] = json!(problem);
        }
        Some(saisei_store::workflow::integrity::Finding::Record {
            table,
            id,
            field,
            problem,
        }) => {
            body["first_mismatch"] = json!({"table": table, "id": id, "field": field});
            body["problem"] = json!(problem);
        }
        None => {}
    }
    Ok(Json(body))
}
