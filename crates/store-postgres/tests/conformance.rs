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

/// Every foreign key is checked at commit: the backend gathers a batch's inserts by
/// table, so a child row may be inserted before its parent. A migration that adds a
/// reference must declare it `DEFERRABLE INITIALLY DEFERRED`.
#[tokio::test]
async fn every_reference_is_checked_at_commit() {
    let Some(store) = fresh().await else { return };
    let immediate = store
        .backend()
        .select(
            "SELECT c.conrelid::regclass::text || '.' || c.conname FROM pg_constraint c \
             WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace \
             AND NOT (c.condeferrable AND c.condeferred)",
            &[],
            &[saisei_store::ColumnType::Text],
        )
        .await
        .expect("catalogue query");
    assert!(immediate.is_empty(), "checked at once: {immediate:?}");
    let all = store
        .backend()
        .select(
            "SELECT count(*) FROM pg_constraint c \
             WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
            &[],
            &[saisei_store::ColumnType::Int],
        )
        .await
        .expect("catalogue query");
    // The query looked where the references are.
    assert!(
        matches!(all.first().and_then(|r| r.first()), Some(saisei_store::Value::Int(n)) if *n > 40),
        "{all:?}"
    );
}
