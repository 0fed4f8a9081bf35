//! Compares saisei-stats with the reference tools on the datasets they ship.
//!
//! The datasets and the expected numbers live in `tests/data/` at the repository root,
//! produced by `tests/data/reference.R` (R survival, MatchIt, sandwich) and
//! `tests/data/reference.py` (lifelines, statsmodels). Every comparison is to 1e-6
//! relative unless a test says why not.

mod cox;
mod data;
mod km_logrank;
mod logit;
mod matching;
mod power;
mod properties;
