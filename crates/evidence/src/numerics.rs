//! Numerics the evaluation needs that `saisei-stats` does not offer (yet): weighted
//! differences in means with sandwich standard errors, ordinary least squares with
//! heteroskedasticity-robust errors, a weighted Kaplan–Meier estimate for plotting,
//! Benjamini–Hochberg q-values, Lan–DeMets α spending and the sample size for two
//! means. Each is small and tested against a hand-computed answer; they belong in the
//! stats crate eventually.

use saisei_domain::evaluation::SpendingFunction;
use saisei_stats::inference::{normal_two_sided_p, normal_upper_quantile};

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

/// A difference with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// Treated minus control.
    pub diff: f64,
    /// Standard error.
    pub se: f64,
    /// Weighted mean among treated.
    pub mean_treated: f64,
    /// Weighted mean among controls.
    pub mean_control: f64,
}

/// Difference of weighted (Hájek) means, treated minus control, with a sandwich
/// standard error from the influence functions, summed within `clusters` when given
/// (matched sets), with the small-sample factor G/(G − 1). Rows with weight 0 are
/// ignored. `None` when an arm has no weight.
pub fn weighted_difference(
    y: &[f64],
    treated: &[bool],
    w: &[f64],
    clusters: Option<&[u32]>,
) -> Option<Difference> {
    let (mut st, mut wt, mut sc, mut wc) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..y.len() {
        if w[i] <= 0.0 {
            continue;
        }
        if treated[i] {
            st += w[i] * y[i];
            wt += w[i];
        } else {
            sc += w[i] * y[i];
            wc += w[i];
        }
    }
    if wt <= 0.0 || wc <= 0.0 {
        return None;
    }
    let (mt, mc) = (st / wt, sc / wc);
    let mut by_cluster: std::collections::HashMap<u64, f64> = std::collections::HashMap::new();
    for i in 0..y.len() {
        if w[i] <= 0.0 {
            continue;
        }
        let inf = if treated[i] {
            w[i] * (y[i] - mt) / wt
        } else {
            -w[i] * (y[i] - mc) / wc
        };
        let key = match clusters {
            Some(c) => u64::from(c[i]),
            None => i as u64 + (1 << 40),
        };
        *by_cluster.entry(key).or_default() += inf;
    }
    let g = by_cluster.len() as f64;
    let meat: f64 = by_cluster.values().map(|v| v * v).sum();
    let factor = if g > 1.0 { g / (g - 1.0) } else { f64::NAN };
    Some(Difference {
        diff: mt - mc,
        se: (meat * factor).sqrt(),
        mean_treated: mt,
        mean_control: mc,
    })
}

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

/// Solves the symmetric system `a x = b` (row-major `p×p`) by Gauss–Jordan elimination
/// with partial pivoting, returning the inverse of `a`; `None` when singular.
fn invert(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; p * p];
    for i in 0..p {
        inv[i * p + i] = 1.0;
    }
    for col in 0..p {
        let pivot =
            (col..p).max_by(|&r, &s| m[r * p + col].abs().total_cmp(&m[s * p + col].abs()))?;
        let scale = m.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1.0);
        if m[pivot * p + col].abs() < 1e-12 * scale {
            return None;
        }
        if pivot != col {
            for k in 0..p {
                m.swap(pivot * p + k, col * p + k);
                inv.swap(pivot * p + k, col * p + k);
            }
        }
        let d = m[col * p + col];
        for k in 0..p {
            m[col * p + k] /= d;
            inv[col * p + k] /= d;
        }
        for r in 0..p {
            if r != col {
                let f = m[r * p + col];
                if f != 0.0 {
                    for k in 0..p {
                        m[r * p + k] -= f * m[col * p + k];
                        inv[r * p + k] -= f * inv[col * p + k];
                    }
                }
            }
        }
    }
    Some(inv)
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
    let inv = invert(&xtx, p)?;
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

/// A weighted Kaplan–Meier curve as (time, survival) steps starting at (0, 1): at each
/// event time S ← S·(1 − d_w/n_w) with weighted events and weighted numbers at risk.
/// Used to draw adjusted curves; inference uses the Cox model.
pub fn weighted_km(time: &[f64], event: &[bool], w: &[f64]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..time.len()).filter(|&i| w[i] > 0.0).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let mut at_risk: f64 = order.iter().map(|&i| w[i]).sum();
    let mut s = 1.0;
    let mut out = vec![(0.0, 1.0)];
    let mut k = 0;
    while k < order.len() {
        let t = time[order[k]];
        let (mut d, mut leaving) = (0.0, 0.0);
        while k < order.len() && time[order[k]] == t {
            let i = order[k];
            if event[i] {
                d += w[i];
            }
            leaving += w[i];
            k += 1;
        }
        if d > 0.0 && at_risk > 0.0 {
            s *= 1.0 - d / at_risk;
            out.push((t, s));
        }
        at_risk -= leaving;
    }
    out
}

/// Benjamini–Hochberg q-values (adjusted p-values), in input order; NaN stays NaN and
/// does not count towards the number of tests.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_finite()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = idx.len() as f64;
    let mut q = vec![f64::NAN; p.len()];
    let mut running = 1.0f64;
    for (rank, &i) in idx.iter().enumerate().rev() {
        let v = (p[i] * m / (rank as f64 + 1.0)).min(1.0);
        running = running.min(v);
        q[i] = running;
    }
    q
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

/// Persons per arm to detect a difference in means with a two-sided z-test:
/// n_control = (z_{α/2} + z_β)² σ² (1 + 1/r)/δ², n_treated = r·n_control.
pub fn two_means(difference: f64, sd: f64, alpha: f64, power: f64, allocation: f64) -> (u64, u64) {
    let z = normal_upper_quantile(alpha / 2.0) + normal_upper_quantile(1.0 - power);
    let n_control = z * z * sd * sd * (1.0 + 1.0 / allocation) / (difference * difference);
    let up = |v: f64| (v - 1e-9).ceil().max(1.0) as u64;
    (up(allocation * n_control), up(n_control))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_difference_matches_hand_computation() {
        // Unweighted: means 2 and 0.5; influence functions give
        // var = Σ((y−m)/n)² · G/(G−1) over the 6 rows.
        let y = [1.0, 2.0, 3.0, 0.0, 1.0, 0.5];
        let t = [true, true, true, false, false, false];
        let d = weighted_difference(&y, &t, &[1.0; 6], None).unwrap();
        assert!((d.diff - 1.5).abs() < 1e-12);
        let meat: f64 = (1.0 + 0.0 + 1.0) / 9.0 + (0.25 + 0.25 + 0.0) / 9.0;
        assert!((d.se - (meat * 6.0 / 5.0).sqrt()).abs() < 1e-12);
        // Weight 0 removes a row.
        let d0 = weighted_difference(&y, &t, &[1.0, 1.0, 0.0, 1.0, 1.0, 1.0], None).unwrap();
        assert!((d0.mean_treated - 1.5).abs() < 1e-12);
        assert!(weighted_difference(&y, &t, &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0], None).is_none());
    }

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

    #[test]
    fn weighted_km_equals_kaplan_meier_with_unit_weights() {
        let time = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0];
        let event = [true, true, false, true, false, true];
        let km = weighted_km(&time, &event, &[1.0; 6]);
        let reference =
            saisei_stats::km::kaplan_meier(&time, &event, saisei_stats::km::ConfType::Log).unwrap();
        let steps: Vec<(f64, f64)> = reference
            .steps
            .iter()
            .filter(|s| s.n_event > 0)
            .map(|s| (s.time, s.surv))
            .collect();
        assert_eq!(km.len(), steps.len() + 1);
        for (a, b) in km[1..].iter().zip(&steps) {
            assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12);
        }
    }

    #[test]
    fn bh_q_values() {
        // p = (0.01, 0.04, 0.03, 0.5): sorted 0.01, 0.03, 0.04, 0.5 → 0.04, 0.0533, 0.0533, 0.5.
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.5]);
        let want = [0.04, 0.04 * 4.0 / 3.0, 0.04 * 4.0 / 3.0, 0.5];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert!(benjamini_hochberg(&[f64::NAN, 0.2])[0].is_nan());
    }

    #[test]
    fn spending_and_two_means() {
        // O'Brien–Fleming-type spending at t = 0.5, α = 0.05: 2(1 − Φ(2.7718)) = 0.0055746.
        let a = alpha_spent(SpendingFunction::OBrienFleming, 0.05, 0.5);
        assert!((a - 0.005_574_6).abs() < 1e-6, "{a}");
        assert!((alpha_spent(SpendingFunction::Pocock, 0.05, 1.0) - 0.05).abs() < 1e-12);
        let p = alpha_spent(SpendingFunction::Pocock, 0.05, 0.5);
        assert!((p - 0.05 * (1.0 + (std::f64::consts::E - 1.0) * 0.5).ln()).abs() < 1e-12);
        // δ = 0.5σ, α = 0.05, power 0.8, 1:1: n = 2·(1.96 + 0.8416)²/0.25 = 62.8 → 63 per arm.
        assert_eq!(two_means(5.0, 10.0, 0.05, 0.8, 1.0), (63, 63));
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-9);
    }
}
