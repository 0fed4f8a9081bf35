//! Measurements recorded at a follow-up visit: listed on the visit's page with their
//! units, refused beside the field when incomplete or contradictory, and out of reach
//! for anyone who cannot see the visit.

use crate::helpers::{Browser, Db, spawn};
use crate::on_both;
use crate::pages::check_frame;
use reqwest::StatusCode;
use saisei_domain::auth::Role;
use saisei_domain::registry::{Observation, Patient, Visit};

async fn measurements_recorded_at_a_visit(db: Db) {
    let Some(app) = spawn(db, 20, true).await else {
        return;
    };
    let b = Browser::new(&app);
    let csrf = b.demo_sign_in(Role::InstitutionStaff).await;
    let me = app.organisation_of(Role::InstitutionStaff);
    let patients = app.store.all::<Patient>(vec![]).await.unwrap();
    let visits = app.store.all::<Visit>(vec![]).await.unwrap();
    let mine = |v: &&saisei_domain::Record<Visit>| {
        patients
            .iter()
            .any(|p| p.meta.id == v.data.patient_id && p.data.institution_id == me)
    };
    let visit = visits.iter().find(mine).expect("a visit at my institution");
    let other = visits.iter().find(|v| !mine(v)).expect("a visit elsewhere");
    let here = format!("/visits/{}", visit.meta.id);
    let page = b.get(&here).await;
    assert_eq!(page.status, StatusCode::OK);
    check_frame(&page, "ja", &here, true);
    let action = format!("{here}/observations");
    assert!(page.has(&format!("form[action='{action}']")));
    assert!(
        !page.attrs("datalist#codes option", "value").is_empty(),
        "the measures this patient has are suggested"
    );

    // No measure named: said beside the field, the number kept.
    let missing = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("value_number", "61.5"),
                ("unit", "score"),
                ("observed_on", &app.clock.today_jst().to_string()),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        missing.attrs(".error-summary a", "href"),
        vec!["#code".to_string()]
    );
    assert_eq!(
        missing.attrs("input[name=code]", "aria-invalid"),
        vec!["true".to_string()]
    );
    assert_eq!(
        missing.attrs("input[name=value_number]", "value"),
        vec!["61.5".to_string()]
    );
    // A number and words both: one or the other.
    let both = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("code", "KOOS"),
                ("value_number", "61.5"),
                ("value_text", "改善"),
                ("observed_on", &app.clock.today_jst().to_string()),
            ],
        )
        .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(both.has("input[name=value_number][aria-invalid=true]"));

    let before = app.store.all::<Observation>(vec![]).await.unwrap().len();
    let saved = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("code", "VAS-knee"),
                ("value_number", "1234.5"),
                ("unit", "score"),
                ("observed_on", &app.clock.today_jst().to_string()),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    assert_eq!(saved.location(), format!("{here}#measurements"));
    let after = app.store.all::<Observation>(vec![]).await.unwrap();
    assert_eq!(after.len(), before + 1, "one measurement, nothing else");
    let new = after
        .iter()
        .find(|o| o.data.code.as_str() == "VAS-knee")
        .unwrap();
    assert_eq!(new.data.visit_id, Some(visit.meta.id), "{new:?}");
    assert_eq!(new.data.patient_id, visit.data.patient_id);
    let page = b.get(&here).await;
    let rows = page.texts("#measurements tbody tr");
    assert!(
        rows.iter()
            .any(|r| r.contains("VAS-knee") && r.contains("1,234.5 score")),
        "{rows:?}"
    );

    // Another institution's visit is not found, and nothing can be recorded on it.
    let theirs = format!("/visits/{}/observations", other.meta.id);
    let refused = b
        .post(
            &theirs,
            &[("csrf", &csrf), ("code", "KOOS"), ("value_number", "1")],
        )
        .await;
    let nothing = b
        .post(
            &format!("/visits/{}/observations", uuid::Uuid::now_v7()),
            &[("csrf", &csrf), ("code", "KOOS"), ("value_number", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(refused.status, nothing.status);
    assert_eq!(refused.texts("h1"), nothing.texts("h1"));
    assert_eq!(
        app.store.all::<Observation>(vec![]).await.unwrap().len(),
        before + 1
    );
}
on_both!(measurements, measurements_recorded_at_a_visit);
