//! Property tests: row order is irrelevant, covariate scale only rescales its
//! coefficient, and the Cox score test with one binary covariate (no ties) is the
//! log-rank statistic.

use proptest::prelude::*;
use saisei_stats::Covariates;
use saisei_stats::cox::{CoxData, CoxOptions, fit_cox};
use saisei_stats::logistic::{LogisticOptions, fit_logistic};
use saisei_stats::logrank::logrank;
use saisei_stats::survival::Grouping;

/// One generated row: (x1, x2, binary outcome, time, event).
type Row = (f64, f64, f64, f64, bool);

/// Cox coefficients with SEs, the log-likelihood and the concordance.
type CoxSummary = (Vec<(f64, f64)>, f64, f64);

fn close(a: f64, b: f64, tol: f64) -> bool {
    within(a, b, tol, 1e-8)
}

/// Relative closeness with a floor on the scale, for estimates near zero (use the SE).
fn within(a: f64, b: f64, tol: f64, floor: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(floor)
}

/// Rows of (x1, x2, outcome, time, event), with both outcomes and events present.
fn dataset() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            -3.0f64..3.0,
            0.0f64..10.0,
            any::<bool>(),
            0.1f64..100.0,
            prop::bool::weighted(0.7),
        ),
        25..60,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .map(|(a, b, y, t, e)| (a, b, if y { 1.0 } else { 0.0 }, t.round(), e))
            .collect::<Vec<_>>()
    })
    .prop_filter("both outcomes and some events", |rows| {
        rows.iter().any(|r| r.2 == 1.0)
            && rows.iter().any(|r| r.2 == 0.0)
            && rows.iter().any(|r| r.4)
    })
}

fn covariates(rows: &[Row], scale: f64) -> Covariates {
    Covariates::new(
        vec!["x1".into(), "x2".into()],
        vec![
            rows.iter().map(|r| r.0 * scale).collect(),
            rows.iter().map(|r| r.1).collect(),
        ],
    )
    .unwrap()
}

fn logit_coefs(rows: &[Row], scale: f64) -> Option<Vec<(f64, f64)>> {
    let y: Vec<f64> = rows.iter().map(|r| r.2).collect();
    fit_logistic(
        "y",
        &y,
        &covariates(rows, scale),
        LogisticOptions::default(),
    )
    .ok()
    .map(|f| f.coefficients.iter().map(|c| (c.coef, c.se)).collect())
}

fn cox_coefs(rows: &[Row], scale: f64) -> Option<CoxSummary> {
    let time: Vec<f64> = rows.iter().map(|r| r.3).collect();
    let event: Vec<bool> = rows.iter().map(|r| r.4).collect();
    let x = covariates(rows, scale);
    fit_cox(
        &CoxData {
            time: &time,
            event: &event,
            covariates: &x,
            strata: None,
            weights: None,
            cluster: None,
        },
        CoxOptions::default(),
    )
    .ok()
    .map(|f| {
        (
            f.coefficients.iter().map(|c| (c.coef, c.se)).collect(),
            f.loglik,
            f.concordance,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn permuting_rows_changes_nothing(
        (rows, shuffled) in dataset().prop_flat_map(|rows| {
            let shuffled = Just(rows.clone()).prop_shuffle();
            (Just(rows), shuffled)
        })
    ) {
        if let (Some(a), Some(b)) = (logit_coefs(&rows, 1.0), logit_coefs(&shuffled, 1.0)) {
            for (x, y) in a.iter().zip(&b) {
                prop_assert!(within(x.0, y.0, 1e-8, x.1) && close(x.1, y.1, 1e-8), "logit {x:?} vs {y:?}");
            }
        }
        if let (Some(a), Some(b)) = (cox_coefs(&rows, 1.0), cox_coefs(&shuffled, 1.0)) {
            prop_assert!(close(a.1, b.1, 1e-10), "cox loglik {} vs {}", a.1, b.1);
            prop_assert!(close(a.2, b.2, 1e-12), "concordance {} vs {}", a.2, b.2);
            for (x, y) in a.0.iter().zip(&b.0) {
                prop_assert!(within(x.0, y.0, 1e-8, x.1) && close(x.1, y.1, 1e-8), "cox {x:?} vs {y:?}");
            }
        }
    }

    #[test]
    fn scaling_a_covariate_scales_its_coefficient_inversely(
        rows in dataset(),
        scale in prop_oneof![0.01f64..0.5, 2.0f64..100.0],
    ) {
        if let (Some(a), Some(b)) = (logit_coefs(&rows, 1.0), logit_coefs(&rows, scale)) {
            // Intercept and x2 unchanged; x1's coefficient and SE divided by the scale.
            prop_assert!(within(a[0].0, b[0].0, 1e-7, a[0].1));
            prop_assert!(within(a[1].0 / scale, b[1].0, 1e-7, b[1].1), "{} vs {}", a[1].0 / scale, b[1].0);
            prop_assert!(close(a[1].1 / scale, b[1].1, 1e-7));
            prop_assert!(within(a[2].0, b[2].0, 1e-7, a[2].1));
        }
        if let (Some(a), Some(b)) = (cox_coefs(&rows, 1.0), cox_coefs(&rows, scale)) {
            prop_assert!(within(a.0[0].0 / scale, b.0[0].0, 1e-7, b.0[0].1), "{} vs {}", a.0[0].0 / scale, b.0[0].0);
            prop_assert!(close(a.0[0].1 / scale, b.0[0].1, 1e-7));
            prop_assert!(within(a.0[1].0, b.0[1].0, 1e-7, a.0[1].1));
            prop_assert!(close(a.1, b.1, 1e-9));
        }
    }

    #[test]
    fn cox_score_test_equals_logrank_without_ties(
        rows in prop::collection::vec((any::<bool>(), prop::bool::weighted(0.7)), 10..80),
        seed in any::<u64>(),
    ) {
        let n = rows.len();
        prop_assume!(rows.iter().any(|r| r.0) && rows.iter().any(|r| !r.0));
        prop_assume!(rows.iter().any(|r| r.1));
        // Distinct times: a seeded permutation of 1..=n.
        let mut time: Vec<f64> = (1..=n).map(|i| i as f64).collect();
        let mut state = seed | 1;
        for i in (1..n).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            time.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let group: Vec<f64> = rows.iter().map(|r| if r.0 { 1.0 } else { 0.0 }).collect();
        let event: Vec<bool> = rows.iter().map(|r| r.1).collect();
        let x = Covariates::new(vec!["g".into()], vec![group.clone()]).unwrap();
        let cox = fit_cox(
            &CoxData { time: &time, event: &event, covariates: &x, strata: None, weights: None, cluster: None },
            CoxOptions::default(),
        );
        let lr = logrank(&time, &event, &Grouping::from_values(&group)).unwrap();
        // The score test exists even when the MLE does not (monotone likelihood).
        if let Ok(fit) = cox {
            prop_assert!(close(fit.score_test, lr.chisq, 1e-9), "score {} vs log-rank {}", fit.score_test, lr.chisq);
        }
    }
}
