//! API tokens: created, listed and revoked by their owner (and by admins).

use super::*;
use crate::access::{Actor, Via};
use crate::api::resource::{Params, query_rejection, table_list_query};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use saisei_domain::audit::AuditAction;
use saisei_domain::dates::rfc3339;
use saisei_domain::text::Name;
use saisei_store::tables::trust::API_TOKENS;
use saisei_store::workflow::auth::{issue_token, revoke_token};
use saisei_store::{Filter, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Value as JsonValue, json};
use time::Duration;
use uuid::Uuid;

/// Body of `POST /api/v1/tokens`: a named token for yourself, after re-entering your
/// password and code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for.
    pub name: Name,
    /// Days until it expires (1–365).
    pub expires_in_days: i64,
    /// Your password.
    pub password: String,
    /// Your current code.
    pub code: String,
}

pub(crate) async fn post_token(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    let req: CreateToken = parse(body)?;
    if !(1..=365).contains(&req.expires_in_days) {
        return Err(ApiError::field(
            Code::ValidationFailed,
            "expires_in_days",
            "must be 1 to 365",
        ));
    }
    let user = reverify(
        &state,
        &actor,
        &req.password,
        &req.code,
        AuditAction::SignIn,
    )
    .await?;
    let expires_at = state.clock.now() + Duration::days(req.expires_in_days);
    let (token, record) = issue_token(
        &state.store,
        &actor.audit(),
        &user,
        req.name.as_str(),
        expires_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "token": token, "token_id": record.meta.id, "expires_at": rfc3339(expires_at) }),
        ),
    ))
}

/// What a user sees of one of their tokens (never the token itself).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// Id.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// When it was issued.
    pub created_at: String,
    /// When it stops working.
    pub expires_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    /// Whether this request came with it.
    pub current: bool,
}

pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    actor: Actor,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let mut q = table_list_query(&API_TOKENS, Some(&["name"]), &params)?;
    q.filters
        .push(Filter::eq("user_id", Value::Uuid(actor.user_id)));
    let page = state
        .store
        .list::<saisei_domain::auth::ApiToken>(&q)
        .await?;
    let current = match &actor.via {
        Via::Token(id) => Some(*id),
        Via::Session { .. } => None,
    };
    let items: Vec<TokenView> = page
        .items
        .iter()
        .map(|t| TokenView {
            id: t.meta.id,
            name: t.data.name.to_string(),
            created_at: rfc3339(t.meta.created_at),
            expires_at: rfc3339(t.data.expires_at),
            revoked_at: t.data.revoked_at.map(rfc3339),
            current: current == Some(t.meta.id),
        })
        .collect();
    Ok(Json(
        json!({ "items": items, "next_cursor": page.next_cursor }),
    ))
}

pub(crate) async fn post_revoke_token(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let token = state
        .store
        .find::<saisei_domain::auth::ApiToken>(id)
        .await?
        .filter(|t| crate::access::may_manage_token(&actor, t.data.user_id))
        .ok_or(saisei_store::StoreError::NotFound {
            entity: "api_token",
            id,
        })?;
    revoke_token(&state.store, &actor.audit(), &token, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
