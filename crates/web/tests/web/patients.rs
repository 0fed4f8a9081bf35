//! The patient list's filters and orders: by plan and arm (through the enrolments), by
//! sex and birth month, ordered by a column heading, each page continuing the same
//! filter and order, and a month that does not read as one named beside its field.

use crate::helpers::{Browser, Db, Page, spawn};
use crate::on_both;
use crate::pages::check_frame;
use reqwest::StatusCode;
use saisei_domain::auth::Role;
use saisei_domain::registry::{Arm, Enrollment, Patient};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Every patient id the list shows, following its next links from `path`, and the
/// pages it took.
async fn follow(b: &Browser, path: &str) -> (Vec<Uuid>, Vec<Page>) {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut path = path.to_string();
    loop {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for href in page.attrs("#results tbody a", "href") {
            ids.push(href.trim_start_matches("/patients/").parse().unwrap());
        }
        let next = page.attrs("a[rel=next]", "href").first().cloned();
        pages.push(page);
        match next {
            Some(n) => path = n,
            None => return (ids, pages),
        }
    }
}

async fn patients_filtered_and_ordered(db: Db) {
    let Some(app) = spawn(db, 120, true).await else {
        return;
    };
    let b = Browser::new(&app);
    b.demo_sign_in(Role::InstitutionStaff).await;
    let me = app.organisation_of(Role::InstitutionStaff);
    let patients: Vec<_> = app
        .store
        .all::<Patient>(vec![])
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.data.institution_id == me)
        .collect();
    let enrollments = app.store.all::<Enrollment>(vec![]).await.unwrap();
    let mine: BTreeSet<Uuid> = patients.iter().map(|p| p.meta.id).collect();
    let enrolled = |plan: Option<Uuid>, arm: Option<Arm>| -> BTreeSet<Uuid> {
        enrollments
            .iter()
            .filter(|e| mine.contains(&e.data.patient_id))
            .filter(|e| plan.is_none_or(|p| e.data.plan_id == Some(p)))
            .filter(|e| arm.is_none_or(|a| e.data.arm == a))
            .map(|e| e.data.patient_id)
            .collect()
    };

    // The whole list, in the default order: newest first, each patient once.
    let (all, pages) = follow(&b, "/patients").await;
    check_frame(&pages[0], "ja", "/patients", true);
    assert_eq!(all.iter().copied().collect::<BTreeSet<_>>(), mine);
    let mut newest_first = all.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(all, newest_first, "newest first");
    assert_eq!(
        pages[0].attrs("th[aria-sort]", "aria-sort"),
        vec!["descending".to_string()],
        "the order is announced on its heading"
    );

    // By arm, and by plan and arm: the patients with such an enrolment, no others.
    let (controls, _) = follow(&b, "/patients?arm=control").await;
    let want = enrolled(None, Some(Arm::Control));
    assert!(!want.is_empty(), "the demo has controls here");
    assert_eq!(controls.iter().copied().collect::<BTreeSet<_>>(), want);
    assert_eq!(controls.len(), want.len(), "each once");
    let plan = enrollments
        .iter()
        .filter(|e| mine.contains(&e.data.patient_id) && e.data.arm == Arm::Treated)
        .find_map(|e| e.data.plan_id)
        .expect("a plan with treated patients here");
    let first = b.get(&format!("/patients?plan_id={plan}")).await;
    assert_eq!(
        first.attrs("#plan_id option[selected]", "value"),
        vec![plan.to_string()],
        "the plan chosen stays chosen"
    );
    let (treated, _) = follow(&b, &format!("/patients?plan_id={plan}&arm=treated")).await;
    assert_eq!(
        treated.iter().copied().collect::<BTreeSet<_>>(),
        enrolled(Some(plan), Some(Arm::Treated))
    );

    // By sex and birth months, ordered by birth month: the order holds across pages
    // and every link keeps the filter.
    let path = "/patients?sex=female&born_from=1950-01&born_to=1979-12&sort=birth_year_month";
    let (women, pages) = follow(&b, path).await;
    let want: Vec<&saisei_domain::Record<Patient>> = patients
        .iter()
        .filter(|p| {
            let m = p.data.birth_year_month.to_string();
            p.data.sex == saisei_domain::registry::Sex::Female
                && m.as_str() >= "1950-01"
                && m.as_str() <= "1979-12"
        })
        .collect();
    assert_eq!(women.len(), want.len());
    let months_of = |ids: &[Uuid]| -> Vec<String> {
        ids.iter()
            .map(|id| {
                let p = patients.iter().find(|p| p.meta.id == *id).unwrap();
                p.data.birth_year_month.to_string()
            })
            .collect()
    };
    let months = months_of(&women);
    let mut sorted = months.clone();
    sorted.sort();
    assert_eq!(months, sorted, "oldest birth month first");
    for page in &pages {
        for href in page.attrs("a[rel=next]", "href") {
            assert!(
                href.contains("sex=female") && href.contains("sort=birth_year_month"),
                "{href}"
            );
        }
    }
    // The heading in use now turns the order round; the others start theirs.
    let headings = pages[0].attrs("th a.sort", "href");
    assert!(
        headings
            .iter()
            .any(|h| h.contains("sort=-birth_year_month"))
    );
    assert!(headings.iter().any(|h| h.contains("sort=sex")));
    let (reversed, _) = follow(
        &b,
        "/patients?sex=female&born_from=1950-01&born_to=1979-12&sort=-birth_year_month",
    )
    .await;
    let mut back = reversed.clone();
    back.reverse();
    let back_months = months_of(&back);
    assert_eq!(
        back_months, sorted,
        "the same patients, the other way round"
    );

    // A month that is not one: named beside its field, in English too.
    for lang in ["ja", "en"] {
        let bad = b
            .get(&format!("/patients?born_from=1961-13&lang={lang}"))
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        check_frame(&bad, lang, "/patients?born_from=1961-13", true);
        assert_eq!(bad.attrs("#born_from", "aria-invalid"), vec!["true"]);
        assert_eq!(bad.attrs(".error-summary a", "href"), vec!["#born_from"]);
        assert_eq!(bad.attrs("#born_from", "value"), vec!["1961-13"], "kept");
    }

    // A regulator sees the national list and no plan filter (too many plans to list).
    let r = Browser::new(&app);
    r.demo_sign_in(Role::Regulator).await;
    let national = r.get("/patients?sort=sex").await;
    assert_eq!(national.status, StatusCode::OK);
    assert!(!national.has("#plan_id"));
    assert!(national.has("#arm") && national.has("#born_from"));
}
on_both!(filters, patients_filtered_and_ordered);

async fn patient_grid_by_time_point(db: Db) {
    use saisei_domain::registry::{AdverseEvent, Treatment, Visit};
    let Some(app) = spawn(db, 60, true).await else {
        return;
    };
    let b = Browser::new(&app);
    b.demo_sign_in(Role::InstitutionStaff).await;
    let me = app.organisation_of(Role::InstitutionStaff);
    let patients = app.store.all::<Patient>(vec![]).await.unwrap();
    let events = app.store.all::<AdverseEvent>(vec![]).await.unwrap();
    let treatments = app.store.all::<Treatment>(vec![]).await.unwrap();
    let visits = app.store.all::<Visit>(vec![]).await.unwrap();
    let patient = patients
        .iter()
        .filter(|p| p.data.institution_id == me)
        .find(|p| {
            events.iter().any(|e| e.data.patient_id == p.meta.id)
                && treatments.iter().any(|t| t.data.patient_id == p.meta.id)
        })
        .expect("a treated patient with an adverse event here");
    let given = treatments
        .iter()
        .filter(|t| t.data.patient_id == patient.meta.id)
        .count();
    let theirs: Vec<_> = visits
        .iter()
        .filter(|v| v.data.patient_id == patient.meta.id)
        .collect();
    for lang in ["ja", "en"] {
        let path = format!("/patients/{}?lang={lang}", patient.meta.id);
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        check_frame(&page, lang, &path, true);
        // One column per administration and per visit, one row per kind of record.
        assert_eq!(
            page.texts("#grid thead th[scope=col]").len(),
            given + theirs.len()
        );
        assert_eq!(page.texts("#grid tbody th[scope=row]").len(), 4);
        // Every visit's cell links to the visit and says its status in words.
        let links = page.attrs("#grid tbody a[href^='/visits/']", "href");
        for v in &theirs {
            assert!(
                links.contains(&format!("/visits/{}", v.meta.id)),
                "visit {} in the grid",
                v.meta.id
            );
        }
        for cell in page.texts("#grid tbody .status") {
            assert!(!cell.trim().is_empty(), "every status has words");
        }
        // The adverse event's cell leads to the event on the same page.
        let to_events = page.attrs("#grid tbody a[href^='#ae-']", "href");
        assert!(!to_events.is_empty(), "the event is in the grid");
        for anchor in to_events {
            assert!(page.has(&anchor), "{anchor} is on the page");
        }
        let to_given = page.attrs("#grid tbody a[href^='#treatment-']", "href");
        assert_eq!(to_given.len(), given);
        for anchor in to_given {
            assert!(page.has(&anchor), "{anchor} is on the page");
        }
    }
    // A patient with nothing given or scheduled has no grid, and says nothing wrong.
    let bare = patients
        .iter()
        .filter(|p| p.data.institution_id == me)
        .find(|p| {
            !treatments.iter().any(|t| t.data.patient_id == p.meta.id)
                && !visits.iter().any(|v| v.data.patient_id == p.meta.id)
        });
    if let Some(p) = bare {
        let page = b.get(&format!("/patients/{}", p.meta.id)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.has("#grid"));
    }
}
on_both!(grid, patient_grid_by_time_point);
