//! The application's own static files, embedded in the binary: the stylesheet and
//! htmx 2 (vendored from the npm package `htmx.org`, with its licence beside it). No
//! CDN, no Node build; the content security policy allows only these scripts.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// htmx's version, in the file's URL so a new copy is never served from an old cache.
pub const HTMX: &str = "/static/htmx-2.0.11.min.js";
/// The stylesheet's URL (its content hash keeps caches honest).
pub const CSS: &str = "/static/saisei-5.css";

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/htmx.min.js"),
    ),
    (
        "saisei-5.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/saisei.css"),
    ),
];

/// `GET /static/{file}`: a fixed asset, cacheable for a year (its name changes with
/// its content).
pub async fn asset(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
