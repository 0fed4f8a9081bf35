//! The one error type of the stats crate.
//!
//! Every failure a caller can provoke with bad data has its own variant naming the
//! column or group at fault, so a front end (the CLI, the server) can map it to a
//! message the analyst can act on without re-deriving what went wrong.

use thiserror::Error;

/// Why a statistical routine refused or failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// Two columns that must describe the same rows have different lengths.
    #[error("column '{name}' has {got} values but {expected} were expected")]
    LengthMismatch {
        /// The column whose length is wrong.
        name: String,
        /// Its length.
        got: usize,
        /// The length of the other columns.
        expected: usize,
    },
    /// A value is NaN or infinite.
    #[error("column '{name}' has a non-finite value ({value}) at row {row}")]
    NonFinite {
        /// The column.
        name: String,
        /// Zero-based row index.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// A column that must hold 0/1 holds something else.
    #[error("column '{name}' must be 0 or 1 but has {value} at row {row}")]
    NotBinary {
        /// The column.
        name: String,
        /// Zero-based row index.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// A value is outside the range the method allows (negative time, weight ≤ 0, …).
    #[error("column '{name}' has an invalid value {value} at row {row}: {reason}")]
    InvalidValue {
        /// The column.
        name: String,
        /// Zero-based row index.
        row: usize,
        /// The offending value.
        value: f64,
        /// What the value must satisfy.
        reason: &'static str,
    },
    /// A covariate takes one value only, so its coefficient is not identifiable.
    #[error(
        "covariate '{name}' is constant (every value is {value}); its effect cannot be estimated"
    )]
    ConstantCovariate {
        /// The covariate.
        name: String,
        /// Its only value.
        value: f64,
    },
    /// A covariate is an exact linear combination of the others (or of the intercept).
    #[error(
        "covariate '{name}' is collinear with the other covariates; drop it or one of those it depends on"
    )]
    Collinear {
        /// The first covariate found to be redundant.
        name: String,
    },
    /// The outcome is perfectly predicted, so the maximum-likelihood estimate is infinite.
    #[error("perfect separation: {detail}")]
    PerfectSeparation {
        /// Which covariate separates, and how.
        detail: String,
    },
    /// There are no events (or no non-events), so nothing can be estimated.
    #[error("no events: {detail}")]
    NoEvents {
        /// Which column and subset has no events.
        detail: String,
    },
    /// A group the method needs has no members.
    #[error("empty group: {detail}")]
    EmptyGroup {
        /// Which group is empty.
        detail: String,
    },
    /// There are not enough rows for the model.
    #[error("too few observations: {detail}")]
    TooFew {
        /// What was needed.
        detail: String,
    },
    /// An argument (not data) is out of range: a ratio of 0, a probability of 1.5, ….
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Newton–Raphson did not converge.
    #[error("the {model} fit did not converge in {iterations} iterations")]
    NotConverged {
        /// Which model.
        model: &'static str,
        /// How many iterations ran.
        iterations: usize,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, StatsError>;
