//! Signing in and out, the acting user, password changes, recovery codes and sessions.

use crate::access::{Actor, Via};
use crate::api::resource::{Params, query_rejection, table_list_query};
use crate::auth::ClientAddress;
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use saisei_domain::audit::AuditAction;
use saisei_domain::auth::{Session, User, UserView};
use saisei_domain::dates::rfc3339;
use saisei_store::tables::trust::SESSIONS;
use saisei_store::workflow::auth::{
    SignInError, actor_of, issue_token, regenerate_recovery_codes, revoke_token, sign_in,
    verify_credentials,
};
use saisei_store::{Batch, Filter, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

/// Maps a refused sign-in to a problem.
pub fn sign_in_problem(e: SignInError) -> ApiError {
    match e {
        SignInError::Throttled(seconds) => {
            let mut p = ApiError::new(Code::TooManyAttempts, e.to_string());
            p.retry_after = Some(seconds);
            p
        }
        SignInError::NoSecretKey => ApiError::new(Code::NotConfigured, e.to_string()),
        SignInError::Invalid | SignInError::Inactive => {
            ApiError::new(Code::Unauthenticated, e.to_string())
        }
    }
}

/// Body of `POST /api/v1/auth/sign-in`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// The current six-digit code from the authenticator app, or an unused recovery code.
    pub code: String,
}

pub(crate) async fn post_sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    let req: SignInRequest = parse(body)?;
    let check = state.credential_check(address);
    let user = sign_in(&state.store, &check, &req.email, &req.password, &req.code)
        .await
        .map_err(sign_in_problem)?;
    let expires_at = check.now + state.auth.sign_in_token_ttl;
    let (token, record) =
        issue_token(&state.store, &actor_of(&user), &user, "sign-in", expires_at).await?;
    Ok(Json(json!({
        "token": token,
        "token_id": record.meta.id,
        "expires_at": saisei_domain::dates::rfc3339(expires_at),
        "user": UserView::of(&user),
    })))
}

pub(crate) async fn post_sign_out(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    match &actor.via {
        Via::Token(id) => {
            let token = state
                .store
                .get::<saisei_domain::auth::ApiToken>(*id)
                .await?;
            revoke_token(&state.store, &actor.audit(), &token, now).await?;
        }
        Via::Session { id, .. } => {
            let user = state.store.get::<User>(actor.user_id).await?;
            let session = state.store.get::<saisei_domain::auth::Session>(*id).await?;
            saisei_store::workflow::auth::end_session(&state.store, &user, &session, now).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn get_me(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<UserView>, ApiError> {
    let user = state.store.get::<User>(actor.user_id).await?;
    Ok(Json(UserView::of(&user)))
}

/// Re-verifies the acting user's password and code (throttled like a sign-in).
pub(crate) async fn reverify(
    state: &AppState,
    actor: &Actor,
    password: &str,
    code: &str,
    action: AuditAction,
) -> Result<saisei_domain::Record<User>, ApiError> {
    let user = state.store.get::<User>(actor.user_id).await?;
    let check = state.credential_check(actor.address);
    verify_credentials(&state.store, &check, &user, password, code, action)
        .await
        .map_err(sign_in_problem)
}

/// Body of `POST /api/v1/auth/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The current password.
    pub password: String,
    /// The current code.
    pub code: String,
    /// The new password (at least 12 characters, not a common one).
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

pub(crate) async fn post_password(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    let req: ChangePassword = parse(body)?;
    let hash = saisei_domain::auth::credentials::hash_password(&req.new_password)
        .map_err(|e| ApiError::field(Code::ValidationFailed, "new_password", e.to_string()))?;
    let user = reverify(
        &state,
        &actor,
        &req.password,
        &req.code,
        AuditAction::SignIn,
    )
    .await?;
    let mut data = user.data.clone();
    data.password_hash = hash;
    let mut batch = Batch::new(&actor.audit());
    batch.update(
        &user,
        data,
        AuditAction::PermissionChange,
        Some("password changed by its owner".into()),
    )?;
    state.store.commit(batch).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /api/v1/auth/recovery-codes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reverify {
    /// Your password.
    pub password: String,
    /// Your current code.
    pub code: String,
}

pub(crate) async fn post_recovery_codes(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    let req: Reverify = parse(body)?;
    let user = reverify(
        &state,
        &actor,
        &req.password,
        &req.code,
        AuditAction::SignIn,
    )
    .await?;
    let (_, codes) = regenerate_recovery_codes(&state.store, &user).await?;
    Ok(Json(json!({ "recovery_codes": codes })))
}

/// What a user sees of one of their sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Id.
    pub id: Uuid,
    /// When it started.
    pub started_at: String,
    /// Last activity.
    pub last_seen_at: String,
    /// When it ends at the latest.
    pub expires_at: String,
    /// When it was ended, if it was.
    pub ended_at: Option<String>,
    /// Whether this request came with it.
    pub current: bool,
}

pub(crate) async fn list_sessions(
    State(state): State<AppState>,
    actor: Actor,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let mut q = table_list_query(&SESSIONS, Some(&[]), &params)?;
    q.filters
        .push(Filter::eq("user_id", Value::Uuid(actor.user_id)));
    let page = state.store.list::<Session>(&q).await?;
    let current = match &actor.via {
        Via::Session { id, .. } => Some(*id),
        Via::Token(_) => None,
    };
    let items: Vec<SessionView> = page
        .items
        .iter()
        .map(|s| SessionView {
            id: s.meta.id,
            started_at: rfc3339(s.meta.created_at),
            last_seen_at: rfc3339(s.data.last_seen_at),
            expires_at: rfc3339(s.data.expires_at),
            ended_at: s.data.ended_at.map(rfc3339),
            current: current == Some(s.meta.id),
        })
        .collect();
    Ok(Json(
        json!({ "items": items, "next_cursor": page.next_cursor }),
    ))
}

pub(crate) async fn post_end_session(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let session = state
        .store
        .find::<Session>(id)
        .await?
        .filter(|s| s.data.user_id == actor.user_id)
        .ok_or(saisei_store::StoreError::NotFound {
            entity: "session",
            id,
        })?;
    if session.data.ended_at.is_none() {
        let user = state.store.get::<User>(actor.user_id).await?;
        saisei_store::workflow::auth::end_session(&state.store, &user, &session, state.clock.now())
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
