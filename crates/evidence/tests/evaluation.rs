//! The evidence engine on small cohorts with known answers: crude differences computed
//! by hand, adjusted estimates compared with `saisei-stats` called directly, the
//! effect of adjudication, the verdict, the CQA analysis and the plots.

use saisei_domain::evaluation::{
    AdjudicationAssessment, AdjudicationTask, EvaluationPlan, EventDecision, TaskStatus, Verdict,
};
use saisei_domain::quality::records::{Lot, LotQcResult, ProductUnit};
use saisei_domain::registry::*;
use saisei_domain::{Record, RecordMeta};
use saisei_evidence::{AnalysisOptions, RegistryData, analyse, plot};
use saisei_stats::Covariates;
use saisei_stats::cox::{CoxData, CoxOptions, fit_cox};
use saisei_stats::matching::{MatchOptions, MatchOrder, matched_effect, nearest_neighbour};
use saisei_stats::propensity::fit_propensity;
use serde_json::{Value, json};
use time::macros::date;
use time::{Date, Duration};
use uuid::Uuid;

fn rec<T: serde::de::DeserializeOwned>(v: Value) -> Record<T> {
    Record {
        meta: RecordMeta::new(time::OffsetDateTime::UNIX_EPOCH),
        data: serde_json::from_value(v).expect("valid test record"),
    }
}

/// A registry of `n` patients: even-numbered treated (at site A), odd controls (site A
/// or B); treatment is more likely in the old, so age confounds. `respond(i, treated)` says who
/// improves by ≥ 10 points at M12; `event_day(i)` who has a joint infection when.
struct World {
    data: RegistryData,
    treated: Vec<bool>,
    ages: Vec<f64>,
    baselines: Vec<f64>,
}

const CUT: Date = date!(2026 - 06 - 30);

fn world(
    n: usize,
    respond: impl Fn(usize, bool) -> bool,
    event_day: impl Fn(usize) -> Option<i64>,
) -> World {
    let site_a = rec::<Organisation>(json!({"name": "Site A", "kind": "medical_institution"}));
    let site_b = rec::<Organisation>(json!({"name": "Site B", "kind": "medical_institution"}));
    let product = rec::<Product>(json!({"name": "Cellex", "modality": "msc", "approval": {
        "kind": "conditional_time_limited", "approved_on": "2021-01-15", "term_years": 7}}));
    let lot_a = rec::<Lot>(
        json!({"lot_number": "L-A", "product_id": product.meta.id, "facility_id": Uuid::nil(),
        "cell_bank_id": Uuid::nil(), "process_version": "v1", "specification": "example-ucmsc@1", "manufactured_on": "2022-01-01"}),
    );
    let lot_b = rec::<Lot>(
        json!({"lot_number": "L-B", "product_id": product.meta.id, "facility_id": Uuid::nil(),
        "cell_bank_id": Uuid::nil(), "process_version": "v1", "specification": "example-ucmsc@1", "manufactured_on": "2022-02-01"}),
    );
    let mut data = RegistryData {
        product: product.clone(),
        enrollments: vec![],
        patients: vec![],
        sites: vec![site_a.clone(), site_b.clone()],
        treatments: vec![],
        visits: vec![],
        observations: vec![],
        adverse_events: vec![],
        consents: vec![],
        lots: vec![lot_a.clone(), lot_b.clone()],
        units: vec![],
        qc_results: vec![],
        tasks: vec![],
        assessments: vec![],
    };
    for (lot, viability, cd73) in [(&lot_a, 95.0, 97.0), (&lot_b, 80.0, 96.5)] {
        for (attr, v) in [("viability", viability), ("cd73_positive", cd73)] {
            data.qc_results.push(rec::<LotQcResult>(json!({"lot_id": lot.meta.id, "attribute": attr,
                "value": {"type": "numeric", "value": v, "unit": "%"}, "method": "flow_cytometry", "tested_on": "2022-03-01"})));
        }
    }
    let (mut treated, mut ages, mut baselines) = (vec![], vec![], vec![]);
    for i in 0..n {
        let age = 50 + (i * 7) % 31;
        let is_treated = if age >= 65 { i % 3 != 2 } else { i % 3 == 0 };
        let site = if is_treated || i % 2 == 0 {
            &site_a
        } else {
            &site_b
        };
        let index = date!(2023 - 01 - 10) + Duration::days((i as i64 * 5) % 300);
        let patient = rec::<Patient>(
            json!({"institution_id": site.meta.id, "pseudonym": format!("{:064x}", i + 1),
            "birth_year_month": format!("{:04}-01", index.year() - age as i32), "sex": if i % 2 == 0 {"female"} else {"male"}}),
        );
        let pid = patient.meta.id;
        data.patients.push(patient);
        let baseline = 40.0 + ((i * 13) % 20) as f64;
        if is_treated {
            let lot = if i % 4 == 0 { &lot_a } else { &lot_b };
            let unit = rec::<ProductUnit>(
                json!({"lot_id": lot.meta.id, "unit_number": format!("U-{i}"), "container": "bag",
                "dose": 1.0, "dose_unit": "cells", "expires_on": "2030-01-01",
                "storage": {"min_celsius": -196.0, "max_celsius": -150.0}, "recipient": {"source": "autologous", "patient_id": pid}}),
            );
            data.treatments.push(rec::<Treatment>(json!({"patient_id": pid, "unit_id": unit.meta.id, "product_id": product.meta.id,
                "administered_on": index, "dose": 1.0, "dose_unit": "cells", "route": "intra_articular"})));
            data.units.push(unit);
        } else {
            data.enrollments.push(rec::<Enrollment>(
                json!({"patient_id": pid, "arm": "control", "product_id": product.meta.id,
                "control_source": "registry", "enrolled_on": index, "index_date": index}),
            ));
        }
        let visit = rec::<Visit>(
            json!({"patient_id": pid, "label": "M12", "due_on": index + Duration::days(365),
            "window_opens_on": index + Duration::days(335), "window_closes_on": index + Duration::days(410),
            "done_on": index + Duration::days(365)}),
        );
        data.observations.push(rec::<Observation>(json!({"patient_id": pid, "code": "KOOS-pain", "value_number": baseline, "observed_on": index})));
        let change = if respond(i, is_treated) { 12.0 } else { 2.0 };
        data.observations.push(rec::<Observation>(
            json!({"patient_id": pid, "visit_id": visit.meta.id, "code": "KOOS-pain",
            "value_number": baseline + change, "observed_on": index + Duration::days(365)}),
        ));
        data.visits.push(visit);
        if let Some(d) = event_day(i) {
            data.adverse_events.push(rec::<AdverseEvent>(json!({"patient_id": pid, "verbatim_term": "Septic arthritis",
                "ctcae_term": "Joint infection", "grade": 3, "seriousness": ["hospitalisation"], "causality": "possible",
                "onset_on": index + Duration::days(d), "known_on": index + Duration::days(d), "outcome": "recovered"})));
        }
        treated.push(is_treated);
        ages.push(age as f64);
        baselines.push(baseline);
    }
    World {
        data,
        treated,
        ages,
        baselines,
    }
}

fn plan(product: Uuid, method: Value, target: u32) -> EvaluationPlan {
    serde_json::from_value(json!({
        "product_id": product, "title": "Test evaluation",
        "sample_size": {"target_treated": target, "target_controls": 20,
            "assumptions": {"design": "two_proportions", "p_treated": 0.6, "p_control": 0.2, "alpha": 0.05, "power": 0.8, "allocation": 1.0},
            "justification": "test"},
        "sites": {"planned": 2},
        "endpoints": [
            {"key": "response", "name": "Response at M12", "role": "primary",
             "definition": {"type": "binary", "measure": {"code": "KOOS-pain", "visit_label": "M12", "change_from_baseline": true},
                            "direction": "at_least", "threshold": 10},
             "objectivity": "objective", "assessed_by": "independent_assessor",
             "success": {"measure": "risk_difference", "statistic": "lower_limit", "comparator": "gt", "threshold": 0.0}},
            {"key": "infection", "name": "Time to joint infection", "role": "secondary",
             "definition": {"type": "time_to_event", "events": [{"source": "adverse_event", "ctcae_terms": ["Joint infection"]}]},
             "objectivity": "objective", "assessed_by": "central_committee", "adjudicated": true,
             "success": {"measure": "hazard_ratio", "statistic": "upper_limit", "comparator": "lt", "threshold": 1.0}}
        ],
        "randomisation": {"reason_not_randomised": "test"},
        "blinding": {"reason_not_blinded": "test", "central_adjudication": true, "adjudicators": ["a", "b"]},
        "control": {"source": "registry", "direction": "prospective", "source_justification": "test",
                    "covariates": ["age", "sex", "baseline:KOOS-pain"], "method": method},
        "use_results_rationale": "test",
        "quality_efficacy": {"endpoint": "response", "fdr": 0.2}
    }))
    .expect("valid plan")
}

fn options() -> AnalysisOptions {
    AnalysisOptions {
        as_of: CUT,
        plan_id: None,
        plan_version: 1,
    }
}

#[test]
fn crude_risk_difference_is_the_difference_in_proportions() {
    let w = world(120, |i, _| i % 5 < 3, |_| None);
    let p = plan(
        w.data.product.meta.id,
        json!({"method": "matching", "ratio": 1}),
        20,
    );
    let r = analyse(&p, &w.data, &options()).unwrap();
    let e = &r.endpoints[0];
    let (mut rt, mut nt, mut rc, mut nc) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..120 {
        let y = if i % 5 < 3 { 1.0 } else { 0.0 };
        if w.treated[i] {
            rt += y;
            nt += 1.0;
        } else {
            rc += y;
            nc += 1.0;
        }
    }
    let crude = e
        .sensitivity
        .iter()
        .find(|s| s.analysis == "Unadjusted comparison")
        .unwrap();
    assert!(
        (crude.value - (rt / nt - rc / nc)).abs() < 1e-12,
        "{crude:?}"
    );
    assert_eq!(crude.n_treated as f64, nt);
    assert_eq!(r.cohort.treated as f64, nt);
    assert_eq!(r.flow[0].remaining_treated as f64, nt);
}

#[test]
fn matched_risk_difference_equals_the_stats_crate() {
    let w = world(160, |i, _| (i % 7) < 4, |_| None);
    let p = plan(
        w.data.product.meta.id,
        json!({"method": "matching", "ratio": 1, "caliper": 0.5}),
        20,
    );
    let r = analyse(&p, &w.data, &options()).unwrap();
    let e = r.endpoints[0].estimate.as_ref().expect("primary estimate");
    // The same analysis, by hand with saisei-stats. Subjects are ordered treated first,
    // then controls, each by patient id.
    let mut order: Vec<usize> = (0..160).collect();
    order.sort_by_key(|&i| (!w.treated[i], w.data.patients[i].meta.id));
    let t: Vec<f64> = order
        .iter()
        .map(|&i| if w.treated[i] { 1.0 } else { 0.0 })
        .collect();
    let covs = Covariates::new(
        vec!["age".into(), "female".into(), "baseline KOOS-pain".into()],
        vec![
            order.iter().map(|&i| w.ages[i]).collect(),
            order
                .iter()
                .map(|&i| if i % 2 == 0 { 1.0 } else { 0.0 })
                .collect(),
            order.iter().map(|&i| w.baselines[i]).collect(),
        ],
    )
    .unwrap();
    let ps = fit_propensity("treated", &t, &covs).unwrap();
    let tb: Vec<bool> = t.iter().map(|&v| v == 1.0).collect();
    let m = nearest_neighbour(
        &ps.logit,
        &tb,
        MatchOptions {
            ratio: 1,
            caliper: Some(0.5),
            replace: false,
            order: MatchOrder::Descending,
        },
    )
    .unwrap();
    let y: Vec<f64> = order
        .iter()
        .map(|&i| if (i % 7) < 4 { 1.0 } else { 0.0 })
        .collect();
    let att = matched_effect(&y, &m).unwrap();
    assert!(
        (e.value - att.att).abs() < 1e-12,
        "{} vs {}",
        e.value,
        att.att
    );
    assert!((e.se - att.att_se).abs() < 1e-12);
    assert_eq!(e.n_treated, m.sets.len());
    assert!((e.lower - (att.att - 1.959963984540054 * att.att_se)).abs() < 1e-9);
    let design = r.endpoints[0].design.as_ref().unwrap();
    assert_eq!(design.balance.len(), 3);
    assert!(
        design
            .balance
            .iter()
            .any(|b| b.name == "age" && b.smd_before.abs() > b.smd_after.abs())
    );
}

#[test]
fn weighted_hazard_ratio_equals_the_stats_crate_and_adjudication_counts() {
    let event = |i: usize| {
        if i % 4 == 1 {
            Some(30 + (i as i64 * 11) % 400)
        } else if i.is_multiple_of(9) {
            Some(200)
        } else {
            None
        }
    };
    let mut w = world(140, |i, _| i % 2 == 0, event);
    let p = plan(
        w.data.product.meta.id,
        json!({"method": "weighting", "estimand": "att"}),
        20,
    );
    // No tasks yet: every candidate event is pending, so the secondary endpoint says so.
    let r = analyse(&p, &w.data, &options()).unwrap();
    let infection = &r.endpoints[1];
    let n_events = w.data.adverse_events.len();
    assert_eq!(infection.pending_adjudications, n_events);
    let hr = infection.estimate.as_ref().expect("HR");
    // Reproduce: IPTW ATT weights from the stats crate, then a weighted Cox fit.
    let mut order: Vec<usize> = (0..140).collect();
    order.sort_by_key(|&i| (!w.treated[i], w.data.patients[i].meta.id));
    let tb: Vec<bool> = order.iter().map(|&i| w.treated[i]).collect();
    let t: Vec<f64> = tb.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
    let covs = Covariates::new(
        vec!["age".into(), "female".into(), "baseline KOOS-pain".into()],
        vec![
            order.iter().map(|&i| w.ages[i]).collect(),
            order
                .iter()
                .map(|&i| if i % 2 == 0 { 1.0 } else { 0.0 })
                .collect(),
            order.iter().map(|&i| w.baselines[i]).collect(),
        ],
    )
    .unwrap();
    let ps = fit_propensity("treated", &t, &covs).unwrap();
    let weights = saisei_stats::weighting::iptw(
        &tb,
        &ps.score,
        &covs,
        saisei_stats::weighting::IptwOptions {
            estimand: saisei_stats::weighting::Estimand::Att,
            stabilized: false,
            truncate: None,
        },
    )
    .unwrap()
    .weights;
    let index = |i: usize| date!(2023 - 01 - 10) + Duration::days((i as i64 * 5) % 300);
    let (time, ev): (Vec<f64>, Vec<bool>) = order
        .iter()
        .map(|&i| match event(i) {
            Some(d) => (d as f64, true),
            None => (
                ((index(i) + Duration::days(365)).min(CUT) - index(i)).whole_days() as f64,
                false,
            ),
        })
        .unzip();
    let tc = Covariates::new(vec!["treated".into()], vec![t.clone()]).unwrap();
    let fit = fit_cox(
        &CoxData {
            time: &time,
            event: &ev,
            covariates: &tc,
            strata: None,
            weights: Some(&weights),
            cluster: None,
        },
        CoxOptions::default(),
    )
    .unwrap();
    assert!(
        (hr.value - fit.coefficients[0].hr).abs() < 1e-9,
        "{} vs {}",
        hr.value,
        fit.coefficients[0].hr
    );
    assert!((hr.se - fit.coefficients[0].se).abs() < 1e-9);
    assert!(
        infection
            .km
            .as_ref()
            .is_some_and(|k| k.arms.len() == 2 && !k.at_risk.is_empty())
    );

    // Adjudicate: reject every event of treated patients, confirm the others.
    let plan_id = Uuid::now_v7();
    for (k, e) in w.data.adverse_events.clone().iter().enumerate() {
        let treated_patient = w
            .data
            .treatments
            .iter()
            .any(|t| t.data.patient_id == e.data.patient_id);
        let decision = if treated_patient {
            EventDecision::Rejected
        } else {
            EventDecision::Confirmed
        };
        let task = rec::<AdjudicationTask>(
            json!({"plan_id": plan_id, "endpoint": "infection", "patient_id": e.data.patient_id,
            "source_kind": "adverse_event", "source_id": e.meta.id, "task_code": format!("infection-{k:04}"),
            "event": {"description": "Septic arthritis", "day": 1, "details": []},
            "status": "decided", "decision": decision, "decided_by": "agreement"}),
        );
        for who in ["a", "b"] {
            w.data.assessments.push(rec::<AdjudicationAssessment>(
                json!({"task_id": task.meta.id, "adjudicator": who,
                "round": "independent", "decision": decision}),
            ));
        }
        w.data.tasks.push(task);
    }
    let r = analyse(&p, &w.data, &options()).unwrap();
    let infection = &r.endpoints[1];
    assert_eq!(infection.pending_adjudications, 0);
    assert!(infection.rejected_by_adjudication > 0);
    assert_eq!(
        infection.treated.as_ref().unwrap().count,
        Some(0),
        "treated events were all rejected"
    );
    assert!(
        infection
            .sensitivity
            .iter()
            .any(|s| s.analysis.starts_with("Events as reported by sites"))
    );
    assert_eq!(r.adjudication.tasks, n_events);
    let k = r.adjudication.agreement[0].kappa.expect("kappa");
    assert!(
        (k.kappa - 1.0).abs() < 1e-12,
        "identical assessments agree perfectly"
    );
    assert!(
        w.data
            .tasks
            .iter()
            .all(|t| t.data.status == TaskStatus::Decided)
    );
}

#[test]
fn verdicts_follow_the_information_and_the_criterion() {
    // Treated respond far more often: criterion met once the target is reached.
    let w = world(
        160,
        |i, treated| if treated { i % 5 != 0 } else { i % 5 == 0 },
        |_| None,
    );
    let pid = w.data.product.meta.id;
    let met = analyse(
        &plan(pid, json!({"method": "weighting", "estimand": "att"}), 20),
        &w.data,
        &options(),
    )
    .unwrap();
    assert_eq!(met.verdict, Verdict::Met, "{:?}", met.verdict_reasons);
    // A target far above the accrual leaves it open.
    let open = analyse(
        &plan(pid, json!({"method": "weighting", "estimand": "att"}), 5000),
        &w.data,
        &options(),
    )
    .unwrap();
    assert_eq!(open.verdict, Verdict::NotYetEvaluable);
    assert!(
        open.plan_check
            .iter()
            .all(|g| g.field != "sample_size.target_treated")
    );
    // No effect at all: not met.
    let w0 = world(160, |i, _| i % 10 < 3, |_| None);
    let none = analyse(
        &plan(
            w0.data.product.meta.id,
            json!({"method": "stratification", "strata": 4}),
            20,
        ),
        &w0.data,
        &options(),
    )
    .unwrap();
    assert_eq!(none.verdict, Verdict::NotMet, "{:?}", none.verdict_reasons);
    // The JSON says it the way the CLI prints it.
    assert_eq!(serde_json::to_value(&none).unwrap()["verdict"], "not_met");
}

#[test]
fn quality_attributes_are_related_to_outcomes() {
    // Patients on lot A (viability 95 %) respond; on lot B (80 %) they do not.
    let w = world(200, |i, _| i % 4 == 0, |_| None);
    let r = analyse(
        &plan(
            w.data.product.meta.id,
            json!({"method": "matching", "ratio": 1}),
            20,
        ),
        &w.data,
        &options(),
    )
    .unwrap();
    let q = r.cqa.expect("quality–efficacy analysis");
    assert_eq!(q.model, "logistic");
    assert!(q.patients > 10);
    let via = q
        .attributes
        .iter()
        .find(|a| a.attribute == "viability")
        .unwrap();
    let sub = via.subgroups.as_ref().unwrap();
    assert!(sub.above.value > sub.below.value, "{sub:?}");
    assert_eq!(via.lots, 2);
    // Perfect separation leaves the logistic fit undefined, which is reported, not hidden.
    assert!(via.p.is_some() || via.problem.is_some());
}

#[test]
fn plots_are_inline_svg_and_results_read_back() {
    let w = world(120, |i, _| i % 5 < 3, |i| (i % 6 == 1).then_some(100));
    let r = analyse(
        &plan(
            w.data.product.meta.id,
            json!({"method": "matching", "ratio": 2, "caliper": 0.5}),
            20,
        ),
        &w.data,
        &options(),
    )
    .unwrap();
    // Every plot the report shows is drawn as inline SVG.
    let e = &r.endpoints[0];
    let design = r
        .endpoints
        .iter()
        .find_map(|e| e.design.as_ref())
        .expect("an adjusted comparison");
    let km = r
        .endpoints
        .iter()
        .find_map(|e| e.km.as_ref())
        .expect("a time-to-event endpoint");
    let rows: Vec<(String, f64, f64, f64)> = e
        .estimate
        .iter()
        .map(|x| (x.analysis.clone(), x.value, x.lower, x.upper))
        .collect();
    for svg in [
        plot::love(&design.balance, "balance").unwrap(),
        plot::propensity(&design.ps_histogram, "scores").unwrap(),
        plot::km(km, "curve").unwrap(),
        plot::forest(
            &rows,
            e.estimate.as_ref().map(|x| x.measure),
            None,
            "forest",
        )
        .unwrap(),
    ] {
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(
            !svg.contains("href=\"http"),
            "nothing fetched from elsewhere"
        );
    }
    // Stored results read back as they were written (a filed run re-renders its report).
    let json = serde_json::to_value(&r).unwrap();
    let back: saisei_evidence::EvaluationResults = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
    // Runs filed before the quality–efficacy section was named `cqa` still read.
    let mut old = json.clone();
    let section = old.as_object_mut().unwrap().remove("cqa").unwrap();
    old["quality"] = section;
    let read: saisei_evidence::EvaluationResults = serde_json::from_value(old).unwrap();
    assert_eq!(serde_json::to_value(&read).unwrap(), json);
}
