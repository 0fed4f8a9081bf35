//! Maximum-likelihood logistic regression by Newton–Raphson (IRLS).
//!
//! Used directly by `saisei stats logit` and as the propensity-score model for
//! matching and weighting. The fit matches R's `glm(family = binomial)` and
//! statsmodels' `Logit`: same log-likelihood, coefficients and Hessian-based standard
//! errors. Separation, which makes the MLE infinite, is refused with the covariate
//! that causes it rather than reported as a huge, meaningless coefficient.

use crate::covariates::{Covariates, check_binary, check_len};
use crate::error::{Result, StatsError};
use crate::inference::normal_two_sided_p;
use crate::newton::{Controls, Maximum, Point, maximise};

/// Name given to the intercept, as R prints it.
pub const INTERCEPT: &str = "(Intercept)";

/// Iteration controls for [`fit_logistic`].
#[derive(Debug, Clone, Copy)]
pub struct LogisticOptions {
    /// Maximum Newton iterations before giving up.
    pub max_iterations: usize,
    /// Converged when every Newton step is below `tolerance · (1 + |β|)`.
    pub tolerance: f64,
}

impl Default for LogisticOptions {
    fn default() -> Self {
        LogisticOptions {
            max_iterations: 50,
            tolerance: 1e-10,
        }
    }
}

/// One row of a regression table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Coefficient {
    /// Covariate name (`(Intercept)` for the intercept).
    pub name: String,
    /// Estimate on the log-odds (or log-hazard) scale.
    pub coef: f64,
    /// Standard error.
    pub se: f64,
    /// Wald statistic `coef / se`.
    pub z: f64,
    /// Two-sided p-value of `z`.
    pub p: f64,
}

impl Coefficient {
    pub(crate) fn wald(name: &str, coef: f64, se: f64) -> Self {
        let z = coef / se;
        Coefficient {
            name: name.to_owned(),
            coef,
            se,
            z,
            p: normal_two_sided_p(z),
        }
    }
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    /// Number of observations.
    pub n: usize,
    /// Maximised log-likelihood.
    pub loglik: f64,
    /// Whether the Newton iteration met its tolerance.
    pub converged: bool,
    /// Newton iterations used.
    pub iterations: usize,
    /// Intercept first, then the covariates in the order given.
    pub coefficients: Vec<Coefficient>,
    /// Fitted linear predictor (log-odds) per row.
    pub linear_predictor: Vec<f64>,
}

impl LogisticFit {
    /// Fitted probabilities per row.
    pub fn fitted(&self) -> Vec<f64> {
        self.linear_predictor.iter().map(|&e| sigmoid(e)).collect()
    }
}

/// Logistic function, written to stay accurate for large |eta|.
pub(crate) fn sigmoid(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// Sufficient statistics of one Newton step.
struct Step {
    loglik: f64,
    gradient: Vec<f64>,
    /// Packed lower triangle of X'WX.
    hessian: Vec<f64>,
}

fn evaluate(x: &[f64], y: &[f64], k: usize, beta: &[f64]) -> Step {
    let tri = k * (k + 1) / 2;
    // Each block returns [loglik, gradient (k), packed Hessian (tri)].
    let parts = crate::parallel::over_rows(y.len(), |rows| {
        let mut acc = vec![0.0; 1 + k + tri];
        let (ll, rest) = acc.split_at_mut(1);
        let (gradient, hessian) = rest.split_at_mut(k);
        for i in rows {
            let row = &x[i * k..(i + 1) * k];
            let yi = y[i];
            let eta: f64 = row.iter().zip(beta).map(|(a, b)| a * b).sum();
            // One exp per row: e = exp(−|η|) gives both the probability and log(1 + e^η).
            let e = (-eta.abs()).exp();
            let p = if eta >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            let w = p * (1.0 - p);
            ll[0] += yi * eta - (eta.max(0.0) + e.ln_1p());
            let resid = yi - p;
            let mut idx = 0;
            for r in 0..k {
                let xr = row[r];
                gradient[r] += resid * xr;
                let wxr = w * xr;
                for &xc in &row[..=r] {
                    hessian[idx] += wxr * xc;
                    idx += 1;
                }
            }
        }
        acc
    });
    let total = crate::parallel::sum_vectors(parts);
    Step {
        loglik: total[0],
        gradient: total[1..=k].to_vec(),
        hessian: total[1 + k..].to_vec(),
    }
}

/// Names the covariate, if any, that alone separates outcomes 0 and 1.
fn single_covariate_separation(y: &[f64], covariates: &Covariates) -> Option<String> {
    for (name, col) in covariates.names().iter().zip(covariates.columns()) {
        let (mut min1, mut max1, mut min0, mut max0) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for (&v, &yi) in col.iter().zip(y) {
            if yi == 1.0 {
                min1 = min1.min(v);
                max1 = max1.max(v);
            } else {
                min0 = min0.min(v);
                max0 = max0.max(v);
            }
        }
        if max0 <= min1 {
            return Some(format!(
                "covariate '{name}' separates the outcome: every row with {name} > {max0} has outcome 1 and every row with {name} < {min1} has outcome 0"
            ));
        }
        if max1 <= min0 {
            return Some(format!(
                "covariate '{name}' separates the outcome: every row with {name} < {min0} has outcome 1 and every row with {name} > {max1} has outcome 0"
            ));
        }
    }
    None
}

/// Fits `P(y = 1) = logistic(β₀ + Σ βⱼ xⱼ)` by maximum likelihood.
///
/// `outcome` must hold only 0 and 1, with at least one of each; covariates must not be
/// constant, collinear or separating.
pub fn fit_logistic(
    outcome_name: &str,
    outcome: &[f64],
    covariates: &Covariates,
    options: LogisticOptions,
) -> Result<LogisticFit> {
    let n = covariates.rows();
    let p = covariates.len();
    if covariates.is_empty() {
        check_binary(outcome_name, outcome)?;
    } else {
        check_len(outcome_name, outcome, n)?;
        check_binary(outcome_name, outcome)?;
    }
    let n = outcome.len();
    let events = outcome.iter().filter(|&&v| v == 1.0).count();
    if events == 0 {
        return Err(StatsError::NoEvents {
            detail: format!("outcome '{outcome_name}' is 0 in every row"),
        });
    }
    if events == n {
        return Err(StatsError::NoEvents {
            detail: format!("outcome '{outcome_name}' is 1 in every row (no non-events)"),
        });
    }
    covariates.check_not_constant()?;
    if n <= p + 1 {
        return Err(StatsError::TooFew {
            detail: format!("{n} rows for {} coefficients", p + 1),
        });
    }
    if let Some(detail) = single_covariate_separation(outcome, covariates) {
        return Err(StatsError::PerfectSeparation { detail });
    }

    let k = p + 1;
    let x = if covariates.is_empty() {
        vec![1.0; n]
    } else {
        covariates.row_major(true)
    };
    let mut names = Vec::with_capacity(k);
    names.push(INTERCEPT.to_owned());
    names.extend(covariates.names().iter().cloned());

    // Start at the intercept-only estimate, one Newton step closer than β = 0.
    let mut start = vec![0.0; k];
    start[0] = (events as f64 / (n - events) as f64).ln();
    let Maximum {
        beta,
        at: current,
        factor,
        iterations,
        converged,
        ..
    } = maximise(
        start,
        |beta| {
            let s = evaluate(&x, outcome, k, beta);
            Point {
                loglik: s.loglik,
                gradient: s.gradient,
                information: s.hessian,
            }
        },
        Controls {
            max_iterations: options.max_iterations,
            tolerance: options.tolerance,
        },
        // At the start the Hessian is X'WX with every weight positive, so a failure
        // there is collinearity; later it means the weights p(1 − p) collapsed to zero,
        // i.e. separation.
        |i, iterations| {
            if iterations > 0 {
                StatsError::PerfectSeparation {
                    detail: format!(
                        "the outcome is (quasi-)perfectly predicted; the information for '{}' vanished",
                        names[i]
                    ),
                }
            } else if i == 0 {
                StatsError::Collinear {
                    name: names[1.min(k - 1)].clone(),
                }
            } else {
                StatsError::Collinear {
                    name: names[i].clone(),
                }
            }
        },
    )?;

    let linear_predictor: Vec<f64> = x
        .chunks_exact(k)
        .map(|row| row.iter().zip(&beta).map(|(a, b)| a * b).sum())
        .collect();
    if !converged {
        let max_eta = linear_predictor.iter().fold(0.0_f64, |m, e| m.max(e.abs()));
        if max_eta > 25.0 {
            let sds = covariates
                .columns()
                .iter()
                .map(|c| sd(c))
                .collect::<Vec<_>>();
            let culprit = (1..k)
                .max_by(|&a, &b| {
                    (beta[a] * sds[a - 1])
                        .abs()
                        .total_cmp(&(beta[b] * sds[b - 1]).abs())
                })
                .map_or_else(|| INTERCEPT.to_owned(), |i| names[i].clone());
            return Err(StatsError::PerfectSeparation {
                detail: format!(
                    "the outcome is (quasi-)perfectly predicted by a combination of covariates; '{culprit}' has the largest coefficient, which grows without bound"
                ),
            });
        }
        return Err(StatsError::NotConverged {
            model: "logistic",
            iterations,
        });
    }
    let cov = factor.inverse();
    let coefficients = names
        .iter()
        .enumerate()
        .map(|(i, name)| Coefficient::wald(name, beta[i], cov[i * k + i].sqrt()))
        .collect();
    Ok(LogisticFit {
        n,
        loglik: current.loglik,
        converged,
        iterations,
        coefficients,
        linear_predictor,
    })
}

/// Sample standard deviation (n − 1 denominator); 0 for fewer than two values.
pub(crate) fn sd(values: &[f64]) -> f64 {
    match crate::means::mean_sd(values) {
        (_, sd) if sd.is_nan() => 0.0,
        (_, sd) => sd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cov(cols: &[(&str, Vec<f64>)]) -> Covariates {
        Covariates::new(
            cols.iter().map(|(n, _)| n.to_string()).collect(),
            cols.iter().map(|(_, c)| c.clone()).collect(),
        )
        .unwrap()
    }

    #[test]
    fn intercept_only_is_log_odds() {
        let y = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let fit = fit_logistic("y", &y, &Covariates::empty(6), LogisticOptions::default()).unwrap();
        let b0 = fit.coefficients[0].coef;
        assert!((b0 - (4.0f64 / 2.0).ln()).abs() < 1e-10);
        // Var(b0) = 1/(n p (1-p)).
        let se = (1.0f64 / (6.0 * (4.0 / 6.0) * (2.0 / 6.0))).sqrt();
        assert!((fit.coefficients[0].se - se).abs() < 1e-10);
    }

    #[test]
    fn binary_covariate_gives_log_odds_ratio() {
        // 2x2 table: x=0: 3 events of 10; x=1: 6 events of 8.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (xv, events, total) in [(0.0, 3, 10), (1.0, 6, 8)] {
            for i in 0..total {
                x.push(xv);
                y.push(if i < events { 1.0 } else { 0.0 });
            }
        }
        let fit = fit_logistic("y", &y, &cov(&[("x", x)]), LogisticOptions::default()).unwrap();
        let or = (6.0f64 / 2.0) / (3.0 / 7.0);
        assert!((fit.coefficients[1].coef - or.ln()).abs() < 1e-9);
        let se = (1.0 / 6.0 + 1.0 / 2.0 + 1.0 / 3.0 + 1.0 / 7.0f64).sqrt();
        assert!((fit.coefficients[1].se - se).abs() < 1e-9);
        assert!(fit.converged);
    }

    #[test]
    fn separation_is_refused_with_the_covariate_named() {
        let y = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let err =
            fit_logistic("y", &y, &cov(&[("dose", x)]), LogisticOptions::default()).unwrap_err();
        match err {
            StatsError::PerfectSeparation { detail } => assert!(detail.contains("dose")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn combined_separation_is_detected() {
        // Separated by a + b, not by either alone.
        let a = vec![0.0, 1.0, 2.0, 0.0, 3.0, 2.0, 3.0, 1.0];
        let b = vec![0.0, 1.0, 0.0, 2.0, 1.0, 3.0, 0.0, 3.0];
        let y: Vec<f64> = a
            .iter()
            .zip(&b)
            .map(|(x, z)| if x + z > 2.5 { 1.0 } else { 0.0 })
            .collect();
        let err = fit_logistic(
            "y",
            &y,
            &cov(&[("a", a), ("b", b)]),
            LogisticOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, StatsError::PerfectSeparation { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn no_events_and_collinearity_are_refused() {
        let y = [0.0; 5];
        let err = fit_logistic(
            "y",
            &y,
            &cov(&[("x", vec![1.0, 2.0, 3.0, 4.0, 5.0])]),
            LogisticOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, StatsError::NoEvents { .. }));

        let y = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        let x1 = vec![1.0, 2.0, 3.0, 4.0, 5.0, 7.0];
        let x2: Vec<f64> = x1.iter().map(|v| 2.0 * v + 1.0).collect();
        let err = fit_logistic(
            "y",
            &y,
            &cov(&[("x1", x1), ("x2", x2)]),
            LogisticOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err, StatsError::Collinear { name: "x2".into() });
    }

    #[test]
    fn not_binary_outcome_is_refused() {
        let err = fit_logistic(
            "y",
            &[0.0, 2.0, 1.0],
            &cov(&[("x", vec![1.0, 2.0, 3.0])]),
            LogisticOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, StatsError::NotBinary { row: 1, .. }));
    }
}
