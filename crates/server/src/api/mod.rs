//! The JSON API under `/api/v1`.
//!
//! Resources are mounted through [`ApiBuilder`], which adds the routes and their
//! OpenAPI operations together, so the document always matches what is served.

pub mod adjudication;
pub mod contract;
pub mod docs;
pub mod evaluation;
pub mod kinds;
pub mod openapi;
pub mod quality;
pub mod registry;
pub mod regulation;
pub mod resource;
pub mod trust;

use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use openapi::Doc;
use resource::Resource;
use std::sync::Arc;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};

/// Mounts routes and documents them in one step.
pub struct ApiBuilder {
    router: Router<AppState>,
    doc: Doc,
}

impl ApiBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        ApiBuilder {
            router: Router::new(),
            doc: Doc::default(),
        }
    }

    /// A resource with list/get, and create/update/withdraw when its catalogue entry
    /// says it is writable.
    pub fn resource<R: Resource>(mut self) -> Self {
        let writable = R::table().api.is_some_and(|a| a.writable);
        let collection = format!("/{}", R::path());
        let item = format!("/{}/{{id}}", R::path());
        if writable {
            self.router = self
                .router
                .route(
                    &collection,
                    get(resource::list::<R>).post(resource::create::<R>),
                )
                .route(&item, get(resource::get::<R>).patch(resource::update::<R>))
                .route(&format!("{item}/withdraw"), post(resource::withdraw::<R>));
        } else {
            self.router = self
                .router
                .route(&collection, get(resource::list::<R>))
                .route(&item, get(resource::get::<R>));
        }
        self.doc.resource::<R>(writable);
        self
    }

    /// Adds a route that is not a plain resource, with its documentation.
    pub fn route(
        mut self,
        path: &str,
        method_router: axum::routing::MethodRouter<AppState>,
        docs: Vec<(HttpMethod, utoipa::openapi::path::Operation)>,
    ) -> Self {
        self.router = self.router.route(path, method_router);
        for (method, op) in docs {
            self.doc.operation(&format!("/api/v1{path}"), method, op);
        }
        self
    }

    /// Adds a type's schema to the document (for bodies of custom routes).
    pub fn schema<T: utoipa::ToSchema>(mut self) -> Self {
        self.doc.schema::<T>();
        self
    }
}

impl Default for ApiBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// A JSON request body referring to a named schema, for custom routes' documentation.
pub fn json_body(schema: &str) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
}

/// A documented operation with a tag, id, summary and responses.
pub fn operation(
    tag: &str,
    id: &str,
    summary: &str,
    body: Option<&str>,
    responses: &[(&str, &str)],
) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .tag(tag)
        .operation_id(Some(id))
        .summary(Some(summary));
    if let Some(schema) = body {
        op = op.request_body(Some(json_body(schema)));
    }
    for (code, description) in responses {
        op = op.response(*code, ResponseBuilder::new().description(*description));
    }
    op.build()
}

/// A query parameter of a custom operation.
#[derive(Clone)]
pub struct QueryParam {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: utoipa::openapi::schema::Type,
    /// What it does.
    pub description: String,
    /// Whether the operation needs it.
    pub required: bool,
}

/// An optional query parameter.
pub fn q(name: &str, ty: utoipa::openapi::schema::Type, description: &str) -> QueryParam {
    QueryParam {
        name: name.to_string(),
        ty,
        description: description.to_string(),
        required: false,
    }
}

/// A required query parameter.
pub fn q_required(name: &str, ty: utoipa::openapi::schema::Type, description: &str) -> QueryParam {
    QueryParam {
        required: true,
        ..q(name, ty, description)
    }
}

/// Adds query parameters to a documented operation (the contract refuses any other).
pub fn with_query(
    mut op: utoipa::openapi::path::Operation,
    params: Vec<QueryParam>,
) -> utoipa::openapi::path::Operation {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let list = op.parameters.get_or_insert_with(Vec::new);
    for p in params {
        list.push(utoipa::openapi::RefOr::T(
            ParameterBuilder::new()
                .name(p.name)
                .parameter_in(ParameterIn::Query)
                .required(if p.required {
                    Required::True
                } else {
                    Required::False
                })
                .description(Some(p.description))
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new().schema_type(p.ty),
                ))
                .build(),
        ));
    }
    op
}

/// The `limit` and `cursor` every list takes.
pub fn page_query() -> Vec<QueryParam> {
    use utoipa::openapi::schema::Type;
    vec![
        q("limit", Type::Integer, "Page size, 1–1000 (default 50)"),
        q("cursor", Type::String, "next_cursor of the previous page"),
    ]
}

/// The query parameters of a list of a table's rows (see
/// [`resource::table_list_query`], which reads exactly these): paging,
/// `include_withdrawn`, and each filterable column with its `.gte`/`.lte` (ordered
/// columns) and `.null` forms.
pub fn table_list_params(
    table: &'static saisei_store::TableDef,
    only: Option<&[&str]>,
) -> Vec<QueryParam> {
    use saisei_store::ColumnType;
    use utoipa::openapi::schema::Type;
    let mut out = page_query();
    out.push(q(
        "include_withdrawn",
        Type::Boolean,
        "Include withdrawn records",
    ));
    let sortable: Vec<&str> = saisei_store::sql::sortable(table)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    out.push(q(
        "sort",
        Type::String,
        &format!(
            "Order by one of {} (id is the order records were stored in); a leading - for largest first; paging follows the order",
            sortable.join(", ")
        ),
    ));
    for c in resource::filterable(table, only) {
        let ty = match c.ty {
            ColumnType::Int => Type::Integer,
            ColumnType::Real => Type::Number,
            ColumnType::Bool => Type::Boolean,
            _ => Type::String,
        };
        out.push(q(
            c.name,
            ty.clone(),
            &format!("Only records whose {} equals this", c.name),
        ));
        if resource::ordered(c.ty) {
            for (suffix, words) in [("gte", "at least"), ("lte", "at most")] {
                out.push(q(
                    &format!("{}.{suffix}", c.name),
                    ty.clone(),
                    &format!("Only records whose {} is {words} this", c.name),
                ));
            }
        }
        out.push(q(
            &format!("{}.null", c.name),
            Type::Boolean,
            &format!(
                "true: only records without a {}; false: only those with one",
                c.name
            ),
        ));
    }
    out
}

/// The API router (to be nested at `/api/v1`) and its finished OpenAPI document.
pub fn router() -> (Router<AppState>, Arc<serde_json::Value>) {
    let b = kinds::mount(ApiBuilder::new());
    let b = trust::mount(regulation::mount(registry::mount(b)));
    let b = quality::mount(b);
    let mut b = adjudication::mount(evaluation::mount(b));

    b.router = b.router.route("/health", get(health));
    b.doc.operation(
        "/api/v1/health",
        HttpMethod::Get,
        operation(
            "system",
            "health",
            "Liveness and database reachability",
            None,
            &[("200", "Healthy"), ("503", "The database does not answer")],
        ),
    );
    b.doc.operation(
        "/api/v1/openapi.json",
        HttpMethod::Get,
        operation(
            "system",
            "openapi",
            "This document",
            None,
            &[("200", "The OpenAPI 3.1 document")],
        ),
    );
    b.doc.operation(
        "/api/v1/docs",
        HttpMethod::Get,
        operation(
            "system",
            "api_reference",
            "This document as a readable page",
            None,
            &[("200", "The API reference (HTML)")],
        ),
    );
    let derived = std::mem::take(&mut b.doc.derived);
    let read_only = std::mem::take(&mut b.doc.read_only);
    let patches = std::mem::take(&mut b.doc.patches);
    let doc = b.doc.build();
    let finished = contract::finish(
        serde_json::to_value(&doc).unwrap_or_default(),
        crate::auth::PUBLIC_API,
        &derived,
        &read_only,
        &patches,
    );
    let doc_json = Arc::new(finished);
    let contract = Arc::new(contract::QueryContract::of(&doc_json));
    let page = Arc::new(docs::render(&doc_json));
    let served = doc_json.clone();
    let router = b
        .router
        .route(
            "/openapi.json",
            get(move || {
                let d = served.clone();
                async move { Json((*d).clone()) }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let p = page.clone();
                async move { axum::response::Html((*p).clone()) }
            }),
        )
        .route_layer(axum::middleware::from_fn(move |req, next| {
            contract::refuse_unknown_parameters(contract.clone(), req, next)
        }));
    (router, doc_json)
}

/// `GET /api/v1/health`.
async fn health(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    state
        .store
        .backend()
        .ping()
        .await
        .map_err(|_| ApiError::new(Code::DatabaseUnavailable, "the database does not answer"))?;
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({
            "status": "ok",
            "database": state.store.backend().kind(),
            "version": env!("CARGO_PKG_VERSION"),
        })),
    ))
}
