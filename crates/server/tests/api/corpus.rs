//! A corpus of over a thousand malformed or hostile requests, built from the OpenAPI
//! document so that it covers every endpoint the server mounts. Every answer must be a
//! 4xx with a problem body, the server must stay up, and nothing may be stored.

use crate::helpers::TestApp;
use crate::on_both;
use reqwest::Method;
use serde_json::{Value, json};

const BROKEN_JSON: &[&str] = &[
    "{",
    "}",
    "[",
    "{\"a\":",
    "{\"a\":1,}",
    "nul",
    "{'single': 'quotes'}",
    "{\"a\" 1}",
    "\u{feff}{}x",
    "{\"a\":\"\\ud800\"}",
    "{\"a\":01}",
    "{\"a\":NaN}",
];

fn hostile_values() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(-1),
        json!(1e308),
        json!(18446744073709551615u64),
        json!([]),
        json!({}),
        json!(""),
        json!("x".repeat(20_000)),
        json!("Robert'); DROP TABLE patients;--"),
        json!("<script>alert(1)</script>"),
        json!("../../etc/passwd"),
        json!("\u{0}"),
        json!("\u{202e}evil"),
        json!("𝕳𝖊𝖑𝖑𝖔 👩‍🔬"),
        json!("e\u{301}\u{301}\u{301}"),
        json!("9999-99-99"),
        json!("00000000-0000-0000-0000-000000000000x"),
    ]
}

/// Every `(method, path template)` the OpenAPI document lists.
async fn operations(app: &TestApp) -> Vec<(String, String)> {
    let doc = app.get("/api/v1/openapi.json").await.body;
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch"] {
            if item.get(method).is_some() {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out
}

async fn counts(app: &TestApp) -> Vec<u64> {
    let mut out = Vec::new();
    for t in saisei_store::tables::all() {
        out.push(app.store.count_where(t, &[]).await.unwrap());
    }
    out
}

async fn hostile_corpus_changes_nothing(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let other = app
        .organisation("Other Clinic", "medical_institution")
        .await;
    let stranger = app.user("physician", Some(&other)).await;
    app.act_as(&stranger);
    let foreign_patient = app
        .create("/api/v1/patients", json!({"institution_id": other["id"], "record_number": "X1", "birth_year_month": "1970-01", "sex": "male"}))
        .await;
    app.act_as(&b.doctor);
    let before = counts(&app).await;
    let audit_before = app
        .store
        .audit(&saisei_store::AuditQuery {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    let ops = operations(&app).await;
    let mut tried = 0usize;
    let mut server_errors = Vec::new();
    let check = |r: &crate::helpers::Reply, what: &str, errors: &mut Vec<String>| {
        if r.status.is_server_error() {
            errors.push(format!("{what}: {} {}", r.status, r.text));
        }
        assert!(
            r.status.is_client_error(),
            "{what}: expected 4xx, got {} {}",
            r.status,
            r.text
        );
        assert_eq!(
            r.content_type, "application/problem+json",
            "{what}: {}",
            r.text
        );
        assert!(r.body["code"].is_string(), "{what}: {}", r.text);
    };
    let fill = |path: &str, id: &str| {
        path.replace("{id}", id)
            .replace("{n}", "1")
            .replace("{lot}", id)
    };
    for (method, path) in &ops {
        if path.ends_with("/sign-in") || path.ends_with("/sign-out") {
            continue;
        }
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let concrete = fill(path, &uuid::Uuid::now_v7().to_string());
        if method != "get" {
            for body in BROKEN_JSON {
                let r = app
                    .raw(
                        m.clone(),
                        &concrete,
                        "application/json",
                        body.as_bytes().to_vec(),
                    )
                    .await;
                check(
                    &r,
                    &format!("{method} {path} broken json {body:?}"),
                    &mut server_errors,
                );
                tried += 1;
            }
            for ct in [
                "text/plain",
                "application/xml",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ] {
                let r = app.raw(m.clone(), &concrete, ct, b"a=1".to_vec()).await;
                check(&r, &format!("{method} {path} as {ct}"), &mut server_errors);
                tried += 1;
            }
            let r = app
                .raw(
                    m.clone(),
                    &concrete,
                    "application/json",
                    vec![b'['; 2 * 1024 * 1024],
                )
                .await;
            check(&r, &format!("{method} {path} huge"), &mut server_errors);
            tried += 1;
            // Each hostile value alone, in a body that also lacks required fields.
            for v in hostile_values() {
                for field in [
                    "name",
                    "patient_id",
                    "version",
                    "to",
                    "therapy",
                    "email",
                    "lot_number",
                    "status",
                ] {
                    let r = app
                        .request(
                            m.clone(),
                            &concrete,
                            Some(json!({ field: v.clone(), "unknown_field": 1 })),
                        )
                        .await;
                    check(
                        &r,
                        &format!("{method} {path} {field}={v}"),
                        &mut server_errors,
                    );
                    tried += 1;
                }
            }
        } else {
            for q in [
                "?limit=0",
                "?limit=-1",
                "?limit=99999",
                "?cursor=../../etc",
                "?x=1",
                "?id=%27%20OR%201%3D1--",
                "?include_withdrawn=maybe",
                "?sort=-nope",
                "?limit=1;DROP%20TABLE%20x",
            ] {
                let r = app.get(&format!("{concrete}{q}")).await;
                tried += 1;
                // Endpoints without parameters ignore a query string (a read, nothing
                // stored); the others must refuse a bad one with a problem.
                if r.status.is_success() {
                    continue;
                }
                check(&r, &format!("GET {path}{q}"), &mut server_errors);
            }
        }
        // Without credentials.
        let r = app
            .anonymous(
                m.clone(),
                &concrete,
                if method == "get" {
                    None
                } else {
                    Some(json!({}))
                },
            )
            .await;
        if !(path.ends_with("/health")
            || path.ends_with("/openapi.json")
            || path.ends_with("/docs")
            || path.contains("/auth/enrolment"))
        {
            assert_eq!(
                r.status.as_u16(),
                401,
                "{method} {path} without a token: {}",
                r.text
            );
            check(
                &r,
                &format!("{method} {path} anonymous"),
                &mut server_errors,
            );
        }
        tried += 1;
    }
    // Path traversal and odd ids on item paths.
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "1%20OR%201%3D1",
        "%E2%80%AE",
        "null",
        "-1",
    ] {
        for resource in [
            "patients",
            "plans",
            "adverse-events",
            "treatments",
            "organisations",
        ] {
            let r = app.get(&format!("/api/v1/{resource}/{id}")).await;
            check(&r, &format!("GET {resource}/{id}"), &mut server_errors);
            tried += 1;
        }
    }
    // Another organisation's records.
    let fid = foreign_patient["id"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/patients/{fid}")).await;
    check(&r, "foreign patient", &mut server_errors);
    let r = app
        .patch(
            &format!("/api/v1/patients/{fid}"),
            json!({"version": 1, "sex": "female"}),
        )
        .await;
    check(&r, "foreign patient update", &mut server_errors);
    let r = app
        .post("/api/v1/treatments", json!({"patient_id": fid, "plan_id": b.plan["id"], "administered_on": "2024-01-01", "dose": 1, "dose_unit": "cells", "route": "intravenous"}))
        .await;
    check(&r, "treatment of a foreign patient", &mut server_errors);
    tried += 3;

    assert!(server_errors.is_empty(), "5xx answers: {server_errors:#?}");
    assert_eq!(
        app.get("/api/v1/health").await.status.as_u16(),
        200,
        "the server is still up"
    );
    assert_eq!(counts(&app).await, before, "nothing was stored");
    let audit_after = app
        .store
        .audit(&saisei_store::AuditQuery {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    assert_eq!(audit_after, audit_before, "nothing was audited as a change");
    assert!(tried >= 1000, "only {tried} requests");
    eprintln!("corpus: {tried} hostile requests, 0 answered 5xx, nothing stored");
}
on_both!(hostile_corpus, hostile_corpus_changes_nothing);
