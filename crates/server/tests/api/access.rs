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
    app.demo(60, 7).await;
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

/// Reference fields a client sends, by resource: `(field, resource it points at)`.
/// Written from the API's schemas, independently of the server's policy code.
const REFERENCES: &[(&str, &[(&str, &str)])] = &[
    ("practitioners", &[("organisation_id", "organisations")]),
    ("products", &[("mah_id", "organisations")]),
    (
        "plans",
        &[
            ("institution_id", "organisations"),
            ("responsible_physician_id", "practitioners"),
            ("committee_id", "organisations"),
        ],
    ),
    (
        "enrollments",
        &[
            ("patient_id", "patients"),
            ("plan_id", "plans"),
            ("product_id", "products"),
        ],
    ),
    ("consents", &[("patient_id", "patients")]),
    (
        "treatments",
        &[
            ("patient_id", "patients"),
            ("plan_id", "plans"),
            ("product_id", "products"),
            ("schedule_id", "follow-up-schedules"),
            ("unit_id", "units"),
        ],
    ),
    (
        "visits",
        &[("patient_id", "patients"), ("treatment_id", "treatments")],
    ),
    (
        "observations",
        &[("patient_id", "patients"), ("visit_id", "visits")],
    ),
    (
        "adverse-events",
        &[("patient_id", "patients"), ("treatment_id", "treatments")],
    ),
    (
        "collections",
        &[
            ("donor_id", "donors"),
            ("patient_id", "patients"),
            ("collected_by_id", "organisations"),
        ],
    ),
    (
        "cell-banks",
        &[
            ("facility_id", "organisations"),
            ("collection_id", "collections"),
            ("parent_bank_id", "cell-banks"),
        ],
    ),
    (
        "lots",
        &[
            ("product_id", "products"),
            ("facility_id", "organisations"),
            ("cell_bank_id", "cell-banks"),
            ("collection_id", "collections"),
        ],
    ),
    ("units", &[("lot_id", "lots")]),
    ("retained-samples", &[("lot_id", "lots")]),
    ("qc-results", &[("lot_id", "lots")]),
    ("deviations", &[("lot_id", "lots")]),
    ("custody-events", &[("unit_id", "units")]),
    ("checklist-answers", &[("product_id", "products")]),
    ("evaluation-plans", &[("product_id", "products")]),
];

/// What each role may write, per docs/SECURITY.md.
fn writes(role: &str, resource: &str) -> bool {
    match role {
        "institution_staff" => CLINICAL.contains(&resource) || resource == "collections",
        "physician" => {
            CLINICAL.contains(&resource) || resource == "collections" || resource == "plans"
        }
        "facility_staff" | "qa_manager" => FACILITY.contains(&resource),
        "mah_analyst" => matches!(
            resource,
            "products" | "checklist-answers" | "evaluation-plans"
        ),
        "admin" => REFERENCE.contains(&resource),
        _ => false,
    }
}

/// Where a role may name records it cannot read (docs/SECURITY.md, "references").
fn widened(role: &str, target: &str) -> bool {
    matches!(role, "facility_staff" | "qa_manager") && matches!(target, "patients" | "collections")
}

/// Replaces every UUID in a string, so two answers can be compared but for the ids.
fn without_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.len() >= 36 && uuid::Uuid::parse_str(&tail[..36]).is_ok() {
            out.push_str("<id>");
            rest = &tail[36..];
        } else {
            let c = tail.chars().next().unwrap();
            out.push(c);
            rest = &tail[c.len_utf8()..];
        }
    }
    out.push_str(rest);
    out
}

/// A create body made from a stored record: its data without what the server sets.
fn body_of(record: &Value) -> Value {
    let mut b = record.clone();
    let map = b.as_object_mut().unwrap();
    for meta in [
        "id",
        "version",
        "created_at",
        "updated_at",
        "withdrawn_at",
        "withdrawal_reason",
    ] {
        map.remove(meta);
    }
    map.retain(|_, v| !v.is_null());
    b
}

/// Posts `body`, dropping any field the server says it sets itself (or derives, so a
/// client cannot send it), until it answers something else.
async fn post_as_client(app: &TestApp, path: &str, mut body: Value) -> crate::helpers::Reply {
    loop {
        let r = app.post(path, body.clone()).await;
        let server_set: Vec<String> = r.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| {
                        e["problem"].as_str().is_some_and(|p| {
                            p.contains("set by the server") || p.starts_with("unknown field")
                        })
                    })
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if r.status != StatusCode::UNPROCESSABLE_ENTITY || server_set.is_empty() {
            return r;
        }
        for f in server_set {
            body.as_object_mut().unwrap().remove(&f);
        }
    }
}

/// How many records every table holds.
async fn stored(app: &TestApp) -> u64 {
    let mut n = 0;
    for t in saisei_store::tables::all() {
        n += app.store.count_where(t, &[]).await.unwrap();
    }
    n
}

/// Writes that name another organisation's records: for every role that writes, every
/// resource it writes and every reference in it, a body pointing at the demo's records
/// (all another organisation's, seen from an outsider) is answered exactly as the same
/// body pointing at records that do not exist — and stores nothing.
async fn references_into_other_organisations(app: TestApp) {
    app.demo(40, 11).await;
    let authority = app.organisation("Authority", "regulator").await;
    let regulator = app.user("regulator", Some(&authority)).await;
    let mut checks = 0usize;
    for (role, kind) in [
        ("institution_staff", "medical_institution"),
        ("physician", "medical_institution"),
        ("facility_staff", "cell_processing_facility"),
        ("qa_manager", "cell_processing_facility"),
        ("mah_analyst", "marketing_authorisation_holder"),
    ] {
        let org = app.organisation(&format!("Empty {role}"), kind).await;
        let outsider = app.user(role, Some(&org)).await;
        for (resource, fields) in REFERENCES {
            if !writes(role, resource) {
                continue;
            }
            // Only references to records the role cannot otherwise reach count here.
            let foreign: Vec<&str> = fields
                .iter()
                .filter(|(_, target)| {
                    expected(role, target) == Own && !widened(role, target)
                        || expected(role, target) == Nothing
                })
                .map(|(f, _)| *f)
                .collect();
            if foreign.is_empty() {
                continue;
            }
            app.act_as(&regulator);
            let records = app.get(&format!("/api/v1/{resource}?limit=200")).await.body["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(template) = records
                .iter()
                .find(|r| foreign.iter().any(|f| r[*f].is_string()))
            else {
                continue;
            };
            let pointing = body_of(template);
            let mut nowhere = pointing.clone();
            for f in &foreign {
                if nowhere[*f].is_string() {
                    nowhere[*f] = json!(uuid::Uuid::now_v7());
                }
            }
            app.act_as(&outsider);
            let before = stored(&app).await;
            let a = post_as_client(&app, &format!("/api/v1/{resource}"), pointing).await;
            let b = post_as_client(&app, &format!("/api/v1/{resource}"), nowhere).await;
            assert_eq!(
                a.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "LEAK: {role} writes {resource} pointing at another organisation's records: {}",
                a.text
            );
            assert_eq!(
                a.status, b.status,
                "{role} {resource}: {} vs {}",
                a.text, b.text
            );
            assert_eq!(
                without_ids(&a.text),
                without_ids(&b.text),
                "{role} {resource}: an out-of-reach reference must read as one that does not exist"
            );
            let named: Vec<&str> = a.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["field"].as_str())
                .collect();
            assert!(
                foreign
                    .iter()
                    .filter(|f| template[**f].is_string())
                    .all(|f| named.contains(f)),
                "{role} {resource}: every foreign reference is named: {}",
                a.text
            );
            assert_eq!(
                stored(&app).await,
                before,
                "{role} {resource}: nothing stored"
            );
            checks += 1;
        }
    }
    assert!(checks >= 15, "only {checks} resources were tried");
    eprintln!(
        "references into other organisations: {checks} role × resource writes refused like missing records"
    );
}
on_both!(references, references_into_other_organisations);

/// The matrix above is written by hand, independently of the policy it checks; this
/// keeps it complete: every kind of record the catalogue lists under `/api/v1` as a
/// generic resource is in it, so a new kind cannot go unchecked.
#[test]
fn the_matrix_covers_every_listed_kind() {
    let walked: std::collections::BTreeSet<&str> = all_resources().into_iter().collect();
    let catalogue: std::collections::BTreeSet<&str> = saisei_store::tables::all()
        .into_iter()
        .filter_map(|t| t.api.map(|a| a.path))
        .collect();
    let missing: Vec<&&str> = catalogue.difference(&walked).collect();
    assert!(
        missing.is_empty(),
        "kinds listed under /api/v1 that the access matrix does not walk: {missing:?}"
    );
}
