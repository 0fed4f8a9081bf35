//! `saisei backup` while the server serves writes, then `saisei restore` into a new
//! database: every write acknowledged before the backup began is in the copy, and the
//! restored registry verifies (audit chain and records). On SQLite always, and on
//! PostgreSQL (pg_dump / pg_restore) when `SAISEI_TEST_POSTGRES_URL` is set.

use crate::durability::{free_port, run, saisei, start, wait_healthy};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn backup_under_load(db: String, restored: String, dir: &std::path::Path) {
    run(&["migrate", "--db", &db]);
    let password = dir.join("password");
    std::fs::write(&password, "backup-test-password").unwrap();
    run(&[
        "user",
        "add",
        "--db",
        &db,
        "--email",
        "admin@backup.example",
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
        "admin@backup.example",
    ])
    .lines()
    .last()
    .unwrap()
    .trim()
    .to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&db, port);
    wait_healthy(&client, &base).await;
    let acknowledged: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..3 {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let name = format!("backup w{w} n{n}");
                let r = client
                    .post(format!("{base}/api/v1/organisations"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"name": name, "kind": "regulator"}))
                    .send()
                    .await
                    .expect("the server answers");
                assert!(r.status().is_success(), "{}", r.status());
                acknowledged.lock().unwrap().push((name, Instant::now()));
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let out = dir.join("registry.backup");
    let began = Instant::now();
    let backup = tokio::task::spawn_blocking({
        let db = db.clone();
        let out = out.clone();
        move || {
            saisei()
                .args(["backup", "--db", &db, "--out", out.to_str().unwrap()])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        backup.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let backup_seconds = began.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let restore = saisei()
        .args([
            "restore",
            "--from",
            out.to_str().unwrap(),
            "--db",
            &restored,
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&restore.stdout).to_string();
    assert!(
        restore.status.success(),
        "restore: {said} {}",
        String::from_utf8_lossy(&restore.stderr)
    );
    assert!(said.contains("records match their history"), "{said}");
    let store = saisei_server::database::connect(&restored, false)
        .await
        .unwrap();
    let present: std::collections::HashSet<String> = store
        .all::<saisei_domain::registry::Organisation>(vec![])
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.data.name.to_string())
        .collect();
    store.backend().close().await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(n, _)| n)
        .collect();
    let missing: Vec<&&String> = before.iter().filter(|n| !present.contains(**n)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, missing: {missing:?}"
    );
    assert!(
        before.len() > 20,
        "only {} writes before the backup",
        before.len()
    );
    eprintln!(
        "backup under load ({}): {} writes acknowledged before it began, all restored; {} during or after; backup took {backup_seconds:.2} s",
        if db.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        },
        before.len(),
        acknowledged.len() - before.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_write_load_restores_sqlite() {
    let dir = std::env::temp_dir().join(format!("saisei-backup-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("live.db").to_str().unwrap().to_string();
    let restored = dir.join("restored.db").to_str().unwrap().to_string();
    backup_under_load(db, restored, &dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_write_load_restores_postgres() {
    let Some((db, schema)) = crate::durability::postgres_schema().await else {
        return;
    };
    let url = std::env::var("SAISEI_TEST_POSTGRES_URL").unwrap();
    let backend = saisei_store_postgres::PostgresBackend::connect(&url)
        .await
        .unwrap();
    // An empty database to restore into, on the same server.
    let target = format!("restore_{}", uuid::Uuid::now_v7().simple());
    saisei_store::Backend::execute(&backend, &format!("CREATE DATABASE {target}"), &[])
        .await
        .unwrap();
    let server_url = url.rsplit_once('/').unwrap().0;
    let restored = format!("{server_url}/{target}?options=-c%20search_path%3D{schema}");
    let dir = std::env::temp_dir().join(format!("saisei-backup-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    backup_under_load(db, restored, &dir).await;
    saisei_store::Backend::execute(
        &backend,
        &format!("DROP DATABASE {target} WITH (FORCE)"),
        &[],
    )
    .await
    .unwrap();
    saisei_store::Backend::close(&backend).await;
}
