//! The user's own settings: the language the pages are shown in. Saved on the user
//! (so it follows them to another computer and applies from sign-in on) and set as
//! the language cookie at once, since a language chosen with `?lang=` comes first.

use crate::context::{Chrome, Ctx, PageResult, html_status};
use crate::forms::{Choice, Fields, FormErrors, value};
use crate::i18n::LANG_COOKIE;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use saisei_domain::auth::{Language, User};
use saisei_server::AppState;
use saisei_store::workflow::auth::set_language;

#[derive(Template)]
#[template(path = "pages/settings.html")]
struct SettingsPage {
    c: Chrome,
    errors: FormErrors,
    languages: Vec<Choice>,
}

fn page(ctx: &Ctx, saved: Option<Language>, errors: FormErrors) -> PageResult {
    let choice = |value: &str, key: &str, selected: bool| Choice {
        value: value.into(),
        label: ctx.ui.t(key),
        selected,
    };
    let languages = vec![
        choice("", "settings-language-browser", saved.is_none()),
        choice("ja", "settings-language-ja", saved == Some(Language::Ja)),
        choice("en", "settings-language-en", saved == Some(Language::En)),
    ];
    let status = if errors.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_status(
        status,
        SettingsPage {
            c: ctx.chrome("settings-title"),
            errors,
            languages,
        },
    )
}

/// The language cookie for a saved choice: set to it, or cleared for the browser's.
pub fn language_cookie(language: Option<Language>) -> HeaderValue {
    let text = match language {
        Some(l) => format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
            l.code()
        ),
        None => format!("{LANG_COOKIE}=; Path=/; SameSite=Lax; Max-Age=0"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `GET /settings`.
pub async fn settings_form(ctx: Ctx) -> PageResult {
    let saved = ctx.actor()?.language;
    page(&ctx, saved, FormErrors::default())
}

/// `POST /settings`: saves the language (empty: the browser's).
pub async fn settings_save(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(fields): Form<Fields>,
) -> PageResult {
    let actor = ctx.actor()?;
    ctx.check_csrf(value(&fields, "csrf").unwrap_or(""))?;
    let language = match value(&fields, "language").unwrap_or("") {
        "" => None,
        "ja" => Some(Language::Ja),
        "en" => Some(Language::En),
        _ => {
            let mut errors = FormErrors::default();
            errors.add(
                &ctx.ui,
                "language",
                "settings-language",
                "settings-language-unknown",
            );
            return page(&ctx, actor.language, errors);
        }
    };
    let user = state.store.get::<User>(actor.user_id).await?;
    set_language(&state.store, &user, language).await?;
    let mut response = Redirect::to("/settings").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, language_cookie(language));
    Ok(response)
}
