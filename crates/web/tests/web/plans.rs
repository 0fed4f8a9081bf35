//! A new plan through the classification wizard and its lifecycle moves: the class is
//! the classifier's, the committees offered are those that may review it, a submission
//! and an acceptance carry the mover's signature, a stale form says what changed, and
//! roles that may not move a plan see no form.

use crate::helpers::{Browser, Db, Page, WebApp, spawn};
use crate::on_both;
use crate::pages::check_frame;
use reqwest::StatusCode;
use saisei_domain::auth::Role;
use saisei_domain::registry::{Organisation, OrganisationKind, Plan, PlanStatus};
use saisei_store::ListQuery;

/// Autologous cultured somatic stem cells used non-homologously: class 2.
const CLASS_2: &[(&str, &str)] = &[
    ("therapy.material", "cells"),
    ("therapy.purpose", "treatment"),
    ("therapy.cell_source", "autologous"),
    ("therapy.cell_kind", "somatic_stem"),
    ("therapy.gene_introduced", "false"),
    ("therapy.genome_edited", "false"),
    ("therapy.cultured", "true"),
    ("therapy.homologous_use", "false"),
];

fn query(answers: &[(&str, &str)]) -> String {
    answers
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn options(page: &Page, select: &str) -> Vec<String> {
    page.attrs(&format!("select[name='{select}'] option"), "value")
        .into_iter()
        .filter(|v| !v.is_empty())
        .collect()
}

fn user(app: &WebApp, role: Role) -> &saisei_demo::users::DemoUser {
    app.users.iter().find(|u| u.user.data.role == role).unwrap()
}

fn code(app: &WebApp, who: &saisei_demo::users::DemoUser) -> String {
    app.clock.advance(time::Duration::seconds(31));
    saisei_domain::auth::credentials::totp_code(
        &who.totp_secret,
        app.clock.now().unix_timestamp() as u64,
    )
    .unwrap()
}

async fn a_plan_filed_through_the_wizard_and_moved(db: Db) {
    let Some(app) = spawn(db, 10, true).await else {
        return;
    };
    let doctor = user(&app, Role::Physician);
    let member = user(&app, Role::CommitteeMember);
    let b = Browser::new(&app);
    let csrf = b.demo_sign_in(Role::Physician).await;
    let list = b.get("/plans").await;
    assert!(
        list.attrs("a.button", "href")
            .contains(&"/plans/new".into())
    );

    // Step one, unanswered questions: each named beside its field.
    let empty = b.get("/plans/new").await;
    assert_eq!(empty.status, StatusCode::OK);
    check_frame(&empty, "ja", "/plans/new", true);
    assert!(!empty.has("#classification"));
    let partial = b
        .get("/plans/new?therapy.material=cells&therapy.purpose=treatment")
        .await;
    assert_eq!(partial.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        partial.attrs(".error-summary a", "href"),
        vec!["#therapy.cell_source".to_string()]
    );
    assert_eq!(
        partial.attrs("select[name='therapy.cell_source']", "aria-invalid"),
        vec!["true".to_string()]
    );
    assert_eq!(
        partial.attrs("select[name='therapy.material'] option[selected]", "value"),
        vec!["cells".to_string()],
        "answers are kept"
    );

    // Answered: the class, its reasons with their citations, and only the committees
    // that may review a class 2 plan.
    let url = format!("/plans/new?{}", query(CLASS_2));
    let classified = b.get(&url).await;
    assert_eq!(classified.status, StatusCode::OK, "{}", classified.text);
    check_frame(&classified, "ja", "/plans/new", true);
    assert!(classified.texts("#classification dd")[0].contains("第二種"));
    let reasons = classified.texts("#classification ol li");
    assert!(reasons[0].contains("施行規則"), "{reasons:?}");
    let committees = options(&classified, "committee_id");
    let orgs = app
        .store
        .list::<Organisation>(&ListQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert!(!committees.is_empty());
    for c in &committees {
        let org = orgs.iter().find(|o| o.meta.id.to_string() == *c).unwrap();
        assert_eq!(org.data.kind, OrganisationKind::SpeciallyCertifiedCommittee);
    }
    assert!(
        !orgs
            .iter()
            .any(|o| o.data.kind == OrganisationKind::CertifiedCommittee
                && committees.contains(&o.meta.id.to_string())),
        "a certified committee may not review class 2"
    );
    let committee = member.user.data.organisation_id.unwrap().to_string();
    assert!(committees.contains(&committee));
    let physician = options(&classified, "responsible_physician_id")[0].clone();

    // Step two, a field missing: the answers and the class stay.
    let mut form: Vec<(&str, &str)> = CLASS_2.to_vec();
    form.extend([
        ("csrf", csrf.as_str()),
        ("plan_number", "jRCTb050999001"),
        ("title", "自己脂肪由来幹細胞による変形性膝関節症の治療"),
        (
            "material_description",
            "自己脂肪組織由来間葉系幹細胞（培養）",
        ),
        ("responsible_physician_id", physician.as_str()),
        ("committee_id", committee.as_str()),
    ]);
    let refused = b.post("/plans", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.attrs(".error-summary a", "href"),
        vec!["#target_disease".to_string()]
    );
    assert!(refused.texts("#classification dd")[0].contains("第二種"));
    form.push(("target_disease", "変形性膝関節症"));
    let filed = b.post("/plans", &form).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.text);
    let here = filed.location();
    let id: uuid::Uuid = here.trim_start_matches("/plans/").parse().unwrap();
    let plan = app.store.get::<Plan>(id).await.unwrap();
    assert_eq!(plan.data.status, PlanStatus::Draft);
    assert_eq!(plan.data.risk_class.number(), 2);
    assert!(plan.data.therapy.is_some(), "the therapy is stored with it");

    // The physician may submit or withdraw a draft; submitting asks for a signature.
    let page = b.get(&here).await;
    check_frame(&page, "ja", &here, true);
    let moves = page.attrs("#lifecycle a.button", "href");
    assert_eq!(
        moves,
        vec![
            format!("{here}/moves/submitted"),
            format!("{here}/moves/withdrawn")
        ]
    );
    let submit = format!("{here}/moves/submitted");
    let shown = b.get(&submit).await;
    check_frame(&shown, "ja", &submit, true);
    assert!(shown.has(".meaning") && shown.has("input[name=password]"));
    let version = shown.attrs("input[name=version]", "value")[0].clone();
    let today = app.clock.today_jst().to_string();
    let wrong = b
        .post(
            &submit,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("on", &today),
                ("password", "not it"),
                ("code", &code(&app, doctor)),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.texts(".error-summary li")[0].contains("署名できませんでした"));
    let moved = b
        .post(
            &submit,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("on", &today),
                ("password", &doctor.password),
                ("code", &code(&app, doctor)),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text);
    let plan = app.store.get::<Plan>(id).await.unwrap();
    assert_eq!(plan.data.status, PlanStatus::Submitted);
    let page = b.get(&here).await;
    assert!(page.texts("#lifecycle tbody td")[1].contains("審査申請済み"));

    // A form shown before the move is stale: the page says what the plan is now.
    let stale = b
        .post(
            &format!("{here}/moves/withdrawn"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("on", &today),
                ("reason", "資金の不足"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stale.texts(".error-summary li")[0].contains("審査申請済み"));
    assert_eq!(
        stale.attrs("textarea[name=reason]", "id").len(),
        1,
        "the form comes back to re-apply"
    );
    assert_eq!(
        stale.texts("textarea[name=reason]")[0],
        "資金の不足",
        "with the values kept"
    );

    // Staff of the institution may read the plan but move nothing; the form is refused.
    let staff = Browser::new(&app);
    staff.demo_sign_in(Role::InstitutionStaff).await;
    assert!(
        staff
            .get(&here)
            .await
            .attrs("#lifecycle a", "href")
            .is_empty()
    );
    assert_eq!(staff.get(&submit).await.status, StatusCode::FORBIDDEN);
    assert_eq!(staff.get("/plans/new").await.status, StatusCode::FORBIDDEN);

    // The committee's member starts the review, then accepts with a signature.
    let c = Browser::new(&app);
    let c_csrf = c.demo_sign_in(Role::CommitteeMember).await;
    let review = format!("{here}/moves/under-review");
    let seen = c.get(&here).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.attrs("#lifecycle a.button", "href").contains(&review));
    let v = c.get(&review).await.attrs("input[name=version]", "value")[0].clone();
    let started = c
        .post(
            &review,
            &[("csrf", &c_csrf), ("version", &v), ("on", &today)],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text);
    let accept = format!("{here}/moves/accepted");
    let form = c.get(&accept).await;
    assert!(form.texts(".meaning")[0].contains("承認"));
    let v = form.attrs("input[name=version]", "value")[0].clone();
    let accepted = c
        .post(
            &accept,
            &[
                ("csrf", &c_csrf),
                ("version", &v),
                ("on", &today),
                ("password", &member.password),
                ("code", &code(&app, member)),
            ],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.text);
    assert_eq!(
        app.store.get::<Plan>(id).await.unwrap().data.status,
        PlanStatus::Accepted
    );
}
on_both!(plan_wizard, a_plan_filed_through_the_wizard_and_moved);

async fn outside_the_act_files_nothing(db: Db) {
    let Some(app) = spawn(db, 5, true).await else {
        return;
    };
    let b = Browser::new(&app);
    b.demo_sign_in(Role::Physician).await;
    b.header("Accept-Language", "en");
    let page = b
        .get("/plans/new?therapy.material=ev&therapy.purpose=treatment&therapy.source.cell_source=allogeneic&therapy.source.cell_kind=somatic_stem&therapy.source.gene_introduced=false&therapy.source.genome_edited=false&therapy.source.cultured=true")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    check_frame(&page, "en", "/plans/new", true);
    assert_eq!(page.texts("#classification dd")[0], "Outside the Act");
    assert!(!page.has("form[action='/plans']"), "no plan form");
}
on_both!(outside_the_act, outside_the_act_files_nothing);

/// The scope-edge questions reach the classifier: cells only separated and washed, put
/// back where they came from in the same patient, are not processed cells; the same EV
/// that is outside the Act becomes class 1 once it carries an mRNA payload; and each
/// reason names its provision and the day it took effect.
async fn scope_edges_in_the_wizard(db: Db) {
    let Some(app) = spawn(db, 5, true).await else {
        return;
    };
    let b = Browser::new(&app);
    b.demo_sign_in(Role::Physician).await;
    let minimal = [
        ("therapy.material", "cells"),
        ("therapy.purpose", "reconstruction"),
        ("therapy.cell_source", "autologous"),
        ("therapy.cell_kind", "somatic_stem"),
        ("therapy.gene_introduced", "false"),
        ("therapy.genome_edited", "false"),
        ("therapy.cultured", "false"),
        ("therapy.homologous_use", "true"),
        ("therapy.minimally_manipulated", "true"),
    ];
    let page = b.get(&format!("/plans/new?{}", query(&minimal))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    check_frame(&page, "ja", "/plans/new", true);
    assert_eq!(page.texts("#classification dd")[0], "法の対象外");
    let reason = &page.texts("#classification ol.reasons li")[0];
    assert!(reason.contains("医政研発1031第1号"), "{reason}");
    assert!(reason.contains("2014年11月25日施行"), "{reason}");
    assert!(!page.has("form[action='/plans']"), "no plan form");

    // Culture is not a minimal manipulation: the refusal is beside the question.
    let mut cultured = minimal;
    cultured[6] = ("therapy.cultured", "true");
    let page = b.get(&format!("/plans/new?{}", query(&cultured))).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has("#therapy\\.minimally_manipulated-error"),
        "{}",
        page.text
    );
    let message = page
        .texts("#therapy\\.minimally_manipulated-error")
        .concat();
    assert!(message.contains("最小限の操作に当たりません"), "{message}");

    let ev = "/plans/new?therapy.material=ev&therapy.purpose=treatment&therapy.source.cell_source=autologous&therapy.source.cell_kind=somatic_stem&therapy.source.gene_introduced=false&therapy.source.genome_edited=false&therapy.source.cultured=true";
    b.header("Accept-Language", "en");
    let page = b.get(&format!("{ev}&lang=en")).await;
    assert_eq!(page.texts("#classification dd")[0], "Outside the Act");
    let page = b
        .get(&format!("{ev}&therapy.carries_nucleic_acid=true&lang=en"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.texts("#classification dd")[0], "Class 1");
    let reason = &page.texts("#classification ol.reasons li")[0];
    assert!(
        reason.contains("derived-carrying-nucleic-acid")
            && reason.contains("in force from 2025-05-31"),
        "{reason}"
    );
}
on_both!(scope_edges, scope_edges_in_the_wizard);
