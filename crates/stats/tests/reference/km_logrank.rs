//! Kaplan–Meier (lung by sex) and log-rank against R's survfit and survdiff.

use saisei_stats::km::{ConfType, KmRow, kaplan_meier};
use saisei_stats::logrank::logrank;
use saisei_stats::survival::{Grouping, event_indicator};
use serde_json::Value;

use crate::data::{Csv, assert_rel, f, of, reference};

const TOL: f64 = 1e-6;

fn compare_opt(what: &str, got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (Some(g), Some(w)) => assert_rel(what, g, w, TOL),
        (g, w) => assert_eq!(g.is_some(), w.is_some(), "{what}: got {g:?}, R {w:?}"),
    }
}

fn compare_rows(what: &str, got: &[KmRow], want: &Value) {
    let want = want.as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{what}: number of rows");
    for (g, w) in got.iter().zip(want) {
        let t = f(&w["time"]);
        assert_rel(&format!("{what} time"), g.time, t, 1e-12);
        assert_eq!(g.n_risk as f64, f(&w["n_risk"]), "{what} n.risk at {t}");
        assert_rel(&format!("{what} surv at {t}"), g.surv, f(&w["surv"]), TOL);
        compare_opt(&format!("{what} se at {t}"), g.se, of(&w["se"]));
        compare_opt(&format!("{what} lower at {t}"), g.lower, of(&w["lower"]));
        compare_opt(&format!("{what} upper at {t}"), g.upper, of(&w["upper"]));
    }
}

#[test]
fn lung_by_sex_matches_survfit_for_every_conf_type() {
    let csv = Csv::load("lung.csv");
    let time = csv.num("time");
    let event = event_indicator("status", &csv.num("status")).unwrap();
    let sex = csv.num("sex");
    let r = reference("reference_r.json");
    let times: Vec<f64> = r["km"]["times"].as_array().unwrap().iter().map(f).collect();
    for (key, conf) in [
        ("log", ConfType::Log),
        ("log_log", ConfType::LogLog),
        ("plain", ConfType::Plain),
    ] {
        for (g, want) in [1.0, 2.0].iter().zip(r["km"][key].as_array().unwrap()) {
            let rows: Vec<usize> = (0..time.len()).filter(|&i| sex[i] == *g).collect();
            let t: Vec<f64> = rows.iter().map(|&i| time[i]).collect();
            let e: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
            let km = kaplan_meier(&t, &e, conf).unwrap();
            let what = format!("{key} sex={g}");
            assert_eq!(km.n as f64, f(&want["n"]), "{what} n");
            assert_eq!(km.events as f64, f(&want["events"]), "{what} events");
            compare_opt(&format!("{what} median"), km.median, of(&want["median"]));
            compare_opt(
                &format!("{what} median lower"),
                km.median_lower,
                of(&want["median_lower"]),
            );
            compare_opt(
                &format!("{what} median upper"),
                km.median_upper,
                of(&want["median_upper"]),
            );
            compare_rows(
                &format!("{what} at events"),
                &km.at_event_times(),
                &want["at_events"],
            );
            compare_rows(
                &format!("{what} at times"),
                &km.at_times(&times),
                &want["at_times"],
            );
        }
    }
}

#[test]
fn logrank_matches_survdiff() {
    let r = reference("reference_r.json");
    let lung = Csv::load("lung.csv");
    let g = Grouping::from_values(&lung.num("sex"));
    let lr = logrank(
        &lung.num("time"),
        &event_indicator("status", &lung.num("status")).unwrap(),
        &g,
    )
    .unwrap();
    let want = &r["logrank"]["lung_sex"];
    assert_rel("lung chisq", lr.chisq, f(&want["chisq"]), TOL);
    assert_rel("lung p", lr.p, f(&want["p"]), TOL);
    assert_eq!(lr.df as f64, f(&want["df"]));

    let rossi = Csv::load("rossi_weighted.csv");
    let labels: Vec<String> = rossi.text("prio_group").to_vec();
    let mut distinct = labels.clone();
    distinct.sort();
    distinct.dedup();
    let codes = labels
        .iter()
        .map(|l| distinct.iter().position(|d| d == l).unwrap() as u32)
        .collect();
    let g = Grouping::new(distinct, codes).unwrap();
    let lr = logrank(
        &rossi.num("week"),
        &event_indicator("arrest", &rossi.num("arrest")).unwrap(),
        &g,
    )
    .unwrap();
    let want = &r["logrank"]["rossi_prio_group"];
    assert_rel("rossi 3-group chisq", lr.chisq, f(&want["chisq"]), TOL);
    assert_rel("rossi 3-group p", lr.p, f(&want["p"]), TOL);
    assert_eq!(lr.df, 2);
}
