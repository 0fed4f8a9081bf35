//! The embedded SQLite backend: Saisei's default, one file, nothing to install.
//!
//! The database runs in WAL mode with foreign keys on and `synchronous = FULL`, so a
//! committed write survives a crash of the process or the machine. Writes take the
//! write lock at the start of their transaction (`BEGIN IMMEDIATE`), which serialises
//! writers and makes the audit chain's read-then-append safe. Must never be used by
//! anything but the CLI's and the server's backend selection.

mod convert;

use async_trait::async_trait;
use convert::{bind, bind_row, decode, decode_meta, format_ts, parse_ts};
use saisei_domain::audit::{AuditAction, AuditEntry};
use saisei_store::backend::{
    AuditQuery, Backend, Filter, ListQuery, Row, Step, WriteBatch, seal_all, steps_by_table,
};
use saisei_store::{StoreError, TableDef, Value, sql};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row as _, SqlSafeStr};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// The migrations, embedded in the binary from `migrations/` by the build script:
/// version, description, script, and whether the script manages its own transaction.
const MIGRATIONS: &[(i64, &str, &str, bool)] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// A registry in a SQLite file.
pub struct SqliteBackend {
    pool: SqlitePool,
}

fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl SqliteBackend {
    /// Opens (creating if needed) the database at `location`: a path, or a
    /// `sqlite:` URL.
    pub async fn connect(location: &str) -> Result<Self, StoreError> {
        let options = if location.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(location).map_err(db_err)?
        } else {
            SqliteConnectOptions::new().filename(location)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(SqliteBackend { pool })
    }

    fn map_write_error(e: sqlx::Error, table: &'static TableDef) -> StoreError {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return table.duplicate(db.message());
            }
            if db.is_foreign_key_violation() {
                return StoreError::invalid(table.entity, "refers to a record that does not exist");
            }
        }
        db_err(e)
    }
}

/// SQLite statement text from the shared `$n` form: every placeholder becomes an
/// anonymous `?`. Binding a named or numbered parameter makes SQLite search a list of
/// names for each one, which turns a 1,000-parameter multi-row insert quadratic; `?`s
/// bind by position. The shared builders number placeholders in order of appearance,
/// which is what positional binding needs.
fn positional(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A query over shared statement text.
fn query(sql: &str) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(AssertSqlSafe(positional(sql)))
}

fn query_with(
    sql: String,
    binds: &[(Value, saisei_store::ColumnType)],
) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut q = query(&sql);
    for (v, ty) in binds {
        q = bind(q, v, *ty);
    }
    q
}

fn row_from(table: &TableDef, r: &SqliteRow) -> Result<Row, StoreError> {
    let meta = decode_meta(r)?;
    let mut values = Vec::with_capacity(table.columns.len());
    for (i, c) in table.columns.iter().enumerate() {
        values.push(decode(r, sql::META_COLUMNS.len() + i, c.ty)?);
    }
    Ok(Row { meta, values })
}

fn audit_from(r: &SqliteRow) -> Result<AuditEntry, StoreError> {
    let corrupt = |e: String| StoreError::Corrupt(format!("audit_log: {e}"));
    let get_s = |i: usize| {
        r.try_get::<String, _>(i)
            .map_err(|e| corrupt(e.to_string()))
    };
    let get_os = |i: usize| {
        r.try_get::<Option<String>, _>(i)
            .map_err(|e| corrupt(e.to_string()))
    };
    let json = |s: Option<String>| -> Result<Option<serde_json::Value>, StoreError> {
        s.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(e.to_string())))
            .transpose()
    };
    let uuid = |s: Option<String>| -> Result<Option<Uuid>, StoreError> {
        s.map(|s| Uuid::parse_str(&s).map_err(|e| corrupt(e.to_string())))
            .transpose()
    };
    let action: AuditAction = serde_json::from_value(serde_json::Value::String(get_s(5)?))
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(AuditEntry {
        seq: r.try_get::<i64, _>(0).map_err(|e| corrupt(e.to_string()))?,
        at: parse_ts(&get_s(1)?)?,
        actor: get_s(2)?,
        role: get_s(3)?,
        organisation_id: uuid(get_os(4)?)?,
        action,
        entity: get_s(6)?,
        entity_id: uuid(get_os(7)?)?,
        before: json(get_os(8)?)?,
        after: json(get_os(9)?)?,
        reason: get_os(10)?,
        prev_hash: get_s(11)?,
        hash: get_s(12)?,
    })
}

#[async_trait]
impl Backend for SqliteBackend {
    fn kind(&self) -> &'static str {
        "sqlite"
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
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)?;
        // Foreign keys are checked at commit, so a batch's inserts can be gathered by
        // table into multi-row statements whatever order the batch added them in.
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for step in steps_by_table(&batch.ops) {
            match step {
                Step::Insert { table, rows } => {
                    let text = if rows.len() == 1 {
                        sql::insert(table)
                    } else {
                        sql::insert_many(table, rows.len())
                    };
                    let mut q = query(&text);
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
                    let done = bind_row(query(&sql::update(table)), table, row, false)
                        .bind(row.meta.id.to_string())
                        .bind(expected_version)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| Self::map_write_error(e, table))?;
                    if done.rows_affected() != 1 {
                        let current = current_version(&mut tx, table, row.meta.id).await?;
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
                    let current = current_version(&mut tx, table, id).await?;
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
            let head: Option<(i64, String)> =
                sqlx::query_as(AssertSqlSafe(positional(sql::AUDIT_HEAD)))
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
                let mut q = query(&text);
                for entry in chunk {
                    q = q
                        .bind(entry.seq)
                        .bind(format_ts(entry.at))
                        .bind(entry.actor.clone())
                        .bind(entry.role.clone())
                        .bind(entry.organisation_id.map(|u| u.to_string()))
                        .bind(entry.action.as_str())
                        .bind(entry.entity.clone())
                        .bind(entry.entity_id.map(|u| u.to_string()))
                        .bind(entry.before.as_ref().map(|v| v.to_string()))
                        .bind(entry.after.as_ref().map(|v| v.to_string()))
                        .bind(entry.reason.clone())
                        .bind(entry.prev_hash.clone())
                        .bind(entry.hash.clone());
                }
                q.execute(&mut *tx).await.map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::invalid("reference", "a record refers to one that does not exist")
            }
            _ => db_err(e),
        })
    }

    async fn get(&self, table: &'static TableDef, id: Uuid) -> Result<Option<Row>, StoreError> {
        let r = query(&sql::get(table))
            .bind(id.to_string())
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
        let rows = query(&sql::audit_history(limit))
            .bind(entity.to_string())
            .bind(after.0.to_string())
            .bind(after.1)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn backup_to(&self, path: &str) -> Result<(), StoreError> {
        // VACUUM INTO reads one snapshot (a read transaction in WAL mode), so writers
        // carry on and the copy holds exactly the transactions committed before it began.
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
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

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn describe(
        &self,
        table: &str,
    ) -> Result<Option<saisei_store::backend::TableShape>, StoreError> {
        // Table names come from the catalogue; PRAGMA functions take them as values.
        let columns: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT name, lower(type), \"notnull\" FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(table.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        if columns.is_empty() {
            return Ok(None);
        }
        let foreign_keys: Vec<(String, String)> =
            sqlx::query_as("SELECT \"from\", \"table\" FROM pragma_foreign_key_list(?)")
                .bind(table.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(Some(saisei_store::backend::TableShape {
            columns: columns
                .into_iter()
                .map(|(n, t, notnull)| (n, t, notnull == 0))
                .collect(),
            foreign_keys,
        }))
    }

    async fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(names.into_iter().map(|(n,)| n).collect())
    }

    fn storage_type(&self, ty: saisei_store::ColumnType) -> &'static str {
        use saisei_store::ColumnType::*;
        match ty {
            Int | Bool => "integer",
            Real => "real",
            Uuid | Text | Date | Timestamp | Json => "text",
        }
    }
}

async fn current_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    table: &'static TableDef,
    id: Uuid,
) -> Result<Option<i64>, StoreError> {
    let v: Option<(i64,)> = sqlx::query_as(AssertSqlSafe(positional(&sql::version(table))))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(v.map(|v| v.0))
}

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn placeholders_become_positional() {
        assert_eq!(
            positional("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $10)"),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            positional("SELECT \"$x\" FROM t WHERE a = $1"),
            "SELECT \"$x\" FROM t WHERE a = ?"
        );
    }
}
