//! The registry's nouns and rules.
//!
//! Everything here is pure: no I/O, no async, no database. Values are parsed into
//! types that cannot hold an invalid state, so code above this crate never re-checks.
//! Must never depend on the store, the server, tokio or sqlx.

pub mod access_log;
pub mod audit;
pub mod auth;
pub mod dates;
pub mod entity;
pub mod error;
pub mod evaluation;
pub mod pseudonym;
pub mod quality;
pub mod record;
pub mod registry;
pub mod regulation;
pub mod text;

pub use entity::Entity;

/// The name a value has on the wire: how an enum variant serialises (`"class_1"`,
/// `"hospitalisation"`), for messages and reports that speak the API's words.
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
pub use error::{FieldError, Validate, ValidationErrors};
pub use record::{Record, RecordMeta};
