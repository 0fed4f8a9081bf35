//! The store conformance suite on SQLite, plus what only SQLite can show.

use saisei_store::Store;
use saisei_store_sqlite::SqliteBackend;
use std::sync::Arc;

async fn fresh() -> Option<Store> {
    let dir = std::env::temp_dir().join(format!("saisei-test-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let backend = SqliteBackend::connect(dir.join("t.db").to_str().expect("utf-8 path"))
        .await
        .expect("open sqlite");
    saisei_store::Backend::migrate(&backend)
        .await
        .expect("migrate");
    Some(Store::new(Arc::new(backend)))
}

saisei_store::conformance_suite!(fresh, saisei_demo::every_kind);
