//! Saisei's browser application: server-rendered pages (askama) in Japanese by default
//! and English on request (Fluent catalogues in `locales/`), with htmx vendored for
//! partial updates and every control a real link or form underneath, so each page works
//! with JavaScript off.
//!
//! The pages are a client of the same workflows as the API: they call the server's
//! resource functions (`create_record`, `read_record`, `list_records`) and the store's
//! workflows, so access is decided in `saisei_server::access` and nowhere here. This
//! crate must never hold SQL, a domain rule or prose outside the catalogues.

pub mod assets;
pub mod context;
pub mod forms;
pub mod i18n;
pub mod pages;

use axum::Router;
use axum::routing::{get, post};
use saisei_server::AppState;
use std::sync::Arc;

/// What the web application knows beyond the server's state.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Demo accounts, one per role, when the server was started by `saisei demo`: the
    /// sign-in page then offers a button per role and every page says DEMO. Empty for
    /// `saisei serve`, which therefore has no demo sign-in at all.
    pub demo_accounts: Vec<DemoAccount>,
}

impl WebConfig {
    /// Whether this is a demo server.
    pub fn is_demo(&self) -> bool {
        !self.demo_accounts.is_empty()
    }
}

/// A demo user the sign-in page offers.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Their e-mail.
    pub email: String,
    /// Their role.
    pub role: saisei_domain::auth::Role,
    /// The organisation they act for, by name.
    pub organisation: Option<String>,
}

/// The pages' routes, to mount beside the API with `saisei_server::app_with`.
pub fn routes(config: WebConfig) -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(pages::home::home))
        .route(
            "/sign-in",
            get(pages::session::sign_in_form).post(pages::session::sign_in_submit),
        )
        .route("/sign-out", post(pages::session::sign_out))
        .route(
            "/settings",
            get(pages::settings::settings_form).post(pages::settings::settings_save),
        )
        .route(
            "/enrol",
            get(pages::session::enrol_form).post(pages::session::enrol_submit),
        )
        .route(
            "/patients",
            get(pages::patients::list).post(pages::patients::create),
        )
        .route("/patients/new", get(pages::patients::new_form))
        .route("/patients/{id}", get(pages::patients::show))
        .route(
            "/patients/{id}/treatments/new",
            get(pages::records::treatment_form),
        )
        .route(
            "/patients/{id}/treatments",
            post(pages::records::treatment_create),
        )
        .route(
            "/patients/{id}/adverse-events/new",
            get(pages::records::event_form),
        )
        .route(
            "/patients/{id}/adverse-events",
            post(pages::records::event_create),
        )
        .route(
            "/patients/{id}/enrollments/new",
            get(pages::records::enrollment_form),
        )
        .route(
            "/patients/{id}/enrollments",
            post(pages::records::enrollment_create),
        )
        .route(
            "/patients/{id}/consents/new",
            get(pages::records::consent_form),
        )
        .route(
            "/patients/{id}/consents",
            post(pages::records::consent_create),
        )
        .route(
            "/consents/{id}",
            get(pages::records::consent_show).post(pages::records::consent_withdraw),
        )
        .route(
            "/visits/{id}",
            get(pages::records::visit_form).post(pages::records::visit_update),
        )
        .route(
            "/plans",
            get(pages::plans::list).post(pages::plan_new::create),
        )
        .route(
            "/visits/{id}/observations",
            post(pages::records::observation_create),
        )
        .route("/plans/new", get(pages::plan_new::form))
        .route(
            "/plans/{id}/moves/{to}",
            get(pages::plan_moves::form).post(pages::plan_moves::make),
        )
        .route("/plans/{id}", get(pages::plans::show))
        .route(
            "/plans/{id}/periodic-reports/{n}",
            get(pages::plans::submit_form).post(pages::plans::submit),
        )
        .route("/deadlines", get(pages::deadlines::deadlines))
        .route("/adverse-events/{id}", get(pages::patients::adverse_event))
        .route("/static/{file}", get(assets::asset));
    if config.is_demo() {
        router = router.route("/demo/sign-in", post(pages::session::demo_sign_in));
    }
    router
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(context::page_layer))
        .layer(axum::Extension(Arc::new(config)))
}

/// The whole application: the API and the pages.
pub fn app(state: AppState, config: WebConfig) -> Router {
    saisei_server::app_with(state, Some(routes(config)))
}

/// Serves the whole application on a bound listener until Ctrl-C or SIGTERM.
pub async fn serve_on(
    state: AppState,
    config: WebConfig,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let store = state.store.clone();
    saisei_server::serve_router(app(state, config), store, listener).await
}
