//! The user's own settings: the language the pages are shown in. Saved on the user
//! (so it follows them to another computer and applies from sign-in on) and set as
//! the language cookie at once, since a language chosen with `?lang=` comes first.

use crate::context::{Chrome, Ctx, PageResult, html_status};
use crate::forms::{Choice, Fields, FormErrors, value};
use crate::i18n::lang_cookie;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
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
    /// Whether the page follows a save (it then says so).
    saved: bool,
}

fn page(ctx: &Ctx, language: Option<Language>, errors: FormErrors, saved: bool) -> PageResult {
    let choice = |value: &str, key: &str, selected: bool| Choice {
        value: value.into(),
        label: ctx.ui.t(key),
        selected,
    };
    let languages = vec![
        choice("", "settings-language-browser", language.is_none()),
        choice("ja", "settings-language-ja", language == Some(Language::Ja)),
        choice("en", "settings-language-en", language == Some(Language::En)),
    ];
    html_status(
        errors.status(),
        SettingsPage {
            c: ctx.chrome("settings-title"),
            errors,
            languages,
            saved,
        },
    )
}

/// The language cookie for a saved choice: set to it, or cleared for the browser's.
pub fn language_cookie(language: Option<Language>) -> HeaderValue {
    lang_cookie(language.map(Into::into))
}

/// `GET /settings` (`?saved=1` after a save).
pub async fn settings_form(ctx: Ctx, Query(query): Query<Fields>) -> PageResult {
    let language = ctx.actor()?.language;
    let saved = value(&query, "saved").is_some();
    page(&ctx, language, FormErrors::default(), saved)
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
            return page(&ctx, actor.language, errors, false);
        }
    };
    let user = state.store.get::<User>(actor.user_id).await?;
    set_language(&state.store, &user, language).await?;
    let mut response = Redirect::to("/settings?saved=1").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, language_cookie(language));
    Ok(response)
}
