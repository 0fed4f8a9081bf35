//! Sign-in, throttling, one-time codes, sessions with CSRF, tokens, the audit trail and
//! signatures that notice a changed record.

use crate::helpers::{PASSWORD, TestApp};
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn sign_in(app: &TestApp, email: &str, password: &str, code: &str) -> crate::helpers::Reply {
    app.anonymous(
        Method::POST,
        "/api/v1/auth/sign-in",
        Some(json!({"email": email, "password": password, "code": code})),
    )
    .await
}

async fn throttling_and_one_time_codes(app: TestApp) {
    let org = app.organisation("Clinic", "medical_institution").await;
    let user = app.user("institution_staff", Some(&org)).await;
    // A code is good once.
    let code = app.code(&user);
    let first = sign_in(&app, &user.email, PASSWORD, &code).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let replay = sign_in(&app, &user.email, PASSWORD, &code).await;
    replay.assert_problem(401, None);
    // Unknown addresses and wrong passwords get the same answer.
    let unknown = sign_in(&app, "nobody@test.example", PASSWORD, "123456").await;
    unknown.assert_problem(401, None);
    assert_eq!(unknown.body["detail"], replay.body["detail"]);
    // Three failures from one address are free; after the fourth the next attempt
    // waits, whatever it carries — and an unknown address is slowed the same way.
    for who in [user.email.as_str(), "nobody@test.example"] {
        for _ in 0..3 {
            sign_in(&app, who, "wrong password!!", "000000")
                .await
                .assert_problem(401, None);
        }
        let throttled = sign_in(&app, who, PASSWORD, "000000").await;
        throttled.assert_problem(429, None);
        assert_eq!(throttled.body["code"], "too_many_attempts");
    }
    let real = sign_in(&app, &user.email, PASSWORD, "000000").await;
    let fake = sign_in(&app, "nobody@test.example", PASSWORD, "000000").await;
    assert_eq!(real.status, fake.status);
    assert_eq!(
        real.body["detail"].as_str().map(|d| d.split(" in ").next()),
        fake.body["detail"].as_str().map(|d| d.split(" in ").next())
    );
    // The wait is short and passes: nobody is locked out.
    let ok = sign_in(&app, &user.email, PASSWORD, &app.code(&user)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // An admin can clear the throttling at once, with a reason.
    for _ in 0..6 {
        sign_in(&app, &user.email, "wrong password!!", "000000").await;
    }
    app.act_as_admin();
    let users = app
        .get(&format!("/api/v1/users?email={}", user.email))
        .await;
    let items = users.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the filter is applied: {}", users.text);
    let me = items[0].clone();
    let r = app
        .patch(
            &format!("/api/v1/users/{}", me["id"].as_str().unwrap()),
            json!({"version": me["version"], "unlock": true, "reason": "verified by phone"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let code = {
        let now = app.clock.now().unix_timestamp() as u64 + 31;
        app.clock.advance(time::Duration::seconds(1));
        saisei_domain::auth::credentials::totp_code(&user.totp_secret, now).unwrap()
    };
    let ok = sign_in(&app, &user.email, PASSWORD, &code).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // Failed sign-ins are in the audit trail, for real and unknown accounts alike.
    let audit = app.get("/api/v1/audit?entity=user&limit=1000").await;
    let failed = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "sign_in_failed")
        .count();
    assert!(failed >= 12, "{failed} failed sign-ins audited");
    // Only admins manage users.
    app.act_as(&user);
    app.get("/api/v1/users").await.assert_problem(403, None);
}
on_both!(throttling, throttling_and_one_time_codes);

async fn tokens_expire_on_revocation(app: TestApp) {
    let org = app.organisation("Clinic", "medical_institution").await;
    let user = app.user("physician", Some(&org)).await;
    app.act_as(&user);
    let r = app
        .post("/api/v1/tokens", json!({"name": "EDC import", "expires_in_days": 30, "password": PASSWORD, "code": app.code(&user)}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_string();
    let id = r.body["token_id"].as_str().unwrap().to_string();
    let me = app
        .client
        .get(format!("{}/api/v1/auth/me", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let list = app.get("/api/v1/tokens").await;
    assert!(
        !list.text.contains(&token),
        "a token is shown once, never listed"
    );
    let revoke = app
        .post(&format!("/api/v1/tokens/{id}/revoke"), json!({}))
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT, "{}", revoke.text);
    let after = app
        .client
        .get(format!("{}/api/v1/auth/me", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let garbage = app
        .client
        .get(format!("{}/api/v1/auth/me", app.base))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
}
on_both!(tokens, tokens_expire_on_revocation);

async fn signatures_notice_changes_and_history_is_kept(app: TestApp) {
    let b = app.basics("2", "specially_certified_committee").await;
    let plan_id = b.plan["id"].as_str().unwrap();
    let sign = app
        .post("/api/v1/signatures", json!({"entity": "plan", "entity_id": plan_id, "signature": {"password": PASSWORD, "code": app.code(&b.doctor), "meaning": "authorship"}}))
        .await;
    assert_eq!(sign.status, StatusCode::CREATED, "{}", sign.text);
    let sigs = app
        .get(&format!(
            "/api/v1/signatures?entity=plan&entity_id={plan_id}"
        ))
        .await;
    assert_eq!(sigs.body["items"][0]["valid"], true);
    // A signed record needs a reason to change, and the change voids the signature.
    app.patch(
        &format!("/api/v1/plans/{plan_id}"),
        json!({"version": 1, "title": "Changed"}),
    )
    .await
    .assert_problem(422, Some("reason"));
    let changed = app
        .patch(
            &format!("/api/v1/plans/{plan_id}"),
            json!({"version": 1, "title": "Changed", "reason": "title corrected"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let sigs = app
        .get(&format!(
            "/api/v1/signatures?entity=plan&entity_id={plan_id}"
        ))
        .await;
    assert_eq!(sigs.body["items"][0]["valid"], false, "{}", sigs.text);
    // A wrong password does not sign.
    app.post("/api/v1/signatures", json!({"entity": "plan", "entity_id": plan_id, "signature": {"password": "not my password", "code": app.code(&b.doctor), "meaning": "review"}}))
        .await
        .assert_problem(401, None);
    // Staff without signing rights cannot sign.
    let staff = app.user("institution_staff", Some(&b.institution)).await;
    app.act_as(&staff);
    app.post("/api/v1/signatures", json!({"entity": "plan", "entity_id": plan_id, "signature": {"password": PASSWORD, "code": app.code(&staff), "meaning": "review"}}))
        .await
        .assert_problem(403, None);
    // The plan's history, as the regulator sees it.
    let mhlw = app.organisation("MHLW", "regulator").await;
    let regulator = app.user("regulator", Some(&mhlw)).await;
    app.act_as(&regulator);
    let history = app
        .get(&format!("/api/v1/audit?entity=plan&entity_id={plan_id}"))
        .await;
    let actions: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update"], "{}", history.text);
    assert_eq!(history.body["items"][1]["reason"], "title corrected");
    assert_eq!(history.body["items"][1]["before"]["title"], "Test plan");
    let verify = app.get("/api/v1/audit/verify").await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
    // Secrets never reach the audit trail.
    let users = app.get("/api/v1/audit?entity=user&limit=1000").await;
    assert!(!users.text.contains("argon2") && !users.text.contains("totp_secret"));
    // The physician cannot read the audit trail.
    app.act_as(&b.doctor);
    app.get("/api/v1/audit").await.assert_problem(403, None);
}
on_both!(signatures, signatures_notice_changes_and_history_is_kept);

async fn account_lifecycle(app: TestApp) {
    let org = app.organisation("Clinic", "medical_institution").await;
    app.act_as_admin();
    // A common password is refused, whatever its length.
    app.post("/api/v1/users", json!({"email": "weak@test.example", "display_name": "Weak", "role": "physician", "organisation_id": org["id"], "password": "qwerty123456"}))
        .await
        .assert_problem(422, Some("password"));
    let created = app
        .create("/api/v1/users", json!({"email": "dr@test.example", "display_name": "Dr", "role": "physician", "organisation_id": org["id"], "password": PASSWORD}))
        .await;
    let codes: Vec<String> = created["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    let secret = created["totp_secret"].as_str().unwrap().to_string();
    let user_id: uuid::Uuid = created["user"]["id"].as_str().unwrap().parse().unwrap();
    // The second-factor secret is sealed in the database, never stored in clear.
    let stored = app
        .store
        .get::<saisei_domain::auth::User>(user_id)
        .await
        .unwrap();
    assert!(stored.data.totp_secret.starts_with("v1."));
    assert!(!stored.data.totp_secret.contains(&secret));
    // A recovery code signs in once, in place of a code.
    let with_recovery = sign_in(&app, "dr@test.example", PASSWORD, &codes[0]).await;
    assert_eq!(
        with_recovery.status,
        StatusCode::OK,
        "{}",
        with_recovery.text
    );
    assert_eq!(with_recovery.body["user"]["recovery_codes_left"], 9);
    sign_in(&app, "dr@test.example", PASSWORD, &codes[0])
        .await
        .assert_problem(401, None);
    let token = with_recovery.body["token"].as_str().unwrap().to_string();
    let as_dr = |method: Method, path: &str, body: Option<serde_json::Value>| {
        let req = app
            .client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&token);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        async move { req.send().await.unwrap() }
    };
    let totp = |app: &TestApp, secret: &str| {
        app.clock.advance(time::Duration::seconds(31));
        saisei_domain::auth::credentials::totp_code(secret, app.clock.now().unix_timestamp() as u64)
            .unwrap()
    };
    let fresh = as_dr(
        Method::POST,
        "/api/v1/auth/recovery-codes",
        Some(json!({"password": PASSWORD, "code": totp(&app, &secret)})),
    )
    .await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let fresh: serde_json::Value = fresh.json().await.unwrap();
    assert_eq!(fresh["recovery_codes"].as_array().unwrap().len(), 10);
    // Own tokens are listed (never the token itself), with the one in use marked.
    let tokens: serde_json::Value = as_dr(Method::GET, "/api/v1/tokens?limit=10", None)
        .await
        .json()
        .await
        .unwrap();
    let mine = &tokens["items"][0];
    assert_eq!(mine["current"], true);
    assert!(mine.get("token_hash").is_none());
    assert_eq!(
        as_dr(Method::GET, "/api/v1/tokens?bogus=1", None)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let sessions = as_dr(Method::GET, "/api/v1/auth/sessions", None).await;
    assert_eq!(sessions.status(), StatusCode::OK);
    // The admin resets both credentials with a one-time link: the user is signed out.
    app.act_as_admin();
    let reset = app
        .post(
            &format!("/api/v1/users/{user_id}/reset"),
            json!({"password": true, "second_factor": true, "reason": "lost phone, verified in person"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::CREATED, "{}", reset.text);
    let link_token = reset.body["token"].as_str().unwrap().to_string();
    assert!(
        reset.body["link"]
            .as_str()
            .unwrap()
            .starts_with("/enrol?token=")
    );
    assert_eq!(
        as_dr(Method::GET, "/api/v1/auth/me", None).await.status(),
        StatusCode::UNAUTHORIZED,
        "tokens end with a reset"
    );
    let opened = app
        .anonymous(
            Method::POST,
            "/api/v1/auth/enrolment",
            Some(json!({"token": link_token})),
        )
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let new_secret = opened.body["totp_secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    // Opening again shows the same pending secret.
    let again = app
        .anonymous(
            Method::POST,
            "/api/v1/auth/enrolment",
            Some(json!({"token": link_token})),
        )
        .await;
    assert_eq!(again.body["totp_secret"], new_secret.as_str());
    let complete = |password: &str, code: String| {
        let body = json!({"token": link_token, "new_password": password, "code": code});
        let app = &app;
        async move {
            app.anonymous(Method::POST, "/api/v1/auth/enrolment/complete", Some(body))
                .await
        }
    };
    complete("1qaz2wsx3edc", totp(&app, &new_secret))
        .await
        .assert_problem(422, Some("new_password"));
    complete("a brand new passphrase", "000000".into())
        .await
        .assert_problem(422, Some("code"));
    let done = complete("a brand new passphrase", totp(&app, &new_secret)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["recovery_codes"].as_array().unwrap().len(), 10);
    complete("a brand new passphrase", totp(&app, &new_secret))
        .await
        .assert_problem(404, None);
    sign_in(&app, "dr@test.example", PASSWORD, &totp(&app, &new_secret))
        .await
        .assert_problem(401, None);
    let ok = sign_in(
        &app,
        "dr@test.example",
        "a brand new passphrase",
        &totp(&app, &new_secret),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // An unknown link reads like a used one.
    app.anonymous(
        Method::POST,
        "/api/v1/auth/enrolment",
        Some(json!({"token": "ssk_nope"})),
    )
    .await
    .assert_problem(404, None);
}
on_both!(accounts, account_lifecycle);

async fn reads_of_patients_are_logged(app: TestApp) {
    let b = app.basics("3", "certified_committee").await;
    app.act_as(&b.doctor);
    let p = app
        .create("/api/v1/patients", json!({"institution_id": b.institution["id"], "record_number": "L-1", "birth_year_month": "1960-01", "sex": "male"}))
        .await;
    let pid = p["id"].as_str().unwrap();
    app.get(&format!("/api/v1/patients/{pid}")).await;
    app.get("/api/v1/patients?limit=5").await;
    app.get("/api/v1/organisations?limit=5").await;
    app.act_as_admin();
    let log = app
        .get(&format!("/api/v1/access-log?patient_id={pid}"))
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "one read, one list: {}", log.text);
    assert_eq!(items[0]["action"], "read");
    assert_eq!(items[1]["action"], "list");
    assert_eq!(items[0]["entity"], "patient");
    assert!(items[0].get("content").is_none());
    let me = app.get("/api/v1/auth/me").await;
    assert_ne!(items[0]["actor"], me.body["id"]);
    // Organisations are not patient-level: nothing logged for them.
    let orgs = app.get("/api/v1/access-log?entity=organisation").await;
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 0);
    // Others may not read the log; the log refuses changes.
    app.act_as(&b.doctor);
    app.get("/api/v1/access-log")
        .await
        .assert_problem(403, None);
    let changed = app
        .store
        .backend()
        .execute("UPDATE access_log SET actor = 'someone else'", &[])
        .await;
    assert!(changed.is_err(), "the access log is append-only");
    let deleted = app
        .store
        .backend()
        .execute("DELETE FROM access_log", &[])
        .await;
    assert!(deleted.is_err(), "the access log is append-only");
}
on_both!(access_log, reads_of_patients_are_logged);
