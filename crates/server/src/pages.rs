//! Web pages: sign-in and sign-out with session cookies and CSRF-protected forms, and
//! the overview at `/` (counts of the records the signed-in user may see, and links to
//! the API). The full web UI comes later.

use crate::access::{Actor, Scope, Via, access};
use crate::api::trust::sign_in_problem;
use crate::auth::{ClientAddress, SESSION_COOKIE, cookie, resolve};
use crate::problem::{ApiError, Code};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use saisei_domain::auth::credentials::totp_uri;
use saisei_store::tables;
use saisei_store::workflow::auth::{
    EnrolmentAnswers, EnrolmentError, complete_enrolment, end_session, open_enrolment, sign_in,
    start_session,
};
use serde::Deserialize;

/// The cookie that carries the sign-in form's CSRF token (before there is a session).
const SIGN_IN_CSRF: &str = "saisei_sign_in_csrf";

/// One row of the overview table.
pub struct CountRow {
    /// The kind of record (its table's name).
    pub label: String,
    /// API path segment.
    pub path: &'static str,
    /// How many records (not withdrawn) the user may see.
    pub count: u64,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    database: &'static str,
    version: &'static str,
    user: String,
    role: String,
    csrf: String,
    rows: Vec<CountRow>,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(Code::Internal, e.to_string())
}

fn cookie_header(name: &str, value: &str, max_age: i64) -> HeaderValue {
    // Secure: browsers treat http://localhost as a secure context, so this also works
    // in a local demo; HttpOnly keeps scripts away from it; Strict keeps it off
    // cross-site requests.
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `GET /`: the overview, or a redirect to sign in.
pub async fn overview(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(actor) = resolve(&state, &headers, address).await.ok().flatten() else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    // Every kind the API exposes, from the catalogue.
    let mut rows = Vec::new();
    for table in tables::all() {
        let Some(api) = table.api else { continue };
        let count = match access(&actor, table).read {
            Scope::None => continue,
            Scope::All => state.store.count_where(table, &[]).await?,
            Scope::Rows(f) => state.store.count_where(table, &f).await?,
        };
        // The table's name as a heading ("Adverse events") until the pages have their
        // message catalogues.
        let words = table.name.replace('_', " ");
        let mut chars = words.chars();
        let label = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        rows.push(CountRow {
            label,
            path: api.path,
            count,
        });
    }
    let csrf = match &actor.via {
        Via::Session { csrf, .. } => csrf.clone(),
        Via::Token(_) => String::new(),
    };
    let page = Overview {
        database: state.store.backend().kind(),
        version: env!("CARGO_PKG_VERSION"),
        user: actor.email.clone(),
        role: actor.role.to_string(),
        csrf,
        rows,
    };
    Ok(Html(page.render().map_err(internal)?).into_response())
}

fn sign_in_page(
    csrf: &str,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let page = SignInPage {
        csrf: csrf.to_string(),
        email: email.to_string(),
        error,
    };
    let mut response = (status, Html(page.render().map_err(internal)?)).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie_header(SIGN_IN_CSRF, csrf, 600));
    Ok(response)
}

/// `GET /sign-in`.
pub async fn sign_in_form() -> Result<Response, ApiError> {
    let (csrf, _) = saisei_domain::auth::credentials::new_token();
    sign_in_page(&csrf, "", None, StatusCode::OK)
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    code: String,
    csrf: String,
}

/// `POST /sign-in`: checks the form's CSRF token against its cookie, signs in, and
/// starts a session.
pub async fn sign_in_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, ApiError> {
    let expected = cookie(&headers, SIGN_IN_CSRF).unwrap_or_default();
    if expected.is_empty() || !saisei_domain::auth::credentials::hashes_equal(&expected, &form.csrf)
    {
        return Err(ApiError::new(
            Code::Forbidden,
            "the form has expired: reload the sign-in page",
        ));
    }
    let check = state.credential_check(address);
    let now = check.now;
    let user = match sign_in(
        &state.store,
        &check,
        &form.email,
        &form.password,
        &form.code,
    )
    .await
    {
        Ok(u) => u,
        Err(e) => {
            let (fresh, _) = saisei_domain::auth::credentials::new_token();
            let status = sign_in_problem(e.clone()).code.status();
            return sign_in_page(&fresh, &form.email, Some(e.to_string()), status);
        }
    };
    let (token, _csrf, _session) = start_session(&state.store, &state.auth, &user, now).await?;
    let mut response = Redirect::to("/").into_response();
    let max_age = state.auth.session_max.whole_seconds();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(SESSION_COOKIE, &token, max_age),
    );
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie_header(SIGN_IN_CSRF, "", 0));
    Ok(response)
}

/// The cookie that carries the reset form's CSRF token.
const ENROL_CSRF: &str = "saisei_enrol_csrf";

#[derive(Template, Default)]
#[template(path = "enrol.html")]
struct EnrolPage {
    error: Option<String>,
    usable: bool,
    email: String,
    expires_at: String,
    csrf: String,
    token: String,
    password: bool,
    totp_secret: Option<String>,
    qr_svg: String,
    password_error: Option<String>,
    code_error: Option<String>,
    recovery_codes: Option<Vec<String>>,
}

/// The QR code of an `otpauth://` URI, as inline SVG.
fn qr_svg(uri: &str) -> String {
    qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M)
        .map(|qr| {
            qr.render::<qrcode::render::svg::Color>()
                .min_dimensions(192, 192)
                .build()
        })
        .unwrap_or_default()
}

fn enrol_response(page: EnrolPage, status: StatusCode) -> Result<Response, ApiError> {
    let csrf = page.csrf.clone();
    let mut response = (status, Html(page.render().map_err(internal)?)).into_response();
    if !csrf.is_empty() {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cookie_header(ENROL_CSRF, &csrf, 3600));
    }
    Ok(response)
}

/// The form of an open reset link, with the field errors of a previous attempt.
async fn enrol_form_page(
    state: &AppState,
    token: &str,
    password_error: Option<String>,
    code_error: Option<String>,
) -> Result<Response, ApiError> {
    let open = match open_enrolment(&state.store, state.key(), token, state.clock.now()).await {
        Ok(o) => o,
        Err(EnrolmentError::Store(e)) => return Err(e.into()),
        Err(_) => return enrol_response(EnrolPage::default(), StatusCode::NOT_FOUND),
    };
    let email = open.user.data.email.to_string();
    let (csrf, _) = saisei_domain::auth::credentials::new_token();
    let invalid = password_error.is_some() || code_error.is_some();
    let page = EnrolPage {
        usable: true,
        email: email.clone(),
        expires_at: {
            let jst = time::UtcOffset::from_hms(9, 0, 0).unwrap_or(time::UtcOffset::UTC);
            let t = open.enrolment.data.expires_at.to_offset(jst);
            format!(
                "{} {:02}:{:02} (Japan time)",
                t.date(),
                t.hour(),
                t.minute()
            )
        },
        csrf,
        token: token.to_string(),
        password: open.enrolment.data.password,
        qr_svg: open
            .totp_secret
            .as_deref()
            .map(|s| qr_svg(&totp_uri(s, &email)))
            .unwrap_or_default(),
        totp_secret: open.totp_secret,
        error: invalid.then(|| "Please correct the fields marked below.".to_string()),
        password_error,
        code_error,
        recovery_codes: None,
    };
    let status = if invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    enrol_response(page, status)
}

/// The reset link's query.
#[derive(Debug, Deserialize)]
pub struct EnrolQuery {
    token: String,
}

/// `GET /enrol?token=…`: the page behind a reset link.
pub async fn enrol_form(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<EnrolQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    match query {
        Ok(q) => enrol_form_page(&state, &q.token, None, None).await,
        Err(_) => enrol_response(EnrolPage::default(), StatusCode::NOT_FOUND),
    }
}

/// The reset form's fields.
#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    csrf: String,
    token: String,
    #[serde(default)]
    new_password: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// `POST /enrol`: completes a reset; shows the new recovery codes once.
pub async fn enrol_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EnrolForm>,
) -> Result<Response, ApiError> {
    let expected = cookie(&headers, ENROL_CSRF).unwrap_or_default();
    if expected.is_empty() || !saisei_domain::auth::credentials::hashes_equal(&expected, &form.csrf)
    {
        return Err(ApiError::new(
            Code::Forbidden,
            "the form has expired: open the link again",
        ));
    }
    let answers = EnrolmentAnswers {
        new_password: form.new_password.filter(|p| !p.is_empty()),
        code: form.code.filter(|c| !c.trim().is_empty()),
    };
    match complete_enrolment(
        &state.store,
        state.key(),
        &form.token,
        answers,
        state.clock.now(),
    )
    .await
    {
        Ok((user, codes)) => {
            state
                .throttle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear_account(user.data.email.as_str());
            let page = EnrolPage {
                recovery_codes: Some(codes.unwrap_or_default()),
                ..EnrolPage::default()
            };
            let mut response = enrol_response(page, StatusCode::OK)?;
            response
                .headers_mut()
                .append(header::SET_COOKIE, cookie_header(ENROL_CSRF, "", 0));
            Ok(response)
        }
        Err(EnrolmentError::Store(saisei_store::StoreError::Invalid(errors))) => {
            let of = |f: &str| {
                errors
                    .0
                    .iter()
                    .find(|e| e.field == f)
                    .map(|e| e.problem.clone())
            };
            enrol_form_page(&state, &form.token, of("new_password"), of("code")).await
        }
        Err(EnrolmentError::Store(e)) => Err(e.into()),
        Err(_) => enrol_response(EnrolPage::default(), StatusCode::NOT_FOUND),
    }
}

/// The sign-out form's field.
#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

/// `POST /sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    actor: Option<Actor>,
    Form(form): Form<SignOutForm>,
) -> Result<Response, ApiError> {
    if let Some(actor) = actor
        && let Via::Session { id, csrf } = &actor.via
    {
        if !saisei_domain::auth::credentials::hashes_equal(csrf, &form.csrf) {
            return Err(ApiError::new(
                Code::Forbidden,
                "the form has expired: reload the page",
            ));
        }
        let user = state
            .store
            .get::<saisei_domain::auth::User>(actor.user_id)
            .await?;
        let session = state.store.get::<saisei_domain::auth::Session>(*id).await?;
        end_session(&state.store, &user, &session, state.clock.now()).await?;
    }
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie_header(SESSION_COOKIE, "", 0));
    Ok(response)
}
