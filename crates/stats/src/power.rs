//! Sample size and power for the designs a post-marketing evaluation plan has to
//! justify: events for a survival comparison (Schoenfeld or Freedman), persons per arm
//! for two proportions, and an exact single-arm binomial design against a
//! pre-specified threshold.
//!
//! `allocation` is always the size of the experimental arm relative to the control
//! arm (2 means 2:1). Figures are rounded up, as every published table does.

use statrs::distribution::{Binomial, DiscreteCDF};

use crate::error::{Result, StatsError};
use crate::inference::normal_upper_quantile;

/// Sidedness of a test's α.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sides {
    /// α split over both tails (z_{1−α/2}).
    Two,
    /// α in one tail (z_{1−α}).
    One,
}

/// Method for the number of events in a survival comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventsMethod {
    /// Schoenfeld (1981): D = (z_α + z_β)² / (π(1 − π) log² HR).
    Schoenfeld,
    /// Freedman (1982): D = (z_α + z_β)² (1 + r·HR)² / (r (1 − HR)²).
    Freedman,
}

fn check_probability(name: &str, v: f64) -> Result<()> {
    if v > 0.0 && v < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidArgument(format!(
            "{name} must be strictly between 0 and 1, got {v}"
        )))
    }
}

fn z_alpha(alpha: f64, sides: Sides) -> Result<f64> {
    check_probability("alpha", alpha)?;
    Ok(match sides {
        Sides::Two => normal_upper_quantile(alpha / 2.0),
        Sides::One => normal_upper_quantile(alpha),
    })
}

fn check_allocation(allocation: f64) -> Result<()> {
    if allocation.is_finite() && allocation > 0.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidArgument(format!(
            "allocation must be a positive ratio, got {allocation}"
        )))
    }
}

/// Required number of events.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventsRequirement {
    /// Events needed (rounded up).
    pub events: u64,
    /// The unrounded figure.
    pub events_exact: f64,
    /// Method used.
    pub method: EventsMethod,
}

/// Events needed to detect hazard ratio `hr` with the given α, power and allocation.
pub fn survival_events(
    hr: f64,
    alpha: f64,
    power: f64,
    allocation: f64,
    sides: Sides,
    method: EventsMethod,
) -> Result<EventsRequirement> {
    if !(hr.is_finite() && hr > 0.0 && hr != 1.0) {
        return Err(StatsError::InvalidArgument(format!(
            "hazard ratio must be positive and different from 1, got {hr}"
        )));
    }
    check_probability("power", power)?;
    check_allocation(allocation)?;
    let z = z_alpha(alpha, sides)? + normal_upper_quantile(1.0 - power);
    let exact = match method {
        EventsMethod::Schoenfeld => {
            let share = allocation / (1.0 + allocation);
            z * z / (share * (1.0 - share) * hr.ln().powi(2))
        }
        EventsMethod::Freedman => {
            z * z * (1.0 + allocation * hr).powi(2) / (allocation * (1.0 - hr).powi(2))
        }
    };
    Ok(EventsRequirement {
        events: round_up(exact),
        events_exact: exact,
        method,
    })
}

/// Rounds up, ignoring floating-point dust just above an integer.
fn round_up(v: f64) -> u64 {
    (v - 1e-9).ceil().max(1.0) as u64
}

/// Persons per arm for comparing two proportions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProportionsRequirement {
    /// Experimental arm (p1).
    pub n1: u64,
    /// Control arm (p2).
    pub n2: u64,
    /// n1 + n2.
    pub total: u64,
    /// Unrounded control-arm size.
    pub n2_exact: f64,
}

/// Sample size for a two-sample test of proportions (pooled-variance z-test; with
/// equal allocation this is R's `power.prop.test`).
pub fn two_proportions(
    p1: f64,
    p2: f64,
    alpha: f64,
    power: f64,
    allocation: f64,
    sides: Sides,
) -> Result<ProportionsRequirement> {
    check_probability("p1", p1)?;
    check_probability("p2", p2)?;
    check_probability("power", power)?;
    check_allocation(allocation)?;
    if p1 == p2 {
        return Err(StatsError::InvalidArgument(
            "p1 and p2 are equal; there is no difference to detect".into(),
        ));
    }
    let za = z_alpha(alpha, sides)?;
    let zb = normal_upper_quantile(1.0 - power);
    // n1 = r · n2.
    let r = allocation;
    let pbar = (r * p1 + p2) / (1.0 + r);
    let qbar = 1.0 - pbar;
    let a = za * (pbar * qbar * (1.0 + 1.0 / r)).sqrt();
    let b = zb * (p1 * (1.0 - p1) / r + p2 * (1.0 - p2)).sqrt();
    let n2 = (a + b).powi(2) / (p1 - p2).powi(2);
    let n1 = round_up(r * n2);
    let n2r = round_up(n2);
    Ok(ProportionsRequirement {
        n1,
        n2: n2r,
        total: n1 + n2r,
        n2_exact: n2,
    })
}

/// An exact single-arm binomial design.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SingleArmDesign {
    /// Persons to enrol.
    pub n: u64,
    /// Success is declared with at least this many responses (at most, when p1 < p0).
    pub critical: u64,
    /// Exact type I error at p0.
    pub alpha_exact: f64,
    /// Exact power at p1.
    pub power_exact: f64,
}

/// Smallest n for a one-sided exact binomial test of p0 against p1 with one-sided α.
pub fn single_arm(p0: f64, p1: f64, alpha: f64, power: f64) -> Result<SingleArmDesign> {
    check_probability("p0", p0)?;
    check_probability("p1", p1)?;
    check_probability("alpha", alpha)?;
    check_probability("power", power)?;
    if p0 == p1 {
        return Err(StatsError::InvalidArgument(
            "p0 and p1 are equal; there is no difference to detect".into(),
        ));
    }
    // A lower-is-better design is the mirror image of a higher-is-better one.
    let upward = p1 > p0;
    let (q0, q1) = if upward {
        (p0, p1)
    } else {
        (1.0 - p0, 1.0 - p1)
    };
    const MAX_N: u64 = 100_000;
    for n in 1..=MAX_N {
        let null = Binomial::new(q0, n).map_err(|e| StatsError::InvalidArgument(e.to_string()))?;
        let alt = Binomial::new(q1, n).map_err(|e| StatsError::InvalidArgument(e.to_string()))?;
        let at_least = |d: &Binomial, r: u64| if r == 0 { 1.0 } else { d.sf(r - 1) };
        // Smallest r with P(X ≥ r | q0) ≤ α.
        let (mut lo, mut hi) = (0u64, n + 1);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if at_least(&null, mid) <= alpha {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        if lo > n {
            continue;
        }
        let power_exact = at_least(&alt, lo);
        if power_exact >= power {
            return Ok(SingleArmDesign {
                n,
                critical: if upward { lo } else { n - lo },
                alpha_exact: at_least(&null, lo),
                power_exact,
            });
        }
    }
    Err(StatsError::InvalidArgument(format!(
        "no design with at most {MAX_N} persons reaches the requested power"
    )))
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
    fn schoenfeld_reference_figure() {
        let r = survival_events(0.7, 0.05, 0.8, 1.0, Sides::Two, EventsMethod::Schoenfeld).unwrap();
        assert_eq!(r.events, 247);
    }

    #[test]
    fn unequal_allocation_needs_more_events() {
        let one =
            survival_events(0.7, 0.05, 0.8, 1.0, Sides::Two, EventsMethod::Schoenfeld).unwrap();
        let two =
            survival_events(0.7, 0.05, 0.8, 2.0, Sides::Two, EventsMethod::Schoenfeld).unwrap();
        assert!(two.events > one.events);
        // Freedman with equal allocation: 7.8489 · (1.7/0.3)² = 252.04 → 253.
        let f = survival_events(0.7, 0.05, 0.8, 1.0, Sides::Two, EventsMethod::Freedman).unwrap();
        assert_eq!(f.events, 253);
    }

    #[test]
    fn proportions_match_power_prop_test() {
        // power.prop.test(p1 = .5, p2 = .75, power = .9) gives n = 76.70693011, found by
        // uniroot (tolerance ~1e-4); the closed form is 76.70692845.
        let r = two_proportions(0.5, 0.75, 0.05, 0.9, 1.0, Sides::Two).unwrap();
        assert!((r.n2_exact - 76.706_928_45).abs() < 1e-7);
        assert_eq!((r.n1, r.n2), (77, 77));
    }

    #[test]
    fn single_arm_is_exact() {
        let d = single_arm(0.2, 0.4, 0.05, 0.8).unwrap();
        assert!(d.alpha_exact <= 0.05 && d.power_exact >= 0.8);
        // One fewer person cannot reach the power at its own critical value.
        let smaller = single_arm(0.2, 0.4, 0.05, d.power_exact + 1e-9);
        assert!(smaller.unwrap().n >= d.n);
        let down = single_arm(0.8, 0.6, 0.05, 0.8).unwrap();
        assert_eq!(down.n, d.n);
        assert_eq!(down.critical, d.n - d.critical);
    }

    #[test]
    fn invalid_arguments_are_refused() {
        assert!(
            survival_events(1.0, 0.05, 0.8, 1.0, Sides::Two, EventsMethod::Schoenfeld).is_err()
        );
        assert!(two_proportions(0.5, 0.5, 0.05, 0.8, 1.0, Sides::Two).is_err());
        assert!(single_arm(0.2, 0.4, 1.5, 0.8).is_err());
    }

    #[test]
    fn two_means_per_arm() {
        // δ = 0.5σ, α = 0.05, power 0.8, 1:1: n = 2·(1.96 + 0.8416)²/0.25 = 62.8 → 63 per arm.
        assert_eq!(two_means(5.0, 10.0, 0.05, 0.8, 1.0), (63, 63));
    }
}
