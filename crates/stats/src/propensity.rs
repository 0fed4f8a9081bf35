//! Propensity scores: the probability of treatment given covariates, by logistic
//! regression, and its logit (the scale matching and calipers work on).

use crate::covariates::Covariates;
use crate::error::Result;
use crate::logistic::{LogisticFit, LogisticOptions, fit_logistic, sigmoid};

/// A fitted propensity model.
#[derive(Debug, Clone, PartialEq)]
pub struct Propensity {
    /// The logistic fit of treatment on the covariates.
    pub model: LogisticFit,
    /// Logit of the score per row (the linear predictor).
    pub logit: Vec<f64>,
    /// The score P(treated | x) per row.
    pub score: Vec<f64>,
}

/// Fits `P(treatment = 1 | covariates)` by logistic regression.
pub fn fit_propensity(
    treatment_name: &str,
    treatment: &[f64],
    covariates: &Covariates,
) -> Result<Propensity> {
    let model = fit_logistic(
        treatment_name,
        treatment,
        covariates,
        LogisticOptions::default(),
    )?;
    let logit = model.linear_predictor.clone();
    let score = logit.iter().map(|&e| sigmoid(e)).collect();
    Ok(Propensity {
        model,
        logit,
        score,
    })
}
