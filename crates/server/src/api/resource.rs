//! Generic create/read/list/update/withdraw over any stored entity.
//!
//! Each entity becomes a resource by naming its path and how client input turns into
//! the entity; the handlers here do the rest the same way for all of them: typed
//! parsing with field paths, optimistic concurrency, cursor pagination, filters by
//! column, withdrawal instead of deletion, and the access check on every call.

use crate::access::{
    Action, Actor, authorize, check_may_change, check_write, read_filters, visible,
};
use crate::access_log;
use crate::extract::{JsonBody, parse, parse_id, truncate};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use saisei_domain::Record;
use saisei_store::{Col, ColumnType, Filter, FilterOp, ListQuery, Stored, TableDef, Value};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as JsonValue};
use std::future::Future;

/// Default and maximum page sizes.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 1000;

/// An entity exposed at `/api/v1/{path}`: where and how is its catalogue entry's
/// business (`Stored::DECL.api`); this trait adds what the API does with input.
pub trait Resource: Stored {
    /// Path segment, kebab-case plural (`adverse-events`), from the catalogue.
    fn path() -> &'static str {
        Self::table()
            .api
            .map(|a| a.path)
            .unwrap_or(Self::table().name)
    }
    /// The API area (document tag), from the catalogue.
    fn tag() -> &'static str {
        Self::table().api.map(|a| a.tag).unwrap_or("other")
    }
    /// Fields fixed at creation, from the catalogue.
    fn immutable() -> &'static [&'static str] {
        Self::table().api.map(|a| a.immutable).unwrap_or(&[])
    }
    /// What a client sends to create one.
    type Input: DeserializeOwned + utoipa::ToSchema + Send + 'static;

    /// Turns client input into the entity (e.g. pseudonymising a record number).
    fn from_input(input: Self::Input, state: &AppState) -> Result<Self, ApiError>;

    /// Stores a new record; workflows override this to write related records in the
    /// same transaction.
    fn create(
        state: &AppState,
        actor: &Actor,
        data: Self,
    ) -> impl Future<Output = Result<Record<Self>, ApiError>> + Send {
        async move { Ok(state.store.create(&actor.audit(), data).await?) }
    }

    /// Whether changing this record needs a stated reason (it is submitted, locked or
    /// signed).
    fn update_needs_reason(_current: &Record<Self>) -> bool {
        false
    }

    /// Adds derived, never-stored fields to a record's JSON (e.g. a visit's status).
    fn decorate(_record: &Record<Self>, _json: &mut Map<String, JsonValue>) {}

    /// The schemas of the fields [`Resource::decorate`] adds, for the API document.
    fn derived() -> Vec<(
        &'static str,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )> {
        Vec::new()
    }
}

/// A record as JSON, with derived fields.
pub fn to_json<R: Resource>(record: &Record<R>) -> JsonValue {
    let mut v = serde_json::to_value(record).unwrap_or(JsonValue::Null);
    if let JsonValue::Object(map) = &mut v {
        R::decorate(record, map);
    }
    v
}

/// The response to a successful create: 201, a Location header and the record.
fn created<R: Resource>(record: &Record<R>) -> axum::response::Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/{}/{}", R::path(), record.meta.id)) {
        headers.insert(header::LOCATION, v);
    }
    (StatusCode::CREATED, headers, Json(to_json(record))).into_response()
}

/// `POST /api/v1/{path}`.
pub async fn create<R: Resource>(
    State(state): State<AppState>,
    actor: Actor,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse, ApiError> {
    let record = create_record::<R>(&state, &actor, body).await?;
    Ok(created(&record))
}

/// Creates a record from the fields a client sent, as JSON: the one path the API's
/// `POST` and the web application's forms share (a form's field names are the JSON
/// field names), so both check access, parse, validate and write the same way.
pub async fn create_record<R: Resource>(
    state: &AppState,
    actor: &Actor,
    body: JsonValue,
) -> Result<Record<R>, ApiError> {
    let data = new_record::<R>(state, actor, body).await?;
    R::create(state, actor, data).await
}

/// The checks of [`create_record`] without the write: the role may create the kind,
/// the body parses (every missing field named), the record's own rules hold and
/// everything it points at is within reach. For a workflow that stores the record
/// together with more than [`Resource::create`] does.
pub async fn new_record<R: Resource>(
    state: &AppState,
    actor: &Actor,
    body: JsonValue,
) -> Result<R, ApiError> {
    authorize(actor, Action::Create, R::KIND)?;
    reject_server_fields::<R>(&body)?;
    let missing = missing_required::<R::Input>(&body);
    let input: R::Input = parse(body).map_err(|e| {
        // serde stops at the first missing field; a form wants every one at once.
        if missing.len() > 1 && e.errors.iter().all(|f| f.problem == "is required") {
            let mut all = ApiError::new(Code::ValidationFailed, e.detail.clone());
            all.errors = missing
                .iter()
                .map(|f| saisei_domain::FieldError::new(f.as_str(), "is required"))
                .collect();
            all
        } else {
            e
        }
    })?;
    let data = R::from_input(input, state)?;
    // The record's own rules first: a write that is wrong in itself is answered the
    // same whatever it points at.
    data.validate()?;
    check_write(state, actor, uuid::Uuid::nil(), &data).await?;
    Ok(data)
}

/// Reads one record the actor may see (a record out of reach is "not found") and logs
/// the disclosure under `path`: the API's `GET` and the web pages share it.
pub async fn read_record<R: Resource>(
    state: &AppState,
    actor: &Actor,
    id: uuid::Uuid,
    path: &str,
) -> Result<Record<R>, ApiError> {
    authorize(actor, Action::Read, R::KIND)?;
    let record = visible::<R>(state, actor, id).await?;
    access_log::disclosed(state, actor, "read", path, std::slice::from_ref(&record)).await?;
    Ok(record)
}

/// A page of the records the actor may see, by the one list contract
/// ([`table_list_query`]), with the disclosure logged under `path`.
pub async fn list_records<R: Resource>(
    state: &AppState,
    actor: &Actor,
    params: &Params,
    path: &str,
) -> Result<saisei_store::Page<R>, ApiError> {
    list_records_where::<R>(state, actor, params, Vec::new(), path).await
}

/// [`list_records`] narrowed further by conditions a workflow built (a patients list
/// by enrolment): the actor's reach is added all the same, so a filter can only narrow.
pub async fn list_records_where<R: Resource>(
    state: &AppState,
    actor: &Actor,
    params: &Params,
    narrower: Vec<Filter>,
    path: &str,
) -> Result<saisei_store::Page<R>, ApiError> {
    authorize(actor, Action::Read, R::KIND)?;
    let mut q = list_query::<R>(params)?;
    q.filters.extend(narrower);
    q.filters.extend(read_filters::<R>(actor)?);
    let page = state.store.list::<R>(&q).await?;
    access_log::disclosed(state, actor, "list", path, &page.items).await?;
    Ok(page)
}

/// The top-level fields an input's schema requires that `body` lacks.
fn missing_required<I: utoipa::ToSchema>(body: &JsonValue) -> Vec<String> {
    let JsonValue::Object(map) = body else {
        return Vec::new();
    };
    match <I as utoipa::PartialSchema>::schema() {
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(o)) => o
            .required
            .iter()
            .filter(|f| map.get(f.as_str()).is_none_or(JsonValue::is_null))
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

fn reject_server_fields<R: Resource>(body: &JsonValue) -> Result<(), ApiError> {
    if let JsonValue::Object(map) = body {
        for f in R::READ_ONLY {
            if map.contains_key(*f) {
                return Err(ApiError::field(
                    Code::ValidationFailed,
                    *f,
                    "is set by the server and cannot be given",
                ));
            }
        }
    }
    Ok(())
}

/// `GET /api/v1/{path}/{id}`.
pub async fn get<R: Resource>(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, R::KIND)?;
    let id = parse_id(&id)?;
    let path = format!("/api/v1/{}/{id}", R::path());
    let record = read_record::<R>(&state, &actor, id, &path).await?;
    Ok(Json(to_json(&record)))
}

/// Query parameters as name/value pairs.
pub type Params = Vec<(String, String)>;

/// Turns `?field=…&field.gte=…&limit=…&cursor=…` into a store query.
pub fn list_query<R: Resource>(params: &Params) -> Result<ListQuery, ApiError> {
    table_list_query(R::table(), None, params)
}

/// Whether a column's values have an order a list may filter by (`.gte`, `.lte`).
pub fn ordered(ty: ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::Int | ColumnType::Real | ColumnType::Date | ColumnType::Timestamp
    )
}

/// Columns of `table` a list may filter on: `only` when given, else every column that
/// is not nested data.
pub fn filterable(table: &TableDef, only: Option<&[&str]>) -> Vec<&'static Col> {
    table
        .columns
        .iter()
        .filter(|c| c.ty != ColumnType::Json)
        .filter(|c| only.is_none_or(|o| o.contains(&c.name)))
        .collect()
}

/// The one list contract, for any table: `limit` (1–1000, default 50), `cursor` (the
/// previous page's `next_cursor`), `include_withdrawn`, and filters on the columns
/// `only` allows (all plain columns when `None`) with `.gte`, `.lte` and `.null`.
/// Anything else is a 400 naming the parameter.
pub fn table_list_query(
    table: &'static TableDef,
    only: Option<&[&str]>,
    params: &Params,
) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        limit: DEFAULT_LIMIT,
        ..Default::default()
    };
    let mut cursor = None;
    for (name, raw) in params {
        match name.as_str() {
            "limit" => q.limit = parse_limit(raw)?,
            "cursor" => cursor = Some(raw.as_str()),
            "sort" => q.order = Some(parse_sort(table, raw)?),
            "include_withdrawn" => {
                q.include_withdrawn = match raw.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(ApiError::field(
                            Code::BadParameter,
                            "include_withdrawn",
                            "must be true or false",
                        ));
                    }
                }
            }
            other => q.filters.push(filter(table, only, other, raw)?),
        }
    }
    if let Some(c) = cursor {
        let bad = || {
            ApiError::field(
                Code::BadParameter,
                "cursor",
                "is not a cursor this API issued for this order",
            )
        };
        // An ordered list's cursor is the last id, a dot and its value in the order's
        // column; an id-ordered list's is the id alone.
        let (id, value) = match c.split_once('.') {
            Some((id, v)) => (id, Some(v)),
            None => (c, None),
        };
        q.after = Some(uuid::Uuid::parse_str(id).map_err(|_| bad())?);
        if let Some(order) = q.order.as_mut().filter(|o| o.column != "id") {
            let ty = saisei_store::sql::sort_type(table, order.column).ok_or_else(bad)?;
            let raw = value.ok_or_else(bad)?;
            order.after_value = Some(Value::parse_filter(ty, raw).map_err(|_| bad())?);
        } else if value.is_some() {
            return Err(bad());
        }
    }
    Ok(q)
}

/// `sort=column` (smallest first) or `sort=-column` (largest first), over the columns
/// [`saisei_store::sql::sortable`] allows; anything else is a 400 naming them.
fn parse_sort(table: &'static TableDef, raw: &str) -> Result<saisei_store::Order, ApiError> {
    let (descending, name) = match raw.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, raw),
    };
    let allowed = saisei_store::sql::sortable(table);
    let column = allowed
        .iter()
        .find(|(c, _)| *c == name)
        .map(|(c, _)| *c)
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|(c, _)| *c).collect();
            ApiError::field(
                Code::BadParameter,
                "sort",
                format!(
                    "cannot order by '{}'; use one of: {} (with a leading - for largest first)",
                    truncate(name),
                    names.join(", ")
                ),
            )
        })?;
    Ok(saisei_store::Order {
        column,
        descending,
        after_value: None,
    })
}

fn filter(
    table: &'static TableDef,
    only: Option<&[&str]>,
    name: &str,
    raw: &str,
) -> Result<Filter, ApiError> {
    let (column, op) = match name.rsplit_once('.') {
        Some((c, "gte")) => (c, FilterOp::Gte),
        Some((c, "lte")) => (c, FilterOp::Lte),
        Some((c, "null")) => (c, FilterOp::IsNull),
        _ => (name, FilterOp::Eq),
    };
    let allowed = filterable(table, only);
    let col = allowed
        .iter()
        .find(|c| c.name == column)
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|c| c.name).collect();
            ApiError::field(
                Code::BadParameter,
                truncate(name),
                format!(
                    "unknown parameter; filter on one of: {}, or use limit, cursor, sort, include_withdrawn",
                    names.join(", ")
                ),
            )
        })?;
    if matches!(op, FilterOp::Gte | FilterOp::Lte) && !ordered(col.ty) {
        return Err(ApiError::field(
            Code::BadParameter,
            truncate(name),
            format!(
                "{} has no order to compare by; use {} or {}.null",
                col.name, col.name, col.name
            ),
        ));
    }
    if op == FilterOp::IsNull {
        let op = match raw {
            "true" => FilterOp::IsNull,
            "false" => FilterOp::NotNull,
            _ => {
                return Err(ApiError::field(
                    Code::BadParameter,
                    name,
                    "must be true or false",
                ));
            }
        };
        return Ok(Filter::new(col.name, op, Value::Null));
    }
    let value = Value::parse_filter(col.ty, raw)
        .map_err(|p| ApiError::field(Code::BadParameter, name, p))?;
    Ok(Filter::new(col.name, op, value))
}

/// A page of a list that is not one table's rows (audit entries, signatures, a
/// product's patients): the same `limit` and `cursor` as every list, plus the named
/// parameters the list takes. Anything else is a 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Page size (1–1000, default 50).
    pub limit: u32,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    named: Vec<(String, String)>,
}

impl PageRequest {
    /// Parses `params`, accepting `limit`, `cursor` and the names in `allowed`.
    pub fn parse(params: &Params, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut out = PageRequest {
            limit: DEFAULT_LIMIT,
            cursor: None,
            named: Vec::new(),
        };
        for (name, raw) in params {
            match name.as_str() {
                "limit" => out.limit = parse_limit(raw)?,
                "cursor" => out.cursor = Some(raw.clone()),
                n if allowed.contains(&n) => {
                    if out.named.iter().any(|(k, _)| k == n) {
                        return Err(ApiError::field(
                            Code::BadParameter,
                            n,
                            "is given more than once",
                        ));
                    }
                    out.named.push((n.to_string(), raw.clone()));
                }
                other => {
                    let mut names: Vec<&str> = vec!["limit", "cursor"];
                    names.extend(allowed);
                    return Err(ApiError::field(
                        Code::BadParameter,
                        truncate(other),
                        format!("unknown parameter; this list takes {}", names.join(", ")),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// A named parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The cursor as a position in a log (lists ordered by sequence number), 0 without
    /// one, or a 400.
    pub fn cursor_seq(&self) -> Result<i64, ApiError> {
        match self.cursor.as_deref() {
            None => Ok(0),
            Some(c) => c.parse::<i64>().ok().filter(|s| *s >= 0).ok_or_else(|| {
                ApiError::field(
                    Code::BadParameter,
                    "cursor",
                    "is not a cursor this API issued",
                )
            }),
        }
    }

    /// The cursor as a record id (lists ordered by id), or a 400.
    pub fn cursor_id(&self) -> Result<Option<uuid::Uuid>, ApiError> {
        self.cursor
            .as_deref()
            .map(|c| {
                uuid::Uuid::parse_str(c).map_err(|_| {
                    ApiError::field(
                        Code::BadParameter,
                        "cursor",
                        "is not a cursor this API issued",
                    )
                })
            })
            .transpose()
    }
}

/// One page of a list computed in memory, ordered by id: the items after the cursor,
/// at most `limit`, and the cursor of the next page (the last id) when more remain.
pub fn paginate<T>(
    mut items: Vec<T>,
    id_of: impl Fn(&T) -> uuid::Uuid,
    page: &PageRequest,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let after = page.cursor_id()?;
    items.sort_by_key(|i| id_of(i));
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|i| after.is_none_or(|a| id_of(i) > a))
        .collect();
    let more = rest.len() > page.limit as usize;
    rest.truncate(page.limit as usize);
    let next = if more {
        rest.last().map(|i| id_of(i).to_string())
    } else {
        None
    };
    Ok((rest, next))
}

pub(crate) fn parse_limit(raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>()
        .ok()
        .filter(|l| (1..=MAX_LIMIT).contains(l))
        .ok_or_else(|| {
            ApiError::field(
                Code::BadParameter,
                "limit",
                format!("must be a whole number from 1 to {MAX_LIMIT}"),
            )
        })
}

/// Maps a malformed query string to a problem.
pub fn query_rejection(e: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::new(
        Code::BadParameter,
        format!("the query string is malformed: {e}"),
    )
}

/// `GET /api/v1/{path}`.
pub async fn list<R: Resource>(
    State(state): State<AppState>,
    actor: Actor,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Read, R::KIND)?;
    let Query(params) = params.map_err(query_rejection)?;
    let path = format!("/api/v1/{}", R::path());
    let page = list_records::<R>(&state, &actor, &params, &path).await?;
    let items: Vec<JsonValue> = page.items.iter().map(to_json).collect();
    Ok(Json(serde_json::json!({
        "items": items,
        "next_cursor": page.next_cursor,
    })))
}

/// Takes `version` (and `reason`) out of an update body.
fn take_version(map: &mut Map<String, JsonValue>) -> Result<(i64, Option<String>), ApiError> {
    let version = match map.remove("version") {
        Some(JsonValue::Number(n)) => n.as_i64().filter(|v| *v >= 1),
        None => {
            return Err(ApiError::field(
                Code::ValidationFailed,
                "version",
                "is required: send the version you read, so a concurrent change is not overwritten",
            ));
        }
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::field(
            Code::ValidationFailed,
            "version",
            "must be a positive integer",
        )
    })?;
    let reason = match map.remove("reason") {
        None | Some(JsonValue::Null) => None,
        Some(JsonValue::String(s)) => {
            let t: saisei_domain::text::Text = s
                .parse()
                .map_err(|p| ApiError::field(Code::ValidationFailed, "reason", p))?;
            Some(t.to_string())
        }
        Some(_) => {
            return Err(ApiError::field(
                Code::ValidationFailed,
                "reason",
                "must be a string",
            ));
        }
    };
    Ok((version, reason))
}

/// `PATCH /api/v1/{path}/{id}`: changes the fields given, if `version` is current.
pub async fn update<R: Resource>(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    let id = parse_id(&id)?;
    let record = update_record::<R>(&state, &actor, id, body).await?;
    Ok(Json(to_json(&record)))
}

/// Changes a record from the fields a client sent (with the `version` it read and, for
/// a submitted, signed or locked record, a `reason`): the one path the API's `PATCH`
/// and the web application's forms share.
pub async fn update_record<R: Resource>(
    state: &AppState,
    actor: &Actor,
    id: uuid::Uuid,
    body: JsonValue,
) -> Result<Record<R>, ApiError> {
    authorize(actor, Action::Update, R::KIND)?;
    let JsonValue::Object(mut patch) = body else {
        return Err(ApiError::field(
            Code::ValidationFailed,
            "body",
            "must be a JSON object",
        ));
    };
    let (version, reason) = take_version(&mut patch)?;
    let current = visible::<R>(state, actor, id).await?;
    check_may_change(state, actor, id, &current.data).await?;
    if current.meta.version != version {
        return Err(saisei_store::StoreError::Conflict {
            entity: R::KIND,
            id,
            expected: version,
            current: current.meta.version,
        }
        .into());
    }
    if current.meta.withdrawn_at.is_some() {
        return Err(ApiError::field(
            Code::RuleViolation,
            "id",
            format!("{} is withdrawn and cannot be changed", R::KIND),
        ));
    }
    let JsonValue::Object(mut merged) = serde_json::to_value(&current.data).unwrap_or_default()
    else {
        return Err(ApiError::new(Code::Internal, "record is not an object"));
    };
    for (k, v) in patch {
        if R::READ_ONLY.contains(&k.as_str()) || R::immutable().contains(&k.as_str()) {
            return Err(ApiError::field(
                Code::ValidationFailed,
                k,
                "cannot be changed through an update",
            ));
        }
        if v.is_null() {
            merged.remove(&k);
        } else {
            merged.insert(k, v);
        }
    }
    if reason.is_none() {
        let signed = state
            .store
            .count_where(
                &saisei_store::tables::trust::SIGNATURES,
                &[
                    Filter::eq("entity", Value::Text(R::KIND.to_string())),
                    Filter::eq("entity_id", Value::Uuid(id)),
                ],
            )
            .await?
            > 0;
        if signed || R::update_needs_reason(&current) {
            return Err(ApiError::field(
                Code::ValidationFailed,
                "reason",
                format!(
                    "this {} is {}: changing it needs a reason",
                    R::KIND,
                    if signed {
                        "signed"
                    } else {
                        "submitted or locked"
                    }
                ),
            ));
        }
    }
    let data: R = parse(JsonValue::Object(merged))?;
    data.validate()?;
    check_write(state, actor, id, &data).await?;
    let record = state
        .store
        .update(&actor.audit(), id, version, data, reason)
        .await?;
    Ok(record)
}

/// The body of a withdrawal.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// The version read.
    pub version: i64,
    /// Why the record is withdrawn.
    pub reason: saisei_domain::text::Text,
}

/// `POST /api/v1/{path}/{id}/withdraw`.
pub async fn withdraw<R: Resource>(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<JsonValue>, ApiError> {
    authorize(&actor, Action::Withdraw, R::KIND)?;
    let id = parse_id(&id)?;
    let w: Withdrawal = parse(body)?;
    let current = visible::<R>(&state, &actor, id).await?;
    check_may_change(&state, &actor, id, &current.data).await?;
    let record = state
        .store
        .withdraw::<R>(&actor.audit(), id, w.version, w.reason.to_string())
        .await?;
    Ok(Json(to_json(&record)))
}
