//! Sign-in, lock-out, one-time codes, sessions with CSRF, tokens, the audit trail and
//! signatures that notice a changed record.

use crate::helpers::{PASSWORD, TestApp};
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn lock_out_and_one_time_codes(app: TestApp) {
    let org = app.organisation("Clinic", "medical_institution").await;
    let user = app.user("institution_staff", Some(&org)).await;
    // A code is good once.
    let code = app.code(&user);
    let first = app
        .anonymous(
            Method::POST,
            "/api/v1/auth/sign-in",
            Some(json!({"email": user.email, "password": PASSWORD, "code": code})),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let replay = app
        .anonymous(
            Method::POST,
            "/api/v1/auth/sign-in",
            Some(json!({"email": user.email, "password": PASSWORD, "code": code})),
        )
        .await;
    replay.assert_problem(401, None);
    // Unknown addresses and wrong passwords get the same answer.
    let unknown = app
        .anonymous(
            Method::POST,
            "/api/v1/auth/sign-in",
            Some(json!({"email": "nobody@test.example", "password": PASSWORD, "code": "123456"})),
        )
        .await;
    unknown.assert_problem(401, None);
    assert_eq!(unknown.body["detail"], replay.body["detail"]);
    // Five failures (the replayed code was the first) lock the account, even against
    // the right credentials.
    for _ in 0..3 {
        app.anonymous(Method::POST, "/api/v1/auth/sign-in", Some(json!({"email": user.email, "password": "wrong password!!", "code": app.code(&user)})))
            .await
            .assert_problem(401, None);
    }
    app.anonymous(
        Method::POST,
        "/api/v1/auth/sign-in",
        Some(json!({"email": user.email, "password": "wrong password!!", "code": app.code(&user)})),
    )
    .await
    .assert_problem(423, None);
    app.anonymous(
        Method::POST,
        "/api/v1/auth/sign-in",
        Some(json!({"email": user.email, "password": PASSWORD, "code": app.code(&user)})),
    )
    .await
    .assert_problem(423, None);
    // An admin lifts the lock, with a reason.
    app.act_as_admin();
    let users = app.get("/api/v1/users").await;
    let me = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == user.email.as_str())
        .unwrap()
        .clone();
    assert!(me["locked_until"].is_string());
    let r = app
        .patch(
            &format!("/api/v1/users/{}", me["id"].as_str().unwrap()),
            json!({"version": me["version"], "unlock": true, "reason": "verified by phone"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ok = app
        .anonymous(
            Method::POST,
            "/api/v1/auth/sign-in",
            Some(json!({"email": user.email, "password": PASSWORD, "code": app.code(&user)})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // Failed sign-ins are in the audit trail.
    let audit = app.get("/api/v1/audit?entity=user&limit=1000").await;
    let failed = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "sign_in_failed")
        .count();
    assert!(failed >= 6, "{failed} failed sign-ins audited");
    // Only admins manage users.
    app.act_as(&user);
    app.get("/api/v1/users").await.assert_problem(403, None);
}
on_both!(lock_out, lock_out_and_one_time_codes);

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

async fn web_session_with_csrf(app: TestApp) {
    let org = app.organisation("Clinic", "medical_institution").await;
    let user = app.user("physician", Some(&org)).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .unwrap();
    let set = form
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure"));
    let csrf = set
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let html = form.text().await.unwrap();
    assert!(html.contains(&csrf), "the form carries its CSRF token");
    // Without the matching token the form is refused.
    let bad = client
        .post(format!("{}/sign-in", app.base))
        .form(&[
            ("email", user.email.as_str()),
            ("password", PASSWORD),
            ("code", &app.code(&user)),
            ("csrf", "forged"),
        ])
        .header("cookie", format!("saisei_sign_in_csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);
    let ok = client
        .post(format!("{}/sign-in", app.base))
        .form(&[
            ("email", user.email.as_str()),
            ("password", PASSWORD),
            ("code", &app.code(&user)),
            ("csrf", &csrf),
        ])
        .header("cookie", format!("saisei_sign_in_csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let session = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("saisei_session="))
        .unwrap();
    let cookie = session.split(';').next().unwrap().to_string();
    let page = client
        .get(format!("{}/", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(&user.email));
    let session_csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // API writes with the cookie need the CSRF header.
    let body = json!({"institution_id": org["id"], "record_number": "S1", "birth_year_month": "1970-01", "sex": "male"});
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
    // Idle for longer than the timeout: the session is over.
    app.clock.advance(time::Duration::minutes(31));
    let stale = client
        .get(format!("{}/api/v1/auth/me", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
}
on_both!(web_session, web_session_with_csrf);

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
