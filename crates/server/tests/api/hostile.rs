//! Bad input gets a 4xx problem naming the field, never a 5xx, and stores nothing.

use crate::helpers::TestApp;
use crate::on_both;
use reqwest::Method;
use serde_json::json;

async fn malformed_bodies_are_refused(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let inst = b.institution["id"].clone();
    let before = app.count("/api/v1/patients").await;

    app.raw(
        Method::POST,
        "/api/v1/patients",
        "application/json",
        b"{\"institution_id\": ".to_vec(),
    )
    .await
    .assert_problem(400, None);
    app.raw(
        Method::POST,
        "/api/v1/patients",
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .assert_problem(415, None);
    app.raw(
        Method::POST,
        "/api/v1/patients",
        "application/json",
        vec![b' '; 2 * 1024 * 1024],
    )
    .await
    .assert_problem(413, None);
    app.post("/api/v1/patients", json!([1, 2, 3]))
        .await
        .assert_problem(422, None);
    // Wrong types, unknown enum values, unknown fields, missing fields.
    app.post("/api/v1/patients", json!({"institution_id": inst, "record_number": 12, "birth_year_month": "1958-07", "sex": "female"}))
        .await
        .assert_problem(422, Some("record_number"));
    app.post("/api/v1/patients", json!({"institution_id": inst, "record_number": "A", "birth_year_month": "1958-07", "sex": "alien"}))
        .await
        .assert_problem(422, Some("sex"));
    app.post("/api/v1/patients", json!({"institution_id": inst, "record_number": "A", "birth_year_month": "1958-07", "sex": "female", "name": "Taro"}))
        .await
        .assert_problem(422, Some("name"));
    app.post(
        "/api/v1/patients",
        json!({"institution_id": inst, "record_number": "A", "sex": "female"}),
    )
    .await
    .assert_problem(422, Some("birth_year_month"));
    app.post("/api/v1/patients", json!({"institution_id": inst, "record_number": "A", "birth_year_month": "1858-07", "sex": "female"}))
        .await
        .assert_problem(422, Some("birth_year_month"));
    app.post("/api/v1/patients", json!({"institution_id": inst, "record_number": "x".repeat(101), "birth_year_month": "1958-07", "sex": "female"}))
        .await
        .assert_problem(422, Some("record_number"));
    app.post("/api/v1/patients", json!({"institution_id": "not-a-uuid", "record_number": "A", "birth_year_month": "1958-07", "sex": "female"}))
        .await
        .assert_problem(422, Some("institution_id"));
    // An organisation that does not exist is named as such; another organisation's id
    // is not the physician's to write.
    app.post("/api/v1/patients", json!({"institution_id": uuid::Uuid::now_v7(), "record_number": "A", "birth_year_month": "1958-07", "sex": "female"}))
        .await
        .assert_problem(422, Some("institution_id"));
    app.post("/api/v1/patients", json!({"institution_id": b.committee["id"], "record_number": "A", "birth_year_month": "1958-07", "sex": "female"}))
        .await
        .assert_problem(403, None);
    assert_eq!(
        app.count("/api/v1/patients").await,
        before,
        "nothing stored"
    );
}
on_both!(malformed, malformed_bodies_are_refused);

async fn clinical_rules_are_enforced(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let p = app
        .create("/api/v1/patients", json!({"institution_id": b.institution["id"], "record_number": "R", "birth_year_month": "1970-01", "sex": "male"}))
        .await;
    let ae = |extra: serde_json::Value| {
        let mut v = json!({"patient_id": p["id"], "verbatim_term": "x", "causality": "possible",
                           "onset_on": "2024-01-01", "known_on": "2024-01-02", "outcome": "recovered"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    app.post("/api/v1/adverse-events", ae(json!({"grade": 6})))
        .await
        .assert_problem(422, Some("grade"));
    app.post("/api/v1/adverse-events", ae(json!({"grade": 5})))
        .await
        .assert_problem(422, Some("seriousness"));
    app.post(
        "/api/v1/adverse-events",
        ae(json!({"known_on": "2023-12-31"})),
    )
    .await
    .assert_problem(422, Some("known_on"));
    app.post(
        "/api/v1/adverse-events",
        ae(json!({"seriousness": ["hospitalisation", "nope"]})),
    )
    .await
    .assert_problem(422, Some("seriousness[1]"));
    app.post(
        "/api/v1/adverse-events",
        ae(json!({"onset_on": "2024-02-30"})),
    )
    .await
    .assert_problem(422, Some("onset_on"));
    app.post(
        "/api/v1/adverse-events",
        ae(json!({"onset_on": "3024-01-01", "known_on": "3024-01-02"})),
    )
    .await
    .assert_problem(422, Some("onset_on"));
    app.post(
        "/api/v1/treatments",
        json!({"patient_id": p["id"], "plan_id": b.plan["id"], "administered_on": "2024-01-01", "dose": -1, "dose_unit": "cells", "route": "intravenous"}),
    )
    .await
    .assert_problem(422, Some("dose"));
    app.post(
        "/api/v1/treatments",
        json!({"patient_id": p["id"], "administered_on": "2024-01-01", "dose": 1, "dose_unit": "cells", "route": "intravenous"}),
    )
    .await
    .assert_problem(422, Some("plan_id"));
    assert_eq!(app.count("/api/v1/adverse-events").await, 0);
    assert_eq!(app.count("/api/v1/treatments").await, 0);
}
on_both!(clinical_rules, clinical_rules_are_enforced);

async fn hostile_strings_are_stored_as_data(app: TestApp) {
    let nasty =
        "Robert'); DROP TABLE patients;-- <script>alert(1)</script> ../../etc/passwd 𝔘𝔫𝔦𝔠𝔬𝔡𝔢";
    app.act_as_admin();
    let org = app
        .create(
            "/api/v1/organisations",
            json!({"name": nasty, "kind": "medical_institution"}),
        )
        .await;
    let got = app
        .get(&format!(
            "/api/v1/organisations/{}",
            org["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(got.body["name"], nasty.trim());
    app.get("/api/v1/organisations/../../etc/passwd")
        .await
        .assert_problem(404, None);
    app.get("/api/v1/organisations/1%27%20OR%201=1")
        .await
        .assert_problem(400, Some("id"));
    for bad in ["a\u{0}b", "evil\u{202e}txt", "a\u{200b}b"] {
        app.post(
            "/api/v1/organisations",
            json!({"name": bad, "kind": "regulator"}),
        )
        .await
        .assert_problem(422, Some("name"));
    }
    let deep = "[".repeat(5000) + &"]".repeat(5000);
    app.raw(
        Method::POST,
        "/api/v1/organisations",
        "application/json",
        deep.into_bytes(),
    )
    .await
    .assert_problem(400, None);
    assert_eq!(
        app.get("/api/v1/health").await.status.as_u16(),
        200,
        "still up"
    );
}
on_both!(hostile_strings, hostile_strings_are_stored_as_data);
