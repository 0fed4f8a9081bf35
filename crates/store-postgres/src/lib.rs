//! The PostgreSQL backend, for registries larger than one machine's file.
//!
//! Native types throughout (`uuid`, `date`, `timestamptz`, `jsonb`). Writers run at READ
//! COMMITTED with version-guarded updates (PostgreSQL re-checks the guard against the
//! newest row version) and `FOR SHARE` locks for checks; the audit chain is appended
//! under a transaction-scoped advisory lock so its sequence has no gaps or forks.
//!
//! Must never be used except through the `Backend` trait, or hold workflow or domain
//! rules: everything above the statement text is `saisei-store`'s.

mod convert;

use async_trait::async_trait;
use convert::{bind, bind_row, decode, decode_meta};
use saisei_domain::audit::{AuditAction, AuditEntry};
use saisei_store::backend::{
    AuditQuery, Backend, Filter, ListQuery, Row, Step, WriteBatch, seal_all, steps_by_table,
};
use saisei_store::{StoreError, TableDef, Value, sql};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row as _, SqlSafeStr};
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// The migrations, embedded in the binary from `migrations/` by the build script:
/// version, description, script, and whether the script manages its own transaction.
const MIGRATIONS: &[(i64, &str, &str, bool)] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The advisory lock key that serialises appends to the audit chain.
const AUDIT_LOCK: &str = "SELECT pg_advisory_xact_lock(7261756469740001)";

/// A registry in PostgreSQL.
pub struct PostgresBackend {
    pool: PgPool,
}

fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl PostgresBackend {
    /// Connects to `url` (`postgres://…`).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(db_err)?;
        Self::connect_with(options).await
    }

    /// Connects to `url` and works inside `schema` (created if missing): each test
    /// gets a fresh schema of its own in one shared database.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::invalid("schema", "only letters, digits and _"));
        }
        let options = PgConnectOptions::from_str(url).map_err(db_err)?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(db_err)?;
        sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
        )))
        .execute(&admin)
        .await
        .map_err(db_err)?;
        admin.close().await;
        Self::connect_with(options.options([("search_path", schema)])).await
    }

    async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(PostgresBackend { pool })
    }

    fn map_write_error(e: sqlx::Error, table: &'static TableDef) -> StoreError {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return table.duplicate(db.constraint().unwrap_or_default());
            }
            if db.is_foreign_key_violation() {
                return StoreError::invalid(table.entity, "refers to a record that does not exist");
            }
        }
        db_err(e)
    }
}

type Q = sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn query_with(sql: String, binds: &[(Value, saisei_store::ColumnType)]) -> Q {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (v, ty) in binds {
        q = bind(q, v, *ty);
    }
    q
}

fn row_from(table: &TableDef, r: &PgRow) -> Result<Row, StoreError> {
    let meta = decode_meta(r)?;
    let mut values = Vec::with_capacity(table.columns.len());
    for (i, c) in table.columns.iter().enumerate() {
        values.push(decode(r, sql::META_COLUMNS.len() + i, c.ty)?);
    }
    Ok(Row { meta, values })
}

fn audit_from(r: &PgRow) -> Result<AuditEntry, StoreError> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(format!("audit_log: {e}"));
    let action: String = r.try_get(5).map_err(corrupt)?;
    let action: AuditAction = serde_json::from_value(serde_json::Value::String(action))
        .map_err(|e| StoreError::Corrupt(format!("audit_log: {e}")))?;
    let before: Option<Json<serde_json::Value>> = r.try_get(8).map_err(corrupt)?;
    let after: Option<Json<serde_json::Value>> = r.try_get(9).map_err(corrupt)?;
    Ok(AuditEntry {
        seq: r.try_get(0).map_err(corrupt)?,
        at: r.try_get::<OffsetDateTime, _>(1).map_err(corrupt)?,
        actor: r.try_get(2).map_err(corrupt)?,
        role: r.try_get(3).map_err(corrupt)?,
        organisation_id: r.try_get(4).map_err(corrupt)?,
        action,
        entity: r.try_get(6).map_err(corrupt)?,
        entity_id: r.try_get(7).map_err(corrupt)?,
        before: before.map(|j| j.0),
        after: after.map(|j| j.0),
        reason: r.try_get(10).map_err(corrupt)?,
        prev_hash: r.try_get(11).map_err(corrupt)?,
        hash: r.try_get(12).map_err(corrupt)?,
    })
}

#[async_trait]
impl Backend for PostgresBackend {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(v, d, s, own_transaction)| {
                Migration::new(
                    *v,
                    (*d).into(),
                    MigrationType::Simple,
                    s.into_sql_str(),
                    *own_transaction,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))
    }

    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    async fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // References are checked at commit (every foreign key is `DEFERRABLE INITIALLY
        // DEFERRED`), so inserts are gathered by table into multi-row statements.
        for step in steps_by_table(&batch.ops) {
            match step {
                Step::Insert { table, rows } => {
                    let text = if rows.len() == 1 {
                        sql::insert(table)
                    } else {
                        sql::insert_many(table, rows.len())
                    };
                    let mut q = sqlx::query(AssertSqlSafe(text));
                    for r in rows {
                        q = bind_row(q, table, r, true);
                    }
                    q.execute(&mut *tx)
                        .await
                        .map_err(|e| Self::map_write_error(e, table))?;
                }
                Step::Update {
                    table,
                    row,
                    expected_version,
                } => {
                    let done = bind_row(
                        sqlx::query(AssertSqlSafe(sql::update(table))),
                        table,
                        row,
                        false,
                    )
                    .bind(row.meta.id)
                    .bind(expected_version)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Self::map_write_error(e, table))?;
                    if done.rows_affected() != 1 {
                        let current = current_version(&mut tx, table, row.meta.id, false).await?;
                        return Err(StoreError::stale(
                            table.entity,
                            row.meta.id,
                            expected_version,
                            current,
                        ));
                    }
                }
                Step::Check {
                    table,
                    id,
                    expected_version,
                } => {
                    let current = current_version(&mut tx, table, id, true).await?;
                    if current != Some(expected_version) {
                        return Err(StoreError::stale(
                            table.entity,
                            id,
                            expected_version,
                            current,
                        ));
                    }
                }
            }
        }
        if !batch.audit.is_empty() {
            sqlx::query(AUDIT_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let head: Option<(i64, String)> = sqlx::query_as(sql::AUDIT_HEAD)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            let entries = seal_all(batch.audit, head, saisei_store::store::now());
            for chunk in entries.chunks(sql::INSERT_CHUNK) {
                let text = if chunk.len() == 1 {
                    sql::AUDIT_INSERT.to_string()
                } else {
                    sql::audit_insert_many(chunk.len())
                };
                let mut q = sqlx::query(AssertSqlSafe(text));
                for entry in chunk {
                    q = q
                        .bind(entry.seq)
                        .bind(entry.at)
                        .bind(entry.actor.clone())
                        .bind(entry.role.clone())
                        .bind(entry.organisation_id)
                        .bind(entry.action.as_str())
                        .bind(entry.entity.clone())
                        .bind(entry.entity_id)
                        .bind(entry.before.clone().map(Json))
                        .bind(entry.after.clone().map(Json))
                        .bind(entry.reason.clone())
                        .bind(entry.prev_hash.clone())
                        .bind(entry.hash.clone());
                }
                q.execute(&mut *tx).await.map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::dangling_reference()
            }
            _ => db_err(e),
        })
    }

    async fn get(&self, table: &'static TableDef, id: Uuid) -> Result<Option<Row>, StoreError> {
        let r = sqlx::query(AssertSqlSafe(sql::get(table)))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        r.map(|r| row_from(table, &r)).transpose()
    }

    async fn list(
        &self,
        table: &'static TableDef,
        query: &ListQuery,
    ) -> Result<Vec<Row>, StoreError> {
        let (text, binds) = sql::list(table, query);
        let rows = query_with(text, &binds)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| row_from(table, r)).collect()
    }

    async fn count(
        &self,
        table: &'static TableDef,
        filters: &[Filter],
        include_withdrawn: bool,
    ) -> Result<u64, StoreError> {
        let (text, binds) = sql::count(table, filters, include_withdrawn);
        let r = query_with(text, &binds)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let n: i64 = r.try_get(0).map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let (text, binds) = sql::audit(query);
        let rows = query_with(text, &binds)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_history(
        &self,
        entity: &str,
        after: (Uuid, i64),
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(sql::audit_history(limit)))
            .bind(entity.to_string())
            .bind(after.0)
            .bind(after.1)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn backup_to(&self, _path: &str) -> Result<(), StoreError> {
        Err(StoreError::Database(
            "a PostgreSQL registry is backed up with pg_dump (saisei backup runs it)".into(),
        ))
    }

    async fn execute(
        &self,
        statement: &str,
        binds: &[(Value, saisei_store::ColumnType)],
    ) -> Result<u64, StoreError> {
        let r = query_with(statement.to_string(), binds)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected())
    }

    async fn select(
        &self,
        statement: &str,
        binds: &[(Value, saisei_store::ColumnType)],
        types: &[saisei_store::ColumnType],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let rows = query_with(statement.to_string(), binds)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                types
                    .iter()
                    .enumerate()
                    .map(|(i, ty)| decode(r, i, *ty))
                    .collect()
            })
            .collect()
    }

    async fn explain(
        &self,
        statement: &str,
        binds: &[(Value, saisei_store::ColumnType)],
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for setting in [
            "SET LOCAL enable_seqscan = off",
            "SET LOCAL enable_bitmapscan = off",
        ] {
            sqlx::query(setting)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let rows = query_with(format!("EXPLAIN {statement}"), binds)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.rollback().await.map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(db_err))
            .collect()
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn describe(
        &self,
        table: &str,
    ) -> Result<Option<saisei_store::backend::TableShape>, StoreError> {
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        if columns.is_empty() {
            return Ok(None);
        }
        let foreign_keys: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.attname::text, t.relname::text FROM pg_constraint c \
             JOIN pg_class s ON s.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = s.relnamespace \
             JOIN pg_class t ON t.oid = c.confrelid \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) \
             WHERE c.contype = 'f' AND n.nspname = current_schema() AND s.relname = $1",
        )
        .bind(table.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Some(saisei_store::backend::TableShape {
            columns: columns
                .into_iter()
                .map(|(n, t, nullable)| (n, t.to_lowercase(), nullable == "YES"))
                .collect(),
            foreign_keys,
        }))
    }

    async fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY table_name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(names.into_iter().map(|(n,)| n).collect())
    }

    fn storage_type(&self, ty: saisei_store::ColumnType) -> &'static str {
        use saisei_store::ColumnType::*;
        match ty {
            Uuid => "uuid",
            Text => "text",
            Int => "bigint",
            Real => "double precision",
            Bool => "boolean",
            Date => "date",
            Timestamp => "timestamp with time zone",
            Json => "jsonb",
        }
    }
}

async fn current_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    table: &'static TableDef,
    id: Uuid,
    lock: bool,
) -> Result<Option<i64>, StoreError> {
    let mut text = sql::version(table);
    if lock {
        // Holds the row against concurrent updates until this transaction ends, so
        // the decision the check guards cannot be invalidated before commit.
        text.push_str(" FOR SHARE");
    }
    let v: Option<(i64,)> = sqlx::query_as(AssertSqlSafe(text))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(v.map(|v| v.0))
}
