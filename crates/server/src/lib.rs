//! Saisei's HTTP face: the JSON API under `/api/v1`, the OpenAPI document and the HTML
//! reports; the browser application (`saisei-web`) is mounted beside it with
//! [`app_with`].
//!
//! [`app`] builds the router from an [`AppState`], so tests can serve it on a
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
pub mod problem;
pub mod reports;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use problem::{ApiError, Code};
pub use state::AppState;
use std::net::SocketAddr;
use tower_http::catch_panic::CatchPanicLayer;

/// Largest request body accepted (1 MiB); larger ones get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The API alone (what the API's own tests serve).
pub fn app(state: AppState) -> Router {
    app_with(state, None)
}

/// The API with the browser application's routes beside it. `pages` brings its own
/// fallback for paths outside the API, and answers unknown `/api/…` paths with
/// [`api_not_found`]. Either way every request passes the same authentication layer,
/// body limit, panic guard and security headers.
pub fn app_with(state: AppState, pages: Option<Router<AppState>>) -> Router {
    let (api, _doc) = api::router();
    let router = Router::new().nest("/api/v1", api);
    let router = match pages {
        Some(pages) => router.merge(pages),
        None => router.fallback(api_not_found),
    };
    router
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

/// The answer to a path nothing serves, as a problem.
pub async fn api_not_found() -> ApiError {
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

/// Serves the API on an already-bound listener (tests bind port 0 and read the address
/// back).
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let store = state.store.clone();
    serve_router(app(state), store, listener).await
}

/// Serves a router built by [`app`] or [`app_with`] until Ctrl-C or SIGTERM, then closes
/// the store.
pub async fn serve_router(
    router: Router,
    store: saisei_store::Store,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
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
