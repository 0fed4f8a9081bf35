//! Group-sequential designs: how much of the two-sided α an interim look may spend
//! (Lan–DeMets spending functions).

use crate::inference::{normal_cdf, z_for};

/// A Lan–DeMets α-spending function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendingFunction {
    /// O'Brien–Fleming-type: little α early.
    OBrienFleming,
    /// Pocock-type: α spread evenly.
    Pocock,
}

/// Cumulative two-sided α spent at information fraction `t` (Lan–DeMets).
pub fn alpha_spent(f: SpendingFunction, alpha: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    if t >= 1.0 {
        return alpha;
    }
    match f {
        SpendingFunction::OBrienFleming => 2.0 * (1.0 - normal_cdf(z_for(1.0 - alpha) / t.sqrt())),
        SpendingFunction::Pocock => alpha * (1.0 + (std::f64::consts::E - 1.0) * t).ln(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending() {
        // O'Brien–Fleming-type spending at t = 0.5, α = 0.05: 2(1 − Φ(2.7718)) = 0.0055746.
        let a = alpha_spent(SpendingFunction::OBrienFleming, 0.05, 0.5);
        assert!((a - 0.005_574_6).abs() < 1e-6, "{a}");
        assert!((alpha_spent(SpendingFunction::Pocock, 0.05, 1.0) - 0.05).abs() < 1e-12);
        let p = alpha_spent(SpendingFunction::Pocock, 0.05, 0.5);
        assert!((p - 0.05 * (1.0 + (std::f64::consts::E - 1.0) * 0.5).ln()).abs() < 1e-12);
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-9);
    }
}
