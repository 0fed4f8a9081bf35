//! Provision plans move through their lifecycle under the rules in force.

use crate::helpers::TestApp;
use crate::on_both;
use reqwest::StatusCode;
use serde_json::json;

async fn class_2_plan_goes_live(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let mut v = 1;
    for (to, on) in [
        ("submitted", "2024-01-10"),
        ("under_review", "2024-01-20"),
        ("accepted", "2024-03-01"),
        ("active", "2024-03-01"),
    ] {
        let r = app.move_plan(&b, to, on, v).await;
        assert_eq!(r.status, StatusCode::CREATED, "{to}: {}", r.text);
        assert_eq!(r.body["plan"]["status"], to);
        assert_eq!(r.body["transition"]["to_status"], to);
        v = r.body["plan"]["version"].as_i64().unwrap();
    }
    let plan = app
        .get(&format!("/api/v1/plans/{}", b.plan["id"].as_str().unwrap()))
        .await;
    assert_eq!(plan.body["filed_on"], "2024-03-01");
    assert_eq!(plan.body["activated_on"], "2024-03-01");
    let transitions = app
        .get(&format!(
            "/api/v1/plan-transitions?plan_id={}",
            b.plan["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(transitions.body["items"].as_array().unwrap().len(), 4);
    // Editing an active plan needs a reason.
    let path = format!("/api/v1/plans/{}", b.plan["id"].as_str().unwrap());
    app.patch(&path, json!({"version": v, "title": "New"}))
        .await
        .assert_problem(422, Some("reason"));
    let ok = app
        .patch(
            &path,
            json!({"version": v, "title": "New", "reason": "typo in title"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // Status only moves through transitions; suspension needs a reason.
    app.patch(
        &path,
        json!({"version": v + 1, "status": "ended", "reason": "x"}),
    )
    .await
    .assert_problem(422, Some("status"));
    app.move_plan(&b, "suspended", "2024-05-01", v + 1)
        .await
        .assert_problem(422, Some("reason"));
    app.move_plan(&b, "under_review", "2024-05-01", v + 1)
        .await
        .assert_problem(422, Some("to_status"));
    // Only the institution's physicians and the plan's committee move it.
    let outsider = app
        .organisation("Other Clinic", "medical_institution")
        .await;
    let stranger = app.user("physician", Some(&outsider)).await;
    app.act_as(&stranger);
    app.post(
        &format!(
            "/api/v1/plans/{}/transitions",
            b.plan["id"].as_str().unwrap()
        ),
        json!({"to": "suspended", "on": "2024-05-01", "version": v + 1, "reason": "x"}),
    )
    .await
    .assert_problem(404, None);
    app.act_as(&b.member);
    app.post(
        &format!(
            "/api/v1/plans/{}/transitions",
            b.plan["id"].as_str().unwrap()
        ),
        json!({"to": "suspended", "on": "2024-05-01", "version": v + 1, "reason": "x"}),
    )
    .await
    .assert_problem(403, None);
    app.act_as(&b.doctor);
    // Submitting without a signature is refused.
    let fresh = app.basics("2", "specially_certified_committee").await;
    app.post(
        &format!(
            "/api/v1/plans/{}/transitions",
            fresh.plan["id"].as_str().unwrap()
        ),
        json!({"to": "submitted", "on": "2024-01-10", "version": 1}),
    )
    .await
    .assert_problem(422, Some("signature"));
    let mut wrong = app.signature(&fresh.doctor);
    wrong["password"] = json!("not the password at all");
    app.post(
        &format!(
            "/api/v1/plans/{}/transitions",
            fresh.plan["id"].as_str().unwrap()
        ),
        json!({"to": "submitted", "on": "2024-01-10", "version": 1, "signature": wrong}),
    )
    .await
    .assert_problem(401, None);
    let signed = app.move_plan(&fresh, "submitted", "2024-01-10", 1).await;
    assert_eq!(signed.status, StatusCode::CREATED, "{}", signed.text);
    assert_eq!(signed.body["signature"]["meaning"], "responsibility");
    app.move_plan(&b, "ended", "2024-02-01", v + 1)
        .await
        .assert_problem(422, Some("on"));
}
on_both!(class_2_lifecycle, class_2_plan_goes_live);

async fn class_1_waits_and_needs_special_committee(app: TestApp) {
    let b = app.basics("1", "certified_committee").await;
    app.move_plan(&b, "submitted", "2024-01-10", 1)
        .await
        .assert_problem(422, Some("committee_id"));
    let good = app.basics("1", "specially_certified_committee").await;
    let mut v = 1;
    for (to, on) in [
        ("submitted", "2024-01-10"),
        ("under_review", "2024-01-11"),
        ("accepted", "2024-02-01"),
    ] {
        let r = app.move_plan(&good, to, on, v).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        v = r.body["plan"]["version"].as_i64().unwrap();
    }
    // Filed 2024-02-01: 90 days elapse at the end of 2024-04-30 (2024 is a leap year).
    let early = app.move_plan(&good, "active", "2024-04-30", v).await;
    early.assert_problem(422, Some("on"));
    assert!(early.text.contains("2024-05-01"), "{}", early.text);
    let r = app.move_plan(&good, "active", "2024-05-01", v).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // A stale version is a conflict.
    app.move_plan(&good, "suspended", "2024-06-01", v)
        .await
        .assert_problem(409, Some("version"));
}
on_both!(class_1_lifecycle, class_1_waits_and_needs_special_committee);
