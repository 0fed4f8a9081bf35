//! `spawn_app` and request helpers.

use reqwest::{Client, Method, StatusCode};
use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::regulation::RuleBook;
use saisei_server::AppState;
use saisei_store::{Backend, Store};
use saisei_store_postgres::PostgresBackend;
use saisei_store_sqlite::SqliteBackend;
use serde_json::{Value, json};
use std::sync::Arc;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running server and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: Client,
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
    let state = AppState::new(store, Some(test_key()), RuleBook::embedded().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(saisei_server::serve_on(state, listener));
    Some(TestApp {
        base: format!("http://{addr}"),
        client: Client::new(),
    })
}

impl TestApp {
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
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
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
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

    /// An institution, a committee of `committee_kind`, a physician and a draft plan of
    /// `class`.
    pub async fn basics(&self, class: &str, committee_kind: &str) -> Basics {
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
        }
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
