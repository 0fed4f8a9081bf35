//! Proof that nothing acknowledged is lost: a load generator writes through the HTTP
//! API while the server is killed with SIGKILL and restarted, several times; afterwards
//! every write that got a 2xx is present and `saisei audit verify` passes. On SQLite
//! always, and on PostgreSQL when `SAISEI_TEST_POSTGRES_URL` is set.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROUNDS: usize = 4;
const WRITERS: usize = 4;

/// The secret key the test's servers and commands share (a PostgreSQL registry has no
/// key file beside it; configuration provides one).
const SECRET_KEY: &str = "durability-test-secret-key-of-at-least-32-bytes";

pub(crate) fn saisei() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_saisei"));
    c.env("SAISEI_SECRET_KEY", SECRET_KEY);
    c
}

pub(crate) fn run(args: &[&str]) -> String {
    let out = saisei().args(args).output().expect("run saisei");
    assert!(
        out.status.success(),
        "saisei {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn start(db: &str, port: u16) -> Child {
    saisei()
        .args(["serve", "--db", db, "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server")
}

pub(crate) async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/api/v1/health")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become healthy");
}

async fn crash_and_recover(db: String, dir: &Path) {
    run(&["migrate", "--db", &db]);
    let password = dir.join("password");
    std::fs::write(&password, "crash-test-password").unwrap();
    run(&[
        "user",
        "add",
        "--db",
        &db,
        "--email",
        "admin@crash.example",
        "--role",
        "admin",
        "--password-file",
        password.to_str().unwrap(),
    ]);
    let token = run(&[
        "token",
        "create",
        "--db",
        &db,
        "--user",
        "admin@crash.example",
    ])
    .lines()
    .last()
    .unwrap()
    .trim()
    .to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut attempted = 0usize;
    for round in 0..ROUNDS {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = start(&db, port);
        wait_healthy(&client, &base).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let client = client.clone();
            let base = base.clone();
            let token = token.clone();
            let acknowledged = acknowledged.clone();
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0usize;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let name = format!("crash r{round} w{w} n{n}");
                    let r = client
                        .post(format!("{base}/api/v1/organisations"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({"name": name, "kind": "regulator"}))
                        .send()
                        .await;
                    match r {
                        Ok(resp) if resp.status().is_success() => {
                            acknowledged.lock().unwrap().push(name)
                        }
                        Ok(resp) => assert!(
                            !resp.status().is_server_error(),
                            "5xx during load: {}",
                            resp.status()
                        ),
                        // The server died mid-request: not acknowledged.
                        Err(_) => {}
                    }
                }
                n
            }));
        }
        tokio::time::sleep(Duration::from_millis(800 + 300 * round as u64)).await;
        server.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
        server.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in tasks {
            attempted += t.await.unwrap();
        }
    }
    // Restart and look.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&db, port);
    wait_healthy(&client, &base).await;
    let mut present = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/api/v1/organisations?limit=1000&cursor={c}"),
            None => format!("{base}/api/v1/organisations?limit=1000"),
        };
        let page: serde_json::Value = client
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            present.insert(item["name"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|n| !present.contains(*n))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert!(
        acknowledged.len() > 20,
        "the load generator got too few writes through ({})",
        acknowledged.len()
    );
    let verify = run(&["audit", "verify", "--db", &db]);
    assert!(verify.starts_with("ok "), "{verify}");
    eprintln!(
        "durability ({}): {ROUNDS} SIGKILLs, {attempted} writes attempted, {} acknowledged, {} present, audit: {}",
        if db.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        },
        acknowledged.len(),
        acknowledged.iter().filter(|n| present.contains(*n)).count(),
        verify.trim()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_nothing_sqlite() {
    let dir = std::env::temp_dir().join(format!("saisei-crash-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("crash.db").to_str().unwrap().to_string();
    crash_and_recover(db, &dir).await;
}

/// A fresh schema on the test PostgreSQL server and the URL that points the binary at
/// it (through the connection's options); `None` when no server is configured.
pub(crate) async fn postgres_schema() -> Option<(String, String)> {
    let Ok(url) = std::env::var("SAISEI_TEST_POSTGRES_URL") else {
        eprintln!("SAISEI_TEST_POSTGRES_URL is not set: PostgreSQL half not run");
        return None;
    };
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let backend = saisei_store_postgres::PostgresBackend::connect_in_schema(&url, &schema)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {url}: {e}"));
    saisei_store::Backend::close(&backend).await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some((
        format!("{url}{sep}options=-c%20search_path%3D{schema}"),
        schema,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_nothing_postgres() {
    let Some((db, _)) = postgres_schema().await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("saisei-crash-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    crash_and_recover(db, &dir).await;
}
