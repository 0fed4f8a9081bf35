//! Matching on lalonde against MatchIt 4.5.1 (see reference.R for which engine).

use std::collections::HashMap;

use saisei_stats::balance::{SdDenominator, balance_table};
use saisei_stats::matching::{MatchOptions, matched_effect, nearest_neighbour};
use saisei_stats::propensity::fit_propensity;
use serde_json::Value;

use crate::data::{Csv, assert_rel, f, reference};
use crate::logit::lalonde_covariates;

fn check(key: &str, options: MatchOptions) {
    let csv = Csv::load("lalonde.csv");
    let x = lalonde_covariates(&csv);
    let treatment = csv.num("treat");
    let treated: Vec<bool> = treatment.iter().map(|&t| t == 1.0).collect();
    let ids = csv.text("id");
    let ps = fit_propensity("treat", &treatment, &x).unwrap();
    let m = nearest_neighbour(&ps.logit, &treated, options).unwrap();
    let want = &reference("reference_r.json")["matching"][key];

    let ours: HashMap<&str, Vec<&str>> = m
        .sets
        .iter()
        .map(|s| {
            (
                ids[s.treated].as_str(),
                s.controls.iter().map(|&c| ids[c].as_str()).collect(),
            )
        })
        .collect();
    let theirs: HashMap<&str, Vec<&str>> = want["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["treated"].as_str().unwrap(),
                s["controls"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(ours, theirs, "{key}: matched sets differ from MatchIt");
    assert_eq!(m.sets.len() as f64, f(&want["matched_treated"]));
    assert_eq!(
        m.unmatched_treated.len() as f64,
        f(&want["unmatched_treated"])
    );
    if let Some(width) = m.caliper_width {
        assert_rel(
            &format!("{key} caliper"),
            width,
            f(&want["caliper_width"]),
            1e-6,
        );
    }
    let balance = balance_table(&x, &treated, &m.weights, SdDenominator::Treated);
    for (b, w) in balance.iter().zip(want["balance"].as_array().unwrap()) {
        assert_eq!(b.name, w["name"].as_str().unwrap());
        assert_rel(
            &format!("{key} SMD before {}", b.name),
            b.smd_before,
            f(&w["smd_before"]),
            1e-6,
        );
        assert_rel(
            &format!("{key} SMD after {}", b.name),
            b.smd_after,
            f(&w["smd_after"]),
            1e-6,
        );
    }
    if let Some(att) = want.get("att").and_then(Value::as_f64) {
        let e = matched_effect(&csv.num("re78"), &m).unwrap();
        assert_rel(&format!("{key} ATT"), e.att, att, 1e-6);
        assert_rel(&format!("{key} ATT SE"), e.att_se, f(&want["att_se"]), 1e-6);
    }
}

#[test]
fn nearest_one_to_one_matches_matchit() {
    check("nearest", MatchOptions::default());
}

#[test]
fn caliper_matches_matchit() {
    check(
        "caliper_0_1",
        MatchOptions {
            caliper: Some(0.1),
            ..MatchOptions::default()
        },
    );
}

#[test]
fn two_to_one_with_caliper_matches_matchit() {
    check(
        "ratio_2_caliper_0_2",
        MatchOptions {
            ratio: 2,
            caliper: Some(0.2),
            ..MatchOptions::default()
        },
    );
}

#[test]
fn with_replacement_matches_matchit() {
    check(
        "replace",
        MatchOptions {
            replace: true,
            ..MatchOptions::default()
        },
    );
}
