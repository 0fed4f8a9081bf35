//! Recording an administration from a unit: the unit found by the number on its label
//! (only a unit meant for this patient; any other number reads as not found, whether
//! the unit is another patient's, out of reach or does not exist), its facts shown to
//! check against the label, and the bedside steps (thawing, the identity check)
//! recorded with the administration in one commit: a refusal stores nothing.

use crate::helpers::{Browser, Db, WebApp, spawn};
use crate::on_both;
use crate::pages::check_frame;
use reqwest::StatusCode;
use saisei_domain::auth::Role;
use saisei_domain::quality::records::{ProductUnit, UnitCustodyEvent};
use saisei_domain::quality::{CustodyEventType, Recipient};
use saisei_domain::registry::{Patient, Treatment};
use uuid::Uuid;

fn recipient(u: &ProductUnit) -> Option<Uuid> {
    match u.recipient {
        Recipient::Autologous { patient_id } => Some(patient_id),
        Recipient::Allogeneic { allocated_to } => allocated_to,
    }
}

async fn log_of(app: &WebApp, unit: Uuid) -> Vec<CustodyEventType> {
    let mut events: Vec<_> = app
        .store
        .all::<UnitCustodyEvent>(vec![])
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.data.unit_id == unit)
        .collect();
    events.sort_by_key(|e| e.data.seq);
    events
        .iter()
        .map(|e| e.data.event().action.event_type())
        .collect()
}

async fn an_administration_from_a_unit_at_the_bedside(db: Db) {
    let Some(app) = spawn(db, 40, true).await else {
        return;
    };
    let b = Browser::new(&app);
    let csrf = b.demo_sign_in(Role::InstitutionStaff).await;
    let me = app.organisation_of(Role::InstitutionStaff);
    let found = b.get("/patients?record_number=MRN-W000001").await;
    let hrefs = found.attrs("#results tbody a", "href");
    assert_eq!(
        hrefs.len(),
        1,
        "the waiting patient is found by record number"
    );
    let patient: Uuid = hrefs[0].trim_start_matches("/patients/").parse().unwrap();
    let patients = app.store.all::<Patient>(vec![]).await.unwrap();
    let institution_of = |p: Uuid| {
        patients
            .iter()
            .find(|r| r.meta.id == p)
            .map(|r| r.data.institution_id)
    };
    let units = app.store.all::<ProductUnit>(vec![]).await.unwrap();
    let mine = units
        .iter()
        .find(|u| recipient(&u.data) == Some(patient))
        .expect("the waiting patient has a unit");
    let another_patients = units
        .iter()
        .find(|u| recipient(&u.data).is_some_and(|p| p != patient && institution_of(p) == Some(me)))
        .expect("another patient of the institution has a unit");
    let out_of_reach = units
        .iter()
        .find(|u| recipient(&u.data).is_some_and(|p| institution_of(p) != Some(me)))
        .expect("a unit of another institution's patient");
    let before = log_of(&app, mine.meta.id).await;
    assert_eq!(before.last(), Some(&CustodyEventType::Delivered));

    // A number that is not this patient's unit reads the same whatever it names.
    let form = format!("/patients/{patient}/treatments/new");
    let mut messages = Vec::new();
    for number in [
        "NO-SUCH-UNIT",
        another_patients.data.unit_number.as_str(),
        out_of_reach.data.unit_number.as_str(),
    ] {
        let page = b.get(&format!("{form}?unit_number={number}")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{number}");
        assert!(!page.has("#unit-facts"), "{number}");
        assert_eq!(
            page.attrs(".error-summary a", "href"),
            vec!["#unit_number".to_string()]
        );
        assert_eq!(
            page.attrs("#unit_number", "value"),
            vec![number.to_string()]
        );
        messages.push(page.texts("#unit_number-error"));
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");

    // The patient's own unit: its facts to check against the label, its dose filled in.
    let number = mine.data.unit_number.to_string();
    let path = format!("{form}?unit_number={number}");
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    check_frame(&page, "ja", &path, true);
    assert!(page.texts("#unit-facts").concat().contains(&number));
    assert_eq!(
        page.attrs("input[type=hidden][name=unit_number]", "value"),
        vec![number.clone()]
    );
    assert_eq!(page.attrs("#dose", "value"), vec!["100000000".to_string()]);
    assert_eq!(page.attrs("#dose_unit", "value"), vec!["cells".to_string()]);
    for id in ["#thawed", "#identity_verified", "#person"] {
        assert!(page.has(id), "{id}");
        let label = format!("label[for={}]", &id[1..]);
        assert!(page.has(&label), "{label}");
    }

    let action = format!("/patients/{patient}/treatments");
    let today = app.clock.today_jst().to_string();
    let post = |extra: Vec<(&'static str, String)>| {
        let mut form: Vec<(String, String)> = vec![
            ("csrf".into(), csrf.clone()),
            ("unit_number".into(), number.clone()),
            ("administered_on".into(), today.clone()),
            ("dose".into(), "100000000".into()),
            ("dose_unit".into(), "cells".into()),
            ("route".into(), "intra_articular".into()),
        ];
        form.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
        form
    };
    let send = |form: Vec<(String, String)>| {
        let b = &b;
        let action = action.clone();
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b.post(&action, &pairs).await
        }
    };
    // Who did the steps is required; an unthawed bag is not given; nor one whose
    // identity was not checked. Each refusal is beside its field and stores nothing.
    for (extra, field) in [
        (vec![("thawed", "yes".to_string())], "#person"),
        (vec![("person", "看護師 山田".to_string())], "#thawed"),
        (
            vec![
                ("thawed", "yes".to_string()),
                ("person", "看護師 山田".to_string()),
            ],
            "#identity_verified",
        ),
    ] {
        let refused = send(post(extra)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert_eq!(
            refused.attrs(".error-summary a", "href"),
            vec![field.to_string()],
            "{}",
            refused.text
        );
        assert_eq!(
            refused
                .attrs(&format!("{field}[aria-invalid=true]"), "id")
                .len(),
            1,
            "{field}"
        );
        assert!(refused.has("#unit-facts"), "the unit stays chosen");
        assert_eq!(log_of(&app, mine.meta.id).await, before);
    }

    let given = send(post(vec![
        ("thawed", "yes".to_string()),
        ("identity_verified", "yes".to_string()),
        ("person", "看護師 山田".to_string()),
    ]))
    .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.text);
    let after = log_of(&app, mine.meta.id).await;
    assert_eq!(
        &after[before.len()..],
        &[
            CustodyEventType::Thawed,
            CustodyEventType::IdentityVerified,
            CustodyEventType::Administered
        ]
    );
    let treatments: Vec<_> = app
        .store
        .all::<Treatment>(vec![])
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.data.patient_id == patient)
        .collect();
    assert_eq!(treatments.len(), 1);
    assert_eq!(treatments[0].data.unit_id, Some(mine.meta.id));
    assert!(
        treatments[0].data.product_id.is_some(),
        "the product comes from the lot"
    );
    let page = b.get(&format!("/patients/{patient}")).await;
    assert_eq!(page.texts("#treatments tbody tr").len(), 1);

    // A unit given is not given twice.
    let again = send(post(vec![
        ("identity_verified", "yes".to_string()),
        ("person", "看護師 山田".to_string()),
    ]))
    .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text
    );
    assert_eq!(log_of(&app, mine.meta.id).await, after);

    // In English too, and not for a role that cannot record administrations.
    let page = b.get(&format!("{path}&lang=en")).await;
    check_frame(&page, "en", &format!("{path}&lang=en"), true);
    let facility = Browser::new(&app);
    facility.demo_sign_in(Role::FacilityStaff).await;
    // The facility reads no patients at all: refused, as by the API, naming nothing.
    let refused = facility.get(&path).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.has("#unit-facts"));
}
on_both!(bedside, an_administration_from_a_unit_at_the_bedside);

/// "Look up" posts the whole form: the unit's facts come back with everything typed so
/// far, and nothing is stored.
async fn looking_up_keeps_what_was_typed(db: Db) {
    let Some(app) = spawn(db, 20, true).await else {
        return;
    };
    let b = Browser::new(&app);
    let csrf = b.demo_sign_in(Role::InstitutionStaff).await;
    let found = b.get("/patients?record_number=MRN-W000002").await;
    let patient = found.attrs("#results tbody a", "href")[0].clone();
    let units = app.store.all::<ProductUnit>(vec![]).await.unwrap();
    let id: Uuid = patient.trim_start_matches("/patients/").parse().unwrap();
    let unit = units
        .iter()
        .find(|u| recipient(&u.data) == Some(id))
        .unwrap();
    let before = app.store.all::<Treatment>(vec![]).await.unwrap().len();
    let page = b
        .post(
            &format!("{patient}/treatments"),
            &[
                ("csrf", &csrf),
                ("unit_number", unit.data.unit_number.as_str()),
                ("site", "左膝"),
                ("route", "intra_articular"),
                ("lookup", "unit"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.has("#unit-facts"));
    assert!(!page.has(".error-summary"));
    assert_eq!(page.attrs("#site", "value"), vec!["左膝".to_string()]);
    assert_eq!(
        page.attrs("#route option[selected]", "value"),
        vec!["intra_articular".to_string()]
    );
    assert_eq!(
        app.store.all::<Treatment>(vec![]).await.unwrap().len(),
        before
    );
    // Without the form's token nothing is looked up.
    let forged = b
        .post(
            &format!("{patient}/treatments"),
            &[
                ("unit_number", unit.data.unit_number.as_str()),
                ("lookup", "unit"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}
on_both!(lookup, looking_up_keeps_what_was_typed);
