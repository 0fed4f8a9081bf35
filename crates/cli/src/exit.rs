//! How a command fails: the one place that maps errors to exit codes.

use std::fmt;

/// A command's failure, carrying the exit code the shell sees.
///
/// Bad input (a missing column, an unparsable value, a rule the data breaks) is the
/// user's to fix and exits 2 with a message naming the field and the problem; anything
/// else is ours or the environment's and exits 1.
#[derive(Debug)]
pub enum CliError {
    /// The input was wrong; exit code 2.
    Input(String),
    /// Something else went wrong (I/O, database); exit code 1.
    Failure(anyhow::Error),
}

impl CliError {
    /// Shorthand for an input error with a message.
    pub fn input(message: impl Into<String>) -> Self {
        CliError::Input(message.into())
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Failure(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(m) => write!(f, "{m}"),
            CliError::Failure(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Failure(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Failure(e.into())
    }
}

impl From<saisei_store::StoreError> for CliError {
    /// Refusals of the input (a rule broken, a record not found, a value taken) exit 2
    /// with the store's message; database failures exit 1.
    fn from(e: saisei_store::StoreError) -> Self {
        use saisei_store::StoreError::*;
        match e {
            Invalid(v) => CliError::Input(v.to_string()),
            NotFound { .. } | Duplicate { .. } | Conflict { .. } => CliError::Input(e.to_string()),
            other => CliError::Failure(other.into()),
        }
    }
}
