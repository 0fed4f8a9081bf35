//! Saisei's statistics: pure numerical routines over columns of `f64`, the only place
//! a statistic is computed (the evidence engine, `saisei-evidence`, and the `saisei stats`
//! commands call them).
//!
//! Post-marketing evaluation of conditionally approved products rests on comparisons
//! with non-randomised registry controls, so this crate gives the same numbers as the
//! reference tools (R's survival and MatchIt, lifelines, statsmodels) and runs fast
//! enough for registry-sized cohorts: logistic regression and propensity scores,
//! greedy matching, inverse probability weighting and balance, Kaplan–Meier, log-rank,
//! Cox regression, least squares, differences in weighted means, Cohen's kappa,
//! multiplicity adjustment, α spending and sample size, with one damped Newton
//! maximiser for the likelihood fits.
//!
//! It knows nothing of the registry, of files or of the network, and must never gain
//! I/O or async: callers hand it columns and get typed results or a typed
//! [`StatsError`] naming the column or group at fault.

#![warn(missing_docs)]

pub mod agreement;
pub mod balance;
pub mod concordance;
pub mod covariates;
pub mod cox;
pub mod error;
pub mod inference;
pub mod km;
pub mod logistic;
pub mod logrank;
pub mod matching;
mod matrix;
pub mod means;
pub mod multiplicity;
mod newton;
pub mod ols;
mod parallel;
pub mod power;
pub mod propensity;
pub mod sequential;
pub mod survival;
pub mod weighting;

pub use covariates::Covariates;
pub use error::{Result, StatsError};
