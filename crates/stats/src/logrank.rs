//! The k-sample log-rank test, as R's `survdiff` (rho = 0) computes it.
//!
//! Observed minus expected events per group with the hypergeometric covariance; the
//! statistic is the quadratic form on k − 1 groups (any k − 1 give the same value).

use crate::error::{Result, StatsError};
use crate::inference::chi_square_sf;
use crate::matrix::SpdFactor;
use crate::survival::Grouping;

/// Result of a log-rank test.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogRank {
    /// Chi-square statistic.
    pub chisq: f64,
    /// Degrees of freedom (groups − 1).
    pub df: usize,
    /// Upper-tail p-value.
    pub p: f64,
    /// Observed events per group (in label order).
    pub observed: Vec<f64>,
    /// Expected events per group under equal hazards.
    pub expected: Vec<f64>,
    /// Rows per group.
    pub n: Vec<usize>,
}

/// Tests equality of survival across the groups of `group`.
pub fn logrank(time: &[f64], event: &[bool], group: &Grouping) -> Result<LogRank> {
    let n = time.len();
    if event.len() != n || group.codes.len() != n {
        return Err(StatsError::LengthMismatch {
            name: "group".into(),
            got: group.codes.len().min(event.len()),
            expected: n,
        });
    }
    crate::survival::check_times("time", time)?;
    let k = group.len();
    let mut sizes = vec![0usize; k];
    for &g in &group.codes {
        sizes[g as usize] += 1;
    }
    if let Some(empty) = sizes.iter().position(|&s| s == 0) {
        return Err(StatsError::EmptyGroup {
            detail: format!("group '{}' has no rows", group.labels[empty]),
        });
    }
    if k < 2 {
        return Err(StatsError::EmptyGroup {
            detail: format!(
                "the log-rank test needs at least two groups; only '{}' is present",
                group.labels.first().map_or("", String::as_str)
            ),
        });
    }
    if !event.iter().any(|&e| e) {
        return Err(StatsError::NoEvents {
            detail: "no row has an event, so survival cannot be compared".into(),
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| time[a].total_cmp(&time[b]));

    let mut at_risk: Vec<f64> = sizes.iter().map(|&s| s as f64).collect();
    let mut total_at_risk = n as f64;
    let mut observed = vec![0.0; k];
    let mut expected = vec![0.0; k];
    let mut var = vec![0.0; k * k];
    let mut deaths = vec![0.0; k];
    let mut leaving = vec![0.0; k];
    let mut pos = 0;
    while pos < n {
        let t = time[order[pos]];
        deaths.iter_mut().for_each(|v| *v = 0.0);
        leaving.iter_mut().for_each(|v| *v = 0.0);
        while pos < n && time[order[pos]] == t {
            let i = order[pos];
            let g = group.codes[i] as usize;
            if event[i] {
                deaths[g] += 1.0;
            }
            leaving[g] += 1.0;
            pos += 1;
        }
        let d: f64 = deaths.iter().sum();
        if d > 0.0 {
            let nr = total_at_risk;
            let factor = if nr > 1.0 {
                d * (nr - d) / (nr - 1.0)
            } else {
                0.0
            };
            for g in 0..k {
                observed[g] += deaths[g];
                let share = at_risk[g] / nr;
                expected[g] += d * share;
                for h in 0..k {
                    let kron = if g == h { 1.0 } else { 0.0 };
                    var[g * k + h] += factor * share * (kron - at_risk[h] / nr);
                }
            }
        }
        for g in 0..k {
            at_risk[g] -= leaving[g];
        }
        total_at_risk -= leaving.iter().sum::<f64>();
    }
    let m = k - 1;
    let diff: Vec<f64> = (0..m).map(|g| observed[g] - expected[g]).collect();
    let sub: Vec<f64> = (0..m)
        .flat_map(|i| (0..m).map(move |j| (i, j)))
        .map(|(i, j)| var[i * k + j])
        .collect();
    let factor = SpdFactor::new(&sub, m).map_err(|i| StatsError::EmptyGroup {
        detail: format!(
            "group '{}' contributes no information (no one at risk when events occur)",
            group.labels[i]
        ),
    })?;
    let solved = factor.solve(&diff);
    let chisq: f64 = diff.iter().zip(&solved).map(|(a, b)| a * b).sum();
    Ok(LogRank {
        chisq,
        df: m,
        p: chi_square_sf(chisq, m as f64),
        observed,
        expected,
        n: sizes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_groups_hand_computed() {
        // Group A dies at 1, 3; group B at 2, censored at 4.
        let time = [1.0, 3.0, 2.0, 4.0];
        let event = [true, true, true, false];
        let g = Grouping::new(vec!["A".into(), "B".into()], vec![0, 0, 1, 1]).unwrap();
        let r = logrank(&time, &event, &g).unwrap();
        // t=1: n=4 (2,2), d=1: E_A=0.5, V=0.25; t=2: n=3 (1,2), d=1: E_A=1/3, V=2/9;
        // t=3: n=2 (1,1), d=1: E_A=0.5, V=0.25.
        let e = 0.5 + 1.0 / 3.0 + 0.5;
        let v = 0.25 + 2.0 / 9.0 + 0.25;
        assert!((r.expected[0] - e).abs() < 1e-12);
        assert!((r.chisq - (2.0 - e).powi(2) / v).abs() < 1e-12);
        assert_eq!(r.df, 1);
    }

    #[test]
    fn empty_group_is_named() {
        let g = Grouping::new(vec!["A".into(), "B".into()], vec![0, 0]).unwrap();
        let err = logrank(&[1.0, 2.0], &[true, true], &g).unwrap_err();
        assert!(matches!(err, StatsError::EmptyGroup { ref detail } if detail.contains("'B'")));
    }
}
