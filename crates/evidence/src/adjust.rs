//! Making controls comparable: the propensity score, then matching, weighting or
//! stratification as the plan says, with covariate balance before and after.
//!
//! Everything here calls `saisei-stats`: [`fit_propensity`] for the score,
//! [`nearest_neighbour`] for MatchIt-style greedy matching on its logit, [`iptw`] for
//! weights, and [`balance_table`] for standardised mean differences. Stratification is
//! turned into weights (marginal mean weighting through stratification, ATT: controls
//! in stratum s weigh n_treated,s / n_control,s) so that every method yields one weight
//! per row, matched sets or strata for the variance, and the same balance table.

use saisei_domain::evaluation::{AdjustmentMethod, WeightingEstimand};
use saisei_stats::Covariates;
use saisei_stats::balance::{BalanceRow, SdDenominator, balance_table};
use saisei_stats::matching::{MatchOptions, MatchOrder, Matching, nearest_neighbour};
use saisei_stats::propensity::fit_propensity;
use saisei_stats::weighting::{Estimand, IptwOptions, iptw, quantile_type7};

/// An adjusted comparison's design: weights, the structure for the variance, balance.
#[derive(Debug, Clone)]
pub struct Adjustment {
    /// What was done, in words.
    pub label: String,
    /// One weight per row (0 = not in the adjusted sample).
    pub weights: Vec<f64>,
    /// Matched set per row (matching), for cluster-robust variances.
    pub clusters: Option<Vec<u32>>,
    /// Propensity-score stratum per row (stratification).
    pub strata: Option<Vec<u32>>,
    /// The matching, when matching was done.
    pub matching: Option<Matching>,
    /// Propensity score per row.
    pub score: Vec<f64>,
    /// Standardised mean differences before and after.
    pub balance: Vec<BalanceRow>,
    /// Treated rows with positive weight.
    pub n_treated: usize,
    /// Control rows with positive weight.
    pub n_control: usize,
    /// Treated rows left out (unmatched, or in strata without controls).
    pub dropped_treated: usize,
}

/// The covariate matrix of the adjustment (names as in balance tables).
pub fn design(names: Vec<String>, columns: Vec<Vec<f64>>) -> Result<Covariates, String> {
    Covariates::new(names, columns).map_err(|e| e.to_string())
}

/// Adjusts by `method` for `covariates`.
pub fn adjust(
    method: &AdjustmentMethod,
    treated: &[bool],
    covariates: &Covariates,
) -> Result<Adjustment, String> {
    let t01: Vec<f64> = treated.iter().map(|&t| if t { 1.0 } else { 0.0 }).collect();
    let ps = fit_propensity("treated", &t01, covariates)
        .map_err(|e| format!("propensity model: {e}"))?;
    let n_treated_all = treated.iter().filter(|&&t| t).count();
    let mut out = match method {
        AdjustmentMethod::Matching { ratio, caliper } => {
            let m = nearest_neighbour(
                &ps.logit,
                treated,
                MatchOptions {
                    ratio: *ratio as usize,
                    caliper: *caliper,
                    replace: false,
                    order: MatchOrder::Descending,
                },
            )
            .map_err(|e| format!("matching: {e}"))?;
            let mut clusters = vec![u32::MAX; treated.len()];
            for (k, set) in m.sets.iter().enumerate() {
                clusters[set.treated] = k as u32;
                for &c in &set.controls {
                    clusters[c] = k as u32;
                }
            }
            let balance = balance_table(covariates, treated, &m.weights, SdDenominator::Treated);
            Adjustment {
                label: method.label(),
                weights: m.weights.clone(),
                clusters: Some(clusters),
                strata: None,
                dropped_treated: m.unmatched_treated.len(),
                matching: Some(m),
                score: ps.score.clone(),
                balance,
                n_treated: 0,
                n_control: 0,
            }
        }
        AdjustmentMethod::Weighting { estimand, truncate } => {
            let w = iptw(
                treated,
                &ps.score,
                covariates,
                IptwOptions {
                    estimand: match estimand {
                        WeightingEstimand::Att => Estimand::Att,
                        WeightingEstimand::Ate => Estimand::Ate,
                        WeightingEstimand::Ato => Estimand::Ato,
                    },
                    stabilized: false,
                    truncate: *truncate,
                },
            )
            .map_err(|e| format!("weighting: {e}"))?;
            Adjustment {
                label: method.label(),
                weights: w.weights,
                clusters: None,
                strata: None,
                matching: None,
                score: ps.score.clone(),
                balance: w.balance,
                n_treated: 0,
                n_control: 0,
                dropped_treated: 0,
            }
        }
        AdjustmentMethod::Stratification { strata } => {
            let k = *strata as usize;
            let mut sorted = ps.score.clone();
            sorted.sort_by(f64::total_cmp);
            let cuts: Vec<f64> = (1..k)
                .map(|j| quantile_type7(&sorted, j as f64 / k as f64))
                .collect();
            let codes: Vec<u32> = ps
                .score
                .iter()
                .map(|s| cuts.iter().filter(|c| s > c).count() as u32)
                .collect();
            let mut nt = vec![0usize; k];
            let mut nc = vec![0usize; k];
            for (c, &t) in codes.iter().zip(treated) {
                if t {
                    nt[*c as usize] += 1;
                } else {
                    nc[*c as usize] += 1;
                }
            }
            let weights: Vec<f64> = codes
                .iter()
                .zip(treated)
                .map(|(c, &t)| {
                    let (a, b) = (nt[*c as usize], nc[*c as usize]);
                    match (a, b) {
                        (0, _) | (_, 0) => 0.0,
                        _ if t => 1.0,
                        _ => a as f64 / b as f64,
                    }
                })
                .collect();
            let dropped = codes
                .iter()
                .zip(treated)
                .filter(|(c, t)| **t && nc[**c as usize] == 0)
                .count();
            let balance = balance_table(covariates, treated, &weights, SdDenominator::Treated);
            Adjustment {
                label: method.label(),
                weights,
                clusters: None,
                strata: Some(codes),
                matching: None,
                score: ps.score.clone(),
                balance,
                n_treated: 0,
                n_control: 0,
                dropped_treated: dropped,
            }
        }
    };
    out.n_treated = (0..treated.len())
        .filter(|&i| treated[i] && out.weights[i] > 0.0)
        .count();
    out.n_control = (0..treated.len())
        .filter(|&i| !treated[i] && out.weights[i] > 0.0)
        .count();
    if out.n_treated == 0 || out.n_control == 0 {
        return Err(format!(
            "{} left {} treated and {} control patients",
            out.label, out.n_treated, out.n_control
        ));
    }
    debug_assert!(out.n_treated + out.dropped_treated <= n_treated_all);
    Ok(out)
}

/// The sensitivity analysis's method: another way of adjusting than the plan's.
pub fn alternative(method: &AdjustmentMethod) -> AdjustmentMethod {
    match method {
        AdjustmentMethod::Matching { .. } | AdjustmentMethod::Stratification { .. } => {
            AdjustmentMethod::Weighting {
                estimand: WeightingEstimand::Att,
                truncate: None,
            }
        }
        AdjustmentMethod::Weighting { .. } => AdjustmentMethod::Matching {
            ratio: 1,
            caliper: Some(0.2),
        },
    }
}
