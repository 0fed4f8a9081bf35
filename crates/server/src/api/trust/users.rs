//! Users (admins only) and the one-time links that reset a user's credentials.

use crate::access::{Action, Actor, authorize};
use crate::api::resource::{Params, query_rejection, table_list_query};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use saisei_domain::audit::AuditAction;
use saisei_domain::auth::credentials::totp_uri;
use saisei_domain::auth::{Email, Role, User, UserView};
use saisei_domain::dates::rfc3339;
use saisei_domain::text::{Name, Text};
use saisei_store::Batch;
use saisei_store::tables::trust::USERS;
use saisei_store::workflow::auth::{
    EnrolmentAnswers, EnrolmentError, EnrolmentRequest, NewUser, complete_enrolment, create_user,
    issue_enrolment, open_enrolment,
};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

/// Body of `POST /api/v1/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Sign-in e-mail.
    pub email: Email,
    /// Name shown.
    pub display_name: Name,
    /// Role.
    pub role: Role,
    /// Organisation (required for organisation-bound roles).
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    /// Initial password (at least 12 characters, not a common one).
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
}

pub(crate) fn no_secret_key() -> ApiError {
    ApiError::new(
        Code::NotConfigured,
        "no secret key is configured (SAISEI_SECRET_KEY or --secret-key-file): second factors cannot be enrolled",
    )
}

pub(crate) async fn post_user(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Create, "user")?;
    let req: CreateUser = parse(body)?;
    let key = state.key().ok_or_else(no_secret_key)?;
    let email = req.email.to_string();
    let (user, enrolled) = create_user(
        &state.store,
        &actor.audit(),
        key,
        NewUser {
            email: req.email,
            display_name: req.display_name,
            role: req.role,
            organisation_id: req.organisation_id,
            password: req.password,
            totp_secret: None,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "user": UserView::of(&user),
            "totp_secret": enrolled.totp_secret,
            "totp_uri": totp_uri(&enrolled.totp_secret, &email),
            "recovery_codes": enrolled.recovery_codes,
        })),
    ))
}

pub(crate) async fn list_users(
    State(state): State<AppState>,
    actor: Actor,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "user")?;
    let Query(params) = params.map_err(query_rejection)?;
    let q = table_list_query(
        &USERS,
        Some(&["email", "display_name", "role", "organisation_id", "active"]),
        &params,
    )?;
    let page = state.store.list::<User>(&q).await?;
    let items: Vec<UserView> = page.items.iter().map(UserView::of).collect();
    Ok(Json(
        json!({ "items": items, "next_cursor": page.next_cursor }),
    ))
}

/// Body of `PATCH /api/v1/users/{id}`: permission changes, always with a reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// The version read.
    pub version: i64,
    /// Why (kept in the audit trail).
    pub reason: Text,
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// New organisation.
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    /// Activate or deactivate.
    #[serde(default)]
    pub active: Option<bool>,
    /// New display name.
    #[serde(default)]
    pub display_name: Option<Name>,
    /// Clear the account's sign-in throttling.
    #[serde(default)]
    pub unlock: bool,
}

pub(crate) async fn patch_user(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<UserView>, ApiError> {
    authorize(&actor, Action::Update, "user")?;
    let id = parse_id(&id)?;
    let req: UpdateUser = parse(body)?;
    let current = state.store.get::<User>(id).await?;
    if current.meta.version != req.version {
        return Err(saisei_store::StoreError::Conflict {
            entity: "user",
            id,
            expected: req.version,
            current: current.meta.version,
        }
        .into());
    }
    let mut data = current.data.clone();
    if let Some(r) = req.role {
        data.role = r;
    }
    if req.organisation_id.is_some() {
        data.organisation_id = req.organisation_id;
    }
    if let Some(a) = req.active {
        data.active = a;
    }
    if let Some(n) = req.display_name {
        data.display_name = n;
    }
    if req.unlock {
        data.throttle_cleared_at = Some(state.clock.now());
    }
    let mut batch = Batch::new(&actor.audit());
    let updated = batch.update(
        &current,
        data,
        AuditAction::PermissionChange,
        Some(req.reason.to_string()),
    )?;
    state.store.commit(batch).await?;
    if req.unlock {
        state
            .throttle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear_account(updated.data.email.as_str());
    }
    Ok(Json(UserView::of(&updated)))
}

/// Body of `POST /api/v1/users/{id}/reset`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetUser {
    /// The user sets a new password.
    #[serde(default)]
    pub password: bool,
    /// The user enrols a new authenticator (and gets new recovery codes).
    #[serde(default)]
    pub second_factor: bool,
    /// Why (kept in the audit trail).
    pub reason: Text,
}

pub(crate) async fn post_user_reset(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Update, "user")?;
    let id = parse_id(&id)?;
    let req: ResetUser = parse(body)?;
    if !req.password && !req.second_factor {
        return Err(ApiError::field(
            Code::ValidationFailed,
            "password",
            "say what to reset: password, second_factor or both",
        ));
    }
    let user = state.store.get::<User>(id).await?;
    let issued = issue_enrolment(
        &state.store,
        &state.auth,
        &actor.audit(),
        actor.user_id,
        &user,
        EnrolmentRequest {
            password: req.password,
            second_factor: req.second_factor,
            reason: req.reason,
        },
        state.clock.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "enrolment_id": issued.record.meta.id,
            "link": format!("/enrol?token={}", issued.token),
            "token": issued.token,
            "expires_at": rfc3339(issued.record.data.expires_at),
            "password": req.password,
            "second_factor": req.second_factor,
        })),
    ))
}

pub(crate) fn enrolment_problem(e: EnrolmentError) -> ApiError {
    match e {
        EnrolmentError::Unusable => ApiError::new(Code::NotFound, e.to_string()),
        EnrolmentError::NoSecretKey => no_secret_key(),
        EnrolmentError::Store(s) => s.into(),
    }
}

/// Body of `POST /api/v1/auth/enrolment`: the token from a reset link.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenEnrolmentRequest {
    /// The token from the link.
    pub token: String,
}

pub(crate) async fn post_open_enrolment(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    let req: OpenEnrolmentRequest = parse(body)?;
    let open = open_enrolment(&state.store, state.key(), &req.token, state.clock.now())
        .await
        .map_err(enrolment_problem)?;
    let email = open.user.data.email.to_string();
    Ok(Json(json!({
        "email": email,
        "password": open.enrolment.data.password,
        "second_factor": open.enrolment.data.second_factor,
        "expires_at": rfc3339(open.enrolment.data.expires_at),
        "totp_secret": open.totp_secret,
        "totp_uri": open.totp_secret.as_deref().map(|s| totp_uri(s, &email)),
    })))
}

/// Body of `POST /api/v1/auth/enrolment/complete`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteEnrolmentRequest {
    /// The token from the link.
    pub token: String,
    /// The new password, when the link resets it (at least 12 characters, not a
    /// common one).
    #[serde(default)]
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: Option<String>,
    /// A code from the new authenticator, when the link resets the second factor.
    #[serde(default)]
    pub code: Option<String>,
}

pub(crate) async fn post_complete_enrolment(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    let req: CompleteEnrolmentRequest = parse(body)?;
    let (user, codes) = complete_enrolment(
        &state.store,
        state.key(),
        &req.token,
        EnrolmentAnswers {
            new_password: req.new_password,
            code: req.code,
        },
        state.clock.now(),
    )
    .await
    .map_err(enrolment_problem)?;
    state
        .throttle
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear_account(user.data.email.as_str());
    Ok(Json(json!({
        "user": UserView::of(&user),
        "recovery_codes": codes,
    })))
}
