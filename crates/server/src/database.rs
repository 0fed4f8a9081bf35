//! Choosing a backend from a database URL.

use saisei_store::{Backend, Store, StoreError};
use saisei_store_postgres::PostgresBackend;
use saisei_store_sqlite::SqliteBackend;
use std::sync::Arc;

/// Opens the database `url` names: `postgres://…`/`postgresql://…` for PostgreSQL,
/// `sqlite:…` or a plain file path for SQLite. Runs migrations when `migrate` is set.
pub async fn connect(url: &str, migrate: bool) -> Result<Store, StoreError> {
    let backend: Arc<dyn Backend> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(PostgresBackend::connect(url).await?)
        } else {
            Arc::new(SqliteBackend::connect(url).await?)
        };
    if migrate {
        backend.migrate().await?;
    }
    Ok(Store::new(backend))
}
