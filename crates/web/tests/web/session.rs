//! Sessions from the sign-in page (cookie flags, CSRF on the form and on API writes
//! made with the cookie, the idle timeout) and the page behind a reset link.

use crate::helpers::{Db, WebApp, spawn};
use crate::on_both;
use reqwest::StatusCode;
use saisei_domain::audit::AuditActor;
use saisei_domain::auth::Role;
use saisei_domain::auth::credentials::totp_code;
use serde_json::json;

fn user(app: &WebApp, role: Role) -> &saisei_demo::users::DemoUser {
    app.users.iter().find(|u| u.user.data.role == role).unwrap()
}

/// A fresh code: the clock moves past the last code's step first (a code works once).
fn code(app: &WebApp, secret: &str) -> String {
    app.clock.advance(time::Duration::seconds(31));
    totp_code(secret, app.clock.now().unix_timestamp() as u64).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn first_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    text.split(start).nth(1).unwrap().split(end).next().unwrap()
}

async fn web_session_with_csrf(db: Db) {
    let Some(app) = spawn(db, 5, false).await else {
        return;
    };
    let doctor = user(&app, Role::Physician);
    let email = doctor.user.data.email.to_string();
    let client = client();
    let form = client
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .unwrap();
    let set = first_cookie(&form, "saisei_sign_in_csrf").unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure"));
    let csrf = between(&set, "=", ";").to_string();
    let html = form.text().await.unwrap();
    assert!(html.contains(&csrf), "the form carries its CSRF token");
    let submit = |csrf_field: String, code: String| {
        let req = client
            .post(format!("{}/sign-in", app.base))
            .form(&[
                ("email", email.as_str()),
                ("password", doctor.password.as_str()),
                ("code", code.as_str()),
                ("csrf", csrf_field.as_str()),
            ])
            .header("cookie", format!("saisei_sign_in_csrf={csrf}"));
        async move { req.send().await.unwrap() }
    };
    let bad = submit("forged".into(), code(&app, &doctor.totp_secret)).await;
    assert_eq!(
        bad.status(),
        StatusCode::FORBIDDEN,
        "without the matching token"
    );
    let ok = submit(csrf.clone(), code(&app, &doctor.totp_secret)).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let session = first_cookie(&ok, "saisei_session").unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
    let cookie = session.split(';').next().unwrap().to_string();
    let page = client
        .get(format!("{}/", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(&email));
    let session_csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
    // API writes with the cookie need the CSRF header.
    let org = doctor.user.data.organisation_id.unwrap();
    let body = json!({"institution_id": org, "record_number": "S1", "birth_year_month": "1970-01", "sex": "male"});
    let refused = client
        .post(format!("{}/api/v1/patients", app.base))
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let accepted = client
        .post(format!("{}/api/v1/patients", app.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &session_csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::CREATED);
    // Idle for longer than the timeout: the session is over, on the API and the pages.
    app.clock.advance(time::Duration::minutes(31));
    let stale = client
        .get(format!("{}/api/v1/auth/me", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let page = client
        .get(format!("{}/patients", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "back to sign in");
}
on_both!(web_session, web_session_with_csrf);

async fn reset_link_page(db: Db) {
    let Some(app) = spawn(db, 5, false).await else {
        return;
    };
    let admin = user(&app, Role::Admin);
    let (token, _) = saisei_store::workflow::auth::issue_token(
        &app.store,
        &AuditActor::system("test"),
        &admin.user,
        "test",
        app.clock.now() + time::Duration::days(1),
    )
    .await
    .unwrap();
    let doctor = user(&app, Role::Physician);
    let client = client();
    let reset = client
        .post(format!(
            "{}/api/v1/users/{}/reset",
            app.base, doctor.user.meta.id
        ))
        .bearer_auth(&token)
        .json(&json!({"password": true, "second_factor": true, "reason": "forgot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::CREATED);
    let reset: serde_json::Value = reset.json().await.unwrap();
    let link = reset["link"].as_str().unwrap().to_string();
    let link_token = reset["token"].as_str().unwrap().to_string();
    let page = client
        .get(format!("{}{link}&lang=en", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = first_cookie(&page, "saisei_enrol_csrf").unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg"), "a QR code to scan");
    assert!(html.contains(doctor.user.data.email.as_str()));
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"").to_string();
    let secret = between(&html, "<p class=\"secret\">", "<").to_string();
    let post = |password: &str, code: String| {
        let req = client
            .post(format!("{}/enrol", app.base))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("token", link_token.as_str()),
                ("new_password", password),
                ("code", code.as_str()),
            ]);
        async move { req.send().await.unwrap() }
    };
    let weak = post("short", code(&app, &secret)).await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let weak = weak.text().await.unwrap();
    assert!(
        weak.contains("id=\"new_password-error\""),
        "the message is beside the field"
    );
    assert!(weak.contains("aria-invalid=\"true\""));
    let done = post("a long and new passphrase", code(&app, &secret)).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done = done.text().await.unwrap();
    assert!(
        done.contains("class=\"codes\""),
        "recovery codes shown once"
    );
    let again = client
        .get(format!("{}{link}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let ok = client
        .post(format!("{}/api/v1/auth/sign-in", app.base))
        .json(&json!({"email": doctor.user.data.email.as_str(), "password": "a long and new passphrase", "code": code(&app, &secret)}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}
on_both!(reset_page, reset_link_page);

/// The language a user saves comes after `?lang=` (and the cookie it leaves) and before
/// the browser's `Accept-Language`; it applies from sign-in on, on any computer.
async fn saved_language(db: Db) {
    let Some(app) = spawn(db, 10, true).await else {
        return;
    };
    let b = crate::helpers::Browser::new(&app);
    let csrf = b.demo_sign_in(Role::InstitutionStaff).await;
    let page = b.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    crate::pages::check_frame(&page, "ja", "/settings", true);
    assert_eq!(
        page.attrs("#language option[selected]", "value"),
        vec![String::new()],
        "nothing saved yet: the browser's"
    );
    // A value not offered is refused beside the field; nothing is saved.
    let refused = b
        .post("/settings", &[("csrf", &csrf), ("language", "fr")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.attrs(".error-summary a", "href"),
        vec!["#language".to_string()]
    );
    // Without the form's token nothing changes.
    let forged = b.post("/settings", &[("language", "en")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let me = user(&app, Role::InstitutionStaff).user.meta.id;
    let stored = |app: &WebApp| {
        let store = app.store.clone();
        async move {
            store
                .get::<saisei_domain::auth::User>(me)
                .await
                .unwrap()
                .data
                .language
        }
    };
    assert_eq!(stored(&app).await, None);

    let saved = b
        .post("/settings", &[("csrf", &csrf), ("language", "en")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(stored(&app).await, Some(saisei_domain::auth::Language::En));
    let page = b.get(&saved.location()).await;
    crate::pages::check_frame(&page, "en", "/settings?saved=1", true);
    assert_eq!(
        page.texts(".notice[role=status]"),
        vec!["Saved.".to_string()]
    );
    assert_eq!(
        page.attrs("#language option[selected]", "value"),
        vec!["en".to_string()]
    );

    // Another computer whose browser asks for Japanese: English after sign-in.
    let other = crate::helpers::Browser::new(&app);
    other.header("Accept-Language", "ja-JP,ja;q=0.9");
    other.demo_sign_in(Role::InstitutionStaff).await;
    assert_eq!(other.get("/").await.attrs("html", "lang"), vec!["en"]);
    // `?lang=` still wins, and is kept.
    assert_eq!(
        other.get("/?lang=ja").await.attrs("html", "lang"),
        vec!["ja"]
    );
    assert_eq!(other.get("/").await.attrs("html", "lang"), vec!["ja"]);
    // With no cookie at all (a bearer token), the saved language beats Accept-Language.
    let record = app
        .store
        .get::<saisei_domain::auth::User>(me)
        .await
        .unwrap();
    let (token, _) = saisei_store::workflow::auth::issue_token(
        &app.store,
        &AuditActor::system("test"),
        &record,
        "test",
        app.clock.now() + time::Duration::days(1),
    )
    .await
    .unwrap();
    let bearer = crate::helpers::Browser::new(&app);
    let page = bearer
        .get_with(
            "/",
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Accept-Language", "ja"),
            ],
        )
        .await;
    assert_eq!(page.attrs("html", "lang"), vec!["en"]);

    // Back to the browser's choice: the saved language and the cookie are cleared.
    let cleared = b
        .post("/settings", &[("csrf", &csrf), ("language", "")])
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    assert_eq!(stored(&app).await, None);
    b.header("Accept-Language", "en-GB");
    assert_eq!(b.get("/").await.attrs("html", "lang"), vec!["en"]);
}
on_both!(language_setting, saved_language);
