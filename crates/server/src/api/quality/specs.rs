//! The specification catalogue (read-only: specifications are versioned data under
//! `specs/`, embedded at build) and a product's EV guidance checklist.
//!
//! Reading the catalogue is authorised as the `rule_set` capability: like the ASRM rule
//! sets, specifications are embedded data that disclose no registry record.

use crate::access::{Action, Actor, authorize, visible};
use crate::extract::{parse_id, truncate};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use saisei_domain::quality::{SpecId, SpecKey, Specification};
use saisei_domain::registry::Product;
use saisei_store::workflow::quality::{catalogue, checklist};
use serde_json::{Value as JsonValue, json};

/// The capability reading the catalogue needs (see the module documentation).
const SPECIFICATIONS: &str = "rule_set";

fn summary(spec: &Specification) -> JsonValue {
    json!({
        "key": spec.key().to_string(),
        "id": spec.key().id,
        "version": spec.key().version,
        "title": spec.title(),
        "category": spec.category(),
        "effective_from": spec.effective_from(),
        "description": spec.description(),
        "extends": spec.extends().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "sources": spec.sources(),
        "rules": spec.own_rules().len(),
    })
}

/// `GET /api/v1/specifications`: every specification in the catalogue.
pub async fn list_specifications(
    State(_state): State<AppState>,
    actor: Actor,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, SPECIFICATIONS)?;
    let items: Vec<JsonValue> = catalogue()?.specifications().map(summary).collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

/// `GET /api/v1/specifications/{key}`: one specification by `id@version` (or `id` for
/// the latest version), with its own rules and the rules in force once its bases are
/// merged.
pub async fn get_specification(
    State(_state): State<AppState>,
    actor: Actor,
    Path(key): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, SPECIFICATIONS)?;
    let catalogue = catalogue()?;
    let spec = if key.contains('@') {
        let k: SpecKey = key
            .parse()
            .map_err(|e: String| ApiError::field(Code::BadParameter, "key", e))?;
        catalogue.specification(&k)
    } else {
        let id: SpecId = key
            .parse()
            .map_err(|e: saisei_domain::quality::IdentifierError| {
                ApiError::field(Code::BadParameter, "key", e.to_string())
            })?;
        catalogue.latest(&id)
    }
    .ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            format!("no specification {:?} in the catalogue", truncate(&key)),
        )
    })?;
    let resolved = catalogue
        .resolve(spec.key())
        .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
    let mut body = summary(spec);
    if let Some(map) = body.as_object_mut() {
        map.insert("own_rules".into(), json!(spec.own_rules()));
        map.insert("resolved".into(), json!(resolved));
    }
    Ok(Json(body))
}

/// `GET /api/v1/products/{id}/checklist`: the product's answers to the JSRM EV guidance
/// and which items are still open (EV and culture-supernatant products only).
pub async fn get_product_checklist(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "checklist_answer")?;
    let id = parse_id(&id)?;
    visible::<Product>(&state, &actor, id).await?;
    let report = checklist::product_checklist(&state.store, id).await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}
