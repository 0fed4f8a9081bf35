//! Electronic signatures over records, and the input every signing workflow takes.

use super::*;
use crate::access::{Action, Actor, authorize};
use crate::api::resource::{PageRequest, Params, query_rejection};
use crate::extract::{JsonBody, parse, truncate};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use saisei_domain::Record;
use saisei_domain::auth::credentials::hashes_equal;
use saisei_domain::auth::{Signature, SignatureMeaning};
use saisei_domain::text::Text;
use saisei_store::workflow::auth::{Signer, SignerCredentials, SigningError, SigningRequest, sign};
use saisei_store::{Batch, Filter, ListQuery, Value};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;

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
pub(crate) async fn readable_row(
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

pub(crate) async fn post_signature(
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

pub(crate) async fn list_signatures(
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
        order: None,
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
