//! The primary endpoint's evidence for the verdict: information accrued, interim looks
//! under α spending, and adjudications still pending.

use super::endpoint::as_estimate;
use crate::endpoints::EndpointData;
use crate::power::PowerResult;
use crate::results::*;
use saisei_domain::evaluation::{
    Endpoint, EndpointDefinition, Estimate, EvaluationPlan, PowerAssumptions, PrimaryEvidence,
};
use saisei_stats::sequential::{SpendingFunction as Spending, alpha_spent};

/// The primary endpoint's evidence for the verdict: information accrued against the
/// target, the interim look due, and adjudications pending.
pub(super) fn primary_evidence_of(
    plan: &EvaluationPlan,
    ep: &Endpoint,
    ed: &EndpointData,
    r: &mut EndpointResult,
    power: Option<&PowerResult>,
) -> PrimaryEvidence {
    let treated_with_outcome = r.treated.as_ref().map(|a| a.n).unwrap_or(0);
    let events = r.treated.as_ref().and_then(|a| a.count).unwrap_or(0)
        + r.control.as_ref().and_then(|a| a.count).unwrap_or(0);
    let fraction = match (&ep.definition, &plan.sample_size.assumptions, power) {
        (
            EndpointDefinition::TimeToEvent { .. },
            Some(PowerAssumptions::Survival { .. }),
            Some(PowerResult {
                required_events: Some(d),
                ..
            }),
        ) if *d > 0 => Some(events as f64 / *d as f64),
        _ => plan
            .sample_size
            .target_treated
            .map(|t| treated_with_outcome as f64 / f64::from(t)),
    };
    r.information_fraction = fraction;
    let mut interim_estimate = None;
    if let (Some(interim), Some(est), Some(fr), Some(crit)) =
        (&plan.interim, &r.estimate, fraction, &ep.success)
    {
        let alpha = 1.0 - crit.level();
        let mut previous = 0.0;
        let due = interim
            .looks
            .iter()
            .rposition(|&t| t <= fr)
            .filter(|_| fr < 1.0);
        for (j, &t) in interim.looks.iter().enumerate() {
            let cumulative = alpha_spent(spending(interim.spending), alpha, t);
            let nominal = (cumulative - previous).max(1e-12);
            previous = cumulative;
            let level = 1.0 - nominal;
            let current = due == Some(j);
            let (interval, met) = if current {
                let (lo, hi) = est.at_level(level);
                let e = Estimate {
                    value: est.value,
                    lower: lo,
                    upper: hi,
                    level,
                };
                interim_estimate = Some(e);
                (Some((lo, hi)), crit.is_met(&e))
            } else {
                (None, None)
            };
            r.interim.push(InterimLook {
                fraction: t,
                cumulative_alpha: cumulative,
                nominal_alpha: nominal,
                level,
                reached: fr >= t,
                current,
                interval,
                criterion_met: met,
            });
        }
    }
    PrimaryEvidence {
        final_estimate: r.estimate.as_ref().map(as_estimate),
        interim_estimate,
        information_fraction: fraction,
        pending_adjudications: if ep.adjudicated { ed.pending } else { 0 },
        problem: r.problem.clone(),
    }
}

/// The plan's spending function as the statistics name it.
pub(super) fn spending(f: saisei_domain::evaluation::SpendingFunction) -> Spending {
    match f {
        saisei_domain::evaluation::SpendingFunction::OBrienFleming => Spending::OBrienFleming,
        saisei_domain::evaluation::SpendingFunction::Pocock => Spending::Pocock,
    }
}
