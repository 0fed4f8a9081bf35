//! Quality attributes against efficacy (MHLW evaluation index, 7-B): which lot quality attributes
//! go with better or worse outcomes, to propose candidate critical quality attributes.
//!
//! Each treated patient with an outcome is joined to the lots of the units they
//! received and to those lots' numeric QC results (the latest per lot and attribute;
//! the mean over lots when a patient received several). Per attribute, standardised to
//! one SD, the association with the outcome is a logistic regression (binary
//! endpoints), a Cox model (time-to-event) or least squares (continuous), all from
//! `saisei-stats` except least squares. p-values are corrected for the number of
//! attributes by Benjamini–Hochberg; attributes with q at or below the plan's FDR are
//! proposed as candidates. Patients are also split at each attribute's median to show
//! the outcome in the two subgroups, and responders' mean attribute values are compared
//! with the others'.

use crate::cohort::Cohort;
use crate::data::RegistryData;
use crate::endpoints::EndpointData;
use crate::results::{ArmOutcome, AttributeResult, CqaResult, Subgroups};
use saisei_domain::evaluation::{Endpoint, EndpointDefinition, QualityEfficacyPlan};
use saisei_domain::quality::QcValue;
use saisei_stats::Covariates;
use saisei_stats::cox::{CoxData, CoxOptions, fit_cox};
use saisei_stats::inference::z_for;
use saisei_stats::logistic::{LogisticOptions, fit_logistic};
use saisei_stats::multiplicity::benjamini_hochberg;
use saisei_stats::ols::ols;
use std::collections::HashMap;
use time::Date;
use uuid::Uuid;

/// The fewest patients with a value for an attribute to be analysed.
const MIN_PATIENTS: usize = 10;

/// A result saying why the analysis could not be done.
pub fn unavailable(q: &QualityEfficacyPlan, why: &str) -> CqaResult {
    CqaResult {
        endpoint: q.endpoint.to_string(),
        model: String::new(),
        effect_name: String::new(),
        patients: 0,
        fdr: q.fdr,
        attributes: Vec::new(),
        candidates: Vec::new(),
        problem: Some(why.to_string()),
    }
}

/// Runs the quality–efficacy analysis for the endpoint `ep` with outcomes `ed`.
pub fn analyse(
    q: &QualityEfficacyPlan,
    ep: &Endpoint,
    cohort: &Cohort,
    data: &RegistryData,
    ed: &EndpointData,
) -> CqaResult {
    // Latest numeric value per (lot, attribute), with its unit.
    let mut per_lot: HashMap<(Uuid, String), (Date, f64, String)> = HashMap::new();
    for r in &data.qc_results {
        let QcValue::Numeric { value, unit } = &r.data.value else {
            continue;
        };
        let key = (r.data.lot_id, r.data.attribute.as_str().to_string());
        let entry = (r.data.tested_on, value.get(), unit.to_string());
        match per_lot.get(&key) {
            Some((d, _, _)) if *d >= r.data.tested_on => {}
            _ => {
                per_lot.insert(key, entry);
            }
        }
    }
    let mut attributes: Vec<String> = if q.attributes.is_empty() {
        let mut a: Vec<String> = per_lot.keys().map(|(_, a)| a.clone()).collect();
        a.sort();
        a.dedup();
        a
    } else {
        q.attributes
            .iter()
            .map(|a| a.as_str().to_lowercase())
            .collect()
    };
    attributes.dedup();
    let (model, effect_name) = match ep.definition {
        EndpointDefinition::Binary { .. } => ("logistic", "odds ratio per SD"),
        EndpointDefinition::TimeToEvent { .. } => ("cox", "hazard ratio per SD"),
        EndpointDefinition::Continuous { .. } => ("linear", "difference per SD"),
    };
    let treated_rows: Vec<&crate::endpoints::OutcomeRow> = ed
        .rows
        .iter()
        .filter(|r| {
            cohort.subjects[r.subject].treated && !cohort.subjects[r.subject].lots.is_empty()
        })
        .collect();
    let mut out = CqaResult {
        endpoint: q.endpoint.to_string(),
        model: model.into(),
        effect_name: effect_name.into(),
        patients: treated_rows.len(),
        fdr: q.fdr,
        attributes: Vec::new(),
        candidates: Vec::new(),
        problem: None,
    };
    if treated_rows.is_empty() {
        out.problem = Some(
            "no treated patient with an outcome received a unit traceable to a lot with QC results"
                .into(),
        );
        return out;
    }
    if attributes.is_empty() {
        out.problem = Some("the lots received have no numeric QC results".into());
        return out;
    }
    for attr in &attributes {
        let mut x = Vec::new();
        let mut rows = Vec::new();
        let mut lots_seen = std::collections::BTreeSet::new();
        let mut unit = String::new();
        for r in &treated_rows {
            let vals: Vec<f64> = cohort.subjects[r.subject]
                .lots
                .iter()
                .filter_map(|l| {
                    let (_, v, u) = per_lot.get(&(*l, attr.clone()))?;
                    lots_seen.insert(*l);
                    unit = u.clone();
                    Some(*v)
                })
                .collect();
            if !vals.is_empty() {
                x.push(vals.iter().sum::<f64>() / vals.len() as f64);
                rows.push(*r);
            }
        }
        out.attributes.push(attribute(
            attr,
            unit,
            &x,
            &rows,
            lots_seen.len(),
            &ep.definition,
        ));
    }
    let p: Vec<f64> = out
        .attributes
        .iter()
        .map(|a| a.p.unwrap_or(f64::NAN))
        .collect();
    let qv = benjamini_hochberg(&p);
    for (a, qv) in out.attributes.iter_mut().zip(qv) {
        if qv.is_finite() {
            a.q = Some(qv);
            a.candidate = qv <= q.fdr;
        }
    }
    out.candidates = out
        .attributes
        .iter()
        .filter(|a| a.candidate)
        .map(|a| a.attribute.clone())
        .collect();
    out
}

fn attribute(
    name: &str,
    unit: String,
    x: &[f64],
    rows: &[&crate::endpoints::OutcomeRow],
    lots: usize,
    def: &EndpointDefinition,
) -> AttributeResult {
    let n = x.len();
    let (mean, sd) = saisei_stats::means::mean_sd(x);
    let mut r = AttributeResult {
        attribute: name.into(),
        unit,
        n,
        lots,
        mean,
        sd,
        effect: None,
        lower: None,
        upper: None,
        p: None,
        q: None,
        candidate: false,
        subgroups: None,
        problem: None,
    };
    if n < MIN_PATIENTS {
        r.problem = Some(format!(
            "only {n} patients have a value (at least {MIN_PATIENTS} needed)"
        ));
        return r;
    }
    if sd.is_nan() || sd <= 0.0 {
        r.problem = Some("every patient's lots have the same value".into());
        return r;
    }
    let zx: Vec<f64> = x.iter().map(|v| (v - mean) / sd).collect();
    let y: Vec<f64> = rows.iter().map(|r| r.value).collect();
    let z = z_for(0.95);
    let fit: Result<(f64, f64, f64, bool), String> = match def {
        EndpointDefinition::Binary { .. } => Covariates::new(vec![name.into()], vec![zx.clone()])
            .map_err(|e| e.to_string())
            .and_then(|c| {
                fit_logistic("response", &y, &c, LogisticOptions::default())
                    .map_err(|e| e.to_string())
            })
            .and_then(|f| {
                let c = f
                    .coefficients
                    .iter()
                    .find(|c| c.name == name)
                    .ok_or("no coefficient")?;
                Ok((c.coef, c.se, c.p, true))
            }),
        EndpointDefinition::TimeToEvent { .. } => {
            let event: Vec<bool> = rows.iter().map(|r| r.event).collect();
            Covariates::new(vec![name.into()], vec![zx.clone()])
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    fit_cox(
                        &CoxData {
                            time: &y,
                            event: &event,
                            covariates: &c,
                            strata: None,
                            weights: None,
                            cluster: None,
                        },
                        CoxOptions::default(),
                    )
                    .map_err(|e| e.to_string())
                })
                .map(|f| {
                    (
                        f.coefficients[0].coef,
                        f.coefficients[0].se,
                        f.coefficients[0].p,
                        true,
                    )
                })
        }
        EndpointDefinition::Continuous { .. } => {
            ols(&y, &[name.to_string()], std::slice::from_ref(&zx))
                .map(|f| (f[1].coef, f[1].se, f[1].p, false))
                .ok_or_else(|| "the design is singular".to_string())
        }
    };
    match fit {
        Ok((coef, se, p, exp)) => {
            let t = |v: f64| if exp { v.exp() } else { v };
            r.effect = Some(t(coef));
            r.lower = Some(t(coef - z * se));
            r.upper = Some(t(coef + z * se));
            r.p = Some(p);
        }
        Err(e) => r.problem = Some(e),
    }
    // Subgroups at the median.
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let outcome = |idx: &[usize]| -> ArmOutcome {
        match def {
            EndpointDefinition::Continuous { .. } => ArmOutcome {
                n: idx.len(),
                count: None,
                value: if idx.is_empty() {
                    f64::NAN
                } else {
                    idx.iter().map(|&i| y[i]).sum::<f64>() / idx.len() as f64
                },
            },
            _ => {
                let hit = idx
                    .iter()
                    .filter(|&&i| match def {
                        EndpointDefinition::TimeToEvent { .. } => rows[i].event,
                        _ => y[i] == 1.0,
                    })
                    .count();
                ArmOutcome {
                    n: idx.len(),
                    count: Some(hit),
                    value: if idx.is_empty() {
                        f64::NAN
                    } else {
                        hit as f64 / idx.len() as f64
                    },
                }
            }
        }
    };
    let below: Vec<usize> = (0..n).filter(|&i| x[i] <= median).collect();
    let above: Vec<usize> = (0..n).filter(|&i| x[i] > median).collect();
    let responder = |i: usize| match def {
        EndpointDefinition::TimeToEvent { .. } => Some(rows[i].event),
        EndpointDefinition::Binary { .. } => Some(y[i] == 1.0),
        EndpointDefinition::Continuous { .. } => None,
    };
    let group_mean = |want: bool| {
        let v: Vec<f64> = (0..n)
            .filter(|&i| responder(i) == Some(want))
            .map(|i| x[i])
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    r.subgroups = Some(Subgroups {
        median,
        below: outcome(&below),
        above: outcome(&above),
        mean_responders: group_mean(true),
        mean_others: group_mean(false),
    });
    r
}
