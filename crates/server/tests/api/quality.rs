//! Quality and traceability end to end: donor → collection → banks → lot → QC →
//! conformance → release (refused, then allowed under a QA-approved deviation) → unit →
//! shipment → administration → look-back and trace-back; the rules that stop units of
//! unreleased or quarantined lots; temperature excursions and dispositions; malformed
//! input named by field, line and column; the append-only custody log.
//!
//! Each step acts as the role that does it: the admin registers organisations and
//! products, the facility's QA manager everything made at the facility (the bedside
//! custody events too, with the site as the recording party), the institution's
//! physician patients, treatments and adverse events, and a regulator the traces.

use crate::helpers::{TestApp, TestUser};
use crate::on_both;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The parties, users and records every scenario starts from.
struct Setup {
    facility: Value,
    institution: Value,
    product: Value,
    qa: TestUser,
    doctor: TestUser,
    regulator: TestUser,
    patient: Value,
    other_patient: Value,
    donor: Value,
    master: Value,
    working: Value,
    medium: Value,
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("record has an id").to_string()
}

fn party(org: &Value, person: &str) -> Value {
    json!({"organisation_id": org["id"], "person": person})
}

fn qa() -> Value {
    json!({"person": "QA Suzuki", "role": "qa_manager"})
}

/// Registers the organisations, product and users, the patients (as the physician),
/// and the donor-to-medium chain (as QA); later requests act as QA.
async fn setup(app: &TestApp) -> Setup {
    let facility = app
        .organisation("Cell Processing Center", "cell_processing_facility")
        .await;
    let institution = app
        .organisation("General Hospital", "medical_institution")
        .await;
    let authority = app.organisation("MHLW (test)", "regulator").await;
    app.act_as_admin();
    let product = app
        .create(
            "/api/v1/products",
            json!({"name": "UC-MSC (test)", "modality": "msc"}),
        )
        .await;
    let qa = app.user("qa_manager", Some(&facility)).await;
    let doctor = app.user("physician", Some(&institution)).await;
    let regulator = app.user("regulator", Some(&authority)).await;
    app.act_as(&doctor);
    let mut patients = Vec::new();
    for mrn in ["MRN-1", "MRN-2"] {
        patients.push(
            app.create(
                "/api/v1/patients",
                json!({"institution_id": institution["id"], "record_number": mrn, "birth_year_month": "1958-03", "sex": "female"}),
            )
            .await,
        );
    }
    app.act_as(&qa);
    let donor = app
        .create(
            "/api/v1/donors",
            json!({
                "facility_id": facility["id"], "donor_code": "D-0001", "sex": "female",
                "eligibility_tests": [
                    {"test": "hbs_ag", "result": "negative", "tested_on": "2024-06-01"},
                    {"test": "anti_hiv_1_2", "result": "negative", "tested_on": "2024-06-01"}
                ],
                "eligibility": "eligible", "eligibility_decided_on": "2024-06-05"
            }),
        )
        .await;
    assert_eq!(donor["pseudonym"].as_str().map(str::len), Some(64));
    assert!(
        donor.get("donor_code").is_none(),
        "the donor code is never stored"
    );
    let collection = app
        .create(
            "/api/v1/collections",
            json!({
                "donor_id": donor["id"], "collected_by_id": facility["id"],
                "collected_on": "2024-06-10", "material": "umbilical cord tissue",
                "din": "W1234 24 000187"
            }),
        )
        .await;
    assert_eq!(collection["din"], "W123424000187");
    let master = app
        .create(
            "/api/v1/cell-banks",
            json!({
                "bank_code": "MCB-T1", "tier": "master", "facility_id": facility["id"],
                "collection_id": collection["id"], "cell_type": "UC-MSC", "passage": 2,
                "vials": 100, "established_on": "2024-07-01"
            }),
        )
        .await;
    let working = app
        .create(
            "/api/v1/cell-banks",
            json!({
                "bank_code": "WCB-T1", "tier": "working", "facility_id": facility["id"],
                "parent_bank_id": master["id"], "cell_type": "UC-MSC", "passage": 4,
                "vials": 200, "established_on": "2024-08-01"
            }),
        )
        .await;
    let medium = app
        .create(
            "/api/v1/culture-media",
            json!({
                "name": "Xeno-free expansion medium", "medium_lot": "XF-1", "xeno_free": true,
                "components": [{"name": "human platelet lysate", "animal_origin": false}]
            }),
        )
        .await;
    let other_patient = patients.pop().unwrap();
    let patient = patients.pop().unwrap();
    Setup {
        facility,
        institution,
        product,
        qa,
        doctor,
        regulator,
        patient,
        other_patient,
        donor,
        master,
        working,
        medium,
    }
}

/// Creates a lot of the ucMSC example specification.
async fn lot(app: &TestApp, s: &Setup, number: &str) -> Value {
    app.create(
        "/api/v1/lots",
        json!({
            "lot_number": number, "product_id": s.product["id"], "facility_id": s.facility["id"],
            "cell_bank_id": s.working["id"], "culture_medium_ids": [s.medium["id"]],
            "process_version": "v1.0", "specification": "example-ucmsc@1",
            "evaluation_context": {"dose": {"max_dose": {"basis": "per_patient", "ml": 5}}},
            "manufactured_on": "2025-01-06", "expires_on": "2026-01-06"
        }),
    )
    .await
}

/// A full set of results for `example-ucmsc@1`, with viability at `viability` %.
fn results(viability: f64) -> Vec<Value> {
    let num = |attribute: &str, value: f64, unit: &str, method: &str| {
        json!({"attribute": attribute, "value": {"type": "numeric", "value": value, "unit": unit},
               "method": method, "instrument": "FACSLyric #2", "tested_on": "2025-01-27"})
    };
    let qual = |attribute: &str, result: &str, method: &str| {
        json!({"attribute": attribute, "value": {"type": "qualitative", "result": result},
               "method": method, "tested_on": "2025-01-27"})
    };
    vec![
        qual("plastic_adherence", "conforms", "microscopy"),
        num("cd105_positive", 98.1, "%", "flow_cytometry"),
        num("cd73_positive", 99.0, "%", "flow_cytometry"),
        num("cd90_positive", 99.4, "%", "flow_cytometry"),
        num("cd45_positive", 0.4, "%", "flow_cytometry"),
        num("cd34_positive", 0.6, "%", "flow_cytometry"),
        num("cd14_positive", 0.3, "%", "flow_cytometry"),
        num("cd19_positive", 0.2, "%", "flow_cytometry"),
        num("hla_dr_positive", 0.5, "%", "flow_cytometry"),
        qual("osteogenic_differentiation", "positive", "alizarin_red"),
        qual("adipogenic_differentiation", "positive", "oil_red_o"),
        qual("chondrogenic_differentiation", "positive", "alcian_blue"),
        qual("sterility", "no_growth", "jp_sterility_membrane_filtration"),
        qual("mycoplasma", "negative", "nat_pcr"),
        num("endotoxin", 0.8, "EU/mL", "lal_kinetic_turbidimetric"),
        num("viability", viability, "%", "flow_7aad"),
        num(
            "viable_cell_count",
            1.2e8,
            "cells",
            "automated_cell_counter",
        ),
        qual("karyotype", "conforms", "g_banding"),
    ]
}

async fn record_results(app: &TestApp, lot: &Value, viability: f64) {
    for mut r in results(viability) {
        r["lot_id"] = lot["id"].clone();
        app.create("/api/v1/qc-results", r).await;
    }
}

async fn version(app: &TestApp, path: &str) -> i64 {
    let r = app.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["version"].as_i64().unwrap()
}

async fn decide(
    app: &TestApp,
    lot: &Value,
    what: &str,
    reason: Option<&str>,
) -> crate::helpers::Reply {
    let path = format!("/api/v1/lots/{}", id(lot));
    let v = version(app, &path).await;
    let mut body = json!({"on": "2025-02-03", "decided_by": qa(), "version": v});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    if what == "release" {
        body["signature"] = app.my_signature();
    }
    app.post(&format!("{path}/{what}"), body).await
}

/// A lot with passing results, quarantined and released.
async fn released_lot(app: &TestApp, s: &Setup, number: &str) -> Value {
    let l = lot(app, s, number).await;
    record_results(app, &l, 92.0).await;
    let q = decide(
        app,
        &l,
        "quarantine",
        Some("QC complete; awaiting QA review"),
    )
    .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    let r = decide(app, &l, "release", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["lot"]["status"], "released");
    r.body["lot"].clone()
}

/// A unit of `lot` allocated to `patient`, its log started at the facility.
async fn unit(app: &TestApp, s: &Setup, lot: &Value, number: &str, patient: &Value) -> Value {
    let u = app
        .create(
            "/api/v1/units",
            json!({
                "lot_id": lot["id"], "unit_number": number, "container": "cryobag 20 mL",
                "dose": 1.0e8, "dose_unit": "cells", "expires_on": "2025-12-31",
                "storage": {"min_celsius": -196, "max_celsius": -150},
                "recipient": {"source": "allogeneic", "allocated_to": patient["id"]}
            }),
        )
        .await;
    for (at, action) in [
        (
            "2025-01-27T10:00:00+09:00",
            json!({"type": "processing_step", "step": "fill and finish"}),
        ),
        (
            "2025-01-27T11:00:00+09:00",
            json!({"type": "cryopreserved"}),
        ),
    ] {
        event(app, s, &u, at, &s.facility, action).await;
    }
    u
}

async fn event(
    app: &TestApp,
    _s: &Setup,
    unit: &Value,
    at: &str,
    org: &Value,
    action: Value,
) -> Value {
    app.create(
        "/api/v1/custody-events",
        json!({"unit_id": unit["id"], "at": at, "by": party(org, "Operator"), "action": action}),
    )
    .await
}

async fn ship(app: &TestApp, s: &Setup, unit: &Value, at: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/units/{}/ship", id(unit)),
        json!({"at": at, "releasing": party(&s.facility, "QP Sato"), "receiving": party(&s.institution, "Pharmacist Abe")}),
    )
    .await
}

fn treatment(s: &Setup, unit: &Value, patient: &Value) -> Value {
    json!({
        "patient_id": patient["id"], "product_id": s.product["id"], "unit_id": unit["id"],
        "administered_on": "2025-02-12", "dose": 5.0e7, "dose_unit": "cells",
        "route": "intra_articular", "site": "knee"
    })
}

/// Ships (as the facility), then the treating site records delivery, thawing and the
/// bedside identity check for `patient` through its own endpoint.
async fn bring_to_bedside(app: &TestApp, s: &Setup, unit: &Value, patient: &Value) {
    let shipped = ship(app, s, unit, "2025-02-10T09:00:00+09:00").await;
    assert_eq!(shipped.status, StatusCode::CREATED, "{}", shipped.text);
    assert_eq!(shipped.body["events"].as_array().map(Vec::len), Some(2));
    let acting_doctor = s.doctor.clone();
    app.act_as(&acting_doctor);
    let path = format!("/api/v1/units/{}/bedside", id(unit));
    // Not this patient's unit: not found, nothing recorded.
    if patient["id"] != s.other_patient["id"] {
        app.post(
            &path,
            json!({"patient_id": s.other_patient["id"], "step": "delivered", "at": "2025-02-11T10:00:00+09:00", "person": "Nurse Ito"}),
        )
        .await
        .assert_problem(404, None);
    }
    for (at, step) in [
        ("2025-02-11T10:00:00+09:00", "delivered"),
        ("2025-02-12T09:00:00+09:00", "thawed"),
        ("2025-02-12T09:10:00+09:00", "identity_verified"),
    ] {
        let r = app
            .post(
                &path,
                json!({"patient_id": patient["id"], "step": step, "at": at, "person": "Nurse Ito"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{step}: {}", r.text);
        assert_eq!(r.body["event_type"], step);
    }
    app.act_as(&s.qa);
}

async fn release_needs_deviation_then_traces_back(app: TestApp) {
    let s = setup(&app).await;
    let l = lot(&app, &s, "RGK-T-001").await;
    assert_eq!(l["status"], "in_process");
    record_results(&app, &l, 78.5).await;

    let eval = app
        .get(&format!("/api/v1/lots/{}/conformance", id(&l)))
        .await;
    assert_eq!(eval.status, StatusCode::OK, "{}", eval.text);
    assert_eq!(eval.body["conformance"]["outcome"], "fail");
    assert_eq!(eval.body["results"], 18);
    let failing: Vec<&str> = eval.body["conformance"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] != "pass")
        .map(|r| r["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(failing, vec!["safety.viability"], "{}", eval.text);

    // Not quarantined yet, and the rule fails: both are listed.
    let r = decide(&app, &l, "release", None).await;
    r.assert_problem(422, Some("status"));
    r.assert_problem(422, Some("safety.viability"));
    assert_eq!(r.body["code"], "rule_violation");

    decide(&app, &l, "quarantine", Some("QC complete")).await;
    let r = decide(&app, &l, "release", None).await;
    r.assert_problem(422, Some("safety.viability"));
    assert_eq!(
        r.body["errors"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );

    // A deviation approved by the production manager does not count.
    app.create(
        "/api/v1/deviations",
        json!({"lot_id": l["id"], "reference": "DEV-T-1", "rule_ids": ["safety.viability"],
               "reason": "Viability 78.5 % within validated clinical range",
               "approved_by": {"person": "PM Ito", "role": "production_manager"},
               "approved_on": "2025-02-01"}),
    )
    .await;
    let r = decide(&app, &l, "release", None).await;
    r.assert_problem(422, Some("safety.viability"));
    assert!(r.text.contains("not a QA manager"), "{}", r.text);
    // A deviation naming a rule the specification does not have is refused.
    app.post(
        "/api/v1/deviations",
        json!({"lot_id": l["id"], "reference": "DEV-T-X", "rule_ids": ["safety.nothing"],
               "reason": "x", "approved_by": qa(), "approved_on": "2025-02-01"}),
    )
    .await
    .assert_problem(422, Some("rule_ids[0]"));
    app.create(
        "/api/v1/deviations",
        json!({"lot_id": l["id"], "reference": "DEV-T-2", "rule_ids": ["safety.viability"],
               "reason": "Viability 78.5 % within validated clinical range; potency unaffected",
               "approved_by": qa(), "approved_on": "2025-02-02"}),
    )
    .await;
    // Release decided by someone who is not QA is refused.
    let v = version(&app, &format!("/api/v1/lots/{}", id(&l))).await;
    app.post(
        &format!("/api/v1/lots/{}/release", id(&l)),
        json!({"on": "2025-02-03", "decided_by": {"person": "PM Ito", "role": "production_manager"}, "version": v, "signature": app.my_signature()}),
    )
    .await
    .assert_problem(422, Some("decided_by.role"));
    // A release without the QA manager's signature is refused.
    app.post(
        &format!("/api/v1/lots/{}/release", id(&l)),
        json!({"on": "2025-02-03", "decided_by": qa(), "version": v}),
    )
    .await
    .assert_problem(422, Some("signature"));
    let r = decide(&app, &l, "release", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["lot"]["status"], "released");
    assert_eq!(r.body["change"]["covered"][0]["deviation"], "DEV-T-2");
    assert_eq!(r.body["signature"]["meaning"], "approval");
    let sigs = app
        .get(&format!(
            "/api/v1/signatures?entity=lot&entity_id={}",
            id(&l)
        ))
        .await;
    assert_eq!(sigs.body["items"][0]["valid"], true, "{}", sigs.text);
    let l = r.body["lot"].clone();
    // Status moves only through the workflow.
    app.patch(
        &format!("/api/v1/lots/{}", id(&l)),
        json!({"version": l["version"], "status": "in_process"}),
    )
    .await
    .assert_problem(422, Some("status"));

    app.create(
        "/api/v1/retained-samples",
        json!({"lot_id": l["id"], "sample_code": "RS-T-001", "material": "final product",
               "location": "LN2 tank 1, rack R", "quantity": 3, "quantity_unit": "vials",
               "retained_on": "2025-01-27", "retain_until": "2035-01-27"}),
    )
    .await;

    let u = unit(&app, &s, &l, "U-T-001", &s.patient).await;
    event(
        &app,
        &s,
        &u,
        "2025-02-03T15:00:00+09:00",
        &s.facility,
        json!({"type": "released"}),
    )
    .await;
    bring_to_bedside(&app, &s, &u, &s.patient).await;

    // The wrong patient is refused, naming the field.
    app.act_as(&s.doctor);
    app.post("/api/v1/treatments", treatment(&s, &u, &s.other_patient))
        .await
        .assert_problem(422, Some("patient_id"));
    let t = app
        .create("/api/v1/treatments", treatment(&s, &u, &s.patient))
        .await;
    app.act_as(&s.qa);
    let custody = app.get(&format!("/api/v1/units/{}/custody", id(&u))).await;
    assert_eq!(custody.body["phase"], "administered", "{}", custody.text);
    let last = custody.body["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"]["type"], "administered");
    assert_eq!(last["action"]["patient_id"], s.patient["id"]);
    // The unit cannot be given twice.
    app.act_as(&s.doctor);
    app.post("/api/v1/treatments", treatment(&s, &u, &s.patient))
        .await
        .assert_problem(422, Some("unit_id"));

    let ae = app
        .create(
            "/api/v1/adverse-events",
            json!({
                "patient_id": s.patient["id"], "treatment_id": t["id"],
                "verbatim_term": "Fever after injection", "ctcae_term": "Fever", "grade": 2,
                "seriousness": ["hospitalisation"], "causality": "possible",
                "onset_on": "2025-02-13", "known_on": "2025-02-13", "outcome": "recovered",
                "resolved_on": "2025-02-16"
            }),
        )
        .await;

    // Look-back: the lot finds the unit, the patient, the date and the event. It joins
    // manufacturing with clinical records: the facility may not, a regulator may.
    app.act_as(&s.qa);
    app.get("/api/v1/trace/lots/RGK-T-001")
        .await
        .assert_problem(403, None);
    app.act_as(&s.regulator);
    let back = app.get("/api/v1/trace/lots/RGK-T-001").await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert_eq!(back.body["totals"]["units"], 1);
    assert_eq!(back.body["totals"]["patients"], 1);
    assert_eq!(back.body["totals"]["serious_adverse_events"], 1);
    let recipient = &back.body["units"][0]["recipients"][0];
    assert_eq!(recipient["patient_id"], s.patient["id"]);
    assert_eq!(recipient["administered_on"], "2025-02-12");
    assert_eq!(recipient["adverse_events"][0]["id"], ae["id"]);
    assert_eq!(recipient["adverse_events"][0]["linked_to_treatment"], true);
    app.get("/api/v1/trace/lots/NO-SUCH-LOT")
        .await
        .assert_problem(404, None);

    // Trace-back: the event walks back to the lot's dossier and the donor.
    let trace = app
        .get(&format!("/api/v1/trace/adverse-events/{}", id(&ae)))
        .await;
    assert_eq!(trace.status, StatusCode::OK, "{}", trace.text);
    let origin = &trace.body["origins"][0];
    assert_eq!(origin["unit"]["id"], u["id"]);
    assert_eq!(origin["lot"]["lot"]["lot_number"], "RGK-T-001");
    assert_eq!(
        origin["lot"]["qc_results"].as_array().map(Vec::len),
        Some(18)
    );
    assert_eq!(
        origin["lot"]["deviations"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        origin["lot"]["retained_samples"][0]["sample_code"],
        "RS-T-001"
    );
    assert_eq!(origin["lot"]["culture_media"][0]["id"], s.medium["id"]);
    let banks: Vec<&str> = origin["lot"]["cell_banks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bank_code"].as_str().unwrap())
        .collect();
    assert_eq!(banks, vec!["WCB-T1", "MCB-T1"]);
    assert_eq!(origin["lot"]["cell_banks"][1]["id"], s.master["id"]);
    assert_eq!(origin["lot"]["donor"]["id"], s.donor["id"]);
    assert_eq!(
        origin["lot"]["status_changes"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(origin["custody"].as_array().map(Vec::len) >= Some(9));
}
on_both!(release_and_trace, release_needs_deviation_then_traces_back);

async fn unreleased_or_quarantined_lots_hold_their_units(app: TestApp) {
    let s = setup(&app).await;
    // A lot that was never released: no shipment, no release on the unit, no treatment.
    let held = lot(&app, &s, "RGK-T-010").await;
    let u = unit(&app, &s, &held, "U-T-010", &s.patient).await;
    ship(&app, &s, &u, "2025-02-10T09:00:00+09:00")
        .await
        .assert_problem(422, Some("lot_id"));
    app.post(
        "/api/v1/custody-events",
        json!({"unit_id": u["id"], "at": "2025-02-03T15:00:00+09:00",
               "by": party(&s.facility, "QP"), "action": {"type": "released"}}),
    )
    .await
    .assert_problem(422, Some("action"));
    app.act_as(&s.doctor);
    app.post("/api/v1/treatments", treatment(&s, &u, &s.patient))
        .await
        .assert_problem(422, Some("unit_id"));
    app.act_as(&s.qa);

    // A released lot put back into quarantine: its unit at the bedside cannot be given.
    let l = released_lot(&app, &s, "RGK-T-011").await;
    let u = unit(&app, &s, &l, "U-T-011", &s.patient).await;
    event(
        &app,
        &s,
        &u,
        "2025-02-03T15:00:00+09:00",
        &s.facility,
        json!({"type": "released"}),
    )
    .await;
    bring_to_bedside(&app, &s, &u, &s.patient).await;
    let q = app
        .post(
            &format!("/api/v1/lots/{}/quarantine", id(&l)),
            json!({"on": "2025-02-11", "decided_by": qa(), "reason": "Complaint under investigation",
                   "version": version(&app, &format!("/api/v1/lots/{}", id(&l))).await}),
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    app.act_as(&s.doctor);
    let r = app
        .post("/api/v1/treatments", treatment(&s, &u, &s.patient))
        .await;
    r.assert_problem(422, Some("unit_id"));
    assert!(r.text.contains("quarantined"), "{}", r.text);
    assert_eq!(app.count("/api/v1/treatments").await, 0);
    // Nothing was written: the unit is still at the site, not administered.
    app.act_as(&s.qa);
    let custody = app.get(&format!("/api/v1/units/{}/custody", id(&u))).await;
    assert_eq!(custody.body["phase"], "at_site");

    // Units of a rejected lot: the rejection reaches their logs, and no new units.
    let bad = lot(&app, &s, "RGK-T-012").await;
    let u = unit(&app, &s, &bad, "U-T-012", &s.patient).await;
    let r = decide(&app, &bad, "reject", Some("Sterility failure")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["units"][0], u["id"]);
    app.post(
        "/api/v1/units",
        json!({
            "lot_id": bad["id"], "unit_number": "U-T-013", "container": "bag", "dose": 1,
            "dose_unit": "cells", "expires_on": "2025-12-31",
            "storage": {"min_celsius": -196, "max_celsius": -150},
            "recipient": {"source": "allogeneic"}
        }),
    )
    .await
    .assert_problem(422, Some("lot_id"));
}
on_both!(
    units_of_held_lots,
    unreleased_or_quarantined_lots_hold_their_units
);

const EXCURSION_CSV: &str = "time,celsius\n\
2025-02-10T09:00:00+09:00,-180\n\
2025-02-10T10:00:00+09:00,-170\n\
2025-02-10T11:00:00+09:00,-140\n\
2025-02-10T11:20:00+09:00,-128.5\n\
2025-02-10T11:40:00+09:00,-165\n\
2025-02-10T12:00:00+09:00,-175\n";

async fn temperature_excursion_holds_units_until_disposition(app: TestApp) {
    let s = setup(&app).await;
    let l = released_lot(&app, &s, "RGK-T-020").await;
    let a = unit(&app, &s, &l, "U-T-020", &s.patient).await;
    let b = unit(&app, &s, &l, "U-T-021", &s.other_patient).await;
    for u in [&a, &b] {
        event(
            &app,
            &s,
            u,
            "2025-02-03T15:00:00+09:00",
            &s.facility,
            json!({"type": "released"}),
        )
        .await;
        let r = ship(&app, &s, u, "2025-02-10T08:00:00+09:00").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = app
        .raw(
            reqwest::Method::POST,
            &format!(
                "/api/v1/units/{}/temperature-log?also_unit_ids={}",
                id(&a),
                id(&b)
            ),
            "text/csv",
            EXCURSION_CSV.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let excursion = &r.body["excursions"][0];
    assert_eq!(excursion["duration_seconds"], 2400);
    assert_eq!(excursion["max_celsius"], -128.5);
    assert_eq!(excursion["min_celsius"], -140.0);
    assert_eq!(excursion["direction"], "above");
    assert_eq!(r.body["holds"].as_array().map(Vec::len), Some(2));
    assert_eq!(r.body["log"]["within_range"], false);
    let hold = excursion["hold"].as_str().unwrap().to_string();
    for u in [&a, &b] {
        let c = app.get(&format!("/api/v1/units/{}/custody", id(u))).await;
        assert_eq!(c.body["holds"][0], hold.as_str(), "{}", c.text);
    }
    // Held units cannot be handled towards a patient.
    event(
        &app,
        &s,
        &a,
        "2025-02-11T10:00:00+09:00",
        &s.institution,
        json!({"type": "delivered"}),
    )
    .await;
    app.post(
        "/api/v1/custody-events",
        json!({"unit_id": a["id"], "at": "2025-02-12T09:00:00+09:00",
               "by": party(&s.institution, "Nurse"), "action": {"type": "thawed"}}),
    )
    .await
    .assert_problem(422, Some("unit_id"));
    // Only a QA manager decides.
    app.post(
        "/api/v1/dispositions",
        json!({"excursion_id": excursion["id"], "decided_on": "2025-02-11",
               "decision": {"decision": "use_as_is", "reason": "Within stability data"},
               "approved_by": {"person": "Tech Mori", "role": "qc_analyst"}}),
    )
    .await
    .assert_problem(422, Some("approved_by.role"));
    let d = app
        .post(
            "/api/v1/dispositions",
            json!({"excursion_id": excursion["id"], "decided_on": "2025-02-11",
                   "decision": {"decision": "use_as_is", "reason": "40 min at ≤ −128 °C is within validated stability"},
                   "approved_by": qa()}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    assert_eq!(d.body["events"].as_array().map(Vec::len), Some(2));
    let c = app.get(&format!("/api/v1/units/{}/custody", id(&a))).await;
    assert_eq!(
        c.body["holds"].as_array().map(Vec::len),
        Some(0),
        "{}",
        c.text
    );
    // One decision per excursion.
    app.post(
        "/api/v1/dispositions",
        json!({"excursion_id": excursion["id"], "decided_on": "2025-02-11",
               "decision": {"decision": "destroy", "reason": "changed our mind"},
               "approved_by": qa()}),
    )
    .await
    .assert_problem(409, Some("excursion_id"));

    // The same log as JSON readings gives the same excursion; a log within range none.
    let ok = app
        .post(
            &format!("/api/v1/units/{}/temperature-log", id(&a)),
            json!({"readings": [
                {"at": "2025-02-11T09:00:00+09:00", "celsius": -185.0},
                {"at": "2025-02-11T10:00:00+09:00", "celsius": -183.5}
            ]}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert_eq!(ok.body["assessment"]["within_range"], true);
    assert_eq!(ok.body["holds"].as_array().map(Vec::len), Some(0));
}
on_both!(
    temperature_excursion,
    temperature_excursion_holds_units_until_disposition
);

async fn malformed_input_is_named(app: TestApp) {
    let s = setup(&app).await;
    let l = lot(&app, &s, "RGK-T-030").await;
    let u = unit(&app, &s, &l, "U-T-030", &s.patient).await;
    let csv = "time,celsius\n2025-02-10T09:00:00+09:00,-180\n2025-02-10 10:00,-170\n2025-02-10T11:00:00+09:00,cold\n";
    let r = app
        .raw(
            reqwest::Method::POST,
            &format!("/api/v1/units/{}/temperature-log", id(&u)),
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    r.assert_problem(422, Some("csv.line[3].time"));
    r.assert_problem(422, Some("csv.line[4].celsius"));
    assert!(r.text.contains("line 4"), "{}", r.text);
    app.raw(
        reqwest::Method::POST,
        &format!("/api/v1/units/{}/temperature-log", id(&u)),
        "application/xml",
        b"<log/>".to_vec(),
    )
    .await
    .assert_problem(415, None);
    app.post(
        &format!("/api/v1/units/{}/temperature-log", id(&u)),
        json!({"csv": "time,celsius\n", "readings": []}),
    )
    .await
    .assert_problem(422, Some("csv"));
    assert_eq!(app.count("/api/v1/temperature-logs").await, 0);
    let nobody = "/api/v1/units/00000000-0000-7000-8000-000000000000";
    app.post(
        &format!("{nobody}/temperature-log"),
        json!({"csv": "2025-02-10T09:00:00Z,-180\n"}),
    )
    .await
    .assert_problem(404, None);
    app.get(&format!("{nobody}/custody"))
        .await
        .assert_problem(404, None);

    // ISBT 128 DIN and EU SEC are syntax-checked.
    let collection = |extra: Value| {
        let mut body = json!({"donor_id": s.donor["id"], "collected_by_id": s.facility["id"],
                              "collected_on": "2024-06-10", "material": "cord"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    app.post(
        "/api/v1/collections",
        collection(json!({"din": "W12342400018"})),
    )
    .await
    .assert_problem(422, Some("din"));
    app.post(
        "/api/v1/collections",
        collection(json!({"din": "W123424000187J"})),
    )
    .await
    .assert_problem(422, Some("din"));
    app.post(
        "/api/v1/collections",
        collection(json!({"sec": "BE0001112345678901234X000103500120251231"})),
    )
    .await
    .assert_problem(422, Some("sec"));
    // Unknown specifications, bank lineage and lots' status are checked.
    let mut bad_lot = lot_body(&s, "RGK-T-031");
    bad_lot["specification"] = json!("no-such-spec@1");
    app.post("/api/v1/lots", bad_lot)
        .await
        .assert_problem(422, Some("specification"));
    let mut with_status = lot_body(&s, "RGK-T-032");
    with_status["status"] = json!("released");
    app.post("/api/v1/lots", with_status)
        .await
        .assert_problem(422, Some("status"));
    app.post(
        "/api/v1/cell-banks",
        json!({"bank_code": "WCB-T2", "tier": "working", "facility_id": s.facility["id"],
               "parent_bank_id": s.working["id"], "cell_type": "UC-MSC", "passage": 6,
               "vials": 10, "established_on": "2024-09-01"}),
    )
    .await
    .assert_problem(422, Some("parent_bank_id"));
    app.post("/api/v1/lots", lot_body(&s, "RGK-T-030"))
        .await
        .assert_problem(409, Some("lot_number"));
    // Custody events out of order or impossible name the field.
    app.post(
        "/api/v1/custody-events",
        json!({"unit_id": u["id"], "at": "2025-01-01T00:00:00+09:00",
               "by": party(&s.facility, "QP"), "action": {"type": "stored", "location": "tank"}}),
    )
    .await
    .assert_problem(422, Some("at"));
    app.post(
        "/api/v1/custody-events",
        json!({"unit_id": u["id"], "at": "2025-02-01T00:00:00+09:00",
               "by": party(&s.facility, "QP"),
               "action": {"type": "handover", "releasing": party(&s.institution, "X"), "receiving": party(&s.facility, "Y")}}),
    )
    .await
    .assert_problem(422, Some("action.releasing"));
    app.post(
        "/api/v1/custody-events",
        json!({"unit_id": u["id"], "at": "2025-02-01T00:00:00+09:00",
               "by": party(&s.facility, "QP"), "action": {"type": "teleported"}}),
    )
    .await
    .assert_problem(422, None);
}
on_both!(malformed_input, malformed_input_is_named);

fn lot_body(s: &Setup, number: &str) -> Value {
    json!({
        "lot_number": number, "product_id": s.product["id"], "facility_id": s.facility["id"],
        "cell_bank_id": s.working["id"], "process_version": "v1.0",
        "specification": "example-ucmsc@1", "manufactured_on": "2025-01-06"
    })
}

async fn custody_log_is_append_only(app: TestApp) {
    let s = setup(&app).await;
    let l = lot(&app, &s, "RGK-T-040").await;
    let u = unit(&app, &s, &l, "U-T-040", &s.patient).await;
    let events = app
        .get(&format!("/api/v1/custody-events?unit_id={}", id(&u)))
        .await;
    let first = events.body["items"][0].clone();
    assert_eq!(first["seq"], 0);
    assert_eq!(first["event_type"], "processing_step");
    app.patch(
        &format!("/api/v1/custody-events/{}", id(&first)),
        json!({"version": 1, "at": "2025-01-01T00:00:00Z"}),
    )
    .await
    .assert_problem(405, None);
    let w = app
        .post(
            &format!("/api/v1/custody-events/{}/withdraw", id(&first)),
            json!({"version": 1, "reason": "mistake"}),
        )
        .await;
    assert!(w.status.is_client_error(), "{}", w.text);
    // Clients cannot choose the position.
    app.post(
        "/api/v1/custody-events",
        json!({"unit_id": u["id"], "seq": 0, "at": "2025-01-28T00:00:00+09:00",
               "by": party(&s.facility, "QP"), "action": {"type": "stored", "location": "tank"}}),
    )
    .await
    .assert_problem(422, Some("seq"));
    let again = app
        .get(&format!("/api/v1/custody-events/{}", id(&first)))
        .await;
    assert_eq!(again.body, first);
    // QC results and deviations are evidence too.
    app.patch(
        &format!("/api/v1/qc-results/{}", id(&first)),
        json!({"version": 1}),
    )
    .await
    .assert_problem(405, None);
}
on_both!(custody_append_only, custody_log_is_append_only);

async fn specifications_and_checklists(app: TestApp) {
    let list = app.get("/api/v1/specifications").await;
    assert_eq!(list.status, StatusCode::OK);
    let keys: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    for k in [
        "isct-msc@1",
        "misev-ev@1",
        "safety-core@1",
        "example-ucmsc@1",
    ] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    let spec = app.get("/api/v1/specifications/example-ucmsc@1").await;
    assert_eq!(spec.status, StatusCode::OK, "{}", spec.text);
    assert_eq!(spec.body["extends"][0], "isct-msc@1");
    let rules = spec.body["resolved"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["rule"]["id"] == "isct.cd73"));
    assert_eq!(
        app.get("/api/v1/specifications/isct-msc").await.body["key"],
        "isct-msc@1"
    );
    app.get("/api/v1/specifications/isct-msc@9")
        .await
        .assert_problem(404, None);
    app.get("/api/v1/specifications/Not%20A%20Key@x")
        .await
        .assert_problem(400, Some("key"));

    // The EV guidance checklist is answered by the product's marketing-authorisation
    // holder.
    let mah = app
        .organisation("EV Maker K.K.", "marketing_authorisation_holder")
        .await;
    let ev = app
        .create(
            "/api/v1/products",
            json!({"name": "EV serum (test)", "modality": "ev", "mah_id": mah["id"]}),
        )
        .await;
    let msc = app
        .create(
            "/api/v1/products",
            json!({"name": "MSC (test)", "modality": "msc", "mah_id": mah["id"]}),
        )
        .await;
    let analyst = app.user("mah_analyst", Some(&mah)).await;
    app.act_as(&analyst);
    let status = app
        .get(&format!("/api/v1/products/{}/checklist", id(&ev)))
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    let open_before = status.body["status"]["open"].as_array().unwrap().len();
    assert_eq!(status.body["status"]["complete"], false);
    app.create(
        "/api/v1/checklist-answers",
        json!({"product_id": ev["id"], "checklist": "jsrm-ev-guidance", "checklist_version": 1,
               "item": "release.ev_markers", "answered_on": "2025-03-01",
               "response": {"type": "evidence", "references": ["QC-SOP-014", "REP-2025-03"]}}),
    )
    .await;
    app.create(
        "/api/v1/checklist-answers",
        json!({"product_id": ev["id"], "checklist": "jsrm-ev-guidance", "checklist_version": 1,
               "item": "efficacy.biodistribution", "answered_on": "2025-03-01",
               "response": {"type": "not_applicable", "reason": "Topical use only; no systemic exposure"}}),
    )
    .await;
    app.post(
        "/api/v1/checklist-answers",
        json!({"product_id": ev["id"], "checklist": "jsrm-ev-guidance", "checklist_version": 1,
               "item": "release.no_such_item", "answered_on": "2025-03-01",
               "response": {"type": "evidence", "references": ["X"]}}),
    )
    .await
    .assert_problem(422, Some("item"));
    let status = app
        .get(&format!("/api/v1/products/{}/checklist", id(&ev)))
        .await;
    let open: Vec<&str> = status.body["status"]["open"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(open.len(), open_before - 2);
    assert!(!open.contains(&"release.ev_markers"));
    app.get(&format!("/api/v1/products/{}/checklist", id(&msc)))
        .await
        .assert_problem(422, Some("id"));

    let doc = app.get("/api/v1/openapi.json").await;
    let paths = doc.body["paths"].as_object().unwrap();
    for p in [
        "/api/v1/donors",
        "/api/v1/collections",
        "/api/v1/cell-banks",
        "/api/v1/lots",
        "/api/v1/lots/{id}/release",
        "/api/v1/units",
        "/api/v1/units/{id}/temperature-log",
        "/api/v1/custody-events",
        "/api/v1/specifications",
        "/api/v1/trace/lots/{lot}",
        "/api/v1/trace/adverse-events/{id}",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(paths["/api/v1/custody-events"]["post"].is_object());
    assert!(paths["/api/v1/custody-events/{id}"]["patch"].is_null());
}
on_both!(specifications, specifications_and_checklists);

async fn release_on_stale_evidence_conflicts(app: TestApp) {
    let s = setup(&app).await;
    let l = lot(&app, &s, "RGK-T-050").await;
    record_results(&app, &l, 92.0).await;
    let q = decide(&app, &l, "quarantine", Some("QC complete")).await;
    let read = q.body["lot"]["version"].as_i64().unwrap();
    // A late result arrives after QA read the lot: the release names a stale version.
    app.create(
        "/api/v1/qc-results",
        json!({"lot_id": l["id"], "attribute": "sterility",
               "value": {"type": "qualitative", "result": "growth"},
               "method": "jp_sterility_membrane_filtration", "tested_on": "2025-02-02"}),
    )
    .await;
    app.post(
        &format!("/api/v1/lots/{}/release", id(&l)),
        json!({"on": "2025-02-03", "decided_by": qa(), "version": read, "signature": app.my_signature()}),
    )
    .await
    .assert_problem(409, Some("version"));
    // Read again: the new result now blocks the release.
    let r = decide(&app, &l, "release", None).await;
    r.assert_problem(422, Some("safety.sterility"));
    let after = app.get(&format!("/api/v1/lots/{}", id(&l))).await;
    assert_eq!(after.body["status"], "quarantined");
    assert_eq!(after.body["evidence_revision"], 19);
}
on_both!(stale_evidence, release_on_stale_evidence_conflicts);
