//! Health, the OpenAPI document, unknown paths (the pages are tested in saisei-web).

use crate::helpers::TestApp;
use crate::on_both;
use reqwest::StatusCode;

async fn health_reports_database(app: TestApp) {
    let r = app.get("/api/v1/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    assert!(["sqlite", "postgres"].contains(&r.body["database"].as_str().unwrap()));
}
on_both!(health, health_reports_database);

async fn openapi_describes_every_resource(app: TestApp) {
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/api/v1/organisations",
        "/api/v1/practitioners",
        "/api/v1/plans",
        "/api/v1/plans/{id}/transitions",
        "/api/v1/patients",
        "/api/v1/enrollments",
        "/api/v1/consents",
        "/api/v1/treatments",
        "/api/v1/visits",
        "/api/v1/observations",
        "/api/v1/adverse-events",
        "/api/v1/products",
        "/api/v1/follow-up-schedules",
        "/api/v1/health",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(paths["/api/v1/patients"]["post"].is_object());
    assert!(paths["/api/v1/patients/{id}"]["patch"].is_object());
    let schemas = r.body["components"]["schemas"].as_object().unwrap();
    for s in [
        "Patient",
        "NewPatient",
        "AdverseEvent",
        "ProblemBody",
        "RecordMeta",
        "TherapyDescription",
    ] {
        assert!(schemas.contains_key(s), "missing schema {s}");
    }
}
on_both!(openapi, openapi_describes_every_resource);

async fn unknown_paths_and_methods_are_problems(app: TestApp) {
    app.get("/api/v1/nothing-here")
        .await
        .assert_problem(404, None);
    app.request(reqwest::Method::DELETE, "/api/v1/patients", None)
        .await
        .assert_problem(405, None);
}
on_both!(unknown_paths, unknown_paths_and_methods_are_problems);
