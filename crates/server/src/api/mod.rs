//! The JSON API under `/api/v1`.
//!
//! Resources are mounted through [`ApiBuilder`], which adds the routes and their
//! OpenAPI operations together, so the document always matches what is served.

pub mod openapi;
pub mod registry;
pub mod resource;

use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use openapi::Doc;
use resource::Resource;
use saisei_domain::registry::*;
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
    fn new() -> Self {
        ApiBuilder {
            router: Router::new(),
            doc: Doc::default(),
        }
    }

    /// A resource with list/get, and create/update/withdraw when `writable`.
    fn resource<R: Resource>(mut self, writable: bool) -> Self {
        let collection = format!("/{}", R::PATH);
        let item = format!("/{}/{{id}}", R::PATH);
        if writable {
            self.router = self
                .router
                .route(&collection, get(resource::list::<R>).post(resource::create::<R>))
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
}

/// The API router (to be nested at `/api/v1`) and its OpenAPI document.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut b = ApiBuilder::new()
        .resource::<Organisation>(true)
        .resource::<Practitioner>(true)
        .resource::<Product>(true)
        .resource::<Plan>(true)
        .resource::<PlanTransition>(false)
        .resource::<Patient>(true)
        .resource::<Enrollment>(true)
        .resource::<Consent>(true)
        .resource::<FollowUpSchedule>(true)
        .resource::<Treatment>(true)
        .resource::<Visit>(true)
        .resource::<Observation>(true)
        .resource::<AdverseEvent>(true);

    b.router = b
        .router
        .route("/plans/{id}/transitions", post(registry::post_transition))
        .route("/health", get(health));
    b.doc.schema::<saisei_store::workflow::TransitionRequest>();
    b.doc.operation(
        "/api/v1/plans/{id}/transitions",
        HttpMethod::Post,
        OperationBuilder::new()
            .tag("plans")
            .operation_id(Some("transition_plan"))
            .summary(Some("Move a plan through its lifecycle (dated, attributed, checked against the rules in force)"))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("TransitionRequest")))
                            .build(),
                    )
                    .build(),
            ))
            .response("201", ResponseBuilder::new().description("The plan after the move and the transition record"))
            .response("422", ResponseBuilder::new().description("The move breaks a lifecycle or regulatory rule"))
            .build(),
    );
    b.doc.operation(
        "/api/v1/health",
        HttpMethod::Get,
        OperationBuilder::new()
            .tag("system")
            .operation_id(Some("health"))
            .summary(Some("Liveness and database reachability"))
            .response("200", ResponseBuilder::new().description("Healthy"))
            .response("503", ResponseBuilder::new().description("The database does not answer"))
            .build(),
    );
    b.doc.operation(
        "/api/v1/openapi.json",
        HttpMethod::Get,
        OperationBuilder::new()
            .tag("system")
            .operation_id(Some("openapi"))
            .summary(Some("This document"))
            .response("200", ResponseBuilder::new().description("The OpenAPI 3.1 document"))
            .build(),
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
async fn health(State(state): State<AppState>) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
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
