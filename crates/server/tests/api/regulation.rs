//! Classification, what-if, periodic reports and deadlines over HTTP.

use crate::helpers::{Basics, TestApp};
use crate::on_both;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn msc() -> Value {
    json!({"material": "cells", "cell_source": "autologous", "cell_kind": "somatic_stem",
           "gene_introduced": false, "genome_edited": false, "cultured": true,
           "homologous_use": false, "purpose": "treatment", "procedure": null})
}

async fn classify_by_date_and_rule_set(app: TestApp) {
    let r = app
        .post(
            "/api/v1/classify",
            json!({"therapy": msc(), "date": "2019-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["class"], "2");
    assert_eq!(r.body["rule_set"], "asrm-2014");
    assert!(
        r.body["reasons"][0]["rule"]
            .as_str()
            .unwrap()
            .starts_with("asrm-2014/")
    );
    let ev = json!({"material": "ev", "purpose": "treatment",
                    "source": {"cell_source": "allogeneic", "cell_kind": "somatic_stem", "gene_introduced": false, "genome_edited": false, "cultured": true}});
    let today = app.post("/api/v1/classify", json!({"therapy": ev})).await;
    assert_eq!(today.body["class"], "outside", "{}", today.text);
    let proposed = app
        .post(
            "/api/v1/classify",
            json!({"therapy": ev, "rule_set": "proposal-ev-supernatant"}),
        )
        .await;
    assert_eq!(proposed.body["class"], "1", "{}", proposed.text);
    app.post(
        "/api/v1/classify",
        json!({"therapy": msc(), "date": "2010-01-01"}),
    )
    .await
    .assert_problem(422, Some("date"));
    app.post(
        "/api/v1/classify",
        json!({"therapy": msc(), "rule_set": "nope"}),
    )
    .await
    .assert_problem(422, Some("rule_set"));
    let mut bad = msc();
    bad["colour"] = json!("red");
    app.post("/api/v1/classify", json!({"therapy": bad}))
        .await
        .assert_problem(422, None);
    let sets = app.get("/api/v1/rule-sets").await;
    let ids: Vec<&str> = sets.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"asrm-2014") && ids.contains(&"proposal-ev-supernatant"),
        "{ids:?}"
    );
    assert_eq!(
        app.get("/api/v1/rule-sets/asrm-2025").await.status,
        StatusCode::OK
    );
    app.get("/api/v1/rule-sets/asrm-1999")
        .await
        .assert_problem(404, None);
}
on_both!(classify, classify_by_date_and_rule_set);

async fn what_if_lists_changes(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let path = format!("/api/v1/plans/{}", b.plan["id"].as_str().unwrap());
    // A genome-edited autologous therapy filed as class 2 (wrongly, or before 2020).
    let therapy = json!({"material": "cells", "cell_source": "autologous", "cell_kind": "somatic",
        "gene_introduced": false, "genome_edited": true, "cultured": true,
        "homologous_use": true, "purpose": "treatment", "procedure": null});
    let r = app
        .patch(&path, json!({"version": 1, "therapy": therapy}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // What-if is the regulator's tool.
    app.get("/api/v1/what-if?rule_set=asrm-2025")
        .await
        .assert_problem(403, None);
    let mhlw = app.organisation("MHLW", "regulator").await;
    let regulator = app.user("regulator", Some(&mhlw)).await;
    app.act_as(&regulator);
    let w = app.get("/api/v1/what-if?rule_set=asrm-2025").await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text);
    assert_eq!(w.body["changes"].as_array().unwrap().len(), 1, "{}", w.text);
    assert_eq!(w.body["changes"][0]["old_class"], "2");
    assert_eq!(w.body["changes"][0]["new_class"], "1");
    assert_eq!(w.body["summary"]["changed"], 1);
    let none = app.get("/api/v1/what-if?rule_set=asrm-2014").await;
    assert_eq!(
        none.body["summary"]["changed"], 1,
        "2014 has no genome-editing rule, but: {}",
        none.text
    );
    app.get("/api/v1/what-if")
        .await
        .assert_problem(400, Some("rule_set"));
    app.post("/api/v1/what-if", json!({"rule_set_toml": "id = 3"}))
        .await
        .assert_problem(422, Some("rule_set_toml"));
}
on_both!(what_if, what_if_lists_changes);

async fn activate(app: &TestApp, b: &Basics, filed: &str) {
    let mut v = 1;
    for (to, on) in [
        ("submitted", "2023-01-05"),
        ("under_review", "2023-01-10"),
        ("accepted", filed),
        ("active", filed),
    ] {
        let r = app.move_plan(b, to, on, v).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        v = r.body["plan"]["version"].as_i64().unwrap();
    }
}

async fn periodic_reports_compile_and_file(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    activate(&app, &b, "2023-02-01").await;
    let plan_id = b.plan["id"].as_str().unwrap();
    // Nobody treated yet: the report is still due and says so.
    let empty = app
        .get(&format!("/api/v1/plans/{plan_id}/periodic-reports/1"))
        .await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert_eq!(empty.body["period_start"], "2023-02-01");
    assert_eq!(empty.body["period_end"], "2024-01-31");
    assert_eq!(empty.body["due_on"], "2024-04-30");
    assert_eq!(empty.body["patients_treated"], 0);
    assert!(empty.body["note"].is_string());
    // Treat a patient in period 1 with a serious adverse event.
    let p = app
        .create("/api/v1/patients", json!({"institution_id": b.institution["id"], "record_number": "P1", "birth_year_month": "1950-05", "sex": "female"}))
        .await;
    let t = app
        .create("/api/v1/treatments", json!({"patient_id": p["id"], "plan_id": plan_id, "administered_on": "2023-03-01", "dose": 5e7, "dose_unit": "cells", "route": "intra_articular"}))
        .await;
    let ae = app
        .create("/api/v1/adverse-events", json!({"patient_id": p["id"], "treatment_id": t["id"], "verbatim_term": "septic arthritis",
            "grade": 3, "seriousness": ["hospitalisation"], "causality": "probable", "onset_on": "2023-03-04", "known_on": "2023-03-05", "outcome": "recovered"}))
        .await;
    let r = app
        .get(&format!("/api/v1/plans/{plan_id}/periodic-reports/1"))
        .await;
    assert_eq!(r.body["patients_treated"], 1);
    assert_eq!(r.body["adverse_events"]["serious"], 1);
    assert_eq!(
        r.body["adverse_events"]["by_seriousness"]["hospitalisation"],
        1
    );
    assert_eq!(r.body["by_age_band"]["60-74"], 1);
    let html = app
        .client
        .get(format!(
            "{}/api/v1/plans/{plan_id}/periodic-reports/1?format=html",
            app.base
        ))
        .bearer_auth(&b.doctor.token)
        .send()
        .await
        .unwrap();
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = html.text().await.unwrap();
    assert!(html.contains("septic arthritis") && html.contains("2024-04-30"));
    app.get(&format!(
        "/api/v1/plans/{plan_id}/periodic-reports/1?format=pdf"
    ))
    .await
    .assert_problem(400, Some("format"));
    app.get(&format!("/api/v1/plans/{plan_id}/periodic-reports/0"))
        .await
        .assert_problem(400, Some("period"));

    // A serious event the physician judged unrelated to the treatment is not reportable
    // under the Act (only suspected events are): no deadline, never overdue, counted.
    app.create("/api/v1/adverse-events", json!({"patient_id": p["id"], "treatment_id": t["id"], "verbatim_term": "fractured wrist after a fall",
        "grade": 3, "seriousness": ["hospitalisation"], "causality": "unrelated", "onset_on": "2023-06-01", "known_on": "2023-06-01", "outcome": "recovered"}))
        .await;

    // Deadlines on 2024-05-01: the period 1 report and the AE report are overdue.
    let d = app.get("/api/v1/deadlines?as_of=2024-05-01").await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(d.body["totals"]["overdue"], 2, "{}", d.text);
    assert_eq!(d.body["not_suspected"], 1, "{}", d.text);
    let items = d.body["institutions"][0]["items"].as_array().unwrap();
    let ae_item = items.iter().find(|i| i["kind"] == "adverse_event").unwrap();
    assert_eq!(ae_item["due_on"], "2023-03-20", "15 days from knowledge");
    assert_eq!(ae_item["category"], "ae_serious");
    // A page of one lists the most pressing (the earlier deadline) and counts the other;
    // the institution's totals still count both.
    let one = app.get("/api/v1/deadlines?as_of=2024-05-01&limit=1").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    let inst = &one.body["institutions"][0];
    assert_eq!(inst["items"].as_array().unwrap().len(), 1, "{}", one.text);
    assert_eq!(inst["items"][0]["kind"], "adverse_event");
    assert_eq!(inst["not_listed"], 1);
    assert_eq!(inst["totals"]["overdue"], 2);
    assert_eq!(one.body["totals"]["overdue"], 2);
    assert_eq!(d.body["institutions"][0]["not_listed"], 0);
    for bad in ["0", "1001", "many"] {
        app.get(&format!("/api/v1/deadlines?as_of=2024-05-01&limit={bad}"))
            .await
            .assert_problem(400, Some("limit"));
    }
    // File both.
    let r = app
        .patch(
            &format!("/api/v1/adverse-events/{}", ae["id"].as_str().unwrap()),
            json!({"version": 1, "reported_on": "2023-03-15"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.post(
        &format!("/api/v1/plans/{plan_id}/periodic-reports/1/submit"),
        json!({"submitted_on": "2024-01-15", "signature": app.signature(&b.doctor)}),
    )
    .await
    .assert_problem(422, Some("submitted_on"));
    let filed = app
        .post(
            &format!("/api/v1/plans/{plan_id}/periodic-reports/1/submit"),
            json!({"submitted_on": "2024-05-10", "signature": app.signature(&b.doctor)}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    assert_eq!(filed.body["content"]["patients_treated"], 1);
    assert_eq!(filed.body["content_hash"].as_str().unwrap().len(), 64);
    app.post(
        &format!("/api/v1/plans/{plan_id}/periodic-reports/1/submit"),
        json!({"submitted_on": "2024-05-11", "signature": app.signature(&b.doctor)}),
    )
    .await
    .assert_problem(409, None);
    let d = app.get("/api/v1/deadlines?as_of=2024-06-01").await;
    assert_eq!(d.body["totals"]["overdue"], 0, "{}", d.text);
    assert_eq!(d.body["totals"]["done"], 2);
    assert_eq!(
        d.body["totals"]["done_late"], 1,
        "the periodic report was 10 days late"
    );
    let only_done = app
        .get("/api/v1/deadlines?as_of=2024-06-01&status=overdue")
        .await;
    assert!(
        only_done.body["institutions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.get("/api/v1/deadlines?as_of=2024-13-01")
        .await
        .assert_problem(400, Some("as_of"));
    app.get("/api/v1/deadlines?status=late")
        .await
        .assert_problem(400, Some("status"));
    let periods = app
        .get(&format!("/api/v1/plans/{plan_id}/periodic-reports"))
        .await;
    assert_eq!(periods.body["items"][0]["status"], "done");
    assert_eq!(app.count("/api/v1/periodic-reports").await, 1);
}
on_both!(periodic_reports, periodic_reports_compile_and_file);

async fn unfiled_plan_has_no_periods(app: TestApp) {
    let b = app.basics("3", "certified_committee").await;
    app.get(&format!(
        "/api/v1/plans/{}/periodic-reports/1",
        b.plan["id"].as_str().unwrap()
    ))
    .await
    .assert_problem(422, Some("plan"));
}
on_both!(unfiled_plan, unfiled_plan_has_no_periods);

/// A plan that ended owes the report of its last, shortened period and nothing after:
/// filed 2023-02-01, ended 2023-06-30, it shows one period (to the end day, due 90 days
/// later) in 2026, not three overdue years; the plan records when it ended, and period 2
/// is refused by name.
async fn an_ended_plan_owes_no_later_reports(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    activate(&app, &b, "2023-02-01").await;
    let plan_id = b.plan["id"].as_str().unwrap();
    let plan = app.get(&format!("/api/v1/plans/{plan_id}")).await;
    let v = plan.body["version"].as_i64().unwrap();
    let r = app.move_plan(&b, "ended", "2023-06-30", v).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["plan"]["ended_on"], "2023-06-30", "{}", r.text);
    let periods = app
        .get(&format!("/api/v1/plans/{plan_id}/periodic-reports"))
        .await;
    assert_eq!(periods.status, StatusCode::OK, "{}", periods.text);
    let items = periods.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", periods.text);
    assert_eq!(items[0]["end"], "2023-06-30");
    assert_eq!(items[0]["due_on"], "2023-09-28");
    app.get(&format!("/api/v1/plans/{plan_id}/periodic-reports/2"))
        .await
        .assert_problem(422, Some("period"));
    let d = app.get("/api/v1/deadlines?as_of=2026-12-01").await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(d.body["totals"]["overdue"], 1, "{}", d.text);
}
on_both!(ended_plan, an_ended_plan_owes_no_later_reports);
