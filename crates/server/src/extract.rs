//! Reading requests: JSON bodies with field paths in their errors, ids, query strings.
//!
//! axum's own `Json` rejects with a plain-text message; here every failure becomes a
//! problem body that names the field (`seriousness[1]`, `visits[0].days`) so a client
//! can fix its input without guessing.

use crate::problem::{ApiError, Code};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

/// A JSON request body, already parsed to a value (the typed parse comes later, so
/// that updates can merge before parsing).
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send the body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(Code::PayloadTooLarge, "the body exceeds the size limit")
            } else {
                ApiError::new(Code::InvalidJson, format!("could not read the body: {e}"))
            }
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                Code::InvalidJson,
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        Ok(JsonBody(value))
    }
}

/// Parses a JSON value into `T`, naming the field at fault on failure.
pub fn parse<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let (field, problem) = field_of(&path, &inner);
        ApiError::field(Code::ValidationFailed, field, problem)
    })
}

/// Works out the field for a serde error: the path, or for unknown/missing fields the
/// field named in the message.
fn field_of(path: &str, message: &str) -> (String, String) {
    let base = if path == "." {
        String::new()
    } else {
        path.to_string()
    };
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(marker)
            && let Some(name) = rest.split('`').next()
        {
            let last = base.rsplit('.').next().unwrap_or("");
            let field = if base.is_empty() {
                name.to_string()
            } else if last == name {
                base.clone()
            } else {
                format!("{base}.{name}")
            };
            let problem = if marker.starts_with("unknown") {
                format!(
                    "unknown field{}",
                    rest.split_once('`').map(|(_, r)| r).unwrap_or("")
                )
            } else {
                "is required".to_string()
            };
            return (field, problem);
        }
    }
    let field = if base.is_empty() {
        "body".to_string()
    } else {
        base
    };
    (field, message.to_string())
}

/// Parses a record id from the path.
pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::field(
            Code::BadParameter,
            "id",
            format!("'{}' is not a UUID", truncate(raw)),
        )
    })
}

/// Shortens user text quoted back in messages.
pub fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_fields_are_named() {
        assert_eq!(
            field_of(".", "unknown field `foo`, expected one of `a`, `b`").0,
            "foo"
        );
        assert_eq!(
            field_of("foo", "unknown field `foo`, expected `a`").0,
            "foo"
        );
        assert_eq!(
            field_of("a.foo", "unknown field `foo`, expected `a`").0,
            "a.foo"
        );
        assert_eq!(
            field_of("visits[0]", "missing field `label`"),
            ("visits[0].label".into(), "is required".into())
        );
        assert_eq!(
            field_of("grade", "CTCAE grade must be 1 to 5 (got 7)").0,
            "grade"
        );
    }
}
