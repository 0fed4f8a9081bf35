//! Ordinary least squares with heteroskedasticity-robust (HC1) standard errors, for
//! relating lot quality attributes to outcomes.

use crate::inference::normal_two_sided_p;
use crate::matrix::SpdFactor;

/// One coefficient of a least-squares fit.
#[derive(Debug, Clone, PartialEq)]
pub struct OlsCoefficient {
    /// Column name.
    pub name: String,
    /// Estimate.
    pub coef: f64,
    /// HC1 robust standard error.
    pub se: f64,
    /// Two-sided p-value (normal).
    pub p: f64,
}

/// Ordinary least squares of `y` on an intercept and `columns`, with HC1
/// (heteroskedasticity-robust, n/(n − p)) standard errors; `None` when the design is
/// singular or has no residual degrees of freedom.
pub fn ols(y: &[f64], names: &[String], columns: &[Vec<f64>]) -> Option<Vec<OlsCoefficient>> {
    let n = y.len();
    let p = columns.len() + 1;
    if n <= p {
        return None;
    }
    let x = |i: usize, j: usize| if j == 0 { 1.0 } else { columns[j - 1][i] };
    let mut xtx = vec![0.0; p * p];
    let mut xty = vec![0.0; p];
    for (i, yi) in y.iter().enumerate() {
        for a in 0..p {
            let xa = x(i, a);
            xty[a] += xa * yi;
            for b in 0..p {
                xtx[a * p + b] += xa * x(i, b);
            }
        }
    }
    // X'X is symmetric positive definite unless the design is singular: the Cholesky
    // factor of the model fits gives its inverse, and refuses a singular design.
    let inv = SpdFactor::new(&xtx, p).ok()?.inverse();
    let beta: Vec<f64> = (0..p)
        .map(|a| (0..p).map(|b| inv[a * p + b] * xty[b]).sum())
        .collect();
    let mut meat = vec![0.0; p * p];
    for (i, yi) in y.iter().enumerate() {
        let fitted: f64 = (0..p).map(|j| x(i, j) * beta[j]).sum();
        let e2 = (yi - fitted).powi(2);
        for a in 0..p {
            for b in 0..p {
                meat[a * p + b] += x(i, a) * x(i, b) * e2;
            }
        }
    }
    let adjust = n as f64 / (n - p) as f64;
    let mut out = Vec::with_capacity(p);
    for j in 0..p {
        // (X'X)⁻¹ M (X'X)⁻¹, diagonal element j.
        let mut v = 0.0;
        for a in 0..p {
            for b in 0..p {
                v += inv[j * p + a] * meat[a * p + b] * inv[b * p + j];
            }
        }
        let se = (v * adjust).sqrt();
        out.push(OlsCoefficient {
            name: if j == 0 {
                "(Intercept)".into()
            } else {
                names[j - 1].clone()
            },
            coef: beta[j],
            se,
            p: normal_two_sided_p(beta[j] / se),
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ols_recovers_a_line() {
        let x: Vec<f64> = (0..20).map(f64::from).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| 3.0 + 2.0 * v + if (*v as i32) % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let fit = ols(&y, &["x".into()], &[x]).unwrap();
        assert!((fit[1].coef - 2.0).abs() < 0.01, "{fit:?}");
        assert!((fit[0].coef - 3.0).abs() < 0.2);
        assert!(fit[1].se > 0.0 && fit[1].p < 1e-6);
        assert!(ols(&[1.0, 2.0], &["x".into()], &[vec![1.0, 1.0]]).is_none());
    }
}
