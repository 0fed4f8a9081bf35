//! One endpoint's analysis: its rows, the adjustment, the pre-specified estimate and the
//! sensitivity analyses, and the Kaplan–Meier curves.

use super::kind_word;
use crate::adjust::{Adjustment, adjust, alternative, design};
use crate::cohort::Cohort;
use crate::endpoints::{DAYS_PER_MONTH, EndpointData};
use crate::results::*;
use saisei_domain::evaluation::{
    EffectMeasure, Endpoint, EndpointDefinition, EndpointRole, Estimate, EvaluationPlan,
};
use saisei_stats::Covariates;
use saisei_stats::cox::{CoxData, CoxOptions, fit_cox};
use saisei_stats::inference::normal_two_sided_p;
use saisei_stats::inference::z_for;
use saisei_stats::km::weighted_km;
use saisei_stats::km::{ConfType, kaplan_meier};
use saisei_stats::logrank::logrank;
use saisei_stats::matching::matched_effect;
use saisei_stats::means::weighted_difference;
use saisei_stats::ols::ols;
use saisei_stats::survival::Grouping;

/// The rows of one endpoint's analysis: treatment, covariates, outcome.
pub(super) struct Frame {
    treated: Vec<bool>,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
    y: Vec<f64>,
    event: Vec<bool>,
    site_reported: Vec<(f64, bool)>,
}

pub(super) fn frame(
    plan: &EvaluationPlan,
    cohort: &Cohort,
    ed: &EndpointData,
) -> (Frame, Vec<String>) {
    let mut dropped = Vec::new();
    let mut names = Vec::new();
    let mut columns = Vec::new();
    for c in &plan.control.covariates {
        let col: Vec<f64> = ed
            .rows
            .iter()
            .map(|r| cohort.subjects[r.subject].covariate(c).unwrap_or(f64::NAN))
            .collect();
        let finite = col.iter().all(|v| v.is_finite());
        let constant = col.windows(2).all(|w| w[0] == w[1]);
        if !finite || constant {
            dropped.push(c.column());
            continue;
        }
        names.push(c.column());
        columns.push(col);
    }
    let f = Frame {
        treated: ed
            .rows
            .iter()
            .map(|r| cohort.subjects[r.subject].treated)
            .collect(),
        names,
        columns,
        y: ed.rows.iter().map(|r| r.value).collect(),
        event: ed.rows.iter().map(|r| r.event).collect(),
        site_reported: ed
            .rows
            .iter()
            .map(|r| r.site_reported.unwrap_or((r.value, r.event)))
            .collect(),
    };
    (f, dropped)
}

pub(super) fn analyse_endpoint(
    plan: &EvaluationPlan,
    ep: &Endpoint,
    cohort: &Cohort,
    ed: &EndpointData,
) -> EndpointResult {
    let level = ep.success.as_ref().map(|s| s.level()).unwrap_or(0.95);
    let (f, dropped) = frame(plan, cohort, ed);
    let tte = matches!(ep.definition, EndpointDefinition::TimeToEvent { .. });
    let measure = ep.definition.effect_measure();
    let arm = |flag: bool| -> Option<ArmOutcome> {
        let idx: Vec<usize> = (0..f.y.len()).filter(|&i| f.treated[i] == flag).collect();
        if idx.is_empty() {
            return None;
        }
        Some(match ep.definition {
            EndpointDefinition::TimeToEvent { .. } => {
                let events = idx.iter().filter(|&&i| f.event[i]).count();
                ArmOutcome {
                    n: idx.len(),
                    count: Some(events),
                    value: events as f64 / idx.len() as f64,
                }
            }
            EndpointDefinition::Binary { .. } => {
                let r = idx.iter().filter(|&&i| f.y[i] == 1.0).count();
                ArmOutcome {
                    n: idx.len(),
                    count: Some(r),
                    value: r as f64 / idx.len() as f64,
                }
            }
            EndpointDefinition::Continuous { .. } => ArmOutcome {
                n: idx.len(),
                count: None,
                value: idx.iter().map(|&i| f.y[i]).sum::<f64>() / idx.len() as f64,
            },
        })
    };
    let mut result = EndpointResult {
        key: ep.key.to_string(),
        name: ep.name.to_string(),
        primary: ep.role == EndpointRole::Primary,
        kind: kind_word(&ep.definition).into(),
        definition: ep.definition.describe(),
        criterion: ep.success.as_ref().map(|s| s.describe()),
        criterion_met: None,
        adjudicated: ep.adjudicated,
        missing: ed
            .missing
            .iter()
            .map(|(k, (t, c))| (k.clone(), *t, *c))
            .collect(),
        treated: arm(true),
        control: arm(false),
        design: None,
        estimate: None,
        sensitivity: Vec::new(),
        km: None,
        problem: None,
        pending_adjudications: ed.pending,
        rejected_by_adjudication: ed.rejected,
        information_fraction: None,
        interim: Vec::new(),
    };
    if result.treated.is_none() || result.control.is_none() {
        result.problem = Some(format!(
            "no {} patients have an outcome for this endpoint",
            if result.treated.is_none() {
                "treated"
            } else {
                "control"
            }
        ));
        return result;
    }
    let covs = match design(f.names.clone(), f.columns.clone()) {
        Ok(c) => c,
        Err(e) => {
            result.problem = Some(e);
            return result;
        }
    };
    // The pre-specified analysis.
    let primary_adj = match (&plan.control.method, f.names.is_empty()) {
        (None, _) => Err("the plan names no method to make controls comparable".to_string()),
        (_, true) => Err("no usable baseline covariate for the propensity score".to_string()),
        (Some(m), false) => adjust(m, &f.treated, &covs),
    };
    match &primary_adj {
        Ok(adj) => {
            result.design = Some(design_result(adj, &f.treated));
            let label = format!("Pre-specified: {}", adj.label);
            match estimate(&f, adj, measure, level, &label, false) {
                Ok(e) => {
                    result.criterion_met =
                        ep.success.as_ref().and_then(|s| s.is_met(&as_estimate(&e)));
                    result.estimate = Some(e);
                }
                Err(e) => result.problem = Some(e),
            }
            if tte {
                result.km = km(&f, adj);
            }
        }
        Err(e) => result.problem = Some(e.clone()),
    }
    if !dropped.is_empty() {
        let note = format!(
            "covariates left out of the propensity score (constant or missing in this population): {}",
            dropped.join(", ")
        );
        result.missing.push((note, 0, 0));
    }
    // Sensitivity analyses.
    if let Some(m) = &plan.control.method
        && !f.names.is_empty()
    {
        let alt = alternative(m);
        match adjust(&alt, &f.treated, &covs).and_then(|a| {
            estimate(
                &f,
                &a,
                measure,
                level,
                &format!("Sensitivity: {}", a.label),
                false,
            )
        }) {
            Ok(e) => result.sensitivity.push(e),
            Err(e) => result.missing.push((
                format!("sensitivity analysis with {} failed: {e}", alt.label()),
                0,
                0,
            )),
        }
    }
    match regression(&f, &covs, measure, level) {
        Ok(e) => result.sensitivity.push(e),
        Err(e) => result
            .missing
            .push((format!("covariate-adjusted model failed: {e}"), 0, 0)),
    }
    let ones = Adjustment {
        label: "unadjusted".into(),
        weights: vec![1.0; f.y.len()],
        clusters: None,
        strata: None,
        matching: None,
        score: Vec::new(),
        balance: Vec::new(),
        n_treated: f.treated.iter().filter(|&&t| t).count(),
        n_control: f.treated.iter().filter(|&&t| !t).count(),
        dropped_treated: 0,
    };
    if let Ok(e) = estimate(&f, &ones, measure, level, "Unadjusted comparison", false) {
        result.sensitivity.push(e);
    }
    if tte
        && ep.adjudicated
        && let Ok(adj) = &primary_adj
        && let Ok(e) = estimate(
            &f,
            adj,
            measure,
            level,
            &format!(
                "Events as reported by sites, before adjudication ({})",
                adj.label
            ),
            true,
        )
    {
        result.sensitivity.push(e);
    }
    result
}

pub(super) fn as_estimate(e: &EffectEstimate) -> Estimate {
    Estimate {
        value: e.value,
        lower: e.lower,
        upper: e.upper,
        level: e.level,
    }
}

pub(super) fn histogram(score: &[f64], w: &[f64], treated: &[bool], flag: bool) -> Vec<f64> {
    let mut bins = vec![0.0; 20];
    for i in 0..score.len() {
        if treated[i] == flag {
            let b = ((score[i] * 20.0).floor() as usize).min(19);
            bins[b] += w[i];
        }
    }
    bins
}

pub(super) fn design_result(adj: &Adjustment, treated: &[bool]) -> DesignResult {
    let ones = vec![1.0; treated.len()];
    let n_control = treated.iter().filter(|&&t| !t).count() as f64;
    let mut after = histogram(&adj.score, &adj.weights, treated, false);
    let total: f64 = after.iter().sum();
    if total > 0.0 {
        for b in &mut after {
            *b *= n_control / total;
        }
    }
    DesignResult {
        method: adj.label.clone(),
        n_treated: adj.n_treated,
        n_control: adj.n_control,
        dropped_treated: adj.dropped_treated,
        balance: adj
            .balance
            .iter()
            .map(|b| Balance {
                name: b.name.clone(),
                smd_before: b.smd_before,
                smd_after: b.smd_after,
            })
            .collect(),
        ps_histogram: PsHistogram {
            treated: histogram(&adj.score, &ones, treated, true),
            control_before: histogram(&adj.score, &ones, treated, false),
            control_after: after,
        },
    }
}

/// The estimate of the endpoint's effect measure under an adjustment.
pub(super) fn estimate(
    f: &Frame,
    adj: &Adjustment,
    measure: EffectMeasure,
    level: f64,
    label: &str,
    site_reported: bool,
) -> Result<EffectEstimate, String> {
    let z = z_for(level);
    let in_sample: Vec<usize> = (0..f.y.len()).filter(|&i| adj.weights[i] > 0.0).collect();
    let nt = in_sample.iter().filter(|&&i| f.treated[i]).count();
    let nc = in_sample.len() - nt;
    match measure {
        EffectMeasure::HazardRatio => {
            let (time, event): (Vec<f64>, Vec<bool>) = in_sample
                .iter()
                .map(|&i| {
                    if site_reported {
                        f.site_reported[i]
                    } else {
                        (f.y[i], f.event[i])
                    }
                })
                .unzip();
            let t01: Vec<f64> = in_sample
                .iter()
                .map(|&i| if f.treated[i] { 1.0 } else { 0.0 })
                .collect();
            let covs =
                Covariates::new(vec!["treated".into()], vec![t01]).map_err(|e| e.to_string())?;
            let weights: Vec<f64> = in_sample.iter().map(|&i| adj.weights[i]).collect();
            let clusters: Option<Vec<u32>> = adj
                .clusters
                .as_ref()
                .map(|c| in_sample.iter().map(|&i| c[i]).collect());
            let strata: Option<Vec<u32>> = adj
                .strata
                .as_ref()
                .map(|s| in_sample.iter().map(|&i| s[i]).collect());
            let unit = weights.iter().all(|&w| w == 1.0);
            let data = CoxData {
                time: &time,
                event: &event,
                covariates: &covs,
                strata: strata.as_deref(),
                weights: if unit || strata.is_some() {
                    None
                } else {
                    Some(&weights)
                },
                cluster: if strata.is_some() {
                    None
                } else {
                    clusters.as_deref()
                },
            };
            let fit =
                fit_cox(&data, CoxOptions::default()).map_err(|e| format!("Cox model: {e}"))?;
            let c = &fit.coefficients[0];
            let events_t = in_sample
                .iter()
                .zip(&event)
                .filter(|(i, e)| **e && f.treated[**i])
                .count();
            let events_c = event.iter().filter(|e| **e).count() - events_t;
            Ok(EffectEstimate {
                analysis: label.into(),
                measure,
                value: c.hr,
                lower: (c.coef - z * c.se).exp(),
                upper: (c.coef + z * c.se).exp(),
                level,
                se: c.se,
                p: c.p,
                n_treated: nt,
                n_control: nc,
                events_treated: Some(events_t),
                events_control: Some(events_c),
            })
        }
        EffectMeasure::RiskDifference | EffectMeasure::MeanDifference => {
            let (value, se) = match &adj.matching {
                Some(m) => {
                    let e = matched_effect(&f.y, m).map_err(|e| format!("matched effect: {e}"))?;
                    (e.att, e.att_se)
                }
                None => {
                    let d = weighted_difference(&f.y, &f.treated, &adj.weights, None)
                        .ok_or("an arm has no weight")?;
                    (d.diff, d.se)
                }
            };
            if !se.is_finite() {
                return Err("the standard error is not finite (too few patients)".into());
            }
            let count = |flag: bool| {
                (measure == EffectMeasure::RiskDifference).then(|| {
                    in_sample
                        .iter()
                        .filter(|&&i| f.treated[i] == flag && f.y[i] == 1.0)
                        .count()
                })
            };
            Ok(EffectEstimate {
                analysis: label.into(),
                measure,
                value,
                lower: value - z * se,
                upper: value + z * se,
                level,
                se,
                p: normal_two_sided_p(value / se),
                n_treated: nt,
                n_control: nc,
                events_treated: count(true),
                events_control: count(false),
            })
        }
    }
}

/// Covariate-adjusted model on the whole endpoint population, without matching or
/// weighting: Cox with treatment and covariates, or least squares (a linear probability
/// model for binary endpoints) with HC1 errors.
pub(super) fn regression(
    f: &Frame,
    covs: &Covariates,
    measure: EffectMeasure,
    level: f64,
) -> Result<EffectEstimate, String> {
    let z = z_for(level);
    let t01: Vec<f64> = f
        .treated
        .iter()
        .map(|&t| if t { 1.0 } else { 0.0 })
        .collect();
    let mut names = vec!["treated".to_string()];
    names.extend(covs.names().iter().cloned());
    let mut columns = vec![t01];
    columns.extend(covs.columns().iter().cloned());
    let nt = f.treated.iter().filter(|&&t| t).count();
    let nc = f.treated.len() - nt;
    let label = format!(
        "Sensitivity: covariate-adjusted {} without matching or weighting{}",
        if measure == EffectMeasure::HazardRatio {
            "Cox model"
        } else {
            "regression"
        },
        if covs.is_empty() {
            String::new()
        } else {
            format!(" ({})", covs.names().join(", "))
        }
    );
    match measure {
        EffectMeasure::HazardRatio => {
            let all = Covariates::new(names, columns).map_err(|e| e.to_string())?;
            let data = CoxData {
                time: &f.y,
                event: &f.event,
                covariates: &all,
                strata: None,
                weights: None,
                cluster: None,
            };
            let fit = fit_cox(&data, CoxOptions::default()).map_err(|e| e.to_string())?;
            let c = &fit.coefficients[0];
            Ok(EffectEstimate {
                analysis: label,
                measure,
                value: c.hr,
                lower: (c.coef - z * c.se).exp(),
                upper: (c.coef + z * c.se).exp(),
                level,
                se: c.se,
                p: c.p,
                n_treated: nt,
                n_control: nc,
                events_treated: Some(
                    (0..f.y.len())
                        .filter(|&i| f.treated[i] && f.event[i])
                        .count(),
                ),
                events_control: Some(
                    (0..f.y.len())
                        .filter(|&i| !f.treated[i] && f.event[i])
                        .count(),
                ),
            })
        }
        _ => {
            let fit = ols(&f.y, &names, &columns).ok_or("the design is singular")?;
            let c = &fit[1];
            Ok(EffectEstimate {
                analysis: label,
                measure,
                value: c.coef,
                lower: c.coef - z * c.se,
                upper: c.coef + z * c.se,
                level,
                se: c.se,
                p: c.p,
                n_treated: nt,
                n_control: nc,
                events_treated: None,
                events_control: None,
            })
        }
    }
}

pub(super) fn km(f: &Frame, adj: &Adjustment) -> Option<KmResult> {
    let mut arms = Vec::new();
    for (flag, label) in [(true, "Treated"), (false, "Control")] {
        let idx: Vec<usize> = (0..f.y.len())
            .filter(|&i| f.treated[i] == flag && adj.weights[i] > 0.0)
            .collect();
        if idx.is_empty() {
            return None;
        }
        let t: Vec<f64> = idx.iter().map(|&i| f.y[i] / DAYS_PER_MONTH).collect();
        let e: Vec<bool> = idx.iter().map(|&i| f.event[i]).collect();
        let w: Vec<f64> = idx.iter().map(|&i| adj.weights[i]).collect();
        let curve = kaplan_meier(&t, &e, ConfType::Log).ok()?;
        arms.push(KmArm {
            label: label.into(),
            n: idx.len(),
            events: curve.events,
            median_months: curve.median,
            steps: weighted_km(&t, &e, &w),
        });
    }
    let max_months = f.y.iter().fold(0.0f64, |a, &b| a.max(b)) / DAYS_PER_MONTH;
    let at_risk = [0.0, 6.0, 12.0, 24.0, 36.0, 48.0, 60.0, 72.0, 84.0]
        .into_iter()
        .filter(|&m| m <= max_months + 1e-9)
        .map(|m| {
            let count = |flag: bool| {
                (0..f.y.len())
                    .filter(|&i| {
                        f.treated[i] == flag && adj.weights[i] > 0.0 && f.y[i] / DAYS_PER_MONTH >= m
                    })
                    .count()
            };
            AtRisk {
                months: m,
                treated: count(true),
                control: count(false),
            }
        })
        .collect();
    let group = Grouping::new(
        vec!["control".into(), "treated".into()],
        f.treated.iter().map(|&t| u32::from(t)).collect(),
    )
    .ok()?;
    let logrank_p = logrank(&f.y, &f.event, &group).ok().map(|l| l.p);
    Some(KmResult {
        arms,
        at_risk,
        logrank_p,
    })
}
