//! The JSON API under `/api/v1`.
//!
//! Resources are mounted through [`ApiBuilder`], which adds the routes and their
//! OpenAPI operations together, so the document always matches what is served.

pub mod evaluation;
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

    /// A resource with list/get, and create/update/withdraw when `writable`.
    pub fn resource<R: Resource>(mut self, writable: bool) -> Self {
        let collection = format!("/{}", R::PATH);
        let item = format!("/{}/{{id}}", R::PATH);
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

/// The API router (to be nested at `/api/v1`) and its OpenAPI document.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let b = trust::mount(regulation::mount(registry::mount(ApiBuilder::new())));
    let b = quality::mount(b);
    let mut b = evaluation::mount(b);

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
    let doc = b.doc.build();
    let doc_json = Arc::new(serde_json::to_value(&doc).unwrap_or_default());
    let router = b.router.route(
        "/openapi.json",
        get(move || {
            let d = doc_json.clone();
            async move { Json((*d).clone()) }
        }),
    );
    (router, doc)
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
