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

mod agreement;
mod endpoint;
mod verdict;

pub use agreement::{adjudication_summary, agreement_summary};
use endpoint::analyse_endpoint;
use verdict::primary_evidence_of;

use crate::cohort::{Cohort, build};
use crate::data::RegistryData;
use crate::endpoints::{EndpointData, decisions, outcomes};
use crate::error::EvidenceError;
use crate::power::{PowerResult, required};
use crate::results::*;
use saisei_domain::audit::content_hash;
use saisei_domain::evaluation::{
    DataSnapshot, Endpoint, EndpointDefinition, EndpointRole, EvaluationPlan, GuidanceItem,
    PlanGap, PrimaryEvidence, Severity, check_plan, decide_verdict,
};
use saisei_domain::wire_name as wire;
use saisei_stats::means::mean_sd;
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
    let cqa = plan.quality_efficacy.as_ref().map(|q| {
        let ep = plan.endpoint(q.endpoint.as_str());
        match (ep, endpoint_data.get(q.endpoint.as_str())) {
            (Some(ep), Some(ed)) => crate::cqa::analyse(q, ep, &cohort, data, ed),
            _ => crate::cqa::unavailable(q, "the endpoint is not in the plan"),
        }
    });
    if cqa.is_some() {
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
        cqa,
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

pub(super) fn kind_word(d: &EndpointDefinition) -> &'static str {
    match d {
        EndpointDefinition::TimeToEvent { .. } => "time_to_event",
        EndpointDefinition::Binary { .. } => "binary",
        EndpointDefinition::Continuous { .. } => "continuous",
    }
}
