//! Wald inference helpers shared by the regression models.
//!
//! Kept in one place so every model reports z, p and confidence limits the same way
//! (two-sided normal p-values computed from the upper tail, which keeps precision for
//! large |z|).

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// The standard normal distribution.
pub(crate) fn std_normal() -> Normal {
    Normal::standard()
}

/// Two-sided p-value of a standard-normal statistic.
pub fn normal_two_sided_p(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    2.0 * std_normal().cdf(-z.abs())
}

/// Upper quantile `z` with `P(Z > z) = tail`, e.g. 1.959964 for 0.025.
pub fn normal_upper_quantile(tail: f64) -> f64 {
    std_normal().inverse_cdf(1.0 - tail)
}

/// z for a two-sided interval at `level` (e.g. 1.96 for 0.95).
pub fn z_for(level: f64) -> f64 {
    normal_upper_quantile((1.0 - level) / 2.0)
}

/// Standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    // Φ(x) = 1 − P(|Z| > x)/2 for x ≥ 0.
    let tail = normal_two_sided_p(x) / 2.0;
    if x >= 0.0 { 1.0 - tail } else { tail }
}

/// Upper-tail probability of a chi-square statistic with `df` degrees of freedom.
pub fn chi_square_sf(statistic: f64, df: f64) -> f64 {
    match ChiSquared::new(df) {
        Ok(d) => d.sf(statistic.max(0.0)),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn familiar_values() {
        assert!((normal_upper_quantile(0.025) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_two_sided_p(1.959_963_984_540_054) - 0.05).abs() < 1e-11);
        assert!((chi_square_sf(3.841_458_820_694_124, 1.0) - 0.05).abs() < 1e-10);
    }
}
