//! Sign-in, users, tokens, the audit trail and electronic signatures over HTTP.

use super::{ApiBuilder, operation};
use crate::access::{Action, Actor, Via, authorize, may_read_audited};
use crate::extract::{JsonBody, parse, parse_id};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use saisei_domain::Record;
use saisei_domain::audit::{AuditAction, AuditEntry, ChainVerifier};
use saisei_domain::auth::credentials::totp_uri;
use saisei_domain::auth::{Email, Role, Signature, SignatureMeaning, User, UserView};
use saisei_domain::text::{Name, Text};
use saisei_store::workflow::auth::{
    NewUser, SignInError, SigningRequest, add_signature, create_user, issue_token, revoke_token,
    sign_in, verify_credentials,
};
use saisei_store::{AuditQuery, Batch, Filter, Value};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use time::Duration;
use utoipa::openapi::path::HttpMethod;
use uuid::Uuid;

/// Maps a refused sign-in to a problem.
pub fn sign_in_problem(e: SignInError) -> ApiError {
    match e {
        SignInError::Locked(_) => ApiError::new(Code::Locked, e.to_string()),
        _ => ApiError::new(Code::Unauthenticated, e.to_string()),
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
    /// The current six-digit code from the authenticator app.
    pub code: String,
}

async fn post_sign_in(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    let req: SignInRequest = parse(body)?;
    let now = state.clock.now();
    let user = sign_in(
        &state.store,
        &state.auth,
        &req.email,
        &req.password,
        &req.code,
        now,
    )
    .await
    .map_err(sign_in_problem)?;
    let expires_at = now + state.auth.sign_in_token_ttl;
    let actor = saisei_domain::audit::AuditActor {
        actor: user.meta.id.to_string(),
        role: user.data.role.to_string(),
        organisation_id: user.data.organisation_id,
    };
    let (token, record) = issue_token(&state.store, &actor, &user, "sign-in", expires_at).await?;
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

/// Body of `POST /api/v1/auth/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The current password.
    pub password: String,
    /// The current code.
    pub code: String,
    /// The new password (at least 12 characters).
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
    let user = state.store.get::<User>(actor.user_id).await?;
    let user = verify_credentials(
        &state.store,
        &state.auth,
        &user,
        &req.password,
        &req.code,
        state.clock.now(),
        AuditAction::SignIn,
    )
    .await
    .map_err(sign_in_problem)?;
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
    /// Initial password (at least 12 characters).
    pub password: String,
}

async fn post_user(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    authorize(&actor, Action::Create, "user")?;
    let req: CreateUser = parse(body)?;
    let email = req.email.to_string();
    let (user, secret) = create_user(
        &state.store,
        &actor.audit(),
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
            "totp_secret": secret,
            "totp_uri": totp_uri(&secret, &email),
        })),
    ))
}

async fn list_users(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "user")?;
    let users = state.store.all::<User>(vec![]).await?;
    let items: Vec<UserView> = users.iter().map(UserView::of).collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
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
    /// Lift a lock-out.
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
        data.locked_until = None;
        data.failed_attempts = 0;
    }
    let mut batch = Batch::new(&actor.audit());
    let updated = batch.update(
        &current,
        data,
        AuditAction::PermissionChange,
        Some(req.reason.to_string()),
    )?;
    state.store.commit(batch).await?;
    Ok(Json(UserView::of(&updated)))
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
    let now = state.clock.now();
    let user = state.store.get::<User>(actor.user_id).await?;
    let user = verify_credentials(
        &state.store,
        &state.auth,
        &user,
        &req.password,
        &req.code,
        now,
        AuditAction::SignIn,
    )
    .await
    .map_err(sign_in_problem)?;
    let expires_at = now + Duration::days(req.expires_in_days);
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
            json!({ "token": token, "token_id": record.meta.id, "expires_at": saisei_domain::dates::rfc3339(expires_at) }),
        ),
    ))
}

async fn list_tokens(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<JsonValue>, ApiError> {
    let tokens = state
        .store
        .all::<saisei_domain::auth::ApiToken>(vec![Filter::eq(
            "user_id",
            Value::Uuid(actor.user_id),
        )])
        .await?;
    let items: Vec<JsonValue> = tokens
        .iter()
        .map(|t| {
            json!({
                "id": t.meta.id, "name": t.data.name,
                "created_at": saisei_domain::dates::rfc3339(t.meta.created_at),
                "expires_at": saisei_domain::dates::rfc3339(t.data.expires_at),
                "revoked_at": t.data.revoked_at.map(saisei_domain::dates::rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

async fn post_revoke_token(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let token = state.store.get::<saisei_domain::auth::ApiToken>(id).await?;
    if token.data.user_id != actor.user_id && actor.role != Role::Admin {
        return Err(saisei_store::StoreError::NotFound {
            entity: "api_token",
            id,
        }
        .into());
    }
    revoke_token(&state.store, &actor.audit(), &token, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    #[serde(default)]
    entity: Option<String>,
    #[serde(default)]
    entity_id: Option<String>,
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

async fn get_audit(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, "audit")?;
    let Query(p) =
        query.map_err(|e| ApiError::new(Code::BadParameter, format!("bad query: {e}")))?;
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field(
            Code::BadParameter,
            "limit",
            "must be 1 to 1000",
        ));
    }
    let entity_id = p
        .entity_id
        .as_deref()
        .map(|s| {
            Uuid::parse_str(s)
                .map_err(|_| ApiError::field(Code::BadParameter, "entity_id", "is not a UUID"))
        })
        .transpose()?;
    let entries: Vec<AuditEntry> = state
        .store
        .audit(&AuditQuery {
            after_seq: p.after.unwrap_or(0),
            limit,
            entity: p.entity,
            entity_id,
        })
        .await?;
    let next = (entries.len() as u32 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    let mut decided: std::collections::HashMap<(String, Option<Uuid>), bool> =
        std::collections::HashMap::new();
    let mut items = Vec::with_capacity(entries.len());
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
        items.push(audit_item(e, readable));
    }
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
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = state
            .store
            .audit(&AuditQuery {
                after_seq: after,
                limit: 1000,
                ..Default::default()
            })
            .await?;
        for e in &page {
            if let Err(broken) = v.check(e) {
                return Ok(Json(
                    json!({ "ok": false, "entries": v.verified(), "first_broken": e.seq, "problem": broken.to_string() }),
                ));
            }
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = last.seq,
            _ => break,
        }
    }
    Ok(Json(json!({ "ok": true, "entries": v.verified() })))
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

/// Verifies the signer's password and code and adds a signature over the record as it
/// now is to `batch`.
#[allow(clippy::too_many_arguments)]
pub async fn sign_into(
    state: &AppState,
    actor: &Actor,
    batch: &mut Batch,
    entity: &'static str,
    entity_id: Uuid,
    entity_version: i64,
    content_hash: String,
    input: SignatureInput,
) -> Result<Record<Signature>, ApiError> {
    let now = state.clock.now();
    if input.meaning.is_none() {
        return Err(ApiError::field(
            Code::ValidationFailed,
            "signature.meaning",
            "say what the signature means",
        ));
    }
    let user = state.store.get::<User>(actor.user_id).await?;
    if !user.data.role.can_sign() {
        return Err(ApiError::new(
            Code::Forbidden,
            format!("a {} cannot apply electronic signatures", user.data.role),
        ));
    }
    let user = verify_credentials(
        &state.store,
        &state.auth,
        &user,
        &input.password,
        &input.code,
        now,
        AuditAction::Sign,
    )
    .await
    .map_err(sign_in_problem)?;
    Ok(add_signature(
        batch,
        &user,
        SigningRequest {
            entity,
            entity_id,
            entity_version,
            content_hash,
            meaning: input.meaning.ok_or_else(|| {
                ApiError::field(
                    Code::ValidationFailed,
                    "signature.meaning",
                    "say what the signature means",
                )
            })?,
            comment: input.comment,
        },
        now,
    )?)
}

async fn post_signature(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    let req: SignRequest = parse(body)?;
    let table = saisei_store::tables::all()
        .into_iter()
        .find(|t| t.entity == req.entity)
        .ok_or_else(|| {
            ApiError::field(
                Code::ValidationFailed,
                "entity",
                format!("'{}' is not a kind of record", req.entity),
            )
        })?;
    authorize(&actor, Action::Read, table.entity)?;
    let row = state.store.get_row(table, req.entity_id).await?.ok_or(
        saisei_store::StoreError::NotFound {
            entity: table.entity,
            id: req.entity_id,
        },
    )?;
    if let crate::access::Scope::Rows(f) = crate::access::access(&actor, table).read
        && !state
            .store
            .row_satisfies(table, req.entity_id, &row.values, &f)
            .await?
    {
        return Err(saisei_store::StoreError::NotFound {
            entity: table.entity,
            id: req.entity_id,
        }
        .into());
    }
    let hash = saisei_domain::audit::content_hash(&saisei_store::store::row_json(table, &row));
    let mut batch = Batch::new(&actor.audit());
    batch.check_row(table, req.entity_id, row.meta.version);
    let sig = sign_into(
        &state,
        &actor,
        &mut batch,
        table.entity,
        req.entity_id,
        row.meta.version,
        hash,
        req.signature,
    )
    .await?;
    state.store.commit(batch).await?;
    Ok((StatusCode::CREATED, Json(json!(sig))))
}

/// Query of `GET /api/v1/signatures`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureParams {
    entity: String,
    entity_id: String,
}

async fn list_signatures(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<SignatureParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Query(p) = query.map_err(|e| {
        ApiError::new(
            Code::BadParameter,
            format!("give entity and entity_id: {e}"),
        )
    })?;
    let entity_id = parse_id(&p.entity_id)?;
    let table = saisei_store::tables::all()
        .into_iter()
        .find(|t| t.entity == p.entity)
        .ok_or_else(|| ApiError::field(Code::BadParameter, "entity", "is not a kind of record"))?;
    authorize(&actor, Action::Read, table.entity)?;
    let row =
        state
            .store
            .get_row(table, entity_id)
            .await?
            .ok_or(saisei_store::StoreError::NotFound {
                entity: table.entity,
                id: entity_id,
            })?;
    if let crate::access::Scope::Rows(f) = crate::access::access(&actor, table).read
        && !state
            .store
            .row_satisfies(table, entity_id, &row.values, &f)
            .await?
    {
        return Err(saisei_store::StoreError::NotFound {
            entity: table.entity,
            id: entity_id,
        }
        .into());
    }
    let current = saisei_domain::audit::content_hash(&saisei_store::store::row_json(table, &row));
    // Everyone who may read the record sees its signatures.
    let filters = vec![
        Filter::eq("entity", Value::Text(table.entity.to_string())),
        Filter::eq("entity_id", Value::Uuid(entity_id)),
    ];
    let sigs = state.store.all::<Signature>(filters).await?;
    let items: Vec<JsonValue> = sigs
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            v["valid"] = json!(s.data.content_hash == current);
            v
        })
        .collect();
    Ok(Json(
        json!({ "items": items, "current_content_hash": current, "next_cursor": null }),
    ))
}

/// Mounts the trust endpoints.
pub fn mount(b: ApiBuilder) -> ApiBuilder {
    b.schema::<SignInRequest>()
        .schema::<CreateUser>()
        .schema::<UpdateUser>()
        .schema::<CreateToken>()
        .schema::<SignRequest>()
        .schema::<UserView>()
        .route("/auth/sign-in", post(post_sign_in), vec![(HttpMethod::Post, operation("trust", "sign_in", "Sign in with e-mail, password and TOTP code; returns a bearer token", Some("SignInRequest"), &[("200", "Token and user"), ("401", "Wrong credentials"), ("423", "Locked")]))])
        .route("/auth/sign-out", post(post_sign_out), vec![(HttpMethod::Post, operation("trust", "sign_out", "Revoke the token (or end the session) used for this request", None, &[("204", "Signed out")]))])
        .schema::<ChangePassword>()
        .route("/auth/password", post(post_password), vec![(HttpMethod::Post, operation("trust", "change_password", "Change your password (current password and code re-entered)", Some("ChangePassword"), &[("204", "Changed"), ("401", "Wrong credentials"), ("422", "Weak new password")]))])
        .route("/auth/me", get(get_me), vec![(HttpMethod::Get, operation("trust", "me", "The signed-in user", None, &[("200", "UserView")]))])
        .route("/users", get(list_users).post(post_user), vec![
            (HttpMethod::Get, operation("trust", "list_users", "Users (admin)", None, &[("200", "UserView list")])),
            (HttpMethod::Post, operation("trust", "create_user", "Create a user (admin); returns the TOTP secret once", Some("CreateUser"), &[("201", "User and TOTP enrolment"), ("409", "E-mail taken")])),
        ])
        .route("/users/{id}", patch(patch_user), vec![(HttpMethod::Patch, operation("trust", "update_user", "Change a user's role, organisation or status (admin, with a reason)", Some("UpdateUser"), &[("200", "UserView")]))])
        .route("/tokens", get(list_tokens).post(post_token), vec![
            (HttpMethod::Get, operation("trust", "list_tokens", "Your API tokens", None, &[("200", "Tokens (never the token itself)")])),
            (HttpMethod::Post, operation("trust", "create_token", "A named API token for yourself (password and code re-entered); shown once", Some("CreateToken"), &[("201", "The token")])),
        ])
        .route("/tokens/{id}/revoke", post(post_revoke_token), vec![(HttpMethod::Post, operation("trust", "revoke_token", "Revoke a token", None, &[("204", "Revoked")]))])
        .route("/audit", get(get_audit), vec![(HttpMethod::Get, operation("trust", "audit", "Audit entries (?entity=&entity_id=&after=&limit=), regulator and admin", None, &[("200", "Entries")]))])
        .route("/audit/verify", get(get_audit_verify), vec![(HttpMethod::Get, operation("trust", "audit_verify", "Verify the audit hash chain", None, &[("200", "ok and count, or the first broken entry")]))])
        .route("/signatures", get(list_signatures).post(post_signature), vec![
            (HttpMethod::Get, operation("trust", "list_signatures", "Signatures on a record (?entity=&entity_id=), each with whether it still matches the record", None, &[("200", "Signatures")])),
            (HttpMethod::Post, operation("trust", "sign", "Sign a record as it now is (password and code re-entered, meaning stated)", Some("SignRequest"), &[("201", "The signature"), ("401", "Wrong credentials")])),
        ])
}
