//! Authentication: turns a bearer token or a session cookie into an [`Actor`] on the
//! request, before any handler runs. Unsafe requests made with a session cookie must
//! echo the session's CSRF token (`X-CSRF-Token` header, or the `csrf` form field on
//! pages); bearer tokens are not sent by browsers on their own, so they need none.

use crate::access::{Actor, Via};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use saisei_domain::Record;
use saisei_domain::auth::User;
use saisei_store::workflow::auth::{authenticate_session, authenticate_token};
use std::net::{IpAddr, SocketAddr};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "saisei_session";

/// API paths anyone may call.
pub const PUBLIC_API: &[&str] = &[
    "/api/v1/health",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/auth/sign-in",
    "/api/v1/auth/enrolment",
    "/api/v1/auth/enrolment/complete",
];

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn actor(user: &Record<User>, via: Via, address: Option<IpAddr>) -> Actor {
    Actor {
        user_id: user.meta.id,
        email: user.data.email.to_string(),
        role: user.data.role,
        organisation_id: user.data.organisation_id,
        via,
        address,
        language: user.data.language,
    }
}

/// The client's address as the connection shows it (`None` when the application is
/// called without a connection, as in in-process tests). A proxy in front of Saisei
/// makes every client look alike to the throttle: run it without one, or give each
/// clinic its own address.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The address in a request's extensions.
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        ClientAddress(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(&parts.extensions))
    }
}

/// Resolves the caller, if they presented credentials. `Err` when they presented
/// credentials that do not work (a wrong token is an error, not anonymity).
pub async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<IpAddr>,
) -> Result<Option<Actor>, ApiError> {
    let now = state.clock.now();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let value = auth.to_str().unwrap_or("");
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return Err(ApiError::new(
                Code::Unauthenticated,
                "the Authorization header must be 'Bearer <token>'",
            ));
        };
        return match authenticate_token(&state.store, token.trim(), now).await? {
            Some((user, t)) => Ok(Some(actor(&user, Via::Token(t.meta.id), address))),
            None => Err(ApiError::new(
                Code::Unauthenticated,
                "the token is unknown, expired or revoked",
            )),
        };
    }
    if let Some(c) = cookie(headers, SESSION_COOKIE)
        && let Some((user, s)) = authenticate_session(&state.store, &state.auth, &c, now).await?
    {
        return Ok(Some(actor(
            &user,
            Via::Session {
                id: s.meta.id,
                csrf: s.data.csrf_token.clone(),
            },
            address,
        )));
    }
    Ok(None)
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The authentication layer for the whole application.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let api = path.starts_with("/api/");
    // Public operations act for nobody: credentials sent with them are neither needed
    // nor judged (a stale token must not stop a sign-in or a health check).
    if api && PUBLIC_API.contains(&path.as_str()) {
        return next.run(req).await;
    }
    let address = ClientAddress::of(req.extensions()).0;
    let actor = match resolve(&state, req.headers(), address).await {
        Ok(a) => a,
        Err(e) if api => return e.into_response(),
        // A page request with a bad cookie is treated as signed out.
        Err(_) => None,
    };
    if let Some(a) = &actor {
        if api
            && is_unsafe(req.method())
            && let Via::Session { csrf, .. } = &a.via
        {
            let sent = req
                .headers()
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !saisei_domain::auth::credentials::hashes_equal(sent, csrf) {
                return ApiError::new(
                    Code::Forbidden,
                    "requests made with a session cookie must send its X-CSRF-Token header",
                )
                .into_response();
            }
        }
        req.extensions_mut().insert(a.clone());
    } else if api {
        return ApiError::new(
            Code::Unauthenticated,
            "sign in: send Authorization: Bearer <token> (see POST /api/v1/auth/sign-in)",
        )
        .into_response();
    }
    next.run(req).await
}
