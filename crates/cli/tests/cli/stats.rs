//! `saisei stats …` end to end: the built binary on the committed datasets, compared
//! with the reference numbers in `tests/data/` (see reference.R and reference.py
//! there), plus the exit-code-2 contract for bad input.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn reference(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

fn saisei(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saisei"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn json(args: &[&str]) -> Value {
    let out = saisei(args);
    assert!(
        out.status.success(),
        "saisei {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn temp_file(name: &str, contents: &str) -> String {
    let path = std::env::temp_dir().join(format!("saisei-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[track_caller]
fn assert_rel(what: &str, got: &Value, want: &Value, tol: f64) {
    let (g, w) = (got.as_f64().unwrap(), want.as_f64().unwrap());
    let rel = (g - w).abs() / w.abs().max(1e-12);
    assert!(
        rel <= tol,
        "{what}: got {g}, reference {w}, relative difference {rel:e}"
    );
}

/// Runs a command expected to fail on input and returns its stderr.
#[track_caller]
fn input_error(args: &[&str]) -> String {
    let out = saisei(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "saisei {args:?} should exit 2; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const ROSSI: &str = "fin,age,race,wexp,mar,paro,prio";
const LALONDE: &str = "age,educ,black,hispan,married,nodegree,re74,re75";

#[test]
fn cox_on_rossi_matches_r() {
    let r = reference("reference_r.json");
    for (ties, key) in [("efron", "rossi_efron"), ("breslow", "rossi_breslow")] {
        let got = json(&[
            "stats",
            "cox",
            "--csv",
            &data("rossi.csv"),
            "--time",
            "week",
            "--event",
            "arrest",
            "--covariates",
            ROSSI,
            "--ties",
            ties,
            "--json",
        ]);
        let want = &r["cox"][key];
        assert_eq!(got["n"], want["n"]);
        assert_eq!(got["events"], want["events"]);
        assert_eq!(got["ties"], ties);
        for k in ["loglik", "loglik_null", "concordance"] {
            assert_rel(&format!("{key} {k}"), &got[k], &want[k], 1e-6);
        }
        for (c, w) in got["coefficients"]
            .as_array()
            .unwrap()
            .iter()
            .zip(want["coefficients"].as_array().unwrap())
        {
            assert_eq!(c["name"], w["name"]);
            assert_rel("coef", &c["coef"], &w["coef"], 1e-6);
            assert_rel("se", &c["se"], &w["se"], 1e-6);
            let (coef, se) = (c["coef"].as_f64().unwrap(), c["se"].as_f64().unwrap());
            assert!((c["hr"].as_f64().unwrap() - coef.exp()).abs() < 1e-12);
            let lower = (coef - 1.959_963_984_540_054 * se).exp();
            assert!((c["hr_lower"].as_f64().unwrap() - lower).abs() < 1e-9 * lower);
        }
    }
}

#[test]
fn cox_with_strata_weights_and_clusters_matches_r() {
    let r = reference("reference_r.json");
    let got = json(&[
        "stats",
        "cox",
        "--csv",
        &data("rossi_weighted.csv"),
        "--time",
        "week",
        "--event",
        "arrest",
        "--covariates",
        ROSSI,
        "--ties",
        "breslow",
        "--weights",
        "w",
        "--cluster",
        "site",
        "--json",
    ]);
    let want = &r["cox"]["rossi_weights_cluster_breslow"];
    assert_eq!(got["robust"], true);
    assert_rel("loglik", &got["loglik"], &want["loglik"], 1e-6);
    assert_rel(
        "concordance",
        &got["concordance"],
        &want["concordance"],
        1e-6,
    );
    for (c, w) in got["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want["coefficients"].as_array().unwrap())
    {
        assert_rel("coef", &c["coef"], &w["coef"], 1e-6);
        assert_rel("robust se", &c["se"], &w["se"], 1e-6);
    }
    let got = json(&[
        "stats",
        "cox",
        "--csv",
        &data("rossi_weighted.csv"),
        "--time",
        "week",
        "--event",
        "arrest",
        "--covariates",
        "fin,age,race,mar,paro,prio",
        "--strata",
        "wexp",
        "--json",
    ]);
    let want = &r["cox"]["rossi_strata_wexp"];
    assert_rel("strata loglik", &got["loglik"], &want["loglik"], 1e-6);
    for (c, w) in got["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want["coefficients"].as_array().unwrap())
    {
        assert_rel("strata coef", &c["coef"], &w["coef"], 1e-6);
        assert_rel("strata se", &c["se"], &w["se"], 1e-6);
    }
}

#[test]
fn km_on_lung_matches_survfit() {
    let r = reference("reference_r.json");
    let got = json(&[
        "stats",
        "km",
        "--csv",
        &data("lung.csv"),
        "--time",
        "time",
        "--event",
        "status",
        "--group",
        "sex",
        "--json",
    ]);
    let groups = got["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    for (g, w) in groups.iter().zip(r["km"]["log"].as_array().unwrap()) {
        assert_eq!(g["group"], w["group"]);
        assert_eq!(g["n"], w["n"]);
        for k in ["median", "median_lower", "median_upper"] {
            assert_eq!(g[k].as_f64(), w[k].as_f64(), "{k}");
        }
        let (at, want) = (
            g["at"].as_array().unwrap(),
            w["at_events"].as_array().unwrap(),
        );
        assert_eq!(at.len(), want.len());
        for (a, b) in at.iter().zip(want) {
            assert_eq!(a["n_risk"], b["n_risk"]);
            for k in ["time", "surv", "se", "lower", "upper"] {
                if b[k].is_null() {
                    assert!(a[k].is_null(), "{k} should be null");
                } else {
                    assert_rel(k, &a[k], &b[k], 1e-6);
                }
            }
        }
    }
    let got = json(&[
        "stats",
        "km",
        "--csv",
        &data("lung.csv"),
        "--time",
        "time",
        "--event",
        "status",
        "--group",
        "sex",
        "--conf-type",
        "log-log",
        "--times",
        "0,100,200,365,500,1000",
        "--json",
    ]);
    for (g, w) in got["groups"]
        .as_array()
        .unwrap()
        .iter()
        .zip(r["km"]["log_log"].as_array().unwrap())
    {
        for (a, b) in g["at"]
            .as_array()
            .unwrap()
            .iter()
            .zip(w["at_times"].as_array().unwrap())
        {
            assert_eq!(a["n_risk"], b["n_risk"]);
            for k in ["surv", "se", "lower", "upper"] {
                assert_rel(k, &a[k], &b[k], 1e-6);
            }
        }
    }
}

#[test]
fn logrank_on_lung_matches_survdiff_and_reads_stdin() {
    let want = &reference("reference_r.json")["logrank"]["lung_sex"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_saisei"))
        .args([
            "stats", "logrank", "--csv", "-", "--time", "time", "--event", "status", "--group",
            "sex", "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let csv = std::fs::read(data("lung.csv")).unwrap();
    child.stdin.take().unwrap().write_all(&csv).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_rel("chisq", &got["chisq"], &want["chisq"], 1e-6);
    assert_rel("p", &got["p"], &want["p"], 1e-6);
    assert_eq!(got["df"], 1);
}

#[test]
fn logit_on_lalonde_matches_statsmodels() {
    let want = &reference("reference_python.json")["logit"];
    let got = json(&[
        "stats",
        "logit",
        "--csv",
        &data("lalonde.csv"),
        "--outcome",
        "treat",
        "--covariates",
        LALONDE,
        "--json",
    ]);
    assert_eq!(got["n"], want["n"]);
    assert_eq!(got["converged"], true);
    assert_rel("loglik", &got["loglik"], &want["loglik"], 1e-6);
    for (c, w) in got["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want["coefficients"].as_array().unwrap())
    {
        assert_eq!(c["name"], w["name"]);
        for k in ["coef", "se", "z", "p"] {
            assert_rel(k, &c[k], &w[k], 1e-6);
        }
    }
}

#[test]
fn match_on_lalonde_reproduces_matchit_pairs() {
    let want = &reference("reference_r.json")["matching"]["caliper_0_1"];
    let pairs = std::env::temp_dir().join(format!("saisei-cli-{}-pairs.csv", std::process::id()));
    let got = json(&[
        "stats",
        "match",
        "--csv",
        &data("lalonde.csv"),
        "--treatment",
        "treat",
        "--covariates",
        LALONDE,
        "--caliper",
        "0.1",
        "--id",
        "id",
        "--outcome",
        "re78",
        "--out",
        pairs.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(got["matched_treated"], want["matched_treated"]);
    assert_eq!(got["unmatched_treated"], want["unmatched_treated"]);
    assert_eq!(got["pairs"], want["matched_treated"]);
    assert_rel(
        "caliper",
        &got["caliper_width"],
        &want["caliper_width"],
        1e-6,
    );
    assert_rel("att", &got["att"], &want["att"], 1e-6);
    assert_rel("att_se", &got["att_se"], &want["att_se"], 1e-6);
    for (b, w) in got["balance"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want["balance"].as_array().unwrap())
    {
        assert_rel("smd before", &b["smd_before"], &w["smd_before"], 1e-6);
        assert_rel("smd after", &b["smd_after"], &w["smd_after"], 1e-6);
    }
    let written = std::fs::read_to_string(&pairs).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("treated_id,control_id,set"));
    let mut ours: Vec<(String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].to_owned())
        })
        .collect();
    let mut theirs: Vec<(String, String)> = want["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["treated"].as_str().unwrap().to_owned(),
                s["controls"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
    std::fs::remove_file(pairs).ok();
}

#[test]
fn iptw_writes_weights_and_improves_balance() {
    let out = std::env::temp_dir().join(format!("saisei-cli-{}-weights.csv", std::process::id()));
    let got = json(&[
        "stats",
        "iptw",
        "--csv",
        &data("lalonde.csv"),
        "--treatment",
        "treat",
        "--covariates",
        LALONDE,
        "--estimand",
        "ato",
        "--id",
        "id",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(got["n_treated"], 185);
    assert_eq!(got["n_control"], 429);
    // Overlap weights balance every covariate of the logistic model exactly.
    for b in got["balance"].as_array().unwrap() {
        assert!(b["smd_after"].as_f64().unwrap().abs() < 1e-6, "{b}");
    }
    let ess = got["ess_treated"].as_f64().unwrap();
    assert!(ess > 0.0 && ess <= 185.0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 615);
    assert!(text.starts_with("id,treatment,propensity,weight\nNSW1,1,"));
    std::fs::remove_file(out).ok();
}

#[test]
fn power_figures() {
    let got = json(&[
        "stats", "power", "survival", "--hr", "0.7", "--alpha", "0.05", "--power", "0.8", "--json",
    ]);
    assert_eq!(got["events"], 247);
    let got = json(&[
        "stats",
        "power",
        "proportions",
        "--p1",
        "0.5",
        "--p2",
        "0.75",
        "--power",
        "0.9",
        "--json",
    ]);
    assert_eq!(
        (got["n1"].as_u64(), got["n2"].as_u64()),
        (Some(77), Some(77))
    );
    let got = json(&[
        "stats",
        "power",
        "single-arm",
        "--p0",
        "0.2",
        "--p1",
        "0.4",
        "--json",
    ]);
    assert_eq!(
        (got["n"].as_u64(), got["critical"].as_u64()),
        (Some(35), Some(12))
    );
}

#[test]
fn readable_tables_by_default() {
    let out = saisei(&[
        "stats",
        "cox",
        "--csv",
        &data("rossi.csv"),
        "--time",
        "week",
        "--event",
        "arrest",
        "--covariates",
        ROSSI,
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("concordance = 0.640329"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("prio") && l.contains("1.095814"))
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let rossi = data("rossi.csv");
    let err = input_error(&[
        "stats",
        "cox",
        "--csv",
        &rossi,
        "--time",
        "week",
        "--event",
        "arrest",
        "--covariates",
        "fin,nope",
    ]);
    assert!(err.contains("column 'nope' not found"), "{err}");

    let f = temp_file("nonnumeric.csv", "t,e,x\n1,1,0.5\n2,0,abc\n3,1,0.1\n");
    let err = input_error(&[
        "stats",
        "cox",
        "--csv",
        &f,
        "--time",
        "t",
        "--event",
        "e",
        "--covariates",
        "x",
    ]);
    assert!(err.contains("non-numeric value 'abc' at line 3"), "{err}");

    let f = temp_file(
        "constant.csv",
        "t,e,x,k\n1,1,0.5,2\n2,0,0.3,2\n3,1,0.1,2\n4,1,0.9,2\n",
    );
    let err = input_error(&[
        "stats",
        "cox",
        "--csv",
        &f,
        "--time",
        "t",
        "--event",
        "e",
        "--covariates",
        "x,k",
    ]);
    assert!(err.contains("covariate 'k' is constant"), "{err}");

    let f = temp_file("noevents.csv", "t,e,x\n1,0,0.5\n2,0,0.3\n3,0,0.1\n");
    let err = input_error(&[
        "stats",
        "cox",
        "--csv",
        &f,
        "--time",
        "t",
        "--event",
        "e",
        "--covariates",
        "x",
    ]);
    assert!(err.contains("no events"), "{err}");

    let f = temp_file("separated.csv", "y,dose\n0,1\n0,2\n0,3\n1,4\n1,5\n1,6\n");
    let err = input_error(&[
        "stats",
        "logit",
        "--csv",
        &f,
        "--outcome",
        "y",
        "--covariates",
        "dose",
    ]);
    assert!(
        err.contains("perfect separation") && err.contains("dose"),
        "{err}"
    );

    let f = temp_file("onegroup.csv", "t,e,g\n1,1,a\n2,0,a\n3,1,a\n");
    let err = input_error(&[
        "stats", "logrank", "--csv", &f, "--time", "t", "--event", "e", "--group", "g",
    ]);
    assert!(err.contains("empty group"), "{err}");

    let f = temp_file("notreated.csv", "treat,x\n0,1\n0,2\n0,3\n");
    let err = input_error(&[
        "stats",
        "match",
        "--csv",
        &f,
        "--treatment",
        "treat",
        "--covariates",
        "x",
    ]);
    assert!(
        err.contains("empty group") && err.contains("treated"),
        "{err}"
    );

    let f = temp_file("missing.csv", "t,e,x\n1,1,0.5\n2,,0.3\n");
    let err = input_error(&["stats", "km", "--csv", &f, "--time", "t", "--event", "e"]);
    assert!(
        err.contains("column 'e' has a missing value at line 3"),
        "{err}"
    );

    let err = input_error(&["stats", "power", "survival", "--hr", "1"]);
    assert!(err.contains("hazard ratio"), "{err}");
}
