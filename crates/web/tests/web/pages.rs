//! Every page for every role in both languages, the frame every page shares, reach
//! (a record out of reach is the same "not found" as one that does not exist), the
//! patient form, htmx fragments and the demo-only sign-in.

use crate::helpers::{Browser, Db, Page, WebApp, pseudonym_key, spawn};
use crate::on_both;
use reqwest::StatusCode;
use saisei_domain::auth::Role;
use saisei_domain::registry::{Patient, Plan};
use saisei_web::i18n::MISSING;

/// The frame: language, one h1, skip link to main, labels for every input, no missing
/// catalogue key, no raw UTC time.
#[track_caller]
pub(crate) fn check_frame(page: &Page, lang: &str, path: &str, demo: bool) {
    let ctx = format!("{path} ({lang})");
    assert_eq!(page.attrs("html", "lang"), vec![lang.to_string()], "{ctx}");
    assert!(
        !page.text.contains(MISSING),
        "{ctx}: a catalogue key is missing: {}",
        page.text
    );
    assert_eq!(page.texts("h1").len(), 1, "{ctx}: one h1");
    assert!(page.has("main#main"), "{ctx}: main landmark");
    assert_eq!(
        page.attrs("a.skip", "href"),
        vec!["#main".to_string()],
        "{ctx}"
    );
    assert_eq!(
        page.has(".demo-banner"),
        demo,
        "{ctx}: DEMO banner iff demo"
    );
    let labelled = page.attrs("label", "for");
    for id in page.attrs("input:not([type=hidden]), select, textarea", "id") {
        assert!(labelled.contains(&id), "{ctx}: #{id} has no label");
    }
    for name in page.attrs("input:not([type=hidden]), select, textarea", "name") {
        assert!(!name.is_empty(), "{ctx}");
    }
    // Times are Japan time to the minute, never RFC 3339 UTC.
    assert!(
        !page.text.contains("+00:00") && !page.text.contains(":00Z"),
        "{ctx}: a raw UTC time"
    );
    // A plan's page is titled by the plan's own (registered) title.
    if lang == "ja" && !path.starts_with("/plans/") {
        assert!(
            !page.texts("h1")[0].is_ascii(),
            "{ctx}: the title is Japanese"
        );
    }
}

async fn some_ids(app: &WebApp) -> (uuid::Uuid, uuid::Uuid, uuid::Uuid) {
    let patient = app.store.all::<Patient>(vec![]).await.unwrap()[0].meta.id;
    let plan = app.store.all::<Plan>(vec![]).await.unwrap()[0].meta.id;
    let visit = app
        .store
        .all::<saisei_domain::registry::Visit>(vec![])
        .await
        .unwrap()[0]
        .meta
        .id;
    (patient, plan, visit)
}

async fn every_page_for_every_role_in_both_languages(db: Db) {
    let Some(app) = spawn(db, 30, true).await else {
        return;
    };
    let (patient, plan, visit) = some_ids(&app).await;
    let consent = app
        .store
        .all::<saisei_domain::registry::Consent>(vec![])
        .await
        .unwrap()
        .first()
        .map(|c| c.meta.id)
        .unwrap_or_else(uuid::Uuid::now_v7);
    let mut roles: Vec<Role> = app.accounts.iter().map(|a| a.role).collect();
    roles.dedup();
    for role in roles {
        let b = Browser::new(&app);
        b.demo_sign_in(role).await;
        for lang in ["ja", "en"] {
            for path in [
                "/".to_string(),
                "/patients".into(),
                "/patients/new".into(),
                "/plans".into(),
                "/deadlines".into(),
                "/settings".into(),
                format!("/patients/{patient}"),
                format!("/patients/{patient}/treatments/new"),
                format!("/patients/{patient}/adverse-events/new"),
                format!("/visits/{visit}"),
                format!("/patients/{patient}/enrollments/new"),
                format!("/patients/{patient}/consents/new"),
                format!("/consents/{consent}"),
                format!("/plans/{plan}"),
                format!("/plans/{plan}/periodic-reports/1"),
                "/plans/new".into(),
                "/plans/new?therapy.material=nucleic_acid&therapy.purpose=treatment".into(),
                format!("/plans/{plan}/moves/suspended"),
            ] {
                let sep = if path.contains('?') { '&' } else { '?' };
                let page = b.get(&format!("{path}{sep}lang={lang}")).await;
                assert!(
                    [StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND]
                        .contains(&page.status),
                    "{role} {path}: {}",
                    page.status
                );
                check_frame(&page, lang, &path, true);
                if page.status == StatusCode::OK {
                    assert!(page.has("header nav"), "{role} {path}: navigation");
                }
            }
        }
        // The language chosen is kept in a cookie.
        let kept = b.get("/").await;
        assert_eq!(kept.attrs("html", "lang"), vec!["en".to_string()]);
    }
}
on_both!(every_page, every_page_for_every_role_in_both_languages);

async fn home_shows_the_institutions_work(db: Db) {
    let Some(app) = spawn(db, 40, true).await else {
        return;
    };
    let b = Browser::new(&app);
    b.demo_sign_in(Role::InstitutionStaff).await;
    let ja = b.get("/").await;
    assert_eq!(ja.status, StatusCode::OK);
    assert_eq!(ja.texts("h1"), vec!["今日の業務".to_string()]);
    // Counts read with their counter word; dates as 2025年5月1日.
    assert!(ja.texts(".tally strong").iter().all(|t| t.ends_with('件')));
    let sub = ja.texts("p.sub")[0].clone();
    assert!(
        sub.contains('年') && sub.contains('月') && sub.contains('日'),
        "{sub}"
    );
    // Every open obligation and visit links to where the work is done.
    for href in ja.attrs("table.data td a", "href") {
        assert!(
            href.starts_with("/plans/")
                || href.starts_with("/patients/")
                || href.starts_with("/adverse-events/"),
            "{href}"
        );
        let target = b.get(&href).await;
        assert!(
            [StatusCode::OK, StatusCode::SEE_OTHER].contains(&target.status),
            "{href}: {}",
            target.status
        );
    }
    let en = b.get_with("/", &[]).await;
    assert_eq!(
        en.attrs("html", "lang"),
        vec!["ja".to_string()],
        "no choice made: Japanese"
    );
    let b2 = Browser::new(&app);
    b2.header("Accept-Language", "en-GB,en;q=0.9,ja;q=0.5");
    b2.demo_sign_in(Role::InstitutionStaff).await;
    let en = b2.get("/").await;
    assert_eq!(en.attrs("html", "lang"), vec!["en".to_string()]);
    assert_eq!(en.texts("h1"), vec!["Today's work".to_string()]);
}
on_both!(home, home_shows_the_institutions_work);

async fn out_of_reach_looks_like_nothing(db: Db) {
    let Some(app) = spawn(db, 40, true).await else {
        return;
    };
    let staff = app
        .accounts
        .iter()
        .find(|a| a.role == Role::InstitutionStaff)
        .unwrap();
    let user = saisei_store::workflow::auth::find_user(&app.store, &staff.email.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let org = user.data.organisation_id.unwrap();
    let patients = app.store.all::<Patient>(vec![]).await.unwrap();
    let theirs = patients
        .iter()
        .find(|p| p.data.institution_id != org)
        .expect("the demo has patients at other institutions");
    let b = Browser::new(&app);
    b.demo_sign_in(Role::InstitutionStaff).await;
    let hidden = b.get(&format!("/patients/{}", theirs.meta.id)).await;
    let absent = b.get(&format!("/patients/{}", uuid::Uuid::now_v7())).await;
    let garbage = b.get("/patients/not-an-id").await;
    for p in [&hidden, &absent, &garbage] {
        assert_eq!(p.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        hidden.texts("main"),
        absent.texts("main"),
        "same page, same words"
    );
    assert_eq!(hidden.texts("main"), garbage.texts("main"));
    // The list shows only the institution's own patients, page after page.
    let mut path = "/patients".to_string();
    let mut seen = 0;
    loop {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        for href in page.attrs("#results tbody a", "href") {
            let id: uuid::Uuid = href.trim_start_matches("/patients/").parse().unwrap();
            let p = patients.iter().find(|p| p.meta.id == id).unwrap();
            assert_eq!(
                p.data.institution_id, org,
                "another institution's patient listed"
            );
            seen += 1;
        }
        match page.attrs("a[rel=next]", "href").first() {
            Some(next) => path = next.clone(),
            None => break,
        }
    }
    let own = patients
        .iter()
        .filter(|p| p.data.institution_id == org)
        .count();
    assert_eq!(seen, own, "every own patient listed once");
    // The API under the web application still answers with problems.
    let api = b.get("/api/v1/no-such-thing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(
        api.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("problem+json")
    );
    // A page nobody serves is a page, in the user's language.
    let page = b.get("/no/such/page?lang=en").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.texts("h1"), vec!["Page not found".to_string()]);
}
on_both!(reach, out_of_reach_looks_like_nothing);

async fn registering_a_patient_from_the_form(db: Db) {
    let Some(app) = spawn(db, 10, true).await else {
        return;
    };
    let b = Browser::new(&app);
    let csrf = b.demo_sign_in(Role::InstitutionStaff).await;
    let form = b.get("/patients/new").await;
    assert_eq!(form.status, StatusCode::OK);
    // Field names are the API's JSON field names.
    let names = form.attrs("form[action='/patients'] [name]", "name");
    for n in ["csrf", "record_number", "birth_year_month", "sex"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    // Everything missing but the birth month: every missing field is named at once, in
    // the form's order, each linked from the summary and marked on its input; what was
    // typed is kept.
    let refused = b
        .post(
            "/patients",
            &[
                ("csrf", &csrf),
                ("birth_year_month", "1961-04"),
                ("record_number", ""),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(
        refused.attrs(".error-summary a", "href"),
        vec!["#record_number".to_string(), "#sex".to_string()]
    );
    assert_eq!(
        refused.attrs("#record_number", "aria-invalid"),
        vec!["true".to_string()]
    );
    assert!(refused.attrs("#record_number", "aria-describedby")[0].contains("record_number-error"));
    assert!(refused.has("#record_number-error"));
    assert_eq!(
        refused.attrs("#birth_year_month", "value"),
        vec!["1961-04".to_string()]
    );
    assert!(
        refused
            .attrs("#birth_year_month", "aria-invalid")
            .is_empty()
    );
    assert_eq!(
        refused.texts("#sex-error"),
        vec!["入力してください。".to_string()]
    );
    // A bad month is refused with the check's own reason beside the field.
    let bad = b
        .post(
            "/patients",
            &[
                ("csrf", &csrf),
                ("record_number", "MRN-1"),
                ("birth_year_month", "1961-13"),
                ("sex", "female"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(
        bad.attrs(".error-summary a", "href"),
        vec!["#birth_year_month".to_string()]
    );
    // A forged form (no session token) is refused and nothing is stored.
    let before = app.store.all::<Patient>(vec![]).await.unwrap().len();
    let forged = b
        .post(
            "/patients",
            &[
                ("csrf", "forged"),
                ("record_number", "MRN-2"),
                ("birth_year_month", "1961-04"),
                ("sex", "female"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.store.all::<Patient>(vec![]).await.unwrap().len(),
        before
    );
    // A good form registers and goes to the patient's page.
    let done = b
        .post(
            "/patients",
            &[
                ("csrf", &csrf),
                ("record_number", "MRN-0042"),
                ("birth_year_month", "1961-04"),
                ("sex", "female"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let location = done.location();
    assert!(location.starts_with("/patients/"));
    let page = b.get(&location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("1961年4月"));
    // Found again by the record number, which is not stored anywhere.
    let found = b.get("/patients?record_number=MRN-0042").await;
    assert_eq!(
        found.attrs("#results tbody a", "href"),
        vec![location.clone()]
    );
    let stored = app.store.all::<Patient>(vec![]).await.unwrap();
    assert!(
        stored
            .iter()
            .all(|p| !p.data.pseudonym.as_str().contains("MRN"))
    );
    let user = saisei_store::workflow::auth::find_user(
        &app.store,
        &"institution_staff@demo.example".parse().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let expected =
        pseudonym_key().pseudonym(&user.data.organisation_id.unwrap().to_string(), "MRN-0042");
    assert!(stored.iter().any(|p| p.data.pseudonym == expected));
    let nobody = b.get("/patients?record_number=MRN-9999").await;
    assert!(nobody.attrs("#results tbody a", "href").is_empty());
    assert_eq!(
        nobody.texts("#results p"),
        vec!["その診療録番号の患者は登録されていません。".to_string()]
    );
}
on_both!(register_patient, registering_a_patient_from_the_form);

async fn htmx_gets_fragments_and_history_gets_pages(db: Db) {
    let Some(app) = spawn(db, 10, true).await else {
        return;
    };
    let b = Browser::new(&app);
    b.demo_sign_in(Role::InstitutionStaff).await;
    let full = b.get("/patients").await;
    let vary = full.headers["vary"].to_str().unwrap().to_string();
    assert!(vary.contains("HX-Request"), "{vary}");
    assert!(full.has("html head title"));
    // Pages carry the same security headers as the API: own scripts only, not cached.
    let csp = full.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(full.headers["cache-control"], "no-store");
    let fragment = b
        .get_with(
            "/patients",
            &[("HX-Request", "true"), ("HX-Target", "results")],
        )
        .await;
    assert!(!fragment.text.contains("<html"), "a fragment, not a page");
    assert!(fragment.has("div#results"));
    let restore = b
        .get_with(
            "/patients",
            &[
                ("HX-Request", "true"),
                ("HX-History-Restore-Request", "true"),
            ],
        )
        .await;
    assert!(
        restore.text.contains("<html"),
        "history restore gets the whole page"
    );
    let boosted = b
        .get_with(
            "/patients",
            &[
                ("HX-Request", "true"),
                ("HX-Boosted", "true"),
                ("HX-Target", "body"),
            ],
        )
        .await;
    assert!(
        boosted.text.contains("<html"),
        "a boosted link gets the whole page"
    );
    // The script is the application's own, from the binary, cacheable; no inline script.
    let scripts = full.attrs("script", "src");
    assert_eq!(scripts.len(), 1);
    assert!(!full.text.contains("<script>"));
    let js = b.get(&scripts[0]).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(
        js.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(js.text.contains("htmx"));
}
on_both!(htmx, htmx_gets_fragments_and_history_gets_pages);

async fn a_production_server_has_no_demo_sign_in(db: Db) {
    let Some(app) = spawn(db, 5, false).await else {
        return;
    };
    let b = Browser::new(&app);
    let page = b.get("/sign-in").await;
    assert_eq!(page.status, StatusCode::OK);
    check_frame(&page, "ja", "/sign-in", false);
    assert!(!page.has("form[action='/demo/sign-in']"));
    let csrf = page.attrs("input[name=csrf]", "value")[0].clone();
    let tried = b
        .post("/demo/sign-in", &[("csrf", &csrf), ("role", "regulator")])
        .await;
    assert_eq!(tried.status, StatusCode::NOT_FOUND);
    // Signed out, a page sends you to sign in and back.
    let home = b.get("/patients?lang=en").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(
        home.location().starts_with("/sign-in?next=%2Fpatients"),
        "{}",
        home.location()
    );
    // A wrong sign-in says so in the page's language, beside the form.
    let page = b.get("/sign-in?lang=en").await;
    let csrf = page.attrs("input[name=csrf]", "value")[0].clone();
    let wrong = b
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", "regulator@demo.example"),
                ("password", "nope"),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.texts(".error-summary p"),
        vec!["The e-mail, password or one-time code is not right.".to_string()]
    );
    assert_eq!(
        wrong.attrs("#email", "value"),
        vec!["regulator@demo.example".to_string()]
    );
}
on_both!(production, a_production_server_has_no_demo_sign_in);

async fn the_clinics_records_from_the_patient_page(db: Db) {
    let Some(app) = spawn(db, 20, true).await else {
        return;
    };
    let b = Browser::new(&app);
    let csrf = b.demo_sign_in(Role::InstitutionStaff).await;
    // A patient of my institution, registered from the form.
    let done = b
        .post(
            "/patients",
            &[
                ("csrf", &csrf),
                ("record_number", "REC-1"),
                ("birth_year_month", "1950-02"),
                ("sex", "male"),
            ],
        )
        .await;
    let patient = done.location();
    let page = b.get(&patient).await;
    let new_treatment = page.attrs("a[href$='/treatments/new']", "href");
    assert_eq!(
        new_treatment.len(),
        1,
        "the patient page offers to record an administration"
    );
    let form = b.get(&new_treatment[0]).await;
    check_frame(&form, "ja", &new_treatment[0], true);
    let plan = form.attrs("#plan_id option", "value")[1].clone();
    let schedule = form.attrs("#schedule_id option", "value")[1].clone();
    let route = form.attrs("#route option", "value");
    assert!(
        route.contains(&"intra_articular".to_string()),
        "every route offered: {route:?}"
    );
    // A dose that is not a number is refused beside the field; the rest is kept.
    let action = format!("{patient}/treatments");
    let today = app.clock.today_jst().to_string();
    let refused = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("plan_id", &plan),
                ("schedule_id", &schedule),
                ("administered_on", &today),
                ("dose", "many"),
                ("dose_unit", "cells"),
                ("route", "intra_articular"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(
        refused.attrs(".error-summary a", "href"),
        vec!["#dose".to_string()]
    );
    assert_eq!(
        refused.attrs("#administered_on", "value"),
        vec![today.clone()]
    );
    let given = b
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("plan_id", &plan),
                ("schedule_id", &schedule),
                ("administered_on", &today),
                ("dose", "5e7"),
                ("dose_unit", "cells"),
                ("route", "intra_articular"),
                ("site", "右膝"),
            ],
        )
        .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.text);
    let page = b.get(&patient).await;
    assert_eq!(page.texts("#treatments tbody tr").len(), 1);
    let visits = page.attrs("#visits tbody a", "href");
    assert!(!visits.is_empty(), "the schedule's visits are generated");
    // A serious adverse event shows at once the report it needs and by when.
    let new_event = page.attrs("a[href$='/adverse-events/new']", "href")[0].clone();
    let form = b.get(&new_event).await;
    check_frame(&form, "ja", &new_event, true);
    let treatment = form.attrs("#treatment_id option", "value")[1].clone();
    let reported = b
        .post(
            &format!("{patient}/adverse-events"),
            &[
                ("csrf", &csrf),
                ("treatment_id", &treatment),
                ("verbatim_term", "関節腫脹"),
                ("grade", "3"),
                ("seriousness", "hospitalisation"),
                ("causality", "possible"),
                ("onset_on", &today),
                ("known_on", &today),
                ("outcome", "recovering"),
            ],
        )
        .await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER, "{}", reported.text);
    assert!(reported.location().contains("#ae-"));
    let page = b.get(&patient).await;
    let due = time::Date::parse(&today, &time::format_description::well_known::Iso8601::DATE)
        .unwrap()
        + time::Duration::days(15);
    let report = page
        .texts("#events tbody td")
        .into_iter()
        .find(|t| t.contains("疾病等報告"))
        .expect("the event's report is shown");
    assert!(
        report.contains("15日以内")
            && report.contains(&format!(
                "{}年{}月{}日",
                due.year(),
                u8::from(due.month()),
                due.day()
            )),
        "{report}"
    );
    // The event form refuses a missing term and keeps the ticked boxes.
    let refused = b
        .post(
            &format!("{patient}/adverse-events"),
            &[
                ("csrf", &csrf),
                ("seriousness", "death"),
                ("causality", "possible"),
                ("onset_on", &today),
                ("known_on", &today),
                ("outcome", "fatal"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .attrs(".error-summary a", "href")
            .contains(&"#verbatim_term".to_string())
    );
    assert_eq!(refused.attrs("#seriousness-death", "checked").len(), 1);
    // A visit recorded as done; a stale form shows what changed and keeps what was typed.
    let visit = &visits[0];
    let form = b.get(visit).await;
    check_frame(&form, "ja", visit, true);
    let version = form.attrs("input[name=version]", "value")[0].clone();
    let saved = b
        .post(
            visit,
            &[("csrf", &csrf), ("version", &version), ("done_on", &today)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let stale = b
        .post(
            visit,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("done_on", &today),
                ("reason", "日付の訂正"),
            ],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        stale.text
    );
    assert_eq!(stale.texts("p.notice").len(), 1, "what the visit now holds");
    assert_ne!(
        stale.attrs("input[name=version]", "value")[0],
        version,
        "ready to apply again"
    );
    let page = b.get(&patient).await;
    assert!(page.texts("#visits tbody tr")[0].contains("実施済み"));
    // Enrolled as treated under the plan; a control without its source is refused.
    let enrol = page.attrs("a[href$='/enrollments/new']", "href")[0].clone();
    let form = b.get(&enrol).await;
    check_frame(&form, "ja", &enrol, true);
    let refused = b
        .post(
            &format!("{patient}/enrollments"),
            &[("csrf", &csrf), ("arm", "control"), ("enrolled_on", &today)],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(
        refused.attrs(".error-summary a", "href"),
        vec!["#control_source".to_string()]
    );
    let enrolled = b
        .post(
            &format!("{patient}/enrollments"),
            &[
                ("csrf", &csrf),
                ("arm", "treated"),
                ("plan_id", &plan),
                ("enrolled_on", &today),
            ],
        )
        .await;
    assert_eq!(enrolled.status, StatusCode::SEE_OTHER, "{}", enrolled.text);
    // Consent recorded, then withdrawn: the record is kept, marked withdrawn.
    let consent = b.get(&format!("{patient}/consents/new")).await;
    check_frame(&consent, "ja", "/consents/new", true);
    let given = b
        .post(
            &format!("{patient}/consents"),
            &[
                ("csrf", &csrf),
                ("scope", "registry"),
                ("form_version", "v3.1"),
                ("given_on", &today),
            ],
        )
        .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.text);
    let page = b.get(&patient).await;
    assert_eq!(page.texts("#enrollments tbody tr").len(), 1);
    let consent_href = page.attrs("#consents tbody a", "href")[0].clone();
    let form = b.get(&consent_href).await;
    check_frame(&form, "ja", &consent_href, true);
    let version = form.attrs("input[name=version]", "value")[0].clone();
    let withdrawn = b
        .post(
            &consent_href,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("withdrawn_on", &today),
                ("withdrawal_statement", "これまでのデータの利用は可"),
            ],
        )
        .await;
    assert_eq!(
        withdrawn.status,
        StatusCode::SEE_OTHER,
        "{}",
        withdrawn.text
    );
    let page = b.get(&patient).await;
    assert!(
        page.texts("#consents tbody tr")[0].contains("撤回"),
        "{:?}",
        page.texts("#consents tbody tr")
    );
    // Another institution's patient cannot be written to through these forms.
    let staff = app
        .accounts
        .iter()
        .find(|a| a.role == Role::InstitutionStaff)
        .unwrap();
    let me = saisei_store::workflow::auth::find_user(&app.store, &staff.email.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let theirs = app
        .store
        .all::<Patient>(vec![])
        .await
        .unwrap()
        .into_iter()
        .find(|p| Some(p.data.institution_id) != me.data.organisation_id)
        .unwrap();
    let hidden = b
        .get(&format!("/patients/{}/adverse-events/new", theirs.meta.id))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let posted = b
        .post(
            &format!("/patients/{}/adverse-events", theirs.meta.id),
            &[
                ("csrf", &csrf),
                ("verbatim_term", "x"),
                ("causality", "possible"),
                ("onset_on", &today),
                ("known_on", &today),
                ("outcome", "fatal"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
}
on_both!(clinic_records, the_clinics_records_from_the_patient_page);

async fn a_periodic_report_submitted_with_a_signature(db: Db) {
    let Some(app) = spawn(db, 10, true).await else {
        return;
    };
    // A year on, every active plan has a period whose report is due.
    app.clock.advance(time::Duration::days(400));
    let doctor = app
        .users
        .iter()
        .find(|u| u.user.data.role == Role::Physician)
        .unwrap();
    let b = Browser::new(&app);
    let csrf = b.demo_sign_in(Role::Physician).await;
    let plans = b.get("/plans?status=active").await;
    let mut submit = None;
    for href in plans.attrs("table.data tbody a", "href") {
        let page = b.get(&href).await;
        if let Some(s) = page
            .attrs(
                "a[href*='/periodic-reports/']:not([href*='format'])",
                "href",
            )
            .first()
        {
            submit = Some(s.clone());
            break;
        }
    }
    let submit = submit.expect("a report to submit on one of my institution's plans");
    let form = b.get(&submit).await;
    assert_eq!(form.status, StatusCode::OK);
    check_frame(&form, "ja", &submit, true);
    assert!(form.has(".meaning"), "the signature's meaning is shown");
    let code = |app: &WebApp| {
        app.clock.advance(time::Duration::seconds(31));
        saisei_domain::auth::credentials::totp_code(
            &doctor.totp_secret,
            app.clock.now().unix_timestamp() as u64,
        )
        .unwrap()
    };
    let wrong = b
        .post(
            &submit,
            &[
                ("csrf", &csrf),
                ("password", "not it"),
                ("code", &code(&app)),
            ],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert!(wrong.texts(".error-summary li")[0].contains("署名できませんでした"));
    let filed = b
        .post(
            &submit,
            &[
                ("csrf", &csrf),
                ("password", &doctor.password),
                ("code", &code(&app)),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.text);
    let plan = filed.location();
    let page = b.get(plan.trim_end_matches("#periods")).await;
    assert!(
        !page.attrs("a", "href").contains(&submit),
        "a filed period has nothing left to submit"
    );
    // Institution staff may see the plan but not sign its report.
    let staff = Browser::new(&app);
    staff.demo_sign_in(Role::InstitutionStaff).await;
    let seen = staff.get(plan.trim_end_matches("#periods")).await;
    assert!(
        seen.attrs(
            "a[href*='/periodic-reports/']:not([href*='format'])",
            "href"
        )
        .is_empty()
    );
}
on_both!(
    periodic_report,
    a_periodic_report_submitted_with_a_signature
);
