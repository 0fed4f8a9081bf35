//! Signing in and out, the demo's one-click sign-in, and the page behind a reset link.

use crate::context::{Chrome, Ctx, PageError, PageResult, html_status};
use crate::forms::{Fields, value};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use saisei_domain::Record;
use saisei_domain::auth::credentials::{hashes_equal, new_token, totp_uri};
use saisei_domain::auth::{Session, User};
use saisei_server::AppState;
use saisei_server::access::Via;
use saisei_server::auth::{ClientAddress, SESSION_COOKIE, cookie};
use saisei_server::problem::{ApiError, Code};
use saisei_store::workflow::auth::{
    EnrolmentAnswers, EnrolmentError, SignInError, complete_enrolment, end_session, find_user,
    open_enrolment, sign_in, start_session,
};

/// The cookie that carries the sign-in form's CSRF token (before there is a session).
const SIGN_IN_CSRF: &str = "saisei_sign_in_csrf";
/// The cookie that carries the reset form's CSRF token.
const ENROL_CSRF: &str = "saisei_enrol_csrf";

fn cookie_header(name: &str, value: &str, max_age: i64) -> HeaderValue {
    // Secure: browsers treat http://localhost as a secure context, so this also works
    // in a local demo; HttpOnly keeps scripts away from it; Strict keeps it off
    // cross-site requests.
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Where to go after signing in: a path of ours, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// A demo account as the sign-in page offers it.
pub struct DemoButton {
    /// The role's value (the form sends it).
    pub role: String,
    /// The role in words.
    pub label: String,
    /// Who they are.
    pub email: String,
    /// Their organisation.
    pub organisation: String,
}

#[derive(Template)]
#[template(path = "pages/sign_in.html")]
struct SignInPage {
    c: Chrome,
    csrf: String,
    email: String,
    next: String,
    error: Option<String>,
    demo: Vec<DemoButton>,
}

fn sign_in_page(
    ctx: &Ctx,
    email: &str,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let (csrf, _) = new_token();
    let demo = ctx
        .config
        .demo_accounts
        .iter()
        .map(|a| DemoButton {
            role: a.role.to_string(),
            label: ctx.ui.term("role", &a.role),
            email: a.email.clone(),
            organisation: a.organisation.clone().unwrap_or_default(),
        })
        .collect();
    let page = SignInPage {
        c: ctx.chrome("sign-in-title"),
        csrf: csrf.clone(),
        email: email.to_string(),
        next: next.to_string(),
        error,
        demo,
    };
    let mut response = html_status(status, page)?;
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie_header(SIGN_IN_CSRF, &csrf, 1800));
    Ok(response)
}

/// `GET /sign-in`.
pub async fn sign_in_form(ctx: Ctx, Query(query): Query<Fields>) -> PageResult {
    if ctx.actor.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let next = safe_next(value(&query, "next"));
    sign_in_page(&ctx, "", &next, None, StatusCode::OK)
}

fn form_expired(ctx: &Ctx, headers: &HeaderMap, sent: &str) -> Option<PageResult> {
    let expected = cookie(headers, SIGN_IN_CSRF).unwrap_or_default();
    if expected.is_empty() || !hashes_equal(&expected, sent) {
        return Some(sign_in_page(
            ctx,
            "",
            "/",
            Some(ctx.ui.t("sign-in-expired")),
            StatusCode::FORBIDDEN,
        ));
    }
    None
}

fn signed_in(state: &AppState, token: &str, next: &str, user: &Record<User>) -> Response {
    let mut response = Redirect::to(next).into_response();
    // The language the user saved applies from sign-in on, over a choice left on this
    // computer by someone else.
    if user.data.language.is_some() {
        response.headers_mut().append(
            header::SET_COOKIE,
            super::settings::language_cookie(user.data.language),
        );
    }
    let max_age = state.auth.session_max.whole_seconds();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(SESSION_COOKIE, token, max_age),
    );
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie_header(SIGN_IN_CSRF, "", 0));
    response
}

/// `POST /sign-in`: checks the form's CSRF token against its cookie, signs in with the
/// same workflow as the API (throttling, audit), and starts a session.
pub async fn sign_in_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ctx: Ctx,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> PageResult {
    if let Some(expired) = form_expired(&ctx, &headers, value(&form, "csrf").unwrap_or("")) {
        return expired;
    }
    let email = value(&form, "email").unwrap_or("");
    let next = safe_next(value(&form, "next"));
    let check = state.credential_check(address);
    let now = check.now;
    let user = match sign_in(
        &state.store,
        &check,
        email,
        form.iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.as_str())
            .unwrap_or(""),
        value(&form, "code").unwrap_or(""),
    )
    .await
    {
        Ok(u) => u,
        Err(e) => {
            let (message, status) = match e {
                SignInError::Invalid | SignInError::Inactive => {
                    (ctx.ui.t("sign-in-invalid"), StatusCode::UNAUTHORIZED)
                }
                SignInError::Throttled(s) => (
                    ctx.ui.t1("sign-in-throttled", "seconds", s),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                SignInError::NoSecretKey => (
                    ctx.ui.t("sign-in-not-configured"),
                    StatusCode::SERVICE_UNAVAILABLE,
                ),
            };
            return sign_in_page(&ctx, email, &next, Some(message), status);
        }
    };
    let (token, _csrf, _session) = start_session(&state.store, &state.auth, &user, now).await?;
    Ok(signed_in(&state, &token, &next, &user))
}

/// `POST /demo/sign-in` (only on a server started by `saisei demo`): a session as the
/// demo user of the role chosen, without typing their demo credentials.
pub async fn demo_sign_in(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> PageResult {
    if let Some(expired) = form_expired(&ctx, &headers, value(&form, "csrf").unwrap_or("")) {
        return expired;
    }
    let role = value(&form, "role").unwrap_or("");
    let Some(account) = ctx
        .config
        .demo_accounts
        .iter()
        .find(|a| a.role.to_string() == role)
    else {
        return Err(ApiError::new(Code::NotFound, "no such demo account").into());
    };
    let email = account
        .email
        .parse()
        .map_err(|_| ApiError::new(Code::NotFound, "no such demo account"))?;
    let user = find_user(&state.store, &email)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such demo account"))?;
    let (token, _csrf, _session) =
        start_session(&state.store, &state.auth, &user, state.clock.now()).await?;
    Ok(signed_in(&state, &token, "/", &user))
}

/// `POST /sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Fields>,
) -> PageResult {
    if let Some(actor) = &ctx.actor
        && let Via::Session { id, .. } = &actor.via
    {
        ctx.check_csrf(value(&form, "csrf").unwrap_or(""))?;
        let user = state.store.get::<User>(actor.user_id).await?;
        let session = state.store.get::<Session>(*id).await?;
        end_session(&state.store, &user, &session, state.clock.now()).await?;
    }
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie_header(SESSION_COOKIE, "", 0));
    Ok(response)
}

#[derive(Template)]
#[template(path = "pages/enrol.html")]
struct EnrolPage {
    c: Chrome,
    usable: bool,
    intro: String,
    csrf: String,
    token: String,
    password: bool,
    totp_secret: Option<String>,
    qr_svg: String,
    password_error: Option<String>,
    code_error: Option<String>,
    recovery_codes: Option<Vec<String>>,
}

impl EnrolPage {
    fn blank(ctx: &Ctx) -> Self {
        EnrolPage {
            c: ctx.chrome("enrol-title"),
            usable: false,
            intro: String::new(),
            csrf: String::new(),
            token: String::new(),
            password: false,
            totp_secret: None,
            qr_svg: String::new(),
            password_error: None,
            code_error: None,
            recovery_codes: None,
        }
    }

    fn invalid(&self) -> bool {
        self.password_error.is_some() || self.code_error.is_some()
    }
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

fn enrol_response(page: EnrolPage, status: StatusCode) -> PageResult {
    let csrf = page.csrf.clone();
    let mut response = html_status(status, page)?;
    if !csrf.is_empty() {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cookie_header(ENROL_CSRF, &csrf, 3600));
    }
    Ok(response)
}

async fn enrol_form_page(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    password_error: Option<String>,
    code_error: Option<String>,
) -> PageResult {
    let open = match open_enrolment(&state.store, state.key(), token, state.clock.now()).await {
        Ok(o) => o,
        Err(EnrolmentError::Store(e)) => return Err(e.into()),
        Err(_) => return enrol_response(EnrolPage::blank(ctx), StatusCode::NOT_FOUND),
    };
    let email = open.user.data.email.to_string();
    let (csrf, _) = new_token();
    let page = EnrolPage {
        usable: true,
        intro: ctx.ui.args(
            "enrol-for",
            &[
                ("email", email.clone()),
                ("until", ctx.ui.time(&open.enrolment.data.expires_at)),
            ],
        ),
        csrf,
        token: token.to_string(),
        password: open.enrolment.data.password,
        qr_svg: open
            .totp_secret
            .as_deref()
            .map(|s| qr_svg(&totp_uri(s, &email)))
            .unwrap_or_default(),
        totp_secret: open.totp_secret,
        password_error,
        code_error,
        ..EnrolPage::blank(ctx)
    };
    let status = if page.invalid() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    enrol_response(page, status)
}

/// `GET /enrol?token=…`: the page behind a reset link.
pub async fn enrol_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<Fields>,
) -> PageResult {
    match value(&query, "token") {
        Some(token) => enrol_form_page(&state, &ctx, token, None, None).await,
        None => enrol_response(EnrolPage::blank(&ctx), StatusCode::NOT_FOUND),
    }
}

/// `POST /enrol`: completes a reset; shows the new recovery codes once.
pub async fn enrol_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> PageResult {
    let expected = cookie(&headers, ENROL_CSRF).unwrap_or_default();
    let token = value(&form, "token").unwrap_or("").to_string();
    if expected.is_empty() || !hashes_equal(&expected, value(&form, "csrf").unwrap_or("")) {
        return Err(PageError::Failed(ApiError::new(
            Code::Forbidden,
            "the form has expired: open the link again",
        )));
    }
    let answers = EnrolmentAnswers {
        new_password: form
            .iter()
            .find(|(k, _)| k == "new_password")
            .map(|(_, v)| v.clone())
            .filter(|p| !p.is_empty()),
        code: value(&form, "code").map(str::to_string),
    };
    match complete_enrolment(
        &state.store,
        state.key(),
        &token,
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
                ..EnrolPage::blank(&ctx)
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
                    .map(|e| ctx.ui.t1("field-invalid", "problem", &e.problem))
            };
            enrol_form_page(&state, &ctx, &token, of("new_password"), of("code")).await
        }
        Err(EnrolmentError::Store(e)) => Err(e.into()),
        Err(_) => enrol_response(EnrolPage::blank(&ctx), StatusCode::NOT_FOUND),
    }
}
