//! Regression tests: each is named after what broke, and failed on the code before the
//! fix. They run on SQLite and on PostgreSQL like every API test.

use crate::helpers::{Basics, TestApp, TestUser};
use crate::on_both;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("record has an id")
}

/// Replaces every UUID in a text by `<id>`, so two answers compare but for the ids.
fn without_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() >= 36 && uuid::Uuid::parse_str(&rest[..36]).is_ok() {
            out.push_str("<id>");
            rest = &rest[36..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Organisation B with an active plan, a treated patient with a visit; and a physician
/// of organisation A with a patient of its own.
struct TwoClinics {
    b: Basics,
    b_treatment: Value,
    b_visit: Value,
    a_doctor: TestUser,
    a_patient: Value,
}

async fn two_clinics(app: &TestApp) -> TwoClinics {
    let b = app.basics("3", "certified_committee").await;
    let mut v = 1;
    for (to, on) in [
        ("submitted", "2023-01-05"),
        ("under_review", "2023-01-10"),
        ("accepted", "2023-02-01"),
        ("active", "2023-02-01"),
    ] {
        let r = app.move_plan(&b, to, on, v).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        v = r.body["plan"]["version"].as_i64().unwrap();
    }
    app.act_as(&b.doctor);
    let b_patient = app
        .create("/api/v1/patients", json!({"institution_id": b.institution["id"], "record_number": "B-1", "birth_year_month": "1950-05", "sex": "female"}))
        .await;
    let b_treatment = app
        .create("/api/v1/treatments", json!({"patient_id": b_patient["id"], "plan_id": b.plan["id"], "administered_on": "2023-03-01", "dose": 5e7, "dose_unit": "cells", "route": "intra_articular"}))
        .await;
    let b_visit = app
        .create("/api/v1/visits", json!({"patient_id": b_patient["id"], "treatment_id": b_treatment["id"], "label": "D30", "due_on": "2023-03-31", "window_opens_on": "2023-03-24", "window_closes_on": "2023-04-14"}))
        .await;
    let a = app.organisation("Clinic A", "medical_institution").await;
    let a_doctor = app.user("physician", Some(&a)).await;
    app.act_as(&a_doctor);
    let a_patient = app
        .create("/api/v1/patients", json!({"institution_id": a["id"], "record_number": "A-1", "birth_year_month": "1960-01", "sex": "male"}))
        .await;
    TwoClinics {
        b,
        b_treatment,
        b_visit,
        a_doctor,
        a_patient,
    }
}

/// Posts `body` twice: as given (pointing at organisation B's record in `field`) and
/// with `field` pointing nowhere. The two answers must be the same 422 naming `field`.
async fn refused_like_missing(app: &TestApp, path: &str, body: Value, field: &str) {
    let mut nowhere = body.clone();
    nowhere[field] = json!(uuid::Uuid::now_v7());
    let a = app.post(path, body).await;
    let b = app.post(path, nowhere).await;
    a.assert_problem(422, Some(field));
    b.assert_problem(422, Some(field));
    assert_eq!(without_ids(&a.text), without_ids(&b.text));
}

/// The patients counted in B's first periodic report, as B's physician sees it.
async fn patients_in_report(app: &TestApp, b: &Basics) -> Value {
    app.act_as(&b.doctor);
    let path = format!("/api/v1/plans/{}/periodic-reports/1", id(&b.plan));
    app.get(&path).await.body["patients_treated"].clone()
}

async fn write_may_not_point_into_another_organisations_records(app: TestApp) {
    let t = two_clinics(&app).await;
    assert_eq!(patients_in_report(&app, &t.b).await, 1);
    app.act_as(&t.a_doctor);
    // A treatment under B's plan.
    refused_like_missing(
        &app,
        "/api/v1/treatments",
        json!({"patient_id": t.a_patient["id"], "plan_id": t.b.plan["id"], "administered_on": "2023-04-01", "dose": 5e7, "dose_unit": "cells", "route": "intra_articular"}),
        "plan_id",
    )
    .await;
    // An adverse event on B's treatment.
    refused_like_missing(
        &app,
        "/api/v1/adverse-events",
        json!({"patient_id": t.a_patient["id"], "treatment_id": t.b_treatment["id"], "verbatim_term": "invented", "grade": 2, "seriousness": [], "causality": "probable", "onset_on": "2023-04-02", "known_on": "2023-04-02", "outcome": "recovered"}),
        "treatment_id",
    )
    .await;
    // An observation on B's visit.
    refused_like_missing(
        &app,
        "/api/v1/observations",
        json!({"patient_id": t.a_patient["id"], "visit_id": t.b_visit["id"], "code": "KOOS-pain", "value_number": 50.0, "unit": "{score}", "observed_on": "2023-04-02"}),
        "visit_id",
    )
    .await;
    // An enrolment in B's plan, and a visit under B's treatment.
    refused_like_missing(
        &app,
        "/api/v1/enrollments",
        json!({"patient_id": t.a_patient["id"], "plan_id": t.b.plan["id"], "arm": "treated", "enrolled_on": "2023-04-01"}),
        "plan_id",
    )
    .await;
    refused_like_missing(
        &app,
        "/api/v1/visits",
        json!({"patient_id": t.a_patient["id"], "treatment_id": t.b_treatment["id"], "label": "X", "due_on": "2023-05-01", "window_opens_on": "2023-04-24", "window_closes_on": "2023-05-08"}),
        "treatment_id",
    )
    .await;
    // A change of A's own adverse event to point at B's treatment.
    let own = app
        .create("/api/v1/adverse-events", json!({"patient_id": t.a_patient["id"], "verbatim_term": "own", "grade": 1, "seriousness": [], "causality": "unlikely", "onset_on": "2023-04-02", "known_on": "2023-04-02", "outcome": "recovered"}))
        .await;
    app.patch(
        &format!("/api/v1/adverse-events/{}", id(&own)),
        json!({"version": 1, "treatment_id": t.b_treatment["id"]}),
    )
    .await
    .assert_problem(422, Some("treatment_id"));
    // B's report and trace-back are untouched.
    assert_eq!(patients_in_report(&app, &t.b).await, 1);
    app.act_as(&t.b.doctor);
    let b_events = app
        .get(&format!(
            "/api/v1/adverse-events?treatment_id={}",
            id(&t.b_treatment)
        ))
        .await;
    assert_eq!(b_events.body["items"].as_array().unwrap().len(), 0);
}
on_both!(
    cross_organisation_references,
    write_may_not_point_into_another_organisations_records
);

async fn error_messages_do_not_name_records_out_of_reach(app: TestApp) {
    app.demo(40, 3).await;
    let authority = app.organisation("Authority", "regulator").await;
    let regulator = app.user("regulator", Some(&authority)).await;
    app.act_as(&regulator);
    let treated = app
        .get("/api/v1/treatments?unit_id.null=false&limit=1")
        .await
        .body["items"][0]
        .clone();
    let unit = app
        .get(&format!(
            "/api/v1/units/{}",
            treated["unit_id"].as_str().unwrap()
        ))
        .await
        .body;
    let number = unit["unit_number"].as_str().unwrap().to_string();
    let clinic = app.organisation("Clinic C", "medical_institution").await;
    let doctor = app.user("physician", Some(&clinic)).await;
    app.act_as(&doctor);
    let patient = app
        .create("/api/v1/patients", json!({"institution_id": clinic["id"], "record_number": "C-1", "birth_year_month": "1970-02", "sex": "female"}))
        .await;
    // Another clinic's patient's unit, already administered: before the fix the answer
    // named it ("unit … is already administered").
    let r = app
        .post("/api/v1/treatments", json!({"patient_id": patient["id"], "unit_id": unit["id"], "administered_on": "2025-01-10", "dose": 1e8, "dose_unit": "cells", "route": "intravenous"}))
        .await;
    r.assert_problem(422, Some("unit_id"));
    assert!(!r.text.contains(&number), "{}", r.text);
    let lot = unit["lot_id"].as_str().unwrap();
    assert!(!r.text.contains(lot), "{}", r.text);
    // Bedside steps on it are "not found", as for a unit that does not exist.
    let bedside = |u: String| {
        let body = json!({"patient_id": patient["id"], "step": "received", "at": "2025-01-09T10:00:00+09:00", "person": "Nurse"});
        let app = &app;
        async move { app.post(&format!("/api/v1/units/{u}/bedside"), body).await }
    };
    let a = bedside(unit["id"].as_str().unwrap().to_string()).await;
    let b = bedside(uuid::Uuid::now_v7().to_string()).await;
    a.assert_problem(404, None);
    assert_eq!(without_ids(&a.text), without_ids(&b.text));
    assert!(!a.text.contains(&number));
}
on_both!(
    messages_out_of_reach,
    error_messages_do_not_name_records_out_of_reach
);

async fn audit_trail_shows_admins_no_clinical_content(app: TestApp) {
    app.demo(20, 5).await;
    app.act_as_admin();
    for entity in [
        "patient",
        "adverse_event",
        "treatment",
        "enrollment",
        "consent",
        "observation",
        "visit",
        "lot",
    ] {
        let r = app
            .get(&format!("/api/v1/audit?entity={entity}&limit=50"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let items = r.body["items"].as_array().unwrap();
        assert!(!items.is_empty(), "the demo audits {entity}s");
        for e in items {
            assert_eq!(e["content_withheld"], true, "{e}");
            assert!(e["after"].is_null() && e["before"].is_null(), "LEAK: {e}");
            assert!(e["actor"].is_string() && e["action"].is_string());
        }
    }
    // Everything an admin may read keeps its content; unfiltered pages mix both.
    let orgs = app.get("/api/v1/audit?entity=organisation&limit=5").await;
    let first = &orgs.body["items"][0];
    assert_eq!(first["content_withheld"], false);
    assert!(first["after"]["name"].is_string());
    let all = app.get("/api/v1/audit?limit=1000").await;
    for e in all.body["items"].as_array().unwrap() {
        if e["entity"] == "patient" || e["entity"] == "adverse_event" {
            assert!(e["after"].is_null(), "LEAK: {e}");
        }
    }
    // The regulator reads every record, so sees every entry's content.
    let authority = app.organisation("Authority", "regulator").await;
    let regulator = app.user("regulator", Some(&authority)).await;
    app.act_as(&regulator);
    let r = app.get("/api/v1/audit?entity=adverse_event&limit=5").await;
    assert_eq!(r.body["items"][0]["content_withheld"], false);
    assert!(r.body["items"][0]["after"]["outcome"].is_string());
}
on_both!(
    admin_audit_content,
    audit_trail_shows_admins_no_clinical_content
);

async fn negative_year_dates_answered_500(app: TestApp) {
    let t = two_clinics(&app).await;
    app.act_as_admin();
    let product = app
        .create(
            "/api/v1/products",
            json!({"name": "MSC (test)", "modality": "msc"}),
        )
        .await;
    app.act_as(&t.a_doctor);
    let p = t.a_patient["id"].clone();
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
        .date()
        .to_string();
    let next_month = (time::OffsetDateTime::now_utc() + time::Duration::days(40)).date();
    let next_month = format!("{:04}-{:02}", next_month.year(), next_month.month() as u8);
    let ae = |onset: &str, known: &str| json!({"patient_id": p, "verbatim_term": "x", "grade": 1, "seriousness": [], "causality": "unlikely", "onset_on": onset, "known_on": known, "outcome": "recovered"});
    let treatment = |on: &str| json!({"patient_id": p, "product_id": product["id"], "administered_on": on, "dose": 5e7, "dose_unit": "cells", "route": "intra_articular"});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/api/v1/adverse-events",
            ae("-2025-01-01", "2025-01-02"),
            "onset_on",
        ),
        (
            "/api/v1/adverse-events",
            ae("2025-01-01", "+12025-01-02"),
            "known_on",
        ),
        (
            "/api/v1/adverse-events",
            ae("0001-01-01", "2025-01-02"),
            "onset_on",
        ),
        (
            "/api/v1/adverse-events",
            ae(&tomorrow, &tomorrow),
            "onset_on",
        ),
        (
            "/api/v1/treatments",
            treatment("-2025-01-01"),
            "administered_on",
        ),
        (
            "/api/v1/treatments",
            treatment(&tomorrow),
            "administered_on",
        ),
        (
            "/api/v1/observations",
            json!({"patient_id": p, "code": "KOOS-pain", "value_number": 50.0, "unit": "{score}", "observed_on": "-2025-01-01"}),
            "observed_on",
        ),
        (
            "/api/v1/consents",
            json!({"patient_id": p, "scope": "registry", "form_version": "v1", "given_on": "-2025-01-01"}),
            "given_on",
        ),
        (
            "/api/v1/enrollments",
            json!({"patient_id": p, "arm": "control", "enrolled_on": "-0001-12-31"}),
            "enrolled_on",
        ),
        (
            "/api/v1/visits",
            json!({"patient_id": p, "label": "D30", "due_on": "-2025-01-01", "window_opens_on": "2024-12-25", "window_closes_on": "2025-01-10"}),
            "due_on",
        ),
        (
            "/api/v1/patients",
            json!({"institution_id": t.a_patient["institution_id"], "record_number": "A-9", "birth_year_month": next_month, "sex": "male"}),
            "birth_year_month",
        ),
    ];
    for (path, body, field) in cases {
        let r = app.post(path, body.clone()).await;
        assert!(
            !r.status.is_server_error(),
            "{path} {body}: {} {}",
            r.status,
            r.text
        );
        r.assert_problem(422, Some(field));
    }
    // And on PATCH.
    let own = app
        .create("/api/v1/adverse-events", ae("2025-01-01", "2025-01-02"))
        .await;
    for bad in ["-2025-01-03", "99999-01-01", tomorrow.as_str()] {
        let r = app
            .patch(
                &format!("/api/v1/adverse-events/{}", id(&own)),
                json!({"version": 1, "resolved_on": bad}),
            )
            .await;
        r.assert_problem(422, Some("resolved_on"));
    }
}
on_both!(negative_year_dates, negative_year_dates_answered_500);

async fn invisible_characters_and_missing_security_headers(app: TestApp) {
    let t = two_clinics(&app).await;
    app.act_as_admin();
    // Names and codes that look alike on screen but differ were stored as given.
    for bad in [
        "Clinic\u{202E}A",
        "\u{FEFF}Clinic",
        "Cli\u{200B}nic",
        "Clinic\u{0007}",
    ] {
        app.post(
            "/api/v1/organisations",
            json!({"name": bad, "kind": "medical_institution"}),
        )
        .await
        .assert_problem(422, Some("name"));
    }
    // Text is stored in normalisation form C.
    let decomposed = app
        .create(
            "/api/v1/organisations",
            json!({"name": "か\u{3099}ん病院", "kind": "medical_institution"}),
        )
        .await;
    assert_eq!(decomposed["name"], "がん病院");
    app.act_as(&t.a_doctor);
    app.post("/api/v1/adverse-events", json!({"patient_id": t.a_patient["id"], "verbatim_term": "\u{202E}gnissim", "grade": 1, "seriousness": [], "causality": "unlikely", "onset_on": "2024-01-01", "known_on": "2024-01-01", "outcome": "recovered"}))
        .await
        .assert_problem(422, Some("verbatim_term"));
    // Every answer carries the security headers: JSON, problems, pages, the fallback.
    let client = reqwest::Client::new();
    for (path, signed_in) in [
        ("/api/v1/organisations", true),
        ("/api/v1/organisations/not-a-uuid", true),
        ("/api/v1/health", false),
        ("/sign-in", false),
        ("/no/such/page", false),
        ("/api/v1/patients", false),
    ] {
        let mut req = client.get(format!("{}{path}", app.base));
        if signed_in {
            req = req.bearer_auth(&app.admin.token);
        }
        let r = req.send().await.unwrap();
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        let script = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"));
        assert_eq!(
            script,
            Some("script-src 'self'"),
            "{path}: no inline script"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
}
on_both!(
    text_and_headers,
    invisible_characters_and_missing_security_headers
);

async fn sign_in_told_real_accounts_from_unknown(app: TestApp) {
    let org = app.organisation("Clinic", "medical_institution").await;
    let mut real = Vec::new();
    for _ in 0..8 {
        real.push(app.user("institution_staff", Some(&org)).await);
    }
    let attempt = |email: String| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let r = app
                .anonymous(
                    reqwest::Method::POST,
                    "/api/v1/auth/sign-in",
                    Some(
                        json!({"email": email, "password": "not the password!", "code": "000000"}),
                    ),
                )
                .await;
            (r, started.elapsed())
        }
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (i, u) in real.iter().enumerate() {
        let (a, ta) = attempt(u.email.clone()).await;
        let (b, tb) = attempt(format!("nobody-{i}@test.example")).await;
        // The same status and words…
        assert_eq!(a.status, b.status);
        assert_eq!(a.body["detail"], b.body["detail"]);
        known.push(ta);
        unknown.push(tb);
    }
    // …and about the same time: both check a password (an unknown account against a
    // dummy hash). Before the fix an unknown address answered ten times faster.
    known.sort();
    unknown.sort();
    let (k, u) = (known[4].as_secs_f64(), unknown[4].as_secs_f64());
    assert!(
        (0.5..2.0).contains(&(k / u)),
        "median {k:.4} s for real accounts, {u:.4} s for unknown ones"
    );
    // And failures do not lock an account for a quarter of an hour: ten failures in a
    // row (from this very address) slow the next attempt by about two minutes.
    let victim = &real[0];
    for _ in 0..10 {
        attempt(victim.email.clone()).await;
    }
    app.clock.advance(time::Duration::minutes(3));
    let code = app.code(victim);
    let r = app
        .anonymous(
            reqwest::Method::POST,
            "/api/v1/auth/sign-in",
            Some(
                json!({"email": victim.email, "password": crate::helpers::PASSWORD, "code": code}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
on_both!(sign_in_oracle, sign_in_told_real_accounts_from_unknown);

async fn lists_ignored_their_parameters(app: TestApp) {
    let t = two_clinics(&app).await;
    app.act_as_admin();
    // Unknown query parameters are refused everywhere, naming the parameter.
    for path in [
        format!("/api/v1/patients/{}?foo=1", id(&t.a_patient)),
        "/api/v1/rule-sets?x=1".to_string(),
        "/api/v1/audit?after=5".to_string(),
        "/api/v1/users?emial=x@y.example".to_string(),
        "/api/v1/organisations?nmae=x".to_string(),
        "/api/v1/health?verbose=1".to_string(),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        assert_eq!(r.body["code"], "bad_parameter", "{path}");
        assert!(
            !r.body["errors"][0]["field"]
                .as_str()
                .unwrap_or("")
                .is_empty()
        );
    }
    // /users honours filters and limit; its pages chain by cursor.
    let all = app.get("/api/v1/users?limit=1000").await;
    let n = all.body["items"].as_array().unwrap().len();
    assert!(n >= 3);
    let one = app
        .get(&format!("/api/v1/users?email={}", t.a_doctor.email))
        .await;
    assert_eq!(one.body["items"].as_array().unwrap().len(), 1);
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/api/v1/users?limit=1{cursor}")).await;
        seen += page.body["items"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, n, "every user, one page at a time");
    // The audit trail pages with cursor like every list.
    let first = app.get("/api/v1/audit?limit=2").await;
    let c = first.body["next_cursor"].as_str().unwrap().to_string();
    let second = app.get(&format!("/api/v1/audit?limit=2&cursor={c}")).await;
    assert!(second.body["items"][0]["seq"].as_i64() > first.body["items"][1]["seq"].as_i64());
    // Lists that refused `limit` take it.
    app.act_as(&t.b.doctor);
    let sigs = app
        .get(&format!(
            "/api/v1/signatures?entity=plan&entity_id={}&limit=1",
            id(&t.b.plan)
        ))
        .await;
    assert_eq!(sigs.status, StatusCode::OK, "{}", sigs.text);
    assert_eq!(sigs.body["items"].as_array().unwrap().len(), 1);
    assert!(
        sigs.body["next_cursor"].is_string(),
        "the plan has two signatures"
    );
    let tokens = app.get("/api/v1/tokens?limit=1").await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text);
}
on_both!(list_parameters, lists_ignored_their_parameters);
