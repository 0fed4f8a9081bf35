//! The power calculation behind a plan's target number of cases (guidance item 1).
//!
//! The plan states its assumptions; the number they require comes from
//! `saisei-stats::power` (two proportions, Schoenfeld events for a hazard ratio) or, for
//! two means, from [`saisei_stats::power::two_means`]. The plan check then compares the
//! plan's targets with what the assumptions require.

use saisei_domain::evaluation::PowerAssumptions;
use saisei_stats::power::two_means;
use saisei_stats::power::{EventsMethod, Sides, survival_events, two_proportions};
use serde::{Deserialize, Serialize};

/// What a plan's power assumptions require.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerResult {
    /// Treated patients required.
    pub required_treated: u64,
    /// Controls required.
    pub required_controls: u64,
    /// Events required (time-to-event designs).
    pub required_events: Option<u64>,
    /// How the figure was computed, in words.
    pub method: String,
}

/// Computes what the assumptions require; `Err` names the problem.
pub fn required(a: &PowerAssumptions) -> Result<PowerResult, String> {
    match *a {
        PowerAssumptions::TwoProportions {
            p_treated,
            p_control,
            alpha,
            power,
            allocation,
        } => {
            let r = two_proportions(p_treated, p_control, alpha, power, allocation, Sides::Two)
                .map_err(|e| e.to_string())?;
            Ok(PowerResult {
                required_treated: r.n1,
                required_controls: r.n2,
                required_events: None,
                method: format!(
                    "two proportions {p_treated} vs {p_control}, two-sided α = {alpha}, power {power}, {allocation} treated per control (pooled-variance z-test)"
                ),
            })
        }
        PowerAssumptions::Survival {
            hazard_ratio,
            alpha,
            power,
            allocation,
            event_probability,
        } => {
            let e = survival_events(
                hazard_ratio,
                alpha,
                power,
                allocation,
                Sides::Two,
                EventsMethod::Schoenfeld,
            )
            .map_err(|e| e.to_string())?;
            let patients = (e.events as f64 / event_probability).ceil();
            let treated = (patients * allocation / (1.0 + allocation)).ceil() as u64;
            let controls = (patients / (1.0 + allocation)).ceil() as u64;
            Ok(PowerResult {
                required_treated: treated,
                required_controls: controls,
                required_events: Some(e.events),
                method: format!(
                    "{} events to detect HR {hazard_ratio} (Schoenfeld), two-sided α = {alpha}, power {power}; {event_probability} of patients expected to have the event",
                    e.events
                ),
            })
        }
        PowerAssumptions::TwoMeans {
            difference,
            sd,
            alpha,
            power,
            allocation,
        } => {
            let (t, c) = two_means(difference, sd, alpha, power, allocation);
            Ok(PowerResult {
                required_treated: t,
                required_controls: c,
                required_events: None,
                method: format!(
                    "difference in means {difference} (SD {sd}), two-sided α = {alpha}, power {power}, {allocation} treated per control (z-test)"
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportions_and_events_come_from_the_stats_crate() {
        let r = required(&PowerAssumptions::TwoProportions {
            p_treated: 0.45,
            p_control: 0.2,
            alpha: 0.05,
            power: 0.8,
            allocation: 1.0,
        })
        .unwrap();
        let s = two_proportions(0.45, 0.2, 0.05, 0.8, 1.0, Sides::Two).unwrap();
        assert_eq!((r.required_treated, r.required_controls), (s.n1, s.n2));
        let r = required(&PowerAssumptions::Survival {
            hazard_ratio: 0.6,
            alpha: 0.05,
            power: 0.8,
            allocation: 1.0,
            event_probability: 0.5,
        })
        .unwrap();
        // Schoenfeld: 4(1.96 + 0.8416)²/ln(0.6)² = 120.3 → 121 events, 242 patients.
        assert_eq!(r.required_events, Some(121));
        assert_eq!(r.required_treated + r.required_controls, 242);
    }
}
