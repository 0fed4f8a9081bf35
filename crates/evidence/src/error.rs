//! The evidence engine's one error type.

use thiserror::Error;

/// Why an evaluation could not be run at all (as opposed to an endpoint that could not
/// be estimated, which is reported in the results and leaves the verdict open).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvidenceError {
    /// The plan cannot be analysed as written (e.g. no primary endpoint).
    #[error("the plan cannot be analysed: {0}")]
    Plan(String),
}
