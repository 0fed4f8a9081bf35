//! `saisei evaluate` end to end: a small demo registry, the demo's evaluation plan run
//! by title and by id, the JSON verdict, the self-contained report, a filed run, and
//! exit code 2 for bad input.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

const PLAN: &str = "Regenecel-K (demo) post-marketing approval-condition evaluation";

fn saisei(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saisei"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "saisei-evaluate-{}-{}",
        std::process::id(),
        uuid_like()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[test]
fn evaluate_the_demo_plan() {
    let dir = scratch();
    let db = dir.join("demo.db");
    let db = db.to_str().unwrap();
    let demo = saisei(&["demo", "--no-serve", "--db", db, "--patients", "300"]);
    assert!(
        demo.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&demo.stderr)
    );

    let report = dir.join("report.html");
    let out = saisei(&[
        "evaluate",
        "--plan",
        PLAN,
        "--db",
        db,
        "--out",
        report.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "evaluate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let verdict = results["verdict"].as_str().unwrap();
    assert!(
        ["met", "not_met", "not_yet_evaluable"].contains(&verdict),
        "{verdict}"
    );
    assert_eq!(results["as_of"], "2026-09-30", "the plan's data cut");
    assert_eq!(results["endpoints"][0]["key"], "koos_response");
    assert_eq!(results["endpoints"].as_array().unwrap().len(), 4);
    assert!(results["cohort"]["treated"].as_u64().unwrap() > 20);
    assert!(results["adjudication"]["tasks"].as_u64().unwrap() > 0);
    assert!(results["adjudication"]["by_consensus"].as_u64().is_some());
    assert_eq!(results["snapshot"]["data_hash"].as_str().unwrap().len(), 64);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<svg") && html.contains(&format!("<code>{verdict}</code>")));
    for bad in ["src=\"http", "href=\"http", "<script", "<link"] {
        assert!(!html.contains(bad), "external reference {bad}");
    }

    // By id, filed: the run id comes back and the verdict is the same.
    let id = results["plan"]["plan_id"].as_str().unwrap();
    let filed = saisei(&["evaluate", "--plan", id, "--db", db, "--record", "--json"]);
    assert!(
        filed.status.success(),
        "{}",
        String::from_utf8_lossy(&filed.stderr)
    );
    let filed: Value = serde_json::from_slice(&filed.stdout).unwrap();
    assert!(filed["run_id"].is_string());
    assert_eq!(filed["verdict"], verdict);
    assert_eq!(
        filed["snapshot"]["data_hash"],
        results["snapshot"]["data_hash"]
    );
    // Without --json: a summary naming the verdict.
    let text = saisei(&[
        "evaluate",
        "--plan",
        id,
        "--db",
        db,
        "--out",
        report.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains(&format!("verdict: {verdict}")), "{stdout}");

    // Bad input exits 2 with a message naming the flag.
    for (args, flag) in [
        (
            vec!["evaluate", "--plan", "no such plan", "--db", db, "--json"],
            "--plan",
        ),
        (
            vec![
                "evaluate",
                "--plan",
                id,
                "--db",
                db,
                "--json",
                "--as-of",
                "2026-02-30",
            ],
            "--as-of",
        ),
        (
            vec![
                "evaluate",
                "--plan",
                id,
                "--db",
                "/nonexistent/x.db",
                "--json",
            ],
            "--db",
        ),
        (vec!["evaluate", "--plan", id, "--db", db], "--out"),
    ] {
        let out = saisei(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(flag),
            "{args:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
