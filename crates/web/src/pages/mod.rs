//! The pages, one module per area, each a thin shell over the server's resource
//! functions and the store's workflows.

pub mod deadlines;
pub mod grid;
pub mod home;
pub mod patients;
pub mod plan_moves;
pub mod plan_new;
pub mod plans;
pub mod records;
pub mod session;
pub mod settings;

use crate::context::{Ctx, PageError};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use saisei_server::problem::{ApiError, Code};

/// Unknown paths: a problem under `/api`, a page anywhere else.
pub async fn not_found(uri: Uri, _ctx: Ctx) -> Response {
    if uri.path().starts_with("/api/") {
        return saisei_server::api_not_found().await.into_response();
    }
    PageError::Failed(ApiError::new(Code::NotFound, "no such page")).into_response()
}

/// A path segment as a record id; anything else is "not found", like a record out of
/// reach.
pub fn id_of(raw: &str) -> Result<uuid::Uuid, PageError> {
    uuid::Uuid::parse_str(raw)
        .map_err(|_| PageError::Failed(ApiError::new(Code::NotFound, "no such record")))
}

/// A select's choices with a "choose" first, selected when nothing else is.
pub fn with_blank(
    ui: &crate::i18n::Ui,
    choices: Vec<crate::forms::Choice>,
) -> Vec<crate::forms::Choice> {
    with_first(ui, "choose", choices)
}

/// A filter's choices with "all" first, selected when nothing else is.
pub fn with_all(
    ui: &crate::i18n::Ui,
    choices: Vec<crate::forms::Choice>,
) -> Vec<crate::forms::Choice> {
    with_first(ui, "filter-all", choices)
}

/// `choices` with an empty choice labelled `key` first, selected when nothing else is.
fn with_first(
    ui: &crate::i18n::Ui,
    key: &str,
    mut choices: Vec<crate::forms::Choice>,
) -> Vec<crate::forms::Choice> {
    let none = !choices.iter().any(|c| c.selected);
    choices.insert(
        0,
        crate::forms::Choice {
            value: String::new(),
            label: ui.t(key),
            selected: none,
        },
    );
    choices
}
