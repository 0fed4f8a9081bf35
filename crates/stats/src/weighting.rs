//! Inverse probability of treatment weighting (IPTW) from propensity scores.
//!
//! Weights for the ATT (treated 1, controls e/(1 − e)), the ATE (1/e, 1/(1 − e)) and
//! the ATO, overlap weights (1 − e, e); optional stabilisation by the marginal
//! treatment probability; optional truncation at symmetric quantiles. Reports
//! Kish's effective sample size per arm and the weighted SMDs, which is what an analyst
//! checks before trusting a weighted comparison.

use crate::balance::{BalanceRow, SdDenominator, balance_table};
use crate::covariates::Covariates;
use crate::error::{Result, StatsError};

/// The population the weights target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimand {
    /// Average treatment effect on the treated.
    Att,
    /// Average treatment effect in the whole population.
    Ate,
    /// Average treatment effect in the overlap population (overlap weights).
    Ato,
}

/// Options for [`iptw`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IptwOptions {
    /// Target estimand.
    pub estimand: Estimand,
    /// Multiply by the marginal treatment probability (ATE: P(T=t); ATT: controls by
    /// (1 − P(T=1))/P(T=1)); not defined for overlap weights.
    pub stabilized: bool,
    /// Truncate weights at the `1 − q` and `q` quantiles (q in (0.5, 1)).
    pub truncate: Option<f64>,
}

/// Weights and their diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct Weighting {
    /// One weight per row.
    pub weights: Vec<f64>,
    /// Kish effective sample size of the treated arm, (Σw)²/Σw².
    pub ess_treated: f64,
    /// Kish effective sample size of the control arm.
    pub ess_control: f64,
    /// Treated rows.
    pub n_treated: usize,
    /// Control rows.
    pub n_control: usize,
    /// Truncation bounds applied, if any.
    pub truncated_at: Option<(f64, f64)>,
    /// SMDs before and after weighting.
    pub balance: Vec<BalanceRow>,
}

/// Quantile by linear interpolation between order statistics (R's type 7).
pub fn quantile_type7(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn ess(weights: impl Iterator<Item = f64>) -> f64 {
    let (s, s2) = weights.fold((0.0, 0.0), |(a, b), w| (a + w, b + w * w));
    s * s / s2
}

/// Computes IPTW weights from propensity scores `score` and reports balance.
pub fn iptw(
    treated: &[bool],
    score: &[f64],
    covariates: &Covariates,
    options: IptwOptions,
) -> Result<Weighting> {
    if treated.len() != score.len() {
        return Err(StatsError::LengthMismatch {
            name: "propensity score".into(),
            got: score.len(),
            expected: treated.len(),
        });
    }
    let n_treated = treated.iter().filter(|&&t| t).count();
    let n_control = treated.len() - n_treated;
    if n_treated == 0 || n_control == 0 {
        return Err(StatsError::EmptyGroup {
            detail: format!(
                "weighting needs both arms; there are {n_treated} treated and {n_control} control rows"
            ),
        });
    }
    if let Some(row) = score.iter().position(|&e| !(e > 0.0 && e < 1.0)) {
        return Err(StatsError::PerfectSeparation {
            detail: format!(
                "the propensity score of row {row} is {} (0 or 1), so its weight is infinite",
                score[row]
            ),
        });
    }
    if options.stabilized && options.estimand == Estimand::Ato {
        return Err(StatsError::InvalidArgument(
            "--stabilized applies to ate and att weights; overlap (ato) weights are already bounded".into(),
        ));
    }
    let p_treated = n_treated as f64 / treated.len() as f64;
    let mut weights: Vec<f64> = treated
        .iter()
        .zip(score)
        .map(|(&t, &e)| match (options.estimand, t) {
            (Estimand::Ate, true) => 1.0 / e,
            (Estimand::Ate, false) => 1.0 / (1.0 - e),
            (Estimand::Att, true) => 1.0,
            (Estimand::Att, false) => e / (1.0 - e),
            (Estimand::Ato, true) => 1.0 - e,
            (Estimand::Ato, false) => e,
        })
        .collect();
    if options.stabilized {
        for (w, &t) in weights.iter_mut().zip(treated) {
            *w *= match (options.estimand, t) {
                (Estimand::Ate, true) => p_treated,
                (Estimand::Ate, false) => 1.0 - p_treated,
                (Estimand::Att, true) => 1.0,
                (Estimand::Att, false) => (1.0 - p_treated) / p_treated,
                (Estimand::Ato, _) => 1.0,
            };
        }
    }
    let truncated_at = match options.truncate {
        Some(q) if !(q > 0.5 && q < 1.0) => {
            return Err(StatsError::InvalidArgument(format!(
                "truncation quantile must be between 0.5 and 1 (e.g. 0.99), got {q}"
            )));
        }
        Some(q) => {
            let mut sorted = weights.clone();
            sorted.sort_by(f64::total_cmp);
            let (lo, hi) = (quantile_type7(&sorted, 1.0 - q), quantile_type7(&sorted, q));
            for w in &mut weights {
                *w = w.clamp(lo, hi);
            }
            Some((lo, hi))
        }
        None => None,
    };
    let which = match options.estimand {
        Estimand::Att => SdDenominator::Treated,
        Estimand::Ate | Estimand::Ato => SdDenominator::Pooled,
    };
    let balance = balance_table(covariates, treated, &weights, which);
    let pick = |flag: bool| {
        weights
            .iter()
            .zip(treated)
            .filter(move |(_, t)| **t == flag)
            .map(|(w, _)| *w)
    };
    Ok(Weighting {
        ess_treated: ess(pick(true)),
        ess_control: ess(pick(false)),
        n_treated,
        n_control,
        truncated_at,
        balance,
        weights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covs(x: Vec<f64>) -> Covariates {
        Covariates::new(vec!["x".into()], vec![x]).unwrap()
    }

    #[test]
    fn weights_by_estimand() {
        let t = [true, false];
        let e = [0.25, 0.25];
        let c = covs(vec![1.0, 2.0]);
        let opts = |estimand| IptwOptions {
            estimand,
            stabilized: false,
            truncate: None,
        };
        assert_eq!(
            iptw(&t, &e, &c, opts(Estimand::Ate)).unwrap().weights,
            vec![4.0, 4.0 / 3.0]
        );
        assert_eq!(
            iptw(&t, &e, &c, opts(Estimand::Att)).unwrap().weights,
            vec![1.0, 1.0 / 3.0]
        );
        assert_eq!(
            iptw(&t, &e, &c, opts(Estimand::Ato)).unwrap().weights,
            vec![0.75, 0.25]
        );
    }

    #[test]
    fn true_scores_balance_a_confounder_exactly() {
        // Two strata of x with known treatment probabilities; ATE weights balance x.
        let mut t = Vec::new();
        let mut x = Vec::new();
        let mut e = Vec::new();
        for (xv, treated, total) in [(0.0, 2, 10), (1.0, 6, 8)] {
            for i in 0..total {
                t.push(i < treated);
                x.push(xv);
                e.push(treated as f64 / total as f64);
            }
        }
        let w = iptw(
            &t,
            &e,
            &covs(x),
            IptwOptions {
                estimand: Estimand::Ate,
                stabilized: true,
                truncate: None,
            },
        )
        .unwrap();
        assert!(w.balance[0].smd_before.abs() > 0.5);
        assert!(w.balance[0].smd_after.abs() < 1e-12);
        assert!(w.ess_treated > 0.0 && w.ess_treated <= 8.0);
    }

    #[test]
    fn truncation_clamps_to_quantiles() {
        let t = [true, true, false, false, false];
        let e = [0.5, 0.01, 0.5, 0.5, 0.99];
        let w = iptw(
            &t,
            &e,
            &covs(vec![1.0, 2.0, 3.0, 4.0, 6.0]),
            IptwOptions {
                estimand: Estimand::Ate,
                stabilized: false,
                truncate: Some(0.6),
            },
        )
        .unwrap();
        // Weights 2, 100, 2, 2, 100: quantiles 0.4 and 0.6 (type 7) are 2 and 41.2.
        let (lo, hi) = w.truncated_at.unwrap();
        assert!((lo - 2.0).abs() < 1e-12 && (hi - 41.2).abs() < 1e-9);
        assert!(w.weights.iter().all(|&v| v >= lo && v <= hi));
    }

    #[test]
    fn quantile_matches_r_type7() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile_type7(&s, 0.9) - 3.7).abs() < 1e-12);
    }
}
