//! Cox proportional-hazards regression for right-censored data.
//!
//! Matches R's `survival::coxph` (and lifelines' `CoxPHFitter` for Efron ties): the same
//! partial likelihood (Efron or Breslow ties, case weights, strata), the same
//! model-based variance, the robust sandwich variance R uses with `cluster()` or
//! `robust = TRUE`, and Harrell's concordance as `coxph` reports it. The data are
//! sorted once; each Newton step is one O(n·p²) pass.

mod risk_sets;
mod robust;

use crate::concordance::{SortedSurvival, concordance_sorted, dense_ranks};
use crate::covariates::{Covariates, check_len};
use crate::error::{Result, StatsError};
use crate::inference::{normal_two_sided_p, normal_upper_quantile};
use crate::newton::{Controls, Maximum, Point, maximise};
use risk_sets::{SortedData, evaluate};

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ties {
    /// Efron's approximation (the default of R and lifelines).
    Efron,
    /// Breslow's approximation.
    Breslow,
}

impl Ties {
    /// The name R and the CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            Ties::Efron => "efron",
            Ties::Breslow => "breslow",
        }
    }
}

/// The data of a Cox model. Rows are aligned across every slice.
#[derive(Debug, Clone, Copy)]
pub struct CoxData<'a> {
    /// Follow-up time (≥ 0).
    pub time: &'a [f64],
    /// True where the row ended in the event.
    pub event: &'a [bool],
    /// Covariates.
    pub covariates: &'a Covariates,
    /// Stratum code per row: separate baseline hazards, shared coefficients.
    pub strata: Option<&'a [u32]>,
    /// Case weights (> 0); implies the robust variance.
    pub weights: Option<&'a [f64]>,
    /// Cluster code per row for the robust variance (e.g. patient or site).
    pub cluster: Option<&'a [u32]>,
}

/// Iteration controls for [`fit_cox`].
#[derive(Debug, Clone, Copy)]
pub struct CoxOptions {
    /// Tie handling.
    pub ties: Ties,
    /// Maximum Newton iterations.
    pub max_iterations: usize,
    /// Converged when every Newton step is below `tolerance · (1 + |β|)`.
    pub tolerance: f64,
}

impl Default for CoxOptions {
    fn default() -> Self {
        CoxOptions {
            ties: Ties::Efron,
            max_iterations: 50,
            tolerance: 1e-10,
        }
    }
}

/// One row of a Cox regression table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoxCoefficient {
    /// Covariate name.
    pub name: String,
    /// Log hazard ratio.
    pub coef: f64,
    /// Standard error (robust when the fit is robust).
    pub se: f64,
    /// Wald statistic.
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Hazard ratio `exp(coef)`.
    pub hr: f64,
    /// Lower 95 % Wald limit of the hazard ratio.
    pub hr_lower: f64,
    /// Upper 95 % Wald limit of the hazard ratio.
    pub hr_upper: f64,
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxFit {
    /// Rows used.
    pub n: usize,
    /// Number of rows ending in an event.
    pub events: usize,
    /// Tie handling used.
    pub ties: Ties,
    /// Partial log-likelihood at the estimate.
    pub loglik: f64,
    /// Partial log-likelihood at β = 0.
    pub loglik_null: f64,
    /// Score (log-rank type) test of β = 0, model-based.
    pub score_test: f64,
    /// Harrell's C of the linear predictor.
    pub concordance: f64,
    /// Coefficients in covariate order.
    pub coefficients: Vec<CoxCoefficient>,
    /// Variance matrix used for the SEs (row-major p×p).
    pub variance: Vec<f64>,
    /// Model-based variance (equal to `variance` unless robust).
    pub naive_variance: Vec<f64>,
    /// Whether `variance` is the robust sandwich.
    pub robust: bool,
    /// Newton iterations used.
    pub iterations: usize,
}

fn check_inputs(data: &CoxData<'_>) -> Result<()> {
    let n = data.time.len();
    crate::survival::check_times("time", data.time)?;
    if data.event.len() != n {
        return Err(StatsError::LengthMismatch {
            name: "event".into(),
            got: data.event.len(),
            expected: n,
        });
    }
    if !data.covariates.is_empty() && data.covariates.rows() != n {
        return Err(StatsError::LengthMismatch {
            name: "covariates".into(),
            got: data.covariates.rows(),
            expected: n,
        });
    }
    if let Some(w) = data.weights {
        check_len("weights", w, n)?;
        if let Some(row) = w.iter().position(|&v| !(v.is_finite() && v > 0.0)) {
            return Err(StatsError::InvalidValue {
                name: "weights".into(),
                row,
                value: w[row],
                reason: "case weights must be finite and greater than 0",
            });
        }
    }
    for (name, codes) in [("strata", data.strata), ("cluster", data.cluster)] {
        if let Some(c) = codes
            && c.len() != n
        {
            return Err(StatsError::LengthMismatch {
                name: name.into(),
                got: c.len(),
                expected: n,
            });
        }
    }
    if !data.event.iter().any(|&e| e) {
        return Err(StatsError::NoEvents {
            detail: "no row has an event, so there is nothing to fit".into(),
        });
    }
    data.covariates.check_not_constant()
}

/// Fits a Cox model by Newton–Raphson with step halving, starting at β = 0.
pub fn fit_cox(data: &CoxData<'_>, options: CoxOptions) -> Result<CoxFit> {
    check_inputs(data)?;
    let names = data.covariates.names();
    let p = data.covariates.len();
    if p == 0 {
        return Err(StatsError::InvalidArgument(
            "a Cox model needs at least one covariate".into(),
        ));
    }
    let efron = options.ties == Ties::Efron;
    let sorted = SortedData::new(
        data.covariates.columns(),
        data.time,
        data.event,
        data.weights,
        data.strata,
    );

    let Maximum {
        beta,
        at: current,
        factor,
        iterations,
        converged,
        initial_loglik: loglik_null,
        initial_score: score_test,
    } = maximise(
        vec![0.0; p],
        |beta| {
            let e = evaluate(&sorted, beta, efron);
            Point {
                loglik: e.loglik,
                gradient: e.score,
                information: e.information,
            }
        },
        Controls {
            max_iterations: options.max_iterations,
            tolerance: options.tolerance,
        },
        |i, iterations| {
            if iterations == 0 {
                StatsError::Collinear {
                    name: names[i].clone(),
                }
            } else {
                monotone(&names[i])
            }
        },
    )?;
    if !converged {
        let grows = (0..p)
            .max_by(|&a, &b| beta[a].abs().total_cmp(&beta[b].abs()))
            .unwrap_or(0);
        if beta[grows].abs() > 10.0 {
            return Err(monotone(&names[grows]));
        }
        return Err(StatsError::NotConverged {
            model: "Cox",
            iterations,
        });
    }
    let naive_variance = factor.inverse();
    let robust = data.weights.is_some() || data.cluster.is_some();
    let variance = if robust {
        let meat = robust::score_residual_crossproduct(&sorted, &beta, efron, data.cluster);
        sandwich(&naive_variance, &meat, p)
    } else {
        naive_variance.clone()
    };

    let (ranks, n_ranks) = dense_ranks(&sorted.linear_predictor(&beta));
    let concordance = concordance_sorted(
        &SortedSurvival {
            time: &sorted.time,
            event: &sorted.event,
            weight: data.weights.map(|_| sorted.weight.as_slice()),
            strata: &sorted.strata,
        },
        &ranks,
        n_ranks,
    )
    .concordance();
    let z975 = normal_upper_quantile(0.025);
    let coefficients = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let coef = beta[i];
            let se = variance[i * p + i].sqrt();
            let z = coef / se;
            CoxCoefficient {
                name: name.clone(),
                coef,
                se,
                z,
                p: normal_two_sided_p(z),
                hr: coef.exp(),
                hr_lower: (coef - z975 * se).exp(),
                hr_upper: (coef + z975 * se).exp(),
            }
        })
        .collect();
    Ok(CoxFit {
        n: sorted.n,
        events: data.event.iter().filter(|&&e| e).count(),
        ties: options.ties,
        loglik: current.loglik,
        loglik_null,
        score_test,
        concordance,
        coefficients,
        variance,
        naive_variance,
        robust,
        iterations,
    })
}

fn monotone(name: &str) -> StatsError {
    StatsError::PerfectSeparation {
        detail: format!(
            "monotone likelihood: the coefficient of '{name}' grows without bound (its events all fall on one side of the risk sets), so its hazard ratio is infinite"
        ),
    }
}

/// `V · M · V` for row-major p×p matrices.
fn sandwich(v: &[f64], m: &[f64], p: usize) -> Vec<f64> {
    let mut vm = vec![0.0; p * p];
    for i in 0..p {
        for k in 0..p {
            let vik = v[i * p + k];
            for j in 0..p {
                vm[i * p + j] += vik * m[k * p + j];
            }
        }
    }
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            let col: Vec<f64> = (0..p).map(|k| v[k * p + j]).collect();
            let row = &vm[i * p..(i + 1) * p];
            out[i * p + j] = row.iter().zip(&col).map(|(a, b)| a * b).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_covariate(x: Vec<f64>) -> Covariates {
        Covariates::new(vec!["x".into()], vec![x]).unwrap()
    }

    /// Breslow partial likelihood of one covariate by brute force over risk sets.
    fn brute_loglik(time: &[f64], event: &[bool], x: &[f64], beta: f64) -> f64 {
        let mut ll = 0.0;
        for i in 0..time.len() {
            if event[i] {
                let denom: f64 = (0..time.len())
                    .filter(|&j| time[j] >= time[i])
                    .map(|j| (beta * x[j]).exp())
                    .sum();
                ll += beta * x[i] - denom.ln();
            }
        }
        ll
    }

    #[test]
    fn breslow_loglik_matches_brute_force_and_score_is_zero() {
        let time = vec![3.0, 5.0, 5.0, 2.0, 8.0, 6.0, 5.0, 1.0, 9.0, 4.0];
        let event = vec![
            true, true, true, false, true, false, true, true, false, true,
        ];
        let x = vec![0.5, 1.2, -0.3, 0.8, -1.0, 0.1, 0.9, 1.5, -0.7, 0.0];
        let cov = one_covariate(x.clone());
        let data = CoxData {
            time: &time,
            event: &event,
            covariates: &cov,
            strata: None,
            weights: None,
            cluster: None,
        };
        let fit = fit_cox(
            &data,
            CoxOptions {
                ties: Ties::Breslow,
                ..CoxOptions::default()
            },
        )
        .unwrap();
        let b = fit.coefficients[0].coef;
        assert!((fit.loglik - brute_loglik(&time, &event, &x, b)).abs() < 1e-10);
        assert!((fit.loglik_null - brute_loglik(&time, &event, &x, 0.0)).abs() < 1e-10);
        // Numerical derivative of the log-likelihood vanishes at the estimate.
        let h = 1e-6;
        let d = (brute_loglik(&time, &event, &x, b + h) - brute_loglik(&time, &event, &x, b - h))
            / (2.0 * h);
        assert!(d.abs() < 1e-6, "{d}");
    }

    #[test]
    fn no_ties_makes_efron_equal_breslow() {
        let time = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let event = vec![true, false, true, true, false, true, true, true];
        let cov = one_covariate(vec![1.0, 0.0, 1.0, 0.5, 0.2, 0.0, 0.3, 0.1]);
        let data = CoxData {
            time: &time,
            event: &event,
            covariates: &cov,
            strata: None,
            weights: None,
            cluster: None,
        };
        let e = fit_cox(&data, CoxOptions::default()).unwrap();
        let b = fit_cox(
            &data,
            CoxOptions {
                ties: Ties::Breslow,
                ..CoxOptions::default()
            },
        )
        .unwrap();
        assert!((e.coefficients[0].coef - b.coefficients[0].coef).abs() < 1e-12);
        assert!((e.loglik - b.loglik).abs() < 1e-12);
    }

    #[test]
    fn unit_weights_and_singleton_clusters_give_the_robust_variance() {
        let time = vec![3.0, 5.0, 5.0, 2.0, 8.0, 6.0, 5.0, 1.0, 9.0, 4.0, 5.0, 3.0];
        let event = vec![
            true, true, true, false, true, false, true, true, false, true, true, false,
        ];
        let cov = one_covariate(vec![
            0.5, 1.2, -0.3, 0.8, -1.0, 0.1, 0.9, 1.5, -0.7, 0.0, 0.4, 0.3,
        ]);
        let ones = vec![1.0; time.len()];
        let singletons: Vec<u32> = (0..time.len() as u32).collect();
        let base = CoxData {
            time: &time,
            event: &event,
            covariates: &cov,
            strata: None,
            weights: Some(&ones),
            cluster: None,
        };
        let w = fit_cox(&base, CoxOptions::default()).unwrap();
        let c = fit_cox(
            &CoxData {
                weights: None,
                cluster: Some(&singletons),
                ..base
            },
            CoxOptions::default(),
        )
        .unwrap();
        assert!(w.robust && c.robust);
        assert!((w.coefficients[0].se - c.coefficients[0].se).abs() < 1e-12);
        assert!(w.coefficients[0].se != w.naive_variance[0].sqrt());
    }

    #[test]
    fn refuses_no_events_and_constant_covariates() {
        let time = vec![1.0, 2.0, 3.0];
        let cov = one_covariate(vec![1.0, 2.0, 3.0]);
        let data = CoxData {
            time: &time,
            event: &[false, false, false],
            covariates: &cov,
            strata: None,
            weights: None,
            cluster: None,
        };
        assert!(matches!(
            fit_cox(&data, CoxOptions::default()),
            Err(StatsError::NoEvents { .. })
        ));
        let constant = one_covariate(vec![2.0, 2.0, 2.0]);
        let data = CoxData {
            event: &[true, false, true],
            covariates: &constant,
            ..data
        };
        assert!(matches!(
            fit_cox(&data, CoxOptions::default()),
            Err(StatsError::ConstantCovariate { .. })
        ));
    }

    #[test]
    fn monotone_likelihood_is_refused() {
        // Every event in the x = 1 group happens before anyone in x = 0 fails.
        let time = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let event = vec![true, true, true, true, true, true];
        let cov = one_covariate(vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        let data = CoxData {
            time: &time,
            event: &event,
            covariates: &cov,
            strata: None,
            weights: None,
            cluster: None,
        };
        assert!(matches!(
            fit_cox(&data, CoxOptions::default()),
            Err(StatsError::PerfectSeparation { .. })
        ));
    }
}
