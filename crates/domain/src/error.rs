//! Validation errors that name the field and the problem.
//!
//! Every boundary (HTTP, CLI, importers) turns these into its own shape once; the
//! domain only says *which* field is wrong and *why*.

use serde::Serialize;
use std::fmt;

/// One invalid field: a JSON-pointer-like dotted path and a sentence saying what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `seriousness[0]` or `visits[2].label`.
    pub field: String,
    /// What is wrong with it, in words a user can act on.
    pub problem: String,
}

impl FieldError {
    /// Builds a field error from anything string-like.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// All the problems found in one input, so a user can fix them in one go.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// A single-problem error.
    pub fn one(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ValidationErrors(vec![FieldError::new(field, problem)])
    }

    /// Records a problem.
    pub fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(FieldError::new(field, problem));
    }

    /// `Ok(())` when nothing was recorded, otherwise the collected problems.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Prefixes every field path, for errors found inside a nested value.
    pub fn within(mut self, prefix: &str) -> Self {
        for e in &mut self.0 {
            e.field = if e.field.is_empty() {
                prefix.to_string()
            } else if e.field.starts_with('[') {
                format!("{prefix}{}", e.field)
            } else {
                format!("{prefix}.{}", e.field)
            };
        }
        self
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        write!(f, "{}", parts.join("; "))
    }
}

/// Cross-field rules that a value's type alone cannot express.
///
/// Types already refuse impossible single values (parse, don't validate); this trait is
/// for the rules that relate several fields, e.g. "a treated enrolment names a plan or a
/// product".
pub trait Validate {
    /// Returns every problem found, or `Ok(())`.
    fn validate(&self) -> Result<(), ValidationErrors>;
}
