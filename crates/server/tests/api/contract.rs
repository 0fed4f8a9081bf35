//! The API contract, checked by tools outside Saisei: the OpenAPI document validates
//! (openapi-spec-validator), says nothing meant for Rust developers, and schemathesis —
//! with every check but the acceptance of semantically invalid data — finds no answer
//! that breaks it (status codes, content types, response schemas, server errors,
//! methods, authentication), signed in as each of four roles on a demo registry.
//!
//! The tools live in the virtual environment `scripts/python-tools.sh` makes; the test
//! command passes its bin directory as `SAISEI_PYTHON_TOOLS`. Without it these tests
//! say so and do nothing (as the PostgreSQL half does without a server).

use crate::helpers::{TestApp, TestUser};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn tools() -> Option<PathBuf> {
    match std::env::var("SAISEI_PYTHON_TOOLS") {
        Ok(dir) => Some(PathBuf::from(dir)),
        Err(_) => {
            eprintln!(
                "SAISEI_PYTHON_TOOLS is not set (scripts/test.sh sets it): contract tools not run"
            );
            None
        }
    }
}

async fn document(app: &TestApp) -> (Value, PathBuf) {
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let dir = std::env::temp_dir().join(format!("saisei-contract-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("openapi.json");
    std::fs::write(&path, &r.text).unwrap();
    (r.body, path)
}

/// Every description and summary, with where it is.
fn texts(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let here = format!("{at}/{k}");
                if (k == "description" || k == "summary")
                    && let Some(s) = x.as_str()
                {
                    out.push((here.clone(), s.to_string()));
                }
                texts(x, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                texts(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn openapi_document_validates_and_speaks_to_clients() {
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite)
        .await
        .unwrap();
    let (doc, path) = document(&app).await;
    // Notes for Rust developers stay in the code.
    let mut all = Vec::new();
    texts(&doc, "", &mut all);
    let rusty: Vec<&(String, String)> = all
        .iter()
        .filter(|(_, t)| {
            [
                "[`", "::", "crate", "serde", "Option<", "Vec<", "impl ", "TableDef",
            ]
            .iter()
            .any(|w| t.contains(w))
        })
        .collect();
    assert!(
        rusty.is_empty(),
        "descriptions written for Rust developers: {rusty:#?}"
    );
    // Every operation says how it is signed in to and what it answers when refused.
    for (p, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("400"), "{m} {p}");
            if op["security"] != serde_json::json!([]) {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{m} {p}"
                );
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let release = &doc["components"]["schemas"]["LotReleaseRequest"]["properties"];
    assert!(
        release["signature"].is_object(),
        "the release asks for its signature"
    );
    let Some(bin) = tools() else { return };
    let out = Command::new(bin.join("openapi-spec-validator"))
        .args(["--schema", "3.1", "--validation-errors", "all"])
        .arg(&path)
        .output()
        .expect("openapi-spec-validator runs");
    assert!(
        out.status.success(),
        "the OpenAPI document is invalid:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A user of `role` at the demo's first organisation of `kind`.
async fn demo_user(app: &TestApp, role: &str, kind: Option<&str>) -> TestUser {
    app.act_as_admin();
    let orgs = app.get("/api/v1/organisations?limit=1000").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let org = kind.map(|k| orgs.iter().find(|o| o["kind"] == k).cloned().unwrap());
    app.user(role, org.as_ref()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_breach_of_the_contract() {
    let Some(bin) = tools() else { return };
    let app = crate::helpers::spawn_app(crate::helpers::Db::Sqlite)
        .await
        .unwrap();
    app.demo(40, 5).await;
    let roles = [
        ("physician", Some("medical_institution")),
        ("qa_manager", Some("cell_processing_facility")),
        ("admin", None),
        ("regulator", Some("regulator")),
    ];
    let mut users = Vec::new();
    for (role, kind) in roles {
        let user = if role == "admin" {
            app.admin.clone()
        } else {
            demo_user(&app, role, kind).await
        };
        users.push((role, user));
    }
    let url = format!("{}/api/v1/openapi.json", app.base);
    for (role, user) in users {
        let started = std::time::Instant::now();
        let run = tokio::task::spawn_blocking({
            let (bin, url, token) = (bin.clone(), url.clone(), user.token.clone());
            move || {
                Command::new(bin.join("schemathesis"))
                    .args(["run", &url, "--checks", "all"])
                    // Semantically invalid data (a plan without endpoints, a reference
                    // to nothing) is refused with 422 although it fits the schema: that
                    // is validation beyond what JSON Schema can say, not a breach.
                    .args(["--exclude-checks", "positive_data_acceptance"])
                    // Ending the caller's own credentials would end the run.
                    .args(["--exclude-path", "/api/v1/auth/sign-out"])
                    .args(["--exclude-path", "/api/v1/users/{id}/reset"])
                    .args(["--phases", "coverage,fuzzing,stateful"])
                    .args(["--max-examples", "5", "--workers", "2", "--seed", "1"])
                    .args(["--no-color", "-H"])
                    .arg(format!("Authorization: Bearer {token}"))
                    .env(
                        "HYPOTHESIS_STORAGE_DIRECTORY",
                        std::env::temp_dir().join("saisei-hypothesis"),
                    )
                    .output()
                    .expect("schemathesis runs")
            }
        })
        .await
        .unwrap();
        let said = String::from_utf8_lossy(&run.stdout).to_string();
        assert!(
            run.status.success(),
            "schemathesis as {role} found breaches of the contract:\n{said}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let summary = said
            .lines()
            .filter(|l| l.contains("generated") || l.starts_with("====="))
            .collect::<Vec<_>>()
            .join(" ");
        eprintln!(
            "schemathesis as {role}: {summary} ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        assert_eq!(
            app.get("/api/v1/health").await.status,
            StatusCode::OK,
            "the server is still up"
        );
    }
}
