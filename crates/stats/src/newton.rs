//! One damped Newton–Raphson maximiser for the likelihoods fitted here (logistic
//! regression and the Cox partial likelihood).
//!
//! Both models take the same steps: factor the information matrix (Cholesky), solve for
//! the step, stop when every component of the step is below `tolerance · (1 + |β|)`,
//! otherwise halve the step until the log-likelihood does not go down and every value is
//! finite. Keeping the loop in one place keeps the two fits' convergence rules, and the
//! numbers that R's `glm` and `coxph` reproduce, the same.

use crate::error::StatsError;
use crate::matrix::{SpdFactor, unpack_lower};

/// The log-likelihood with its gradient (score) and information matrix at one β.
pub(crate) struct Point {
    /// Log-likelihood.
    pub loglik: f64,
    /// Gradient of the log-likelihood.
    pub gradient: Vec<f64>,
    /// Packed lower triangle of the information matrix (minus the Hessian).
    pub information: Vec<f64>,
}

impl Point {
    fn is_finite(&self) -> bool {
        self.loglik.is_finite()
            && self.gradient.iter().all(|v| v.is_finite())
            && self.information.iter().all(|v| v.is_finite())
    }
}

/// Iteration controls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Controls {
    /// Maximum Newton iterations.
    pub max_iterations: usize,
    /// Converged when every step component is below `tolerance · (1 + |β|)`.
    pub tolerance: f64,
}

/// Where the iteration stopped.
pub(crate) struct Maximum {
    /// The estimate.
    pub beta: Vec<f64>,
    /// The likelihood there.
    pub at: Point,
    /// The information matrix there, factored (its inverse is the model-based variance).
    pub factor: SpdFactor,
    /// Newton steps taken.
    pub iterations: usize,
    /// Whether the step met the tolerance (otherwise the iteration limit was reached).
    pub converged: bool,
    /// The log-likelihood at the start.
    pub initial_loglik: f64,
    /// The score statistic uᵀ I⁻¹ u at the start.
    pub initial_score: f64,
}

/// Maximises the likelihood `evaluate` from `start`. When the information matrix is not
/// positive definite, `singular(column, iterations)` says why (collinearity at the
/// start; separation or a monotone likelihood later).
pub(crate) fn maximise(
    start: Vec<f64>,
    evaluate: impl Fn(&[f64]) -> Point,
    controls: Controls,
    singular: impl Fn(usize, usize) -> StatsError,
) -> Result<Maximum, StatsError> {
    let k = start.len();
    let mut beta = start;
    let mut current = evaluate(&beta);
    let initial_loglik = current.loglik;
    let mut iterations = 0;
    let mut initial_score = f64::NAN;
    loop {
        let factor = SpdFactor::new(&unpack_lower(&current.information, k), k)
            .map_err(|column| singular(column, iterations))?;
        let delta = factor.solve(&current.gradient);
        if iterations == 0 {
            initial_score = current
                .gradient
                .iter()
                .zip(&delta)
                .map(|(u, d)| u * d)
                .sum();
        }
        let small = delta
            .iter()
            .zip(&beta)
            .all(|(d, b)| d.abs() <= controls.tolerance * (1.0 + b.abs()));
        if small || iterations >= controls.max_iterations {
            return Ok(Maximum {
                beta,
                at: current,
                factor,
                iterations,
                converged: small,
                initial_loglik,
                initial_score,
            });
        }
        iterations += 1;
        // Step halving while the likelihood goes down (or leaves the finite numbers).
        let mut step = 1.0;
        loop {
            let trial: Vec<f64> = beta.iter().zip(&delta).map(|(b, d)| b + step * d).collect();
            let next = evaluate(&trial);
            if next.is_finite() && next.loglik >= current.loglik - 1e-12 * current.loglik.abs()
                || step < 1e-6
            {
                beta = trial;
                current = next;
                break;
            }
            step /= 2.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A concave quadratic with maximum at (1, −2): one Newton step lands on it.
    #[test]
    fn a_quadratic_is_maximised_in_one_step() {
        let evaluate = |b: &[f64]| Point {
            loglik: -((b[0] - 1.0).powi(2) + 2.0 * (b[1] + 2.0).powi(2)),
            gradient: vec![-2.0 * (b[0] - 1.0), -4.0 * (b[1] + 2.0)],
            information: vec![2.0, 0.0, 4.0],
        };
        let m = maximise(
            vec![0.0, 0.0],
            evaluate,
            Controls {
                max_iterations: 20,
                tolerance: 1e-12,
            },
            |c, _| StatsError::Collinear {
                name: c.to_string(),
            },
        )
        .unwrap();
        assert!(m.converged);
        assert_eq!(m.iterations, 1);
        assert!((m.beta[0] - 1.0).abs() < 1e-12 && (m.beta[1] + 2.0).abs() < 1e-12);
        // u'I⁻¹u at 0: 2²/2 + 8²/4 = 18.
        assert!((m.initial_score - 18.0).abs() < 1e-12);
    }

    #[test]
    fn a_singular_information_is_reported_with_its_column() {
        let evaluate = |_: &[f64]| Point {
            loglik: 0.0,
            gradient: vec![0.0, 0.0],
            information: vec![1.0, 1.0, 1.0],
        };
        let e = maximise(
            vec![0.0, 0.0],
            evaluate,
            Controls {
                max_iterations: 5,
                tolerance: 1e-9,
            },
            |c, it| StatsError::Collinear {
                name: format!("{c}@{it}"),
            },
        )
        .err()
        .unwrap();
        assert_eq!(e, StatsError::Collinear { name: "1@0".into() });
    }
}
