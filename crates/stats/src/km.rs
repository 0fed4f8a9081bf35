//! Kaplan–Meier survival curves with Greenwood variance, as R's `survfit` computes them.
//!
//! Confidence limits follow `survfit`'s `conf.type` (log by default, log-log, plain);
//! `se` is the standard error of S(t) as `summary.survfit` prints it; medians and their
//! limits follow `quantile.survfit` (a curve that is flat at exactly 0.5 gives the
//! midpoint of the flat stretch; a curve that never reaches 0.5 gives no median).

use crate::error::{Result, StatsError};
use crate::inference::normal_upper_quantile;

/// Scale on which the pointwise confidence interval is symmetric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfType {
    /// log S(t) (R's default).
    #[default]
    Log,
    /// log(−log S(t)).
    LogLog,
    /// S(t) itself, clipped to [0, 1].
    Plain,
}

/// The curve at one distinct observed time.
#[derive(Debug, Clone, PartialEq)]
pub struct KmStep {
    /// The time.
    pub time: f64,
    /// Number at risk just before `time`.
    pub n_risk: usize,
    /// Events at `time`.
    pub n_event: usize,
    /// Censored at `time`.
    pub n_censor: usize,
    /// S(t).
    pub surv: f64,
    /// Greenwood standard error of −log S(t) (R's `std.err` in the survfit object).
    pub std_err_log: f64,
    /// Lower confidence limit (None where R gives NA).
    pub lower: Option<f64>,
    /// Upper confidence limit (None where R gives NA).
    pub upper: Option<f64>,
}

/// One row of a summary: the curve read off at a time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KmRow {
    /// The time asked for (or the event time).
    pub time: f64,
    /// Number at risk at `time`.
    pub n_risk: usize,
    /// S(time).
    pub surv: f64,
    /// Standard error of S(time) (None where it is undefined, e.g. S = 0).
    pub se: Option<f64>,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

/// A Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KmCurve {
    /// Rows in the curve.
    pub n: usize,
    /// Total events.
    pub events: usize,
    /// One step per distinct observed time (events and censorings).
    pub steps: Vec<KmStep>,
    /// Median survival time (None when not reached).
    pub median: Option<f64>,
    /// Lower confidence limit of the median.
    pub median_lower: Option<f64>,
    /// Upper confidence limit of the median.
    pub median_upper: Option<f64>,
}

/// Confidence limits on S as R's `survfit_confint` computes them (95 %).
fn confidence_limits(surv: f64, se_log: f64, conf: ConfType) -> (Option<f64>, Option<f64>) {
    let z = normal_upper_quantile(0.025);
    let finite = |v: f64| if v.is_finite() { Some(v) } else { None };
    match conf {
        ConfType::Plain => {
            if surv == 0.0 || !se_log.is_finite() {
                return (None, None);
            }
            let half = se_log * surv * z;
            (
                finite((surv - half).max(0.0)),
                finite((surv + half).min(1.0)),
            )
        }
        ConfType::Log => {
            if surv == 0.0 {
                return (None, None);
            }
            let half = z * se_log;
            (
                finite((surv.ln() - half).exp()),
                finite((surv.ln() + half).exp().min(1.0)),
            )
        }
        ConfType::LogLog => {
            if surv == 0.0 || surv == 1.0 {
                return (None, None);
            }
            let half = z * se_log / surv.ln();
            let ll = (-surv.ln()).ln();
            (
                finite((-(ll - half).exp()).exp()),
                finite((-(ll + half).exp()).exp()),
            )
        }
    }
}

/// Fits a Kaplan–Meier curve to right-censored data.
pub fn kaplan_meier(time: &[f64], event: &[bool], conf: ConfType) -> Result<KmCurve> {
    if time.len() != event.len() {
        return Err(StatsError::LengthMismatch {
            name: "event".into(),
            got: event.len(),
            expected: time.len(),
        });
    }
    if time.is_empty() {
        return Err(StatsError::EmptyGroup {
            detail: "no rows to estimate a survival curve from".into(),
        });
    }
    crate::survival::check_times("time", time)?;
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_unstable_by(|&a, &b| time[a].total_cmp(&time[b]));
    let n = time.len();
    let mut steps = Vec::new();
    let mut at_risk = n;
    let mut surv = 1.0;
    let mut greenwood = 0.0;
    let mut pos = 0;
    while pos < n {
        let t = time[order[pos]];
        let (mut d, mut c) = (0usize, 0usize);
        while pos < n && time[order[pos]] == t {
            if event[order[pos]] {
                d += 1;
            } else {
                c += 1;
            }
            pos += 1;
        }
        if d > 0 {
            let (nr, dd) = (at_risk as f64, d as f64);
            surv *= (nr - dd) / nr;
            greenwood += if d == at_risk {
                f64::INFINITY
            } else {
                dd / (nr * (nr - dd))
            };
        }
        let std_err_log = greenwood.sqrt();
        let (lower, upper) = confidence_limits(surv, std_err_log, conf);
        steps.push(KmStep {
            time: t,
            n_risk: at_risk,
            n_event: d,
            n_censor: c,
            surv,
            std_err_log,
            lower,
            upper,
        });
        at_risk -= d + c;
    }
    let events = event.iter().filter(|&&e| e).count();
    let times: Vec<f64> = steps.iter().map(|s| s.time).collect();
    let curve =
        |f: &dyn Fn(&KmStep) -> Option<f64>| -> Vec<Option<f64>> { steps.iter().map(f).collect() };
    let median = find_quantile(&times, &curve(&|s| Some(s.surv)), 0.5);
    let median_lower = find_quantile(&times, &curve(&|s| s.lower), 0.5);
    let median_upper = find_quantile(&times, &curve(&|s| s.upper), 0.5);
    Ok(KmCurve {
        n,
        events,
        steps,
        median,
        median_lower,
        median_upper,
    })
}

/// R's `findq`: the time at which `1 − curve` first reaches `prob`, with the midpoint
/// rule for a curve that is flat at exactly `prob`.
fn find_quantile(times: &[f64], curve: &[Option<f64>], prob: f64) -> Option<f64> {
    let tol = f64::EPSILON.sqrt();
    // x = (0, times), y = (0, 1 − curve); NA stays NA.
    let mut x = Vec::with_capacity(times.len() + 1);
    let mut y: Vec<Option<f64>> = Vec::with_capacity(times.len() + 1);
    x.push(0.0);
    y.push(Some(0.0));
    for (t, s) in times.iter().zip(curve) {
        x.push(*t);
        y.push(s.map(|v| 1.0 - v));
    }
    let max_y = y.iter().flatten().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    if max_y < prob {
        return None;
    }
    let xmax = *x.last()?;
    // Drop duplicated y values (first occurrence kept), as R's duplicated().
    let mut kept_x = Vec::new();
    let mut kept_y: Vec<Option<f64>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut seen_na = false;
    for (xi, yi) in x.into_iter().zip(y) {
        let fresh = match yi {
            // +0.0 and −0.0 are equal in R; normalise before hashing the bits.
            Some(v) => seen.insert((v + 0.0).to_bits()),
            None => !std::mem::replace(&mut seen_na, true),
        };
        if fresh {
            kept_x.push(xi);
            kept_y.push(yi);
        }
    }
    // approx(y ± tol, 1:n, prob, "constant", f = 1) over the non-NA points.
    let index = |shift: f64| -> Option<usize> {
        let pts: Vec<(usize, f64)> = kept_y
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v + shift)))
            .collect();
        let first = pts.first()?.1;
        let last = pts.last()?.1;
        if prob < first || prob > last {
            return None;
        }
        pts.iter().find(|(_, v)| *v >= prob).map(|(i, _)| *i)
    };
    let i1 = index(tol);
    let i2 = index(-tol);
    let mut quant = match (i1, i2) {
        (Some(a), Some(b)) => Some((kept_x[a] + kept_x[b]) / 2.0),
        _ => None,
    };
    if let (Some(Some(last)), Some(a)) = (kept_y.last(), i1)
        && (prob - last).abs() < tol
    {
        quant = Some((kept_x[a] + xmax) / 2.0);
    }
    quant
}

impl KmCurve {
    /// The curve at every event time (R's `summary(fit)`).
    pub fn at_event_times(&self) -> Vec<KmRow> {
        self.steps
            .iter()
            .filter(|s| s.n_event > 0)
            .map(|s| KmRow {
                time: s.time,
                n_risk: s.n_risk,
                surv: s.surv,
                se: se_of_surv(s.surv, s.std_err_log),
                lower: s.lower,
                upper: s.upper,
            })
            .collect()
    }

    /// The curve read at the given times (R's `summary(fit, times = …)`): times are
    /// sorted, and times after the last observation are dropped as R does.
    pub fn at_times(&self, times: &[f64]) -> Vec<KmRow> {
        let mut wanted: Vec<f64> = times.to_vec();
        wanted.sort_by(f64::total_cmp);
        wanted.dedup();
        let last = self.steps.last().map_or(f64::NEG_INFINITY, |s| s.time);
        wanted
            .into_iter()
            .filter(|&t| t <= last)
            .map(|t| {
                let idx = self.steps.partition_point(|s| s.time <= t);
                // At risk at t: rows with time ≥ t, i.e. those at risk at the first
                // observed time not before t.
                let n_risk = self
                    .steps
                    .get(self.steps.partition_point(|s| s.time < t))
                    .map_or(0, |s| s.n_risk);
                if idx == 0 {
                    KmRow {
                        time: t,
                        n_risk: self.n,
                        surv: 1.0,
                        se: Some(0.0),
                        // Before the first observed time R reports the limits as 1
                        // whatever the interval type.
                        lower: Some(1.0),
                        upper: Some(1.0),
                    }
                } else {
                    let s = &self.steps[idx - 1];
                    KmRow {
                        time: t,
                        n_risk,
                        surv: s.surv,
                        se: se_of_surv(s.surv, s.std_err_log),
                        lower: s.lower,
                        upper: s.upper,
                    }
                }
            })
            .collect()
    }
}

fn se_of_surv(surv: f64, se_log: f64) -> Option<f64> {
    let v = surv * se_log;
    if v.is_finite() { Some(v) } else { None }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-7
    }

    // Values from R 4.2 / survival 3.5-3:
    // survfit(Surv(c(1,2,2,3,4,5), c(1,1,0,1,0,1)) ~ 1)
    #[test]
    fn matches_survfit_on_a_small_example() {
        let time = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0];
        let event = [true, true, false, true, false, true];
        let km = kaplan_meier(&time, &event, ConfType::Log).unwrap();
        let surv: Vec<f64> = km.steps.iter().map(|s| s.surv).collect();
        let expect = [0.8333333333, 0.6666666667, 0.4444444444, 0.4444444444, 0.0];
        for (a, b) in surv.iter().zip(expect) {
            assert!(close(*a, b));
        }
        assert!(close(km.steps[2].std_err_log, 0.5));
        assert!(close(km.steps[2].lower.unwrap(), 0.1668079));
        assert_eq!(km.steps[4].lower, None);
        assert_eq!(km.median, Some(3.0));
        assert_eq!(km.median_lower, Some(2.0));
        assert_eq!(km.median_upper, None);

        let rows = km.at_times(&[0.0, 0.5, 2.0, 2.5, 4.5, 5.0, 6.0]);
        let n_risk: Vec<usize> = rows.iter().map(|r| r.n_risk).collect();
        assert_eq!(n_risk, vec![6, 6, 5, 3, 1, 1]);
        assert!(close(rows[3].se.unwrap(), 0.1924501));
        assert_eq!(rows[5].se, None);
    }

    #[test]
    fn median_on_a_flat_half_is_the_midpoint() {
        let km = kaplan_meier(&[1.0, 2.0, 3.0, 4.0], &[true; 4], ConfType::Log).unwrap();
        assert_eq!(km.median, Some(2.5));
        assert_eq!(km.median_lower, Some(1.0));
        assert_eq!(km.median_upper, None);
    }

    #[test]
    fn log_log_limits() {
        let km = kaplan_meier(
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[true, true, false, false, false],
            ConfType::LogLog,
        )
        .unwrap();
        let r = &km.at_event_times()[0];
        assert!((r.lower.unwrap() - 0.2038).abs() < 1e-3);
        assert!((r.upper.unwrap() - 0.9692).abs() < 1e-3);
        assert_eq!(km.median, None);
    }

    #[test]
    fn weighted_km_equals_kaplan_meier_with_unit_weights() {
        let time = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0];
        let event = [true, true, false, true, false, true];
        let km = weighted_km(&time, &event, &[1.0; 6]);
        let reference = kaplan_meier(&time, &event, ConfType::Log).unwrap();
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
}
