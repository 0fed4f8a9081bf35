//! A web test server over a fresh demo registry, and a browser-like client that keeps
//! its own cookies (the session cookie is `Secure`, which a cookie jar would not send
//! over plain HTTP; real browsers treat 127.0.0.1 as secure).

use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};
use reqwest::{Client, StatusCode, redirect};
use saisei_domain::auth::Role;
use saisei_domain::auth::secrets::SecretKey;
use saisei_domain::pseudonym::PseudonymKey;
use saisei_domain::regulation::RuleBook;
use saisei_server::AppState;
use saisei_store::workflow::auth::check_secret_key;
use saisei_store::{Backend, Store};
use saisei_store_postgres::PostgresBackend;
use saisei_store_sqlite::SqliteBackend;
use saisei_web::{DemoAccount, WebConfig};
use scraper::{Html, Selector};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub fn pseudonym_key() -> PseudonymKey {
    PseudonymKey::new(vec![42u8; 32]).unwrap()
}

fn secret_key() -> SecretKey {
    SecretKey::new(&[7u8; 32]).unwrap()
}

/// A running server with its store.
pub struct WebApp {
    pub base: String,
    pub store: Store,
    pub accounts: Vec<DemoAccount>,
    /// The demo users with their credentials.
    pub users: Vec<saisei_demo::users::DemoUser>,
    /// The server's clock (tests move it forward).
    pub clock: Arc<saisei_server::state::Clock>,
}

impl WebApp {
    /// The organisation of the demo user with `role`.
    pub fn organisation_of(&self, role: Role) -> uuid::Uuid {
        self.users
            .iter()
            .find(|u| u.user.data.role == role)
            .and_then(|u| u.user.data.organisation_id)
            .expect("the demo has a user of this role with an organisation")
    }
}

async fn backend(db: Db) -> Option<Arc<dyn Backend>> {
    Some(match db {
        Db::Sqlite => {
            let dir = std::env::temp_dir().join(format!("saisei-web-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&dir).unwrap();
            Arc::new(
                SqliteBackend::connect(dir.join("web.db").to_str().unwrap())
                    .await
                    .unwrap(),
            )
        }
        Db::Postgres => {
            let url = std::env::var("SAISEI_TEST_POSTGRES_URL").ok()?;
            let schema = format!("web_{}", uuid::Uuid::now_v7().simple());
            Arc::new(
                PostgresBackend::connect_in_schema(&url, &schema)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {url}: {e}")),
            )
        }
    })
}

/// Starts the whole application over a demo registry of `patients` patients; `demo`
/// says whether it is served as `saisei demo` (one-click sign-in) or `saisei serve`.
/// `None` for PostgreSQL when it is not configured.
pub async fn spawn(db: Db, patients: usize, demo: bool) -> Option<WebApp> {
    let backend = backend(db).await?;
    backend.migrate().await.unwrap();
    let store = Store::new(backend);
    check_secret_key(&store, Some(&secret_key())).await.unwrap();
    let rules = RuleBook::embedded().unwrap();
    saisei_demo::generate(
        &store,
        rules,
        &pseudonym_key(),
        saisei_demo::DemoOptions { patients, seed: 7 },
        |_| {},
    )
    .await
    .unwrap();
    let users = saisei_demo::users::create(&store, &secret_key(), 7)
        .await
        .unwrap();
    let accounts: Vec<DemoAccount> = users
        .iter()
        .map(|u| DemoAccount {
            email: u.user.data.email.to_string(),
            role: u.user.data.role,
            organisation: u.organisation.clone(),
        })
        .collect();
    let state = AppState::new(store.clone(), Some(pseudonym_key()), rules)
        .with_secret_key(Some(secret_key()));
    let clock = state.clock.clone();
    let config = WebConfig {
        demo_accounts: if demo { accounts.clone() } else { Vec::new() },
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(saisei_web::serve_on(state, config, listener));
    Some(WebApp {
        base: format!("http://{addr}"),
        store,
        accounts,
        users,
        clock,
    })
}

/// A page as answered.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub html: Html,
}

impl Page {
    /// Every element matching a CSS selector, as text.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let sel = Selector::parse(css).unwrap();
        self.html
            .select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .collect()
    }

    /// An attribute of every element matching a selector.
    pub fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let sel = Selector::parse(css).unwrap();
        self.html
            .select(&sel)
            .filter_map(|e| e.value().attr(attr).map(str::to_string))
            .collect()
    }

    /// Whether anything matches.
    pub fn has(&self, css: &str) -> bool {
        !self.attrs_or_empty(css).is_empty()
    }

    fn attrs_or_empty(&self, css: &str) -> Vec<()> {
        let sel = Selector::parse(css).unwrap();
        self.html.select(&sel).map(|_| ()).collect()
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

/// A client that keeps cookies by name, follows nothing, and reads pages.
pub struct Browser {
    base: String,
    client: Client,
    cookies: Mutex<BTreeMap<String, String>>,
    extra: Mutex<Vec<(String, String)>>,
}

impl Browser {
    pub fn new(app: &WebApp) -> Self {
        Browser {
            base: app.base.clone(),
            client: Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Mutex::new(BTreeMap::new()),
            extra: Mutex::new(Vec::new()),
        }
    }

    /// Sends this header with every later request (e.g. `Accept-Language`).
    pub fn header(&self, name: &str, value: &str) {
        self.extra
            .lock()
            .unwrap()
            .push((name.to_string(), value.to_string()));
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&self, r: reqwest::Response) -> Page {
        let status = r.status();
        let headers = r.headers().clone();
        for c in headers.get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let first = c.split(';').next().unwrap();
            let (k, v) = first.split_once('=').unwrap();
            let expired = c.contains("Max-Age=0");
            let mut jar = self.cookies.lock().unwrap();
            if expired || v.is_empty() {
                jar.remove(k);
            } else {
                jar.insert(k.to_string(), v.to_string());
            }
        }
        let text = r.text().await.unwrap();
        let html = Html::parse_document(&text);
        Page {
            status,
            headers,
            text,
            html,
        }
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header());
        for (k, v) in self.extra.lock().unwrap().iter() {
            req = req.header(k.as_str(), v.as_str());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.read(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form);
        for (k, v) in self.extra.lock().unwrap().iter() {
            req = req.header(k.as_str(), v.as_str());
        }
        self.read(req.send().await.unwrap()).await
    }

    /// Signs in with the demo button of `role`; returns the page's CSRF token.
    pub async fn demo_sign_in(&self, role: Role) -> String {
        let page = self.get("/sign-in").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.attrs("form[action='/demo/sign-in'] input[name=csrf]", "value")[0].clone();
        let done = self
            .post("/demo/sign-in", &[("csrf", &csrf), ("role", role.as_str())])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        self.csrf().await
    }

    /// The CSRF token the signed-in pages carry.
    pub async fn csrf(&self) -> String {
        let home = self.get("/").await;
        home.attrs("form[action='/sign-out'] input[name=csrf]", "value")
            .first()
            .cloned()
            .unwrap_or_default()
    }
}

/// Runs a test on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                ($body)($crate::helpers::Db::Sqlite).await;
            }
            #[tokio::test]
            async fn postgres() {
                if std::env::var("SAISEI_TEST_POSTGRES_URL").is_ok() {
                    ($body)($crate::helpers::Db::Postgres).await;
                }
            }
        }
    };
}
