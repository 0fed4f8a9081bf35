//! Covariate balance: standardised mean differences before and after matching or
//! weighting.
//!
//! The denominator is fixed from the unadjusted sample (so "after" is comparable with
//! "before"), computed as MatchIt and cobalt do: the sample variance for continuous
//! covariates and p(1 − p) for 0/1 covariates; the treated group's SD for the ATT, the
//! square root of the mean of the two groups' variances otherwise.

use crate::covariates::Covariates;

/// Which standard deviation standardises the mean difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdDenominator {
    /// The treated group's SD (the ATT convention; MatchIt's default).
    Treated,
    /// √((s²_treated + s²_control)/2) (the ATE/ATO convention).
    Pooled,
}

/// Balance of one covariate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BalanceRow {
    /// Covariate name.
    pub name: String,
    /// SMD in the unadjusted sample.
    pub smd_before: f64,
    /// SMD after matching or weighting.
    pub smd_after: f64,
}

/// Variance as MatchIt's `wvar` (unweighted): p(1 − p) for 0/1 data, else n − 1.
fn group_variance(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (mut n, mut sum) = (0.0, 0.0);
    let mut binary = true;
    for v in values.clone() {
        n += 1.0;
        sum += v;
        binary &= v == 0.0 || v == 1.0;
    }
    if n == 0.0 {
        return f64::NAN;
    }
    let mean = sum / n;
    if binary {
        return mean * (1.0 - mean);
    }
    if n < 2.0 {
        return f64::NAN;
    }
    values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
}

/// The standardising SD of one covariate in the unadjusted sample.
pub fn denominator_sd(x: &[f64], treated: &[bool], which: SdDenominator) -> f64 {
    let group = |flag: bool| {
        group_variance(
            x.iter()
                .zip(treated)
                .filter(move |(_, t)| **t == flag)
                .map(|(v, _)| *v),
        )
    };
    let pooled = || ((group(true) + group(false)) / 2.0).sqrt();
    match which {
        SdDenominator::Treated => {
            let sd = group(true).sqrt();
            if sd.is_finite() && sd >= f64::EPSILON.sqrt() {
                sd
            } else {
                pooled()
            }
        }
        SdDenominator::Pooled => pooled(),
    }
}

/// Weighted mean of each arm: `(treated, control)`.
pub fn weighted_means(x: &[f64], treated: &[bool], weights: &[f64]) -> (f64, f64) {
    let (mut st, mut wt, mut sc, mut wc) = (0.0, 0.0, 0.0, 0.0);
    for ((&v, &t), &w) in x.iter().zip(treated).zip(weights) {
        if t {
            st += w * v;
            wt += w;
        } else {
            sc += w * v;
            wc += w;
        }
    }
    (st / wt, sc / wc)
}

/// Standardised mean difference under `weights`, as MatchIt reports it (a difference
/// below √ε is reported unstandardised, i.e. as essentially zero).
pub fn smd(x: &[f64], treated: &[bool], weights: &[f64], sd: f64) -> f64 {
    let (mt, mc) = weighted_means(x, treated, weights);
    let diff = mt - mc;
    if diff.abs() <= f64::EPSILON.sqrt() {
        diff
    } else {
        diff / sd
    }
}

/// Balance table for every covariate: unweighted vs `weights_after`.
pub fn balance_table(
    covariates: &Covariates,
    treated: &[bool],
    weights_after: &[f64],
    which: SdDenominator,
) -> Vec<BalanceRow> {
    let ones = vec![1.0; treated.len()];
    covariates
        .names()
        .iter()
        .zip(covariates.columns())
        .map(|(name, x)| {
            let sd = denominator_sd(x, treated, which);
            BalanceRow {
                name: name.clone(),
                smd_before: smd(x, treated, &ones, sd),
                smd_after: smd(x, treated, weights_after, sd),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smd_uses_treated_sd() {
        let x = [1.0, 2.0, 3.0, 0.0, 1.0];
        let t = [true, true, true, false, false];
        let sd = denominator_sd(&x, &t, SdDenominator::Treated);
        assert!((sd - 1.0).abs() < 1e-12);
        let s = smd(&x, &t, &[1.0; 5], sd);
        assert!((s - 1.5).abs() < 1e-12);
    }

    #[test]
    fn binary_covariate_uses_p_one_minus_p() {
        let x = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let t = [true, true, true, true, false, false];
        let sd = denominator_sd(&x, &t, SdDenominator::Treated);
        assert!((sd - (0.75f64 * 0.25).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn weights_can_remove_imbalance() {
        let x = [1.0, 3.0, 0.0, 4.0];
        let t = [true, true, false, false];
        let sd = denominator_sd(&x, &t, SdDenominator::Pooled);
        let after = smd(&x, &t, &[1.0, 1.0, 1.0, 1.0], sd);
        assert!((after - (-0.0)).abs() < 1e-12);
        let shifted = smd(&x, &t, &[1.0, 1.0, 3.0, 1.0], sd);
        assert!(shifted > 0.0);
    }
}
