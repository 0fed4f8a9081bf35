//! 32 clients updating the same records at once: no lost update (a stale version gets
//! 409), no deadlock, no 5xx.

use crate::helpers::TestApp;
use crate::on_both;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const CLIENTS: usize = 32;
const UPDATES_EACH: usize = 6;

async fn no_lost_updates(app: TestApp) {
    app.act_as_admin();
    let records: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..4 {
            let o = app
                .create(
                    "/api/v1/organisations",
                    json!({"name": format!("Counter {i}"), "kind": "regulator", "code": "0"}),
                )
                .await;
            v.push(o["id"].as_str().unwrap().to_string());
        }
        v
    };
    let app = Arc::new(app);
    let successes: Arc<Vec<AtomicUsize>> =
        Arc::new((0..records.len()).map(|_| AtomicUsize::new(0)).collect());
    let conflicts = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let app = app.clone();
        let records = records.clone();
        let successes = successes.clone();
        let conflicts = conflicts.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            let mut attempts = 0;
            while done < UPDATES_EACH {
                attempts += 1;
                assert!(attempts < 2000, "client {c} starved");
                let which = (c + done) % records.len();
                let path = format!("/api/v1/organisations/{}", records[which]);
                let current = app.get(&path).await;
                assert_eq!(current.status, StatusCode::OK, "{}", current.text);
                let n: u64 = current.body["code"].as_str().unwrap().parse().unwrap();
                let version = current.body["version"].as_i64().unwrap();
                let r = app
                    .patch(
                        &path,
                        json!({"version": version, "code": (n + 1).to_string()}),
                    )
                    .await;
                match r.status.as_u16() {
                    200 => {
                        successes[which].fetch_add(1, Ordering::SeqCst);
                        done += 1;
                    }
                    409 => {
                        r.assert_problem(409, Some("version"));
                        conflicts.fetch_add(1, Ordering::SeqCst);
                    }
                    other => panic!("client {c}: unexpected {other}: {}", r.text),
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    let mut total = 0;
    for (i, id) in records.iter().enumerate() {
        let r = app.get(&format!("/api/v1/organisations/{id}")).await;
        let n: usize = r.body["code"].as_str().unwrap().parse().unwrap();
        let ok = successes[i].load(Ordering::SeqCst);
        assert_eq!(
            n, ok,
            "record {i}: every acknowledged update is in the value (no lost update)"
        );
        assert_eq!(r.body["version"].as_u64().unwrap() as usize, ok + 1);
        total += ok;
    }
    assert_eq!(total, CLIENTS * UPDATES_EACH);
    eprintln!(
        "concurrency: {CLIENTS} clients, {total} updates acknowledged, {} stale versions refused with 409",
        conflicts.load(Ordering::SeqCst)
    );
    let verify = app.get("/api/v1/audit/verify").await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
}
on_both!(concurrent_updates, no_lost_updates);
