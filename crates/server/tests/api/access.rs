//! The access matrix, walked: every role × every resource × its own organisation and
//! another organisation of the same kind. Lists and reads must show a role exactly what
//! the matrix in docs/SECURITY.md says — and nothing of another organisation's records.

use crate::helpers::{TestApp, TestUser};
use crate::on_both;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

/// What a role sees of a resource.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Sees {
    /// 403: closed to the role.
    Nothing,
    /// Every record, whoever it belongs to.
    All,
    /// Its own organisation's records only.
    Own,
}
use Sees::*;

const REFERENCE: &[&str] = &[
    "organisations",
    "practitioners",
    "products",
    "follow-up-schedules",
];
const CLINICAL: &[&str] = &[
    "patients",
    "enrollments",
    "consents",
    "treatments",
    "visits",
    "observations",
    "adverse-events",
];
const PLANS: &[&str] = &["plans", "plan-transitions", "periodic-reports"];
const LOT_CHAIN: &[&str] = &[
    "lots",
    "lot-status-changes",
    "units",
    "retained-samples",
    "qc-results",
    "deviations",
];
const FACILITY: &[&str] = &[
    "donors",
    "collections",
    "cell-banks",
    "lots",
    "lot-status-changes",
    "units",
    "retained-samples",
    "qc-results",
    "deviations",
    "custody-events",
    "temperature-logs",
    "temperature-excursions",
    "dispositions",
];
const OTHER: &[&str] = &["culture-media", "checklist-answers"];
const EVALUATION: &[&str] = &["evaluation-plans", "evaluation-runs"];

fn all_resources() -> Vec<&'static str> {
    let mut v: Vec<&str> = REFERENCE
        .iter()
        .chain(CLINICAL)
        .chain(PLANS)
        .chain(FACILITY)
        .chain(OTHER)
        .chain(EVALUATION)
        .copied()
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The matrix of docs/SECURITY.md, written independently of the server's policy code.
fn expected(role: &str, resource: &str) -> Sees {
    let r = |list: &[&str]| list.contains(&resource);
    match role {
        "regulator" => All,
        "adjudicator" => Nothing,
        "admin" => {
            if r(REFERENCE) || resource == "culture-media" {
                All
            } else {
                Nothing
            }
        }
        "institution_staff" | "physician" => {
            if r(REFERENCE) {
                All
            } else if r(CLINICAL) || r(PLANS) || resource == "collections" || resource == "units" {
                Own
            } else {
                Nothing
            }
        }
        "facility_staff" | "qa_manager" => {
            if r(REFERENCE) || resource == "culture-media" {
                All
            } else if r(FACILITY) {
                Own
            } else {
                Nothing
            }
        }
        "committee_member" => {
            if r(REFERENCE) {
                All
            } else if r(PLANS) {
                Own
            } else {
                Nothing
            }
        }
        "mah_analyst" => {
            if r(REFERENCE) {
                All
            } else if r(CLINICAL)
                || r(LOT_CHAIN)
                || r(EVALUATION)
                || resource == "checklist-answers"
            {
                Own
            } else {
                Nothing
            }
        }
        other => panic!("unknown role {other}"),
    }
}

async fn list(app: &TestApp, user: &TestUser, resource: &str) -> (StatusCode, Vec<String>) {
    app.act_as(user);
    let r = app.get(&format!("/api/v1/{resource}?limit=1000")).await;
    assert!(!r.status.is_server_error(), "{resource}: {}", r.text);
    let ids = r.body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (r.status, ids)
}

async fn walk_the_matrix(app: TestApp) {
    saisei_demo::generate(
        &app.store,
        saisei_domain::regulation::RuleBook::embedded().unwrap(),
        &crate::helpers::test_key(),
        saisei_demo::DemoOptions {
            patients: 60,
            seed: 7,
        },
        |_| {},
    )
    .await
    .unwrap();
    app.act_as_admin();
    let orgs = app.get("/api/v1/organisations?limit=1000").await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let first = |kind: &str| orgs.iter().find(|o| o["kind"] == kind).cloned().unwrap();
    let insider_org: HashMap<&str, Option<Value>> = HashMap::from([
        ("institution_staff", Some(first("medical_institution"))),
        ("physician", Some(first("medical_institution"))),
        ("facility_staff", Some(first("cell_processing_facility"))),
        ("qa_manager", Some(first("cell_processing_facility"))),
        (
            "committee_member",
            Some(first("specially_certified_committee")),
        ),
        ("mah_analyst", Some(first("marketing_authorisation_holder"))),
        ("regulator", Some(first("regulator"))),
        ("adjudicator", None),
        ("admin", None),
    ]);
    // Organisations of the same kinds that hold no records.
    let mut outsider_org: HashMap<&str, Value> = HashMap::new();
    for (role, kind) in [
        ("institution_staff", "medical_institution"),
        ("physician", "medical_institution"),
        ("facility_staff", "cell_processing_facility"),
        ("qa_manager", "cell_processing_facility"),
        ("committee_member", "specially_certified_committee"),
        ("mah_analyst", "marketing_authorisation_holder"),
    ] {
        let o = app.organisation(&format!("Outsider {role}"), kind).await;
        outsider_org.insert(role, o);
    }
    let regulator = app
        .user("regulator", insider_org["regulator"].as_ref())
        .await;
    let resources = all_resources();
    // Everything there is, as the regulator sees it.
    let mut everything: HashMap<&str, Vec<String>> = HashMap::new();
    for res in &resources {
        let (status, ids) = list(&app, &regulator, res).await;
        assert_eq!(status, StatusCode::OK, "regulator lists {res}");
        everything.insert(res, ids);
    }
    for core in [
        "patients",
        "treatments",
        "adverse-events",
        "plans",
        "lots",
        "units",
        "qc-results",
    ] {
        assert!(!everything[core].is_empty(), "the demo has {core}");
    }
    let mut checks = 0usize;
    for (role, org) in &insider_org {
        let insider = app.user(role, org.as_ref()).await;
        let outsider = match outsider_org.get(role) {
            Some(o) => Some(app.user(role, Some(o)).await),
            None => None,
        };
        for res in &resources {
            let sees = expected(role, res);
            let (status, ids) = list(&app, &insider, res).await;
            checks += 1;
            match sees {
                Nothing => assert_eq!(status, StatusCode::FORBIDDEN, "{role} lists {res}"),
                All => {
                    assert_eq!(status, StatusCode::OK, "{role} lists {res}");
                    assert_eq!(ids.len(), everything[res].len(), "{role} sees all {res}");
                }
                Own => {
                    assert_eq!(status, StatusCode::OK, "{role} lists {res}");
                    assert!(ids.iter().all(|i| everything[res].contains(i)));
                }
            }
            let Some(outsider) = &outsider else { continue };
            let (status, ids) = list(&app, outsider, res).await;
            checks += 1;
            match sees {
                Nothing => assert_eq!(status, StatusCode::FORBIDDEN, "outsider {role} lists {res}"),
                All => assert_eq!(
                    ids.len(),
                    everything[res].len(),
                    "outsider {role} sees all {res}"
                ),
                Own => {
                    assert_eq!(status, StatusCode::OK, "outsider {role} lists {res}");
                    assert!(
                        ids.is_empty(),
                        "LEAK: a {role} of another organisation lists {res}: {ids:?}"
                    );
                    // Reads and writes of the first few records, one by one.
                    for id in everything[res].iter().take(3) {
                        app.act_as(outsider);
                        let r = app.get(&format!("/api/v1/{res}/{id}")).await;
                        assert!(
                            matches!(r.status.as_u16(), 403 | 404),
                            "LEAK: outsider {role} reads {res}/{id}: {}",
                            r.text
                        );
                        let w = app
                            .patch(&format!("/api/v1/{res}/{id}"), json!({"version": 1}))
                            .await;
                        assert!(
                            matches!(w.status.as_u16(), 403..=405),
                            "outsider {role} writes {res}/{id}: {}",
                            w.text
                        );
                        checks += 2;
                    }
                }
            }
        }
        // Insiders see their own organisation's core records.
        let own_core: &[&str] = match *role {
            "institution_staff" | "physician" => &["patients", "treatments", "plans"],
            "facility_staff" | "qa_manager" => &["lots", "units", "qc-results"],
            "committee_member" => &["plans"],
            "mah_analyst" => &["patients", "lots", "evaluation-plans"],
            _ => &[],
        };
        for res in own_core {
            let (_, ids) = list(&app, &insider, res).await;
            assert!(!ids.is_empty(), "{role} sees its own {res}");
        }
    }
    eprintln!(
        "access matrix: {} roles × {} resources, {checks} checks, no leak",
        insider_org.len(),
        resources.len()
    );
}
on_both!(matrix, walk_the_matrix);
