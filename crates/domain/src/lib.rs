//! The registry's nouns and rules.
//!
//! Everything here is pure: no I/O, no async, no database. Values are parsed into
//! types that cannot hold an invalid state, so code above this crate never re-checks.
//! Must never depend on the store, the server, tokio or sqlx.

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
pub use error::{FieldError, Validate, ValidationErrors};
pub use record::{Record, RecordMeta};
