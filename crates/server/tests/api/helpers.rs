//! `spawn_app`, signed-in users, and request helpers.
//!
//! Every server starts with one admin (made through the store, as `saisei user add`
//! does); tests make the users they need through the API as that admin and sign them
//! in with a real TOTP code. The server's clock can be moved forward so one-time codes
//! and signatures never collide within a 30-second step.

use reqwest::{Client, Method, StatusCode};
use saisei_domain::audit::AuditActor;
use saisei_domain::auth::credentials::totp_code;
use saisei_domain::auth::secrets::SecretKey;
use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::regulation::RuleBook;
use saisei_server::AppState;
use saisei_server::state::Clock;
use saisei_store::workflow::auth::{NewUser, check_secret_key, create_user, issue_token};
use saisei_store::{Backend, Store};
use saisei_store_postgres::PostgresBackend;
use saisei_store_sqlite::SqliteBackend;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use time::Duration;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub email: String,
    pub password: String,
    pub totp_secret: String,
    pub token: String,
}

/// A running server and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub clock: Arc<Clock>,
    pub admin: TestUser,
    pub store: Store,
    acting: Mutex<String>,
    acting_user: Mutex<Option<TestUser>>,
}

/// A response: status, content type and JSON body (Null when not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Asserts a problem response with this status, naming `field` if given.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, field: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.content_type, "application/problem+json",
            "body: {}",
            self.text
        );
        assert!(
            self.body["code"].is_string(),
            "problem has a code: {}",
            self.text
        );
        assert!(self.body["detail"].is_string());
        if let Some(f) = field {
            let fields: Vec<&str> = self.body["errors"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(fields.contains(&f), "expected field {f} in {}", self.text);
        }
    }
}

pub fn test_key() -> PseudonymKey {
    PseudonymKey::new(vec![42u8; 32]).unwrap()
}

/// The key sealing second-factor secrets in test servers.
pub fn test_secret_key() -> SecretKey {
    SecretKey::new(&[7u8; 32]).unwrap()
}

pub const PASSWORD: &str = "correct horse battery staple";

/// Starts a server on a fresh database; `None` for PostgreSQL when it is not configured.
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    let backend: Arc<dyn Backend> = match db {
        Db::Sqlite => {
            let dir = std::env::temp_dir().join(format!("saisei-api-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&dir).unwrap();
            Arc::new(
                SqliteBackend::connect(dir.join("api.db").to_str().unwrap())
                    .await
                    .unwrap(),
            )
        }
        Db::Postgres => {
            let url = std::env::var("SAISEI_TEST_POSTGRES_URL").ok()?;
            let schema = format!("api_{}", uuid::Uuid::now_v7().simple());
            Arc::new(
                PostgresBackend::connect_in_schema(&url, &schema)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {url}: {e}")),
            )
        }
    };
    backend.migrate().await.unwrap();
    let store = Store::new(backend);
    check_secret_key(&store, Some(&test_secret_key()))
        .await
        .unwrap();
    let (admin, enrolled) = create_user(
        &store,
        &AuditActor::system("test"),
        &test_secret_key(),
        NewUser {
            email: "admin@test.example".parse().unwrap(),
            display_name: "Admin".parse().unwrap(),
            role: saisei_domain::auth::Role::Admin,
            organisation_id: None,
            password: PASSWORD.into(),
            totp_secret: None,
        },
    )
    .await
    .unwrap();
    let (token, _) = issue_token(
        &store,
        &AuditActor::system("test"),
        &admin,
        "test",
        time::OffsetDateTime::now_utc() + Duration::days(1),
    )
    .await
    .unwrap();
    let state = AppState::new(
        store.clone(),
        Some(test_key()),
        RuleBook::embedded().unwrap(),
    )
    .with_secret_key(Some(test_secret_key()));
    let clock = state.clock.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(saisei_server::serve_on(state, listener));
    let admin = TestUser {
        email: "admin@test.example".into(),
        password: PASSWORD.into(),
        totp_secret: enrolled.totp_secret,
        token: token.clone(),
    };
    Some(TestApp {
        base: format!("http://{addr}"),
        client: Client::new(),
        clock,
        admin,
        store,
        acting: Mutex::new(token),
        acting_user: Mutex::new(None),
    })
}

impl TestApp {
    /// Fills the registry with the demo's synthetic data (through the store, as the
    /// generator does), `patients` patients from `seed`.
    pub async fn demo(&self, patients: usize, seed: u64) {
        saisei_demo::generate(
            &self.store,
            RuleBook::embedded().unwrap(),
            &test_key(),
            saisei_demo::DemoOptions { patients, seed },
            |_| {},
        )
        .await
        .unwrap();
    }

    /// Makes later requests act as `user`.
    pub fn act_as(&self, user: &TestUser) {
        *self.acting.lock().unwrap() = user.token.clone();
        *self.acting_user.lock().unwrap() = Some(user.clone());
    }

    /// The signature block of whoever acts now.
    pub fn my_signature(&self) -> Value {
        let user = self
            .acting_user
            .lock()
            .unwrap()
            .clone()
            .expect("someone acts");
        self.signature(&user)
    }

    /// Makes later requests act as the admin.
    pub fn act_as_admin(&self) {
        self.act_as(&self.admin.clone());
    }

    /// A fresh one-time code for `user`: the clock moves on a step first, so no code is
    /// ever presented twice.
    pub fn code(&self, user: &TestUser) -> String {
        self.clock.advance(Duration::seconds(31));
        let now = self.clock.now().unix_timestamp() as u64;
        totp_code(&user.totp_secret, now).unwrap()
    }

    /// The signature block a workflow asks for.
    pub fn signature(&self, user: &TestUser) -> Value {
        json!({"password": user.password, "code": self.code(user)})
    }

    /// Creates a user of `role` for organisation `org` (as the admin) and signs them
    /// in; later requests still act as whoever acted before.
    pub async fn user(&self, role: &str, org: Option<&Value>) -> TestUser {
        let acting = self.acting.lock().unwrap().clone();
        self.act_as_admin();
        let email = format!(
            "{role}-{}@test.example",
            &uuid::Uuid::now_v7().simple().to_string()[24..]
        );
        let mut body = json!({"email": email, "display_name": format!("Test {role}"), "role": role, "password": PASSWORD});
        if let Some(o) = org {
            body["organisation_id"] = o["id"].clone();
        }
        let r = self.post("/api/v1/users", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "create user: {}", r.text);
        let secret = r.body["totp_secret"].as_str().unwrap().to_string();
        let mut user = TestUser {
            email: email.clone(),
            password: PASSWORD.into(),
            totp_secret: secret,
            token: String::new(),
        };
        let code = self.code(&user);
        let s = self
            .post(
                "/api/v1/auth/sign-in",
                json!({"email": email, "password": PASSWORD, "code": code}),
            )
            .await;
        assert_eq!(s.status, StatusCode::OK, "sign in: {}", s.text);
        user.token = s.body["token"].as_str().unwrap().to_string();
        *self.acting.lock().unwrap() = acting;
        user
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let token = self.acting.lock().unwrap().clone();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::reply(req.send().await.expect("request sent")).await
    }

    /// A request without credentials.
    pub async fn anonymous(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::reply(req.send().await.expect("request sent")).await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let token = self.acting.lock().unwrap().clone();
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        Self::reply(req.send().await.expect("request sent")).await
    }

    async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(body)).await
    }

    /// Creates a record and returns it, failing the test on anything but 201.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let r = self.post(path, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {}", r.text);
        r.body
    }

    /// Creates an organisation as the admin (keeping whoever acts).
    pub async fn organisation(&self, name: &str, kind: &str) -> Value {
        let acting = self.acting.lock().unwrap().clone();
        self.act_as_admin();
        let o = self
            .create("/api/v1/organisations", json!({"name": name, "kind": kind}))
            .await;
        *self.acting.lock().unwrap() = acting;
        o
    }

    /// An institution with a physician user, a committee of `committee_kind` with a
    /// member, and a draft plan of `class` written by the physician. Later requests act
    /// as the physician.
    pub async fn basics(&self, class: &str, committee_kind: &str) -> Basics {
        self.act_as_admin();
        let institution = self
            .create(
                "/api/v1/organisations",
                json!({"name": "Test Clinic", "kind": "medical_institution"}),
            )
            .await;
        let committee = self
            .create(
                "/api/v1/organisations",
                json!({"name": "Committee", "kind": committee_kind}),
            )
            .await;
        let physician = self
            .create(
                "/api/v1/practitioners",
                json!({"organisation_id": institution["id"], "name": "Dr. Test", "profession": "physician"}),
            )
            .await;
        let doctor = self.user("physician", Some(&institution)).await;
        let member = self.user("committee_member", Some(&committee)).await;
        self.act_as(&doctor);
        let plan = self
            .create(
                "/api/v1/plans",
                json!({
                    "plan_number": format!("PX{}", &uuid::Uuid::now_v7().simple().to_string()[20..]),
                    "title": "Test plan", "institution_id": institution["id"],
                    "responsible_physician_id": physician["id"], "risk_class": class,
                    "target_disease": "knee OA", "material_description": "cells",
                    "committee_id": committee["id"]
                }),
            )
            .await;
        Basics {
            institution,
            committee,
            physician,
            plan,
            doctor,
            member,
        }
    }

    /// Moves a plan as the right person: the physician submits (signing) and activates,
    /// the committee member reviews and accepts (signing).
    pub async fn move_plan(&self, b: &Basics, to: &str, on: &str, version: i64) -> Reply {
        let by_committee = matches!(to, "under_review" | "accepted");
        let user = if by_committee { &b.member } else { &b.doctor };
        self.act_as(user);
        let mut body = json!({"to": to, "on": on, "version": version});
        if matches!(to, "submitted" | "accepted") {
            body["signature"] = self.signature(user);
        }
        let r = self
            .post(
                &format!(
                    "/api/v1/plans/{}/transitions",
                    b.plan["id"].as_str().unwrap()
                ),
                body,
            )
            .await;
        self.act_as(&b.doctor);
        r
    }

    pub async fn count(&self, path: &str) -> usize {
        let r = self.get(&format!("{path}?limit=1000")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["items"].as_array().map(|a| a.len()).unwrap_or(0)
    }
}

pub struct Basics {
    pub institution: Value,
    pub committee: Value,
    pub physician: Value,
    pub plan: Value,
    pub doctor: TestUser,
    pub member: TestUser,
}

/// Defines a test that runs on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite)
                    .await
                    .unwrap();
                ($body)(app).await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
}
