//! Saisei's HTTP face: the JSON API under `/api/v1`, the OpenAPI document, web pages and
//! the HTML reports.
//!
//! [`app`] builds the whole router from an [`AppState`], so tests can serve it on a
//! random port against a fresh database. Every request passes the access policy in
//! [`access`]; every error leaves as `application/problem+json` through [`problem`].
//! Must never contain SQL, a statistic or a workflow: handlers check access, parse, and
//! call the store's workflows (with the evidence engine where an analysis runs).

pub mod access;
pub mod access_log;
pub mod api;
pub mod auth;
pub mod database;
pub mod extract;
pub mod headers;
pub mod pages;
pub mod problem;
pub mod reports;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use problem::{ApiError, Code};
pub use state::AppState;
use std::net::SocketAddr;
use tower_http::catch_panic::CatchPanicLayer;

/// Largest request body accepted (1 MiB); larger ones get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (api, _doc) = api::router();
    Router::new()
        .route("/", get(pages::overview))
        .route(
            "/sign-in",
            get(pages::sign_in_form).post(pages::sign_in_submit),
        )
        .route("/sign-out", axum::routing::post(pages::sign_out))
        .route("/enrol", get(pages::enrol_form).post(pages::enrol_submit))
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("a handler panicked");
                ApiError::new(Code::Internal, "internal error; the incident is logged")
                    .into_response()
            },
        ))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(
        Code::NotFound,
        "no such path; the API is described at /api/v1/openapi.json",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this path does not accept that method",
    )
}

/// Serves the application on `addr` until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(state, listener).await
}

/// Serves on an already-bound listener (tests bind port 0 and read the address back).
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let store = state.store.clone();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    store.backend().close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The address type re-exported for the CLI.
pub type Addr = SocketAddr;
