//! Sign-in, users, tokens, the audit trail and electronic signatures over HTTP.

use super::resource::{PageRequest, Params, query_rejection, table_list_query};
use super::{ApiBuilder, operation};
use crate::access::{Action, Actor, Via, authorize, may_read_audited};
use crate::auth::ClientAddress;
use crate::extract::{JsonBody, parse, parse_id, truncate};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditEntry};
use saisei_domain::auth::credentials::{hashes_equal, totp_uri};
use saisei_domain::auth::{Email, Role, Session, Signature, SignatureMeaning, User, UserView};
use saisei_domain::dates::rfc3339;
use saisei_domain::text::{Name, Text};
use saisei_store::tables::trust::{API_TOKENS, SESSIONS, USERS};
use saisei_store::workflow::auth::{
    EnrolmentAnswers, EnrolmentError, EnrolmentRequest, NewUser, SignInError, Signer,
    SignerCredentials, SigningError, SigningRequest, actor_of, complete_enrolment, create_user,
    issue_enrolment, issue_token, open_enrolment, regenerate_recovery_codes, revoke_token, sign,
    sign_in, verify_credentials,
};
use saisei_store::{AuditQuery, Batch, Filter, ListQuery, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Value as JsonValue, json};
use time::Duration;
use utoipa::openapi::path::HttpMethod;
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

async fn post_sign_in(
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

async fn post_sign_out(
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

async fn get_me(State(state): State<AppState>, actor: Actor) -> Result<Json<UserView>, ApiError> {
    let user = state.store.get::<User>(actor.user_id).await?;
    Ok(Json(UserView::of(&user)))
}

/// Re-verifies the acting user's password and code (throttled like a sign-in).
async fn reverify(
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

async fn post_password(
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

async fn post_recovery_codes(
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

async fn list_sessions(
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

async fn post_end_session(
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

fn no_secret_key() -> ApiError {
    ApiError::new(
        Code::NotConfigured,
        "no secret key is configured (SAISEI_SECRET_KEY or --secret-key-file): second factors cannot be enrolled",
    )
}

async fn post_user(
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

async fn list_users(
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

async fn patch_user(
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

async fn post_user_reset(
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

fn enrolment_problem(e: EnrolmentError) -> ApiError {
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

async fn post_open_enrolment(
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

async fn post_complete_enrolment(
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

async fn post_token(
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

async fn list_tokens(
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

async fn post_revoke_token(
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

async fn get_audit(
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
fn audit_item(e: AuditEntry, readable: bool) -> JsonValue {
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

async fn get_audit_verify(
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

/// The re-entered credentials that make a signature.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureInput {
    /// Your password.
    pub password: String,
    /// Your current code.
    pub code: String,
    /// What the signature means (implied where a workflow asks for the signature).
    #[serde(default)]
    pub meaning: Option<SignatureMeaning>,
    /// An optional statement.
    #[serde(default)]
    pub comment: Option<Text>,
}

impl SignatureInput {
    /// The credentials and statement, as the store's signing workflows take them (the
    /// meaning is the workflow's to say).
    pub fn into_store(self) -> saisei_store::workflow::auth::SignatureInput {
        saisei_store::workflow::auth::SignatureInput {
            credentials: SignerCredentials {
                password: self.password,
                code: self.code,
            },
            comment: self.comment,
        }
    }

    /// The acting user as the signer of a workflow step.
    pub fn signer(self, actor: &Actor) -> Signer {
        let input = self.into_store();
        Signer {
            user_id: actor.user_id,
            credentials: input.credentials,
            comment: input.comment,
        }
    }
}

/// Body of `POST /api/v1/signatures`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// Kind of record (`plan`, `periodic_report`, `lot`…).
    pub entity: String,
    /// The record.
    pub entity_id: Uuid,
    /// The signature.
    pub signature: SignatureInput,
}

/// The record a signature is applied to, as it now is.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Kind of record.
    pub entity: &'static str,
    /// The record.
    pub id: Uuid,
    /// Its version.
    pub version: i64,
    /// SHA-256 of its content.
    pub content_hash: String,
}

/// Verifies the acting user's password and code and adds their signature over `what`
/// to `batch` (the store's one signing workflow; see
/// `saisei_store::workflow::auth::sign`).
pub async fn sign_into(
    state: &AppState,
    actor: &Actor,
    batch: &mut Batch,
    what: Signed,
    input: SignatureInput,
) -> Result<Record<Signature>, ApiError> {
    let meaning = input.meaning.ok_or_else(|| {
        ApiError::field(
            Code::ValidationFailed,
            "signature.meaning",
            "say what the signature means",
        )
    })?;
    let check = state.credential_check(actor.address);
    sign(
        &state.store,
        &check,
        batch,
        actor.user_id,
        &SignerCredentials {
            password: input.password,
            code: input.code,
        },
        SigningRequest {
            entity: what.entity,
            entity_id: what.id,
            entity_version: what.version,
            content_hash: what.content_hash,
            meaning,
            comment: input.comment,
        },
    )
    .await
    .map_err(signing_problem)
}

/// Maps a refused signature to a problem.
pub fn signing_problem(e: SigningError) -> ApiError {
    match e {
        SigningError::Credentials(c) => sign_in_problem(c),
        SigningError::NotASigner(role) => ApiError::new(
            Code::Forbidden,
            format!("a {role} cannot apply electronic signatures"),
        ),
        SigningError::Store(s) => s.into(),
    }
}

/// The table of a kind of record, and the row of `id` if `actor` may read it.
async fn readable_row(
    state: &AppState,
    actor: &Actor,
    entity: &str,
    id: Uuid,
    field: &str,
) -> Result<(&'static saisei_store::TableDef, saisei_store::Row), ApiError> {
    let table = saisei_store::tables::all()
        .into_iter()
        .find(|t| t.entity == entity)
        .ok_or_else(|| {
            ApiError::field(
                Code::ValidationFailed,
                field,
                format!("'{}' is not a kind of record", truncate(entity)),
            )
        })?;
    authorize(actor, Action::Read, table.entity)?;
    let filters = match crate::access::access(actor, table).read {
        crate::access::Scope::Rows(f) => f,
        _ => Vec::new(),
    };
    let row = state.store.row_within(table, id, &filters).await?.ok_or(
        saisei_store::StoreError::NotFound {
            entity: table.entity,
            id,
        },
    )?;
    Ok((table, row))
}

async fn post_signature(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    let req: SignRequest = parse(body)?;
    let (table, row) = readable_row(&state, &actor, &req.entity, req.entity_id, "entity").await?;
    let hash = saisei_domain::audit::content_hash(&saisei_store::store::row_json(table, &row));
    let mut batch = Batch::new(&actor.audit());
    batch.check_row(table, req.entity_id, row.meta.version);
    let sig = sign_into(
        &state,
        &actor,
        &mut batch,
        Signed {
            entity: table.entity,
            id: req.entity_id,
            version: row.meta.version,
            content_hash: hash,
        },
        req.signature,
    )
    .await?;
    state.store.commit(batch).await?;
    Ok((StatusCode::CREATED, Json(json!(sig))))
}

async fn list_signatures(
    State(state): State<AppState>,
    actor: Actor,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Query(params) = params.map_err(query_rejection)?;
    let page = PageRequest::parse(&params, &["entity", "entity_id"])?;
    let (Some(entity), Some(entity_id)) = (page.get("entity"), page.get("entity_id")) else {
        return Err(ApiError::field(
            Code::BadParameter,
            if page.get("entity").is_none() {
                "entity"
            } else {
                "entity_id"
            },
            "is required: give the kind of record (entity) and its id (entity_id)",
        ));
    };
    let entity_id = Uuid::parse_str(entity_id)
        .map_err(|_| ApiError::field(Code::BadParameter, "entity_id", "is not a UUID"))?;
    let (table, row) = readable_row(&state, &actor, entity, entity_id, "entity").await?;
    let current = saisei_domain::audit::content_hash(&saisei_store::store::row_json(table, &row));
    // Everyone who may read the record sees its signatures.
    let q = ListQuery {
        filters: vec![
            Filter::eq("entity", Value::Text(table.entity.to_string())),
            Filter::eq("entity_id", Value::Uuid(entity_id)),
        ],
        after: page.cursor_id()?,
        limit: page.limit,
        include_withdrawn: false,
    };
    let sigs = state.store.list::<Signature>(&q).await?;
    let items: Vec<JsonValue> = sigs
        .items
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            v["valid"] = json!(hashes_equal(&s.data.content_hash, &current));
            v
        })
        .collect();
    Ok(Json(
        json!({ "items": items, "current_content_hash": current, "next_cursor": sigs.next_cursor }),
    ))
}

/// Mounts the trust endpoints.
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    use super::{page_query, q, q_required, table_list_params, with_query};
    use utoipa::openapi::schema::Type;
    let user_filters = ["email", "display_name", "role", "organisation_id", "active"];
    let audit_params = || {
        let mut p = page_query();
        p.push(q(
            "entity",
            Type::String,
            "Only entries about this kind of record",
        ));
        p.push(q(
            "entity_id",
            Type::String,
            "Only entries about this record (UUID)",
        ));
        p
    };
    let access_params = {
        let mut p = page_query();
        p.extend([
            q("actor", Type::String, "Only this reader (user id)"),
            q("entity", Type::String, "Only this kind of record"),
            q("record_id", Type::String, "Only this record (UUID)"),
            q(
                "patient_id",
                Type::String,
                "Only records about this patient (UUID)",
            ),
            q("from", Type::String, "Only from this instant (RFC 3339)"),
            q("to", Type::String, "Only before this instant (RFC 3339)"),
        ]);
        p
    };
    let signature_params = {
        let mut p = page_query();
        p.push(q_required(
            "entity",
            Type::String,
            "The kind of record (plan, lot, periodic_report…)",
        ));
        p.push(q_required("entity_id", Type::String, "The record (UUID)"));
        p
    };
    b.schema::<SignInRequest>()
        .schema::<CreateUser>()
        .schema::<UpdateUser>()
        .schema::<CreateToken>()
        .schema::<SignRequest>()
        .schema::<UserView>()
        .schema::<Reverify>()
        .schema::<ResetUser>()
        .schema::<OpenEnrolmentRequest>()
        .schema::<CompleteEnrolmentRequest>()
        .route("/auth/sign-in", post(post_sign_in), vec![(HttpMethod::Post, operation("trust", "sign_in", "Sign in with e-mail, password and TOTP code (or a recovery code); returns a bearer token", Some("SignInRequest"), &[("200", "Token and user"), ("401", "Wrong credentials"), ("429", "Too many failed attempts: wait Retry-After seconds")]))])
        .route("/auth/recovery-codes", post(post_recovery_codes), vec![(HttpMethod::Post, operation("trust", "replace_recovery_codes", "Replace your recovery codes (password and code re-entered); shown once", Some("Reverify"), &[("200", "The new codes"), ("401", "Wrong credentials")]))])
        .route("/auth/sessions", get(list_sessions), vec![(HttpMethod::Get, with_query(operation("trust", "list_sessions", "Your web sessions", None, &[("200", "Sessions")]), table_list_params(&SESSIONS, Some(&[]))))])
        .route("/auth/sessions/{id}/end", post(post_end_session), vec![(HttpMethod::Post, operation("trust", "end_session", "End one of your web sessions", None, &[("204", "Ended"), ("404", "No such session of yours")]))])
        .route("/auth/enrolment", post(post_open_enrolment), vec![(HttpMethod::Post, operation("trust", "open_enrolment", "Open a reset link: what it resets, and the new authenticator secret", Some("OpenEnrolmentRequest"), &[("200", "The reset"), ("404", "Unknown, used or expired link")]))])
        .route("/auth/enrolment/complete", post(post_complete_enrolment), vec![(HttpMethod::Post, operation("trust", "complete_enrolment", "Complete a reset: new password and/or a code from the new authenticator", Some("CompleteEnrolmentRequest"), &[("200", "The user, and new recovery codes"), ("404", "Unknown, used or expired link"), ("422", "Weak password or wrong code")]))])
        .route("/users/{id}/reset", post(post_user_reset), vec![(HttpMethod::Post, operation("trust", "reset_user", "Issue a one-time link resetting a user's password and/or second factor (admin); ends their sessions and tokens", Some("ResetUser"), &[("201", "The link")]))])
        .route("/auth/sign-out", post(post_sign_out), vec![(HttpMethod::Post, operation("trust", "sign_out", "Revoke the token (or end the session) used for this request", None, &[("204", "Signed out")]))])
        .schema::<ChangePassword>()
        .route("/auth/password", post(post_password), vec![(HttpMethod::Post, operation("trust", "change_password", "Change your password (current password and code re-entered)", Some("ChangePassword"), &[("204", "Changed"), ("401", "Wrong credentials"), ("422", "Weak new password")]))])
        .route("/auth/me", get(get_me), vec![(HttpMethod::Get, operation("trust", "me", "The signed-in user", None, &[("200", "UserView")]))])
        .route("/users", get(list_users).post(post_user), vec![
            (HttpMethod::Get, with_query(operation("trust", "list_users", "Users (admin)", None, &[("200", "UserView list")]), table_list_params(&USERS, Some(&user_filters)))),
            (HttpMethod::Post, operation("trust", "create_user", "Create a user (admin); returns the TOTP secret once", Some("CreateUser"), &[("201", "User and TOTP enrolment"), ("409", "E-mail taken")])),
        ])
        .route("/users/{id}", patch(patch_user), vec![(HttpMethod::Patch, operation("trust", "update_user", "Change a user's role, organisation or status (admin, with a reason)", Some("UpdateUser"), &[("200", "UserView")]))])
        .route("/tokens", get(list_tokens).post(post_token), vec![
            (HttpMethod::Get, with_query(operation("trust", "list_tokens", "Your API tokens", None, &[("200", "Tokens (never the token itself)")]), table_list_params(&API_TOKENS, Some(&["name"])))),
            (HttpMethod::Post, operation("trust", "create_token", "A named API token for yourself (password and code re-entered); shown once", Some("CreateToken"), &[("201", "The token")])),
        ])
        .route("/tokens/{id}/revoke", post(post_revoke_token), vec![(HttpMethod::Post, operation("trust", "revoke_token", "Revoke a token", None, &[("204", "Revoked")]))])
        .route("/audit", get(get_audit), vec![(HttpMethod::Get, with_query(operation("trust", "audit", "Audit entries in order (regulator and admin); content only for readers of the record", None, &[("200", "Entries")]), audit_params()))])
        .route("/access-log", get(crate::access_log::get_access_log), vec![(HttpMethod::Get, with_query(operation("trust", "access_log", "Who was shown which patient-level record (admin and regulator)", None, &[("200", "Entries")]), access_params))])
        .route("/audit/verify", get(get_audit_verify), vec![(HttpMethod::Get, operation("trust", "audit_verify", "Verify the audit hash chain, then every record against its latest audit entry", None, &[("200", "ok with the counts, or the first broken entry or mismatching record")]))])
        .route("/signatures", get(list_signatures).post(post_signature), vec![
            (HttpMethod::Get, with_query(operation("trust", "list_signatures", "Signatures on a record, each with whether it still matches the record", None, &[("200", "Signatures")]), signature_params)),
            (HttpMethod::Post, operation("trust", "sign", "Sign a record as it now is (password and code re-entered, meaning stated)", Some("SignRequest"), &[("201", "The signature"), ("401", "Wrong credentials")])),
        ])
}
