//! Errors as `application/problem+json` (RFC 9457), from one table of codes.
//!
//! Every failure a client can see has a stable `code`, one HTTP status and a title; the
//! table below is the only place those are decided, so the API and the pages
//! agree (the habit is meilisearch's `make_error_codes!`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use saisei_domain::{FieldError, ValidationErrors};
use saisei_store::StoreError;
use serde::Serialize;

macro_rules! error_codes {
    ($($variant:ident => $status:ident, $code:literal, $title:literal;)*) => {
        /// Every kind of failure the API reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        impl Code {
            /// The HTTP status.
            pub fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::$status,)* }
            }
            /// The stable machine-readable name.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
            /// A short human-readable title.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }
            /// Every code, for documentation and tests.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
        }
    };
}

error_codes! {
    InvalidJson => BAD_REQUEST, "invalid_json", "The request body is not valid JSON";
    UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "The request body must be application/json";
    PayloadTooLarge => PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large";
    BadParameter => BAD_REQUEST, "bad_parameter", "A path or query parameter is invalid";
    ValidationFailed => UNPROCESSABLE_ENTITY, "validation_failed", "The input is invalid";
    RuleViolation => UNPROCESSABLE_ENTITY, "rule_violation", "The change breaks a rule";
    NotFound => NOT_FOUND, "not_found", "Not found";
    MethodNotAllowed => METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed";
    VersionConflict => CONFLICT, "version_conflict", "The record was changed by someone else";
    Duplicate => CONFLICT, "duplicate", "A value that must be unique is already in use";
    Unauthenticated => UNAUTHORIZED, "unauthenticated", "Sign-in required";
    Forbidden => FORBIDDEN, "forbidden", "Not allowed";
    TooManyAttempts => TOO_MANY_REQUESTS, "too_many_attempts", "Too many failed attempts: wait before trying again";
    NotConfigured => SERVICE_UNAVAILABLE, "not_configured", "The server is not configured for this";
    DatabaseUnavailable => SERVICE_UNAVAILABLE, "database_unavailable", "The database is unavailable";
    Internal => INTERNAL_SERVER_ERROR, "internal", "Internal error";
}

/// The body of a problem response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// The stable code.
    pub code: String,
    /// The fields at fault, with what is wrong with each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Which kind.
    pub code: Code,
    /// Details for this occurrence.
    pub detail: String,
    /// Fields at fault.
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again (sent as `Retry-After`).
    pub retry_after: Option<i64>,
}

impl ApiError {
    /// An error with a detail message.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// A validation error for one field.
    pub fn field(code: Code, field: impl Into<String>, problem: impl Into<String>) -> Self {
        let e = FieldError::new(field, problem);
        ApiError {
            code,
            detail: e.to_string(),
            errors: vec![e],
            retry_after: None,
        }
    }

    /// The same problem under another code (and so another status).
    pub fn with_code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }

    /// The problem body.
    pub fn body(&self) -> ProblemBody {
        ProblemBody {
            kind: format!("https://saisei.example/problems/{}", self.code.name()),
            title: self.code.title().to_string(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code.name().to_string(),
            errors: self.errors.clone(),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError {
            code: Code::ValidationFailed,
            detail: e.to_string(),
            errors: e.0,
            retry_after: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::new(Code::NotFound, e.to_string()),
            StoreError::Conflict { .. } => {
                ApiError::field(Code::VersionConflict, "version", e.to_string())
            }
            StoreError::Duplicate { ref field, .. } => {
                let f = field.clone();
                ApiError::field(Code::Duplicate, f, e.to_string())
            }
            StoreError::Invalid(v) => v.into(),
            StoreError::Database(m) => {
                tracing::error!(error = %m, "database error");
                ApiError::new(
                    Code::DatabaseUnavailable,
                    "the database could not complete the request",
                )
            }
            StoreError::Corrupt(m) => {
                tracing::error!(error = %m, "stored data could not be read");
                ApiError::new(
                    Code::Internal,
                    "stored data could not be read; the incident is logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_client_errors_are_4xx() {
        let mut names: Vec<_> = Code::ALL.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
        for c in Code::ALL {
            let s = c.status().as_u16();
            assert!((400..600).contains(&s));
        }
    }
}
