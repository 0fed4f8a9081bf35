//! The analysis run: cohort, endpoints, adjustment, estimates, sensitivity analyses,
//! interim looks and the verdict.
//!
//! For each endpoint the analysis population is the cohort's subjects with an outcome
//! for it; the propensity score is fitted in that population and controls are matched,
//! weighted or stratified as the plan says. The pre-specified estimate is then:
//! a Cox hazard ratio (matching weights with matched sets as clusters, IPT weights with
//! a robust variance, or PS strata as Cox strata) for time-to-event endpoints, and a
//! difference in proportions or means (MatchIt's cluster-robust ATT for matching, a
//! Hájek difference with a sandwich variance otherwise) for binary and continuous ones.
//! Sensitivity analyses repeat it with another adjustment method, with a
//! covariate-adjusted model on the whole population without matching or weighting,
//! unadjusted, and — for adjudicated endpoints — with the events as the sites reported
//! them.

use crate::adjust::{Adjustment, adjust, alternative, design};
use crate::cohort::{Cohort, build};
use crate::data::RegistryData;
use crate::endpoints::{DAYS_PER_MONTH, EndpointData, decisions, outcomes};
use crate::error::EvidenceError;
use crate::power::{PowerResult, required};
use crate::results::*;
use saisei_domain::Record;
use saisei_domain::audit::content_hash;
use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, AssessmentRound, DataSnapshot, DecisionBasis,
    EffectMeasure, Endpoint, EndpointDefinition, EndpointRole, Estimate, EvaluationPlan,
    EventDecision, GuidanceItem, PlanGap, PowerAssumptions, PrimaryEvidence, Severity, TaskStatus,
    check_plan, decide_verdict,
};
use saisei_domain::wire_name as wire;
use saisei_stats::Covariates;
use saisei_stats::agreement::cohen_kappa;
use saisei_stats::cox::{CoxData, CoxOptions, fit_cox};
use saisei_stats::inference::normal_two_sided_p;
use saisei_stats::inference::z_for;
use saisei_stats::km::weighted_km;
use saisei_stats::km::{ConfType, kaplan_meier};
use saisei_stats::logrank::logrank;
use saisei_stats::matching::matched_effect;
use saisei_stats::means::{mean_sd, weighted_difference};
use saisei_stats::ols::ols;
use saisei_stats::sequential::{SpendingFunction as Spending, alpha_spent};
use saisei_stats::survival::Grouping;
use std::collections::BTreeMap;
use uuid::Uuid;

pub use saisei_domain::evaluation::AnalysisOptions;

/// The plan check of the domain plus what only the evidence engine can say: whether the
/// targets reach what the power assumptions require.
pub fn check_with_power(
    plan: &EvaluationPlan,
) -> (Vec<PlanGap>, Option<PowerResult>, Option<String>) {
    let mut gaps = check_plan(plan);
    let (power, problem) = match &plan.sample_size.assumptions {
        None => (None, None),
        Some(a) => match required(a) {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        },
    };
    if let Some(p) = &power {
        if let Some(t) = plan.sample_size.target_treated
            && u64::from(t) < p.required_treated
        {
            gaps.push(PlanGap {
                    item: GuidanceItem::NumberOfCases,
                    severity: Severity::Gap,
                    field: "sample_size.target_treated".into(),
                    message: format!(
                        "the target of {t} treated cases is below the {} the power calculation requires",
                        p.required_treated
                    ),
                });
        }
        if let Some(c) = plan.sample_size.target_controls
            && u64::from(c) < p.required_controls
        {
            gaps.push(PlanGap {
                item: GuidanceItem::NumberOfCases,
                severity: Severity::Gap,
                field: "sample_size.target_controls".into(),
                message: format!(
                    "the target of {c} controls is below the {} the power calculation requires",
                    p.required_controls
                ),
            });
        }
    }
    if let Some(e) = &problem {
        gaps.push(PlanGap {
            item: GuidanceItem::NumberOfCases,
            severity: Severity::Gap,
            field: "sample_size.assumptions".into(),
            message: format!("the power calculation fails: {e}"),
        });
    }
    gaps.sort_by_key(|g| (g.severity, g.item));
    (gaps, power, problem)
}

/// Runs the whole evaluation of `plan` on `data`.
pub fn analyse(
    plan: &EvaluationPlan,
    data: &RegistryData,
    options: &AnalysisOptions,
) -> Result<EvaluationResults, EvidenceError> {
    let primary = plan
        .primary()
        .ok_or_else(|| EvidenceError::Plan("the plan has no single primary endpoint".into()))?;
    let (plan_check, power, power_problem) = check_with_power(plan);
    let cohort = build(plan, data, options.as_of);
    let adjudicated = decisions(data);
    let mut notes = vec![
        "Propensity scores are fitted by logistic regression of treatment on the plan's covariates, separately in each endpoint's analysis population (patients with an outcome).".to_string(),
        "Confidence intervals of risk and mean differences after weighting or stratification use a sandwich variance that treats the weights as known; after matching, MatchIt's cluster-robust variance over matched sets.".to_string(),
        "Kaplan–Meier curves are drawn in the adjusted sample with the adjustment weights; medians and the log-rank test are unweighted.".to_string(),
    ];
    let mut endpoint_results = Vec::new();
    let mut ordered: Vec<&Endpoint> = vec![primary];
    ordered.extend(
        plan.endpoints
            .iter()
            .filter(|e| e.role != EndpointRole::Primary),
    );
    let mut primary_evidence = PrimaryEvidence::default();
    let mut endpoint_data: BTreeMap<String, EndpointData> = BTreeMap::new();
    for ep in ordered {
        let ed = outcomes(ep, &cohort, data, &adjudicated);
        let mut r = analyse_endpoint(plan, ep, &cohort, &ed);
        if ep.role == EndpointRole::Primary {
            primary_evidence = primary_evidence_of(plan, ep, &ed, &mut r, power.as_ref());
        }
        endpoint_data.insert(ep.key.to_string(), ed);
        endpoint_results.push(r);
    }
    let decision = decide_verdict(primary.success.as_ref(), &primary_evidence);
    let quality = plan.quality_efficacy.as_ref().map(|q| {
        let ep = plan.endpoint(q.endpoint.as_str());
        match (ep, endpoint_data.get(q.endpoint.as_str())) {
            (Some(ep), Some(ed)) => crate::quality::analyse(q, ep, &cohort, data, ed),
            _ => crate::quality::unavailable(q, "the endpoint is not in the plan"),
        }
    });
    if quality.is_some() {
        notes.push("Quality attributes are standardised (per SD across patients); a patient who received several lots takes the mean of their lots' values; the latest numeric result per lot and attribute is used.".into());
    }
    if plan.interim.is_some() {
        notes.push("Interim looks use Lan–DeMets α spending; each look's nominal α is the α spent since the previous look, a conservative approximation of the exact group-sequential boundary.".into());
    }
    let product = &data.product.data;
    let approval = product.approval.as_ref();
    let plan_json = serde_json::to_value(plan).map_err(|e| EvidenceError::Plan(e.to_string()))?;
    let summary = PlanSummary {
        plan_id: options.plan_id,
        plan_version: options.plan_version,
        title: plan.title.to_string(),
        product: product.name.to_string(),
        approval: approval.map(|a| {
            format!(
                "{} approval of {}{}",
                wire(&a.kind),
                a.approved_on,
                a.term_years
                    .map(|t| format!(" for {t} years"))
                    .unwrap_or_default()
            )
        }),
        conditions: approval
            .map(|a| a.conditions.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default(),
        reapplication_due: approval.and_then(|a| a.reapplication_due()),
        method: plan.control.method.as_ref().map(|m| m.label()),
        covariates: plan
            .control
            .covariates
            .iter()
            .map(|c| c.to_string())
            .collect(),
        control_source: plan.control.source.map(|s| wire(&s)),
        targets: (
            plan.sample_size.target_treated,
            plan.sample_size.target_controls,
        ),
    };
    Ok(EvaluationResults {
        plan: summary,
        as_of: options.as_of,
        verdict: decision.verdict,
        verdict_reasons: decision.reasons,
        plan_check,
        power,
        power_problem,
        flow: cohort.flow.clone(),
        cohort: cohort_summary(plan, &cohort),
        endpoints: endpoint_results,
        adjudication: adjudication_summary(plan, data),
        quality,
        snapshot: DataSnapshot {
            counts: data.counts(),
            data_hash: cohort.data_hash.clone(),
            plan_hash: content_hash(&plan_json),
            engine: crate::ENGINE.to_string(),
        },
        notes,
    })
}

/// Reads one baseline characteristic of a subject.
type Characteristic = Box<dyn Fn(&crate::cohort::Subject) -> Option<f64>>;

fn cohort_summary(plan: &EvaluationPlan, c: &Cohort) -> CohortSummary {
    let treated = c.subjects.iter().filter(|s| s.treated).count();
    let mut sites: BTreeMap<Uuid, (usize, usize)> = BTreeMap::new();
    for s in &c.subjects {
        let e = sites.entry(s.site_id).or_default();
        if s.treated { e.0 += 1 } else { e.1 += 1 }
    }
    let mut sites: Vec<SiteCount> = sites
        .into_iter()
        .map(|(id, (t, k))| SiteCount {
            site: c
                .site_names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| id.to_string()),
            treated: t,
            control: k,
        })
        .collect();
    sites.sort_by(|a, b| {
        (b.treated + b.control)
            .cmp(&(a.treated + a.control))
            .then(a.site.cmp(&b.site))
    });
    let mut rows: Vec<(String, Characteristic)> = vec![
        ("Age (years)".into(), Box::new(|s| Some(s.age))),
        (
            "Female (proportion)".into(),
            Box::new(|s| Some(if s.female { 1.0 } else { 0.0 })),
        ),
        (
            "Index year".into(),
            Box::new(|s| Some(f64::from(s.index_date.year()))),
        ),
    ];
    for code in plan.baseline_codes() {
        let key = code.to_string();
        rows.push((
            format!("Baseline {code}"),
            Box::new(move |s| s.baselines.get(&key).copied()),
        ));
    }
    let baseline = rows
        .iter()
        .map(|(name, f)| {
            let t: Vec<f64> = c
                .subjects
                .iter()
                .filter(|s| s.treated)
                .filter_map(f)
                .collect();
            let k: Vec<f64> = c
                .subjects
                .iter()
                .filter(|s| !s.treated)
                .filter_map(f)
                .collect();
            let (mt, st) = mean_sd(&t);
            let (mc, sc) = mean_sd(&k);
            BaselineRow {
                name: name.clone(),
                mean_treated: mt,
                sd_treated: st,
                mean_control: mc,
                sd_control: sc,
            }
        })
        .collect();
    CohortSummary {
        treated,
        control: c.subjects.len() - treated,
        sites,
        baseline,
    }
}

/// The rows of one endpoint's analysis: treatment, covariates, outcome.
struct Frame {
    treated: Vec<bool>,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
    y: Vec<f64>,
    event: Vec<bool>,
    site_reported: Vec<(f64, bool)>,
}

fn frame(plan: &EvaluationPlan, cohort: &Cohort, ed: &EndpointData) -> (Frame, Vec<String>) {
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

fn kind_word(d: &EndpointDefinition) -> &'static str {
    match d {
        EndpointDefinition::TimeToEvent { .. } => "time_to_event",
        EndpointDefinition::Binary { .. } => "binary",
        EndpointDefinition::Continuous { .. } => "continuous",
    }
}

fn analyse_endpoint(
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

fn as_estimate(e: &EffectEstimate) -> Estimate {
    Estimate {
        value: e.value,
        lower: e.lower,
        upper: e.upper,
        level: e.level,
    }
}

fn histogram(score: &[f64], w: &[f64], treated: &[bool], flag: bool) -> Vec<f64> {
    let mut bins = vec![0.0; 20];
    for i in 0..score.len() {
        if treated[i] == flag {
            let b = ((score[i] * 20.0).floor() as usize).min(19);
            bins[b] += w[i];
        }
    }
    bins
}

fn design_result(adj: &Adjustment, treated: &[bool]) -> DesignResult {
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
fn estimate(
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
fn regression(
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

fn km(f: &Frame, adj: &Adjustment) -> Option<KmResult> {
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

/// The primary endpoint's evidence for the verdict: information accrued against the
/// target, the interim look due, and adjudications pending.
fn primary_evidence_of(
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

/// The state of the plan's central adjudication and each pair's agreement.
pub fn adjudication_summary(plan: &EvaluationPlan, data: &RegistryData) -> AdjudicationSummary {
    agreement_summary(plan, &data.tasks, &data.assessments)
}

/// The state of a plan's adjudication tasks and each pair of adjudicators' agreement
/// (Cohen's kappa over the events both assessed independently).
pub fn agreement_summary(
    plan: &EvaluationPlan,
    tasks: &[Record<AdjudicationTask>],
    assessments: &[Record<AdjudicationAssessment>],
) -> AdjudicationSummary {
    let panel: Vec<String> = plan
        .blinding
        .adjudicators
        .iter()
        .map(|a| a.to_string())
        .collect();
    let mut s = AdjudicationSummary {
        adjudicators: panel.clone(),
        tasks: tasks.len(),
        ..Default::default()
    };
    for t in tasks {
        match t.data.status {
            TaskStatus::AwaitingAssessments => s.awaiting += 1,
            TaskStatus::NeedsConsensus => s.needs_consensus += 1,
            TaskStatus::Decided => {
                match t.data.decided_by {
                    Some(DecisionBasis::Consensus) => s.by_consensus += 1,
                    _ => s.by_agreement += 1,
                }
                match t.data.decision {
                    Some(EventDecision::Confirmed) => s.confirmed += 1,
                    _ => s.rejected += 1,
                }
            }
        }
    }
    let mut by_task: BTreeMap<Uuid, BTreeMap<String, EventDecision>> = BTreeMap::new();
    for a in assessments {
        if a.data.round == AssessmentRound::Independent {
            by_task
                .entry(a.data.task_id)
                .or_default()
                .insert(a.data.adjudicator.to_string(), a.data.decision);
        }
    }
    for i in 0..panel.len() {
        for j in i + 1..panel.len() {
            let pairs: Vec<(EventDecision, EventDecision)> = by_task
                .values()
                .filter_map(|m| Some((*m.get(&panel[i])?, *m.get(&panel[j])?)))
                .collect();
            let (kappa, problem) = match cohen_kappa(&pairs) {
                Ok(k) => (Some(k), None),
                Err(e) => (None, Some(e.to_string())),
            };
            s.agreement.push(PairAgreement {
                a: panel[i].clone(),
                b: panel[j].clone(),
                kappa,
                problem,
            });
        }
    }
    s
}
/// The plan's spending function as the statistics name it.
fn spending(f: saisei_domain::evaluation::SpendingFunction) -> Spending {
    match f {
        saisei_domain::evaluation::SpendingFunction::OBrienFleming => Spending::OBrienFleming,
        saisei_domain::evaluation::SpendingFunction::Pocock => Spending::Pocock,
    }
}
