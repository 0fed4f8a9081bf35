//! The store conformance suite on PostgreSQL.
//!
//! Runs when `SAISEI_TEST_POSTGRES_URL` is set (CI sets it), each case in a fresh schema;
//! if it is set and the server cannot be reached, the cases fail rather than skip.

use saisei_store::Store;
use saisei_store_postgres::PostgresBackend;
use std::sync::Arc;

async fn fresh() -> Option<Store> {
    let Ok(url) = std::env::var("SAISEI_TEST_POSTGRES_URL") else {
        eprintln!("SAISEI_TEST_POSTGRES_URL is not set: PostgreSQL conformance not run");
        return None;
    };
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let backend = PostgresBackend::connect_in_schema(&url, &schema)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {url}: {e}"));
    saisei_store::Backend::migrate(&backend)
        .await
        .expect("migrate");
    Some(Store::new(Arc::new(backend)))
}

saisei_store::conformance_suite!(fresh, saisei_demo::every_kind);
