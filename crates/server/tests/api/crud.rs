//! Create, read, list, update and withdraw through the API.

use crate::helpers::TestApp;
use crate::on_both;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn register_patient(app: &TestApp, institution: &Value, mrn: &str) -> Value {
    app.create(
        "/api/v1/patients",
        json!({"institution_id": institution["id"], "record_number": mrn, "birth_year_month": "1958-07", "sex": "female"}),
    )
    .await
}

async fn patients_are_pseudonymised(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let r = app
        .post(
            "/api/v1/patients",
            json!({"institution_id": b.institution["id"], "record_number": "MRN-0001", "birth_year_month": "1958-07", "sex": "female"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        !r.text.contains("MRN-0001"),
        "record number never echoed or stored"
    );
    let pseudonym = r.body["pseudonym"].as_str().unwrap();
    assert_eq!(pseudonym.len(), 64);
    assert_eq!(r.body["version"], 1);
    let id = r.body["id"].as_str().unwrap();
    let got = app.get(&format!("/api/v1/patients/{id}")).await;
    assert_eq!(got.body, r.body);
    // Same record number at the same institution: duplicate.
    let again = app
        .post(
            "/api/v1/patients",
            json!({"institution_id": b.institution["id"], "record_number": "MRN-0001", "birth_year_month": "1958-07", "sex": "female"}),
        )
        .await;
    again.assert_problem(409, Some("record_number"));
    // A pseudonym cannot be supplied.
    app.post(
        "/api/v1/patients",
        json!({"institution_id": b.institution["id"], "pseudonym": "a".repeat(64), "birth_year_month": "1958-07", "sex": "female"}),
    )
    .await
    .assert_problem(422, Some("pseudonym"));
}
on_both!(pseudonymised, patients_are_pseudonymised);

async fn update_needs_current_version(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let p = register_patient(&app, &b.institution, "MRN-1").await;
    let path = format!("/api/v1/patients/{}", p["id"].as_str().unwrap());
    let ok = app.patch(&path, json!({"version": 1, "sex": "male"})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["sex"], "male");
    assert_eq!(ok.body["version"], 2);
    let stale = app
        .patch(&path, json!({"version": 1, "sex": "other"}))
        .await;
    stale.assert_problem(409, Some("version"));
    app.patch(&path, json!({"sex": "other"}))
        .await
        .assert_problem(422, Some("version"));
    app.patch(
        &path,
        json!({"version": 2, "institution_id": b.committee["id"]}),
    )
    .await
    .assert_problem(422, Some("institution_id"));
    app.patch(&path, json!({"version": 2, "sex": "robot"}))
        .await
        .assert_problem(422, Some("sex"));
    let now = app.get(&path).await;
    assert_eq!(now.body["sex"], "male", "failed updates change nothing");
    assert_eq!(now.body["version"], 2);
}
on_both!(optimistic_concurrency, update_needs_current_version);

async fn lists_paginate_and_filter(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    for i in 0..7 {
        register_patient(&app, &b.institution, &format!("MRN-{i}")).await;
    }
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/patients?limit=3&cursor={c}"),
            None => "/api/v1/patients?limit=3".to_string(),
        };
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        seen += r.body["items"].as_array().unwrap().len();
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!((seen, pages), (7, 3));
    let inst = b.institution["id"].as_str().unwrap();
    let r = app
        .get(&format!(
            "/api/v1/patients?institution_id={inst}&sex=female"
        ))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 7);
    let r = app.get("/api/v1/patients?sex=male").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    app.get("/api/v1/patients?colour=blue")
        .await
        .assert_problem(400, Some("colour"));
    app.get("/api/v1/patients?limit=0")
        .await
        .assert_problem(400, Some("limit"));
    app.get("/api/v1/patients?institution_id=nope")
        .await
        .assert_problem(400, Some("institution_id"));
    app.get("/api/v1/patients?cursor=zzz")
        .await
        .assert_problem(400, Some("cursor"));
}
on_both!(pagination, lists_paginate_and_filter);

async fn lists_follow_an_order(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    for i in 0..7 {
        register_patient(&app, &b.institution, &format!("MRN-{i}")).await;
    }
    for sort in ["-id", "birth_year_month", "-sex"] {
        let mut ids: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/patients?limit=3&sort={sort}&cursor={c}"),
                None => format!("/api/v1/patients?limit=3&sort={sort}"),
            };
            let r = app.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
            for p in r.body["items"].as_array().unwrap() {
                ids.push(p["id"].as_str().unwrap().to_string());
            }
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let mut expected = ids.clone();
        expected.sort();
        expected.dedup();
        assert_eq!(expected.len(), 7, "{sort}: every patient once");
        if sort == "-id" {
            expected.reverse();
            assert_eq!(ids, expected, "newest first");
        }
    }
    let r = app.get("/api/v1/patients?sort=colour").await;
    r.assert_problem(400, Some("sort"));
    assert!(
        r.text.contains("birth_year_month"),
        "names what may be sorted by"
    );
    let first = app
        .get("/api/v1/patients?limit=3&sort=birth_year_month")
        .await;
    let id = first.body["items"][2]["id"].as_str().unwrap().to_string();
    // A cursor must carry what its order needs, and only that.
    app.get(&format!(
        "/api/v1/patients?sort=birth_year_month&cursor={id}"
    ))
    .await
    .assert_problem(400, Some("cursor"));
    app.get(&format!("/api/v1/patients?cursor={id}.1955-03"))
        .await
        .assert_problem(400, Some("cursor"));
}
on_both!(ordered_lists, lists_follow_an_order);

async fn treatment_generates_visits_and_records_follow_up(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let p = register_patient(&app, &b.institution, "MRN-9").await;
    app.act_as_admin();
    let schedule = app
        .create(
            "/api/v1/follow-up-schedules",
            json!({"name": "std", "visits": [
                {"label": "D30", "days": 30, "window_before_days": 7, "window_after_days": 14},
                {"label": "M6", "months": 6, "window_before_days": 30, "window_after_days": 30}
            ], "repeat": {"every_months": 12, "until_months": 36, "window_days": 60}}),
        )
        .await;
    app.act_as(&b.doctor);
    let t = app
        .create(
            "/api/v1/treatments",
            json!({"patient_id": p["id"], "plan_id": b.plan["id"], "schedule_id": schedule["id"],
                   "administered_on": "2024-01-15", "dose": 5e7, "dose_unit": "cells", "route": "intra_articular", "site": "knee"}),
        )
        .await;
    let visits = app
        .get(&format!(
            "/api/v1/visits?treatment_id={}",
            t["id"].as_str().unwrap()
        ))
        .await;
    let items = visits.body["items"].as_array().unwrap();
    let labels: Vec<&str> = items.iter().map(|v| v["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["D30", "M6", "Y1", "Y2", "Y3"]);
    assert_eq!(items[0]["due_on"], "2024-02-14");
    assert_eq!(items[0]["status"], "missed", "long past and not done");
    let d30 = items[0]["id"].as_str().unwrap();
    let done = app
        .patch(
            &format!("/api/v1/visits/{d30}"),
            json!({"version": 1, "done_on": "2024-02-16"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], "done");
    app.create(
        "/api/v1/observations",
        json!({"patient_id": p["id"], "visit_id": d30, "code": "KOOS-pain", "value_number": 61.5, "unit": "{score}", "observed_on": "2024-02-16"}),
    )
    .await;
    let ae = app
        .create(
            "/api/v1/adverse-events",
            json!({"patient_id": p["id"], "treatment_id": t["id"], "verbatim_term": "knee swelling",
                   "grade": 2, "seriousness": [], "causality": "probable",
                   "onset_on": "2024-01-17", "known_on": "2024-01-18", "outcome": "recovered"}),
        )
        .await;
    assert_eq!(ae["grade"], 2);
    let list = app
        .get(&format!(
            "/api/v1/adverse-events?patient_id={}",
            p["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let on_or_after = app
        .get("/api/v1/adverse-events?onset_on.gte=2024-01-17")
        .await;
    assert_eq!(on_or_after.body["items"].as_array().unwrap().len(), 1);
    let after = app
        .get("/api/v1/adverse-events?onset_on.gte=2024-01-18")
        .await;
    assert_eq!(after.body["items"].as_array().unwrap().len(), 0);
}
on_both!(follow_up, treatment_generates_visits_and_records_follow_up);

async fn withdrawal_hides_but_keeps(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let p = register_patient(&app, &b.institution, "MRN-W").await;
    let id = p["id"].as_str().unwrap();
    let w = app
        .post(
            &format!("/api/v1/patients/{id}/withdraw"),
            json!({"version": 1, "reason": "registered in error"}),
        )
        .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text);
    assert!(w.body["withdrawn_at"].is_string());
    assert_eq!(app.count("/api/v1/patients").await, 0);
    let all = app.get("/api/v1/patients?include_withdrawn=true").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/patients/{id}")).await.status,
        StatusCode::OK
    );
    app.patch(
        &format!("/api/v1/patients/{id}"),
        json!({"version": 2, "sex": "male"}),
    )
    .await
    .assert_problem(422, Some("id"));
    app.post(
        &format!("/api/v1/patients/{id}/withdraw"),
        json!({"version": 2}),
    )
    .await
    .assert_problem(422, Some("reason"));
}
on_both!(withdrawal, withdrawal_hides_but_keeps);

async fn every_entity_round_trips(app: TestApp) {
    let b = app.basics("3", "certified_committee").await;
    app.act_as_admin();
    let mah = app
        .create(
            "/api/v1/organisations",
            json!({"name": "MAH", "kind": "marketing_authorisation_holder"}),
        )
        .await;
    let product = app
        .create(
            "/api/v1/products",
            json!({"name": "Cellprod", "modality": "msc", "mah_id": mah["id"]}),
        )
        .await;
    // A product whose MAH is not an MAH.
    app.post(
        "/api/v1/products",
        json!({"name": "X", "modality": "msc", "mah_id": b.institution["id"]}),
    )
    .await
    .assert_problem(422, Some("mah_id"));
    app.act_as(&b.doctor);
    let p = register_patient(&app, &b.institution, "MRN-R").await;
    let e = app
        .create(
            "/api/v1/enrollments",
            json!({"patient_id": p["id"], "arm": "control", "product_id": product["id"], "control_source": "registry", "enrolled_on": "2024-03-01"}),
        )
        .await;
    let c = app
        .create(
            "/api/v1/consents",
            json!({"patient_id": p["id"], "scope": "registry", "form_version": "v1", "given_on": "2024-03-01"}),
        )
        .await;
    for (path, rec) in [
        ("organisations", &mah),
        ("products", &product),
        ("enrollments", &e),
        ("consents", &c),
        ("practitioners", &b.physician),
        ("plans", &b.plan),
    ] {
        let got = app
            .get(&format!("/api/v1/{path}/{}", rec["id"].as_str().unwrap()))
            .await;
        assert_eq!(&got.body, rec, "{path}");
    }
}
on_both!(round_trips, every_entity_round_trips);
