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
    /// The one connection writes are committed on (see [`GroupCommit`]).
    writer: SqlitePool,
    group: std::sync::Arc<GroupCommit>,
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
            .busy_timeout(Duration::from_secs(30))
            // Statement journals (a multi-row insert's undo) stay in memory.
            .pragma("temp_store", "memory");
        // Readers share a pool, each with a page cache of up to 8 MiB.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone().pragma("cache_size", "-8192"))
            .await
            .map_err(db_err)?;
        // Every write is committed by the group-commit leader on the one writer
        // connection (SQLite has one writer at a time anyway). Its cache of up to 64 MiB
        // (it grows only as used) keeps the indexes' hot pages between commits and holds
        // a bulk transaction's dirty pages instead of spilling them to the log mid-way:
        // the 10,000-patient demo loads in 15 s instead of 27. Cache memory stays
        // bounded: 64 MiB plus 8 readers' 8 MiB. (A database held in memory exists once
        // per pool, so it is written through the readers' pool.)
        let writer = if location.contains(":memory:") || location.contains("mode=memory") {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.pragma("cache_size", "-65536"))
                .await
                .map_err(db_err)?
        };
        Ok(SqliteBackend {
            pool,
            writer,
            group: std::sync::Arc::default(),
        })
    }

    /// Queues a write for the next group commit and waits until it is durable.
    async fn write(&self, job: Job) -> Result<u64, StoreError> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.group
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((job, done));
        // Every write starts a leader, in a task of its own: a request that goes away
        // while its group is being written must not abort the others' writes, and no
        // queued write is left without a leader to commit it.
        let pool = self.writer.clone();
        let group = self.group.clone();
        tokio::spawn(async move { group.lead(&pool).await });
        outcome.await.unwrap_or_else(|_| {
            Err(StoreError::Database(
                "the write was interrupted before it was committed".into(),
            ))
        })
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

    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        // A sample of each index is enough for the planner (SQLite's recommended limit),
        // and keeps this to seconds on a large registry.
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        for statement in ["PRAGMA analysis_limit = 1000", "ANALYZE"] {
            sqlx::query(statement)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
        }
        Ok(())
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
        self.write(Job::Batch(batch)).await.map(|_| ())
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
        self.write(Job::Statement(statement.to_string(), binds.to_vec()))
            .await
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
        let rows = query_with(format!("EXPLAIN QUERY PLAN {statement}"), binds)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(3).map_err(db_err))
            .collect()
    }

    async fn close(&self) {
        self.writer.close().await;
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

/// A write waiting for its group's commit.
enum Job {
    /// Records and their audit entries.
    Batch(WriteBatch),
    /// One statement of the shared text (an access-log append).
    Statement(String, Vec<(Value, saisei_store::ColumnType)>),
}

/// A write and where to send its outcome (rows affected, for a statement).
type Waiting = (Job, tokio::sync::oneshot::Sender<Result<u64, StoreError>>);

/// Group commit: concurrent batches are written in one transaction with one sync.
///
/// Each writer queues its batch, then starts a leader that waits for the writer lock;
/// whoever holds it takes every batch queued so far and commits them together (see
/// [`write_group`]); if one of them fails, each is written alone so that only the
/// faulty one fails. A request is answered only after the commit that holds its batch
/// is durable, and the audit chain is sealed in the order the batches were applied,
/// which is the commit order.
/// SQLite has one writer at a time anyway; this turns the queue behind its lock into
/// shared syncs instead of one sync per request.
#[derive(Default)]
struct GroupCommit {
    queue: std::sync::Mutex<Vec<Waiting>>,
    writer: tokio::sync::Mutex<()>,
}

/// At most this many batches share one commit, so a group's latency stays bounded.
const MAX_GROUP: usize = 256;

impl GroupCommit {
    /// Takes the writer lock and commits what is queued (nothing if an earlier leader
    /// already committed this caller's batch).
    async fn lead(&self, pool: &SqlitePool) {
        let _writer = self.writer.lock().await;
        let jobs: Vec<Waiting> = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let n = q.len().min(MAX_GROUP);
            q.drain(..n).collect()
        };
        if !jobs.is_empty() {
            commit_group(pool, jobs).await;
        }
    }
}

/// Commits `jobs` in one transaction and answers each. If the group fails (one write's
/// stale version or duplicate, a foreign key found missing at commit, a full disk),
/// nothing of it was written and each write is tried again alone, in order, so only the
/// faulty one fails.
async fn commit_group(pool: &SqlitePool, jobs: Vec<Waiting>) {
    let batches: Vec<&Job> = jobs.iter().map(|(b, _)| b).collect();
    match write_group(pool, &batches).await {
        Ok(outcomes) => {
            for ((_, done), outcome) in jobs.into_iter().zip(outcomes) {
                let _ = done.send(outcome);
            }
        }
        Err(e) if jobs.len() == 1 => {
            if let Some((_, done)) = jobs.into_iter().next() {
                let _ = done.send(Err(e));
            }
        }
        Err(_) => {
            for (batch, done) in jobs {
                let outcome = match write_group(pool, &[&batch]).await {
                    Ok(mut o) => o.pop().unwrap_or(Ok(0)),
                    Err(e) => Err(e),
                };
                let _ = done.send(outcome);
            }
        }
    }
}

/// One transaction holding every write: the outcome of each, or the error that kept the
/// transaction from committing. A group of several writes is written as one: their
/// operations concatenated in order (so runs of inserts into one table from different
/// requests become one multi-row statement, and their audit entries one insert), sealed
/// onto the chain in order. Any failure in a group abandons it, and the caller writes
/// each alone to learn whose it was: failures (a stale version, a duplicate) are rare,
/// and this keeps the common case to a handful of statements per group.
async fn write_group(
    pool: &SqlitePool,
    jobs: &[&Job],
) -> Result<Vec<Result<u64, StoreError>>, StoreError> {
    // A lone statement (a reader's access-log entry, with nobody else writing) commits
    // on its own, as one statement in its own transaction.
    if let [Job::Statement(text, binds)] = jobs {
        return Ok(vec![
            query_with(text.clone(), binds)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(db_err),
        ]);
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    // Foreign keys are checked at commit, so a batch's inserts can be gathered by
    // table into multi-row statements whatever order the batch added them in.
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    // A lone batch (a bulk load's, or a quiet moment's) is written as it is; a group's
    // are concatenated into one.
    let mut merged = std::borrow::Cow::Owned(WriteBatch::default());
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        match job {
            Job::Batch(b) if jobs.len() == 1 => {
                merged = std::borrow::Cow::Borrowed(b);
                outcomes.push(0);
            }
            Job::Batch(b) => {
                let m = merged.to_mut();
                m.ops.extend(b.ops.iter().cloned());
                m.audit.extend(b.audit.iter().cloned());
                outcomes.push(0);
            }
            Job::Statement(text, binds) => {
                let done = query_with(text.clone(), binds)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err);
                match done {
                    Ok(r) => outcomes.push(r.rows_affected()),
                    Err(e) if jobs.len() == 1 => return Ok(vec![Err(e)]),
                    Err(e) => return Err(e),
                }
            }
        }
    }
    let mut head: Option<(i64, String)> = None;
    if !merged.audit.is_empty() {
        head = sqlx::query_as(AssertSqlSafe(positional(sql::AUDIT_HEAD)))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    if let Err(e) = write_batch(&mut tx, &merged, &mut head).await {
        // Dropping the transaction rolls it back too; for a lone batch its own error
        // is the outcome, for a group the caller tries each alone.
        let _ = tx.rollback().await;
        return if jobs.len() == 1 {
            Ok(vec![Err(e)])
        } else {
            Err(e)
        };
    }
    tx.commit().await.map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::dangling_reference()
        }
        _ => db_err(e),
    })?;
    Ok(outcomes.into_iter().map(Ok).collect())
}

/// One batch's writes and audit entries, inside the group's transaction; `head` is the
/// audit chain's last entry, moved on past this batch's entries.
async fn write_batch(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    batch: &WriteBatch,
    head: &mut Option<(i64, String)>,
) -> Result<(), StoreError> {
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
                q.execute(&mut **tx)
                    .await
                    .map_err(|e| SqliteBackend::map_write_error(e, table))?;
            }
            Step::Update {
                table,
                row,
                expected_version,
            } => {
                let done = bind_row(query(&sql::update(table)), table, row, false)
                    .bind(row.meta.id.to_string())
                    .bind(expected_version)
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| SqliteBackend::map_write_error(e, table))?;
                if done.rows_affected() != 1 {
                    let current = current_version(tx, table, row.meta.id).await?;
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
                let current = current_version(tx, table, id).await?;
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
        let entries = seal_all(
            batch.audit.clone(),
            head.clone(),
            saisei_store::store::now(),
        );
        if let Some(last) = entries.last() {
            *head = Some((last.seq, last.hash.clone()));
        }
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
            q.execute(&mut **tx).await.map_err(db_err)?;
        }
    }
    Ok(())
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
