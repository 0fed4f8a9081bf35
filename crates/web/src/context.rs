//! What every page handler starts from: the language, the signed-in user, whether htmx
//! asked for a fragment, and the frame every page shares (title, navigation, the DEMO
//! banner, the language switch). Failures leave handlers as [`PageError`] and are drawn
//! here as localised pages, so a missing record reads the same on every page.

use crate::i18n::{LANG_COOKIE, Lang, Ui, lang_cookie};
use crate::{WebConfig, assets};
use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use saisei_server::access::{Action, Actor, Scope, Via, access, authorize};
use saisei_server::auth::cookie;
use saisei_server::problem::{ApiError, Code};
use saisei_store::tables;
use std::sync::Arc;

/// What the page layer learnt about a request before its handler ran.
#[derive(Debug, Clone)]
struct PageRequest {
    lang: Lang,
    chosen: bool,
    fragment: bool,
    here: String,
}

/// The page's language: `?lang=`, then the cookie it left, then the language the
/// signed-in user saved, then `Accept-Language`, then Japanese. The flag says whether
/// `?lang=` chose it (the cookie is then set).
fn negotiate(
    parts_uri: &axum::http::Uri,
    headers: &HeaderMap,
    saved: Option<saisei_domain::auth::Language>,
) -> (Lang, bool) {
    let asked = parts_uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::parse(v))
    });
    if let Some(l) = asked {
        return (l, true);
    }
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)) {
        return (l, false);
    }
    if let Some(l) = saved {
        return (l.into(), false);
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language);
    (accepted.unwrap_or_default(), false)
}

/// The page layer: negotiates the language, tells fragments from pages, draws
/// failures, and marks every page's answer as varying with `HX-Request`.
pub async fn page_layer(mut req: Request, next: Next) -> Response {
    let saved = req.extensions().get::<Actor>().and_then(|a| a.language);
    let (lang, chosen) = negotiate(req.uri(), req.headers(), saved);
    let headers = req.headers();
    // A fragment is what an htmx control asks for when it targets part of the page.
    // A boosted link or form (hx-boost: the whole body is swapped) and a history
    // restore want the whole page, though htmx asks for them too.
    let fragment = headers.contains_key("hx-request")
        && headers.contains_key("hx-target")
        && !headers.contains_key("hx-boosted")
        && !headers.contains_key("hx-history-restore-request");
    let here = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let page = PageRequest {
        lang,
        chosen,
        fragment,
        here,
    };
    req.extensions_mut().insert(page.clone());
    let actor = req.extensions().get::<Actor>().cloned();
    let config = req.extensions().get::<Arc<WebConfig>>().cloned();
    let mut response = next.run(req).await;
    if let Some(failure) = response.extensions_mut().remove::<PageFailure>() {
        let ctx = Ctx {
            ui: Ui::new(page.lang),
            actor,
            config: config.unwrap_or_default(),
            fragment: false,
            here: page.here.clone(),
        };
        response = failure.render(&ctx);
    }
    let headers = response.headers_mut();
    headers.insert(
        header::VARY,
        HeaderValue::from_static("HX-Request, Cookie, Accept-Language"),
    );
    if page.chosen {
        headers.append(header::SET_COOKIE, lang_cookie(Some(page.lang)));
    }
    response
}

/// A page request, as handlers see it.
#[derive(Clone)]
pub struct Ctx {
    /// Text in the request's language.
    pub ui: Ui,
    /// Who is signed in, if anyone.
    pub actor: Option<Actor>,
    /// The web application's configuration.
    pub config: Arc<WebConfig>,
    /// Whether htmx asked for a fragment (not a history restore).
    pub fragment: bool,
    /// The path and query asked for.
    pub here: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let page = parts.extensions.get::<PageRequest>().cloned();
        let (lang, fragment, here) = match page {
            Some(p) => (p.lang, p.fragment, p.here),
            None => (
                negotiate(
                    &parts.uri,
                    &parts.headers,
                    parts.extensions.get::<Actor>().and_then(|a| a.language),
                )
                .0,
                false,
                parts.uri.to_string(),
            ),
        };
        Ok(Ctx {
            ui: Ui::new(lang),
            actor: parts.extensions.get::<Actor>().cloned(),
            config: parts
                .extensions
                .get::<Arc<WebConfig>>()
                .cloned()
                .unwrap_or_default(),
            fragment,
            here,
        })
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// Nobody is signed in: go to the sign-in page, then come back.
    SignIn(String),
    /// A failure with its code (not found, not allowed, invalid…).
    Failed(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Failed(e)
    }
}

impl From<saisei_store::StoreError> for PageError {
    fn from(e: saisei_store::StoreError) -> Self {
        PageError::Failed(e.into())
    }
}

/// A failure on its way to the page layer, which draws it in the request's language.
#[derive(Debug, Clone)]
struct PageFailure {
    code: Code,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn(next) => {
                let target = if next == "/" || next.is_empty() {
                    "/sign-in".to_string()
                } else {
                    format!("/sign-in?next={}", crate::forms::encode(&next))
                };
                Redirect::to(&target).into_response()
            }
            PageError::Failed(e) => {
                if e.code == Code::Internal || e.code == Code::DatabaseUnavailable {
                    tracing::error!(detail = %e.detail, "a page failed");
                }
                let mut r = e.code.status().into_response();
                r.extensions_mut().insert(PageFailure { code: e.code });
                r
            }
        }
    }
}

/// The result of a page handler.
pub type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    c: Chrome,
    message: String,
    status: u16,
}

impl PageFailure {
    fn render(&self, ctx: &Ctx) -> Response {
        let key = format!("error-{}", self.code.name().replace('_', "-"));
        let page = ErrorPage {
            c: ctx.chrome(&key),
            message: ctx.ui.t(&format!("{key}-detail")),
            status: self.code.status().as_u16(),
        };
        let status = self.code.status();
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => status.into_response(),
        }
    }
}

/// One entry of the navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where it goes.
    pub href: &'static str,
    /// Its words.
    pub label: String,
    /// Whether the page shown is under it.
    pub current: bool,
}

/// A link to the same page in another language.
#[derive(Debug, Clone)]
pub struct LangLink {
    /// The page with `lang=` set.
    pub href: String,
    /// The language's own name for itself.
    pub label: &'static str,
    /// Its tag.
    pub code: &'static str,
    /// Whether it is the language shown.
    pub current: bool,
}

/// The signed-in user, as the frame shows them.
#[derive(Debug, Clone)]
pub struct UserBar {
    /// E-mail.
    pub email: String,
    /// Role, in words.
    pub role: String,
    /// The token page forms echo.
    pub csrf: String,
}

/// The frame every page shares.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Text in the page's language.
    pub ui: Ui,
    /// The page's title (also its `<h1>` unless the page says otherwise).
    pub title: String,
    /// Whether this is a demo server.
    pub demo: bool,
    /// The user, when signed in.
    pub user: Option<UserBar>,
    /// The navigation for the user's role.
    pub nav: Vec<NavLink>,
    /// The page in each language.
    pub langs: Vec<LangLink>,
    /// The stylesheet's URL.
    pub css: &'static str,
    /// htmx's URL.
    pub htmx: &'static str,
}

impl Chrome {
    /// The CSRF token forms on this page send (empty when signed out).
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map(|u| u.csrf.as_str()).unwrap_or("")
    }
}

/// `path?query` with `lang` set to `code` (other parameters kept).
fn with_lang(here: &str, code: &str) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    let lang = format!("lang={code}");
    kept.push(&lang);
    format!("{path}?{}", kept.join("&"))
}

impl Ctx {
    /// The signed-in user, or a redirect to sign in and back.
    pub fn actor(&self) -> Result<&Actor, PageError> {
        self.actor
            .as_ref()
            .ok_or_else(|| PageError::SignIn(self.here.clone()))
    }

    /// Checks the CSRF token a page form sent against the session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        let actor = self.actor()?;
        match &actor.via {
            Via::Session { csrf, .. }
                if saisei_domain::auth::credentials::hashes_equal(csrf, sent) =>
            {
                Ok(())
            }
            // A bearer token is never sent by a browser on its own: no forgery to fear.
            Via::Token(_) => Ok(()),
            _ => Err(ApiError::new(Code::Forbidden, "the form has expired").into()),
        }
    }

    /// The frame for a page titled by the message `title_key`.
    pub fn chrome(&self, title_key: &str) -> Chrome {
        self.chrome_titled(self.ui.t(title_key))
    }

    /// The frame for a page with a title already in words.
    pub fn chrome_titled(&self, title: String) -> Chrome {
        let path = self.here.split('?').next().unwrap_or("/");
        let mut nav = Vec::new();
        let user = self.actor.as_ref().map(|a| {
            let may_read = |table: &saisei_store::TableDef| access(a, table).read != Scope::None;
            let mut add = |href: &'static str, key: &str, shown: bool| {
                if shown {
                    let current = if href == "/" {
                        path == "/"
                    } else {
                        path == href || path.starts_with(&format!("{href}/"))
                    };
                    nav.push(NavLink {
                        href,
                        label: self.ui.t(key),
                        current,
                    });
                }
            };
            add("/", "nav-home", true);
            add("/patients", "nav-patients", may_read(&tables::PATIENTS));
            add("/plans", "nav-plans", may_read(&tables::PLANS));
            add(
                "/deadlines",
                "nav-deadlines",
                authorize(a, Action::Read, "deadline").is_ok(),
            );
            UserBar {
                email: a.email.clone(),
                role: self.ui.term("role", &a.role),
                csrf: match &a.via {
                    Via::Session { csrf, .. } => csrf.clone(),
                    Via::Token(_) => String::new(),
                },
            }
        });
        let langs = [(Lang::Ja, "日本語"), (Lang::En, "English")]
            .into_iter()
            .map(|(l, label)| LangLink {
                href: with_lang(&self.here, l.code()),
                label,
                code: l.code(),
                current: l == self.ui.lang,
            })
            .collect();
        Chrome {
            ui: self.ui.clone(),
            title,
            demo: self.config.is_demo(),
            user,
            nav,
            langs,
            css: assets::CSS,
            htmx: assets::HTMX,
        }
    }
}

/// A rendered template as a response.
pub fn html(page: impl Template) -> PageResult {
    page.render()
        .map(|h| Html(h).into_response())
        .map_err(|e| ApiError::new(Code::Internal, e.to_string()).into())
}

/// A rendered template with a status.
pub fn html_status(status: StatusCode, page: impl Template) -> PageResult {
    let mut r = html(page)?;
    *r.status_mut() = status;
    Ok(r)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_language_switch_keeps_the_other_parameters() {
        assert_eq!(super::with_lang("/patients", "en"), "/patients?lang=en");
        assert_eq!(
            super::with_lang("/patients?lang=ja&cursor=x", "en"),
            "/patients?cursor=x&lang=en"
        );
    }
}
