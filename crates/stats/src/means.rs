//! Differences in (weighted) means between two arms, with sandwich standard errors:
//! the continuous endpoints of a matched or weighted comparison.

/// The mean and the sample standard deviation (n − 1 denominator) of `values`: NaN
/// for the mean of nothing and for the spread of fewer than two values.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    (mean, sd)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_spread() {
        let (m, sd) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-12);
        assert!((sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(mean_sd(&[]).0.is_nan());
        let (m1, sd1) = mean_sd(&[7.0]);
        assert_eq!(m1, 7.0);
        assert!(sd1.is_nan());
    }

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
}
