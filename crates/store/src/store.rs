//! The typed façade over a backend: what the server, the CLI and workflows call.
//!
//! It turns entities into rows and back, validates before writing, checks references so
//! a client is told which field points nowhere, and puts an audit entry for every change
//! into the same transaction as the change.

use crate::backend::{AuditQuery, Backend, Filter, ListQuery, MAX_PAGE, Row, WriteBatch, WriteOp};
use crate::error::StoreError;
use crate::schema::{Reference, Stored, TableDef};
use crate::value::row_values;
use saisei_domain::access_log::{AccessEntry, AccessQuery};
use saisei_domain::audit::{self, AuditAction, AuditActor, AuditDraft, AuditEntry};
use saisei_domain::registry::Organisation;
use saisei_domain::{Record, RecordMeta, ValidationErrors};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::HashSet;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// One page of a list, with the cursor for the next.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The records, in id (creation) order.
    pub items: Vec<Record<T>>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The registry's storage, whichever database is behind it.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

/// The current instant at the precision every backend keeps (microseconds), so a
/// record reads back exactly as it was written.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

/// Converts an entity to a row.
pub fn to_row<T: Stored>(meta: RecordMeta, data: &T) -> Result<Row, StoreError> {
    let json =
        serde_json::to_value(data).map_err(|e| StoreError::Corrupt(format!("{}: {e}", T::KIND)))?;
    let Json::Object(object) = json else {
        return Err(StoreError::Corrupt(format!("{} is not an object", T::KIND)));
    };
    Ok(Row {
        meta,
        values: row_values(T::table(), &object)?,
    })
}

/// A row's data as the JSON object its entity serialises to (what signatures hash).
pub fn row_json(table: &TableDef, row: &Row) -> Json {
    let mut object = Map::new();
    for (col, value) in table.columns.iter().zip(&row.values) {
        let json = value.to_json();
        if !json.is_null() {
            object.insert(col.name.to_string(), json);
        }
    }
    Json::Object(object)
}

/// SHA-256 of a record's content as stored (the data columns, canonically encoded):
/// what an electronic signature binds to. The same for a record read back from either
/// backend as for the value before it was written.
pub fn content_hash_of<T: Stored>(data: &T) -> Result<String, StoreError> {
    let row = to_row(RecordMeta::new(now()), data)?;
    Ok(saisei_domain::audit::content_hash(&row_json(
        T::table(),
        &row,
    )))
}

fn access_entry(values: Vec<crate::Value>) -> Result<AccessEntry, StoreError> {
    use crate::Value as V;
    let bad = || StoreError::Corrupt("access_log: unexpected column value".into());
    let mut it = values.into_iter();
    let mut next = || it.next().ok_or_else(bad);
    let text = |v: V| match v {
        V::Text(s) => Ok(s),
        _ => Err(bad()),
    };
    let uuid = |v: V| match v {
        V::Uuid(u) => Ok(Some(u)),
        V::Null => Ok(None),
        _ => Err(bad()),
    };
    Ok(AccessEntry {
        seq: match next()? {
            V::Int(i) => i,
            _ => return Err(bad()),
        },
        at: match next()? {
            V::Timestamp(t) => t,
            _ => return Err(bad()),
        },
        request_id: uuid(next()?)?.ok_or_else(bad)?,
        actor: text(next()?)?,
        role: text(next()?)?,
        organisation_id: uuid(next()?)?,
        action: text(next()?)?,
        path: text(next()?)?,
        entity: text(next()?)?,
        record_id: uuid(next()?)?.ok_or_else(bad)?,
        patient_id: uuid(next()?)?,
    })
}

/// Converts a row back to an entity, re-checking every value on the way.
pub fn from_row<T: Stored>(row: Row) -> Result<Record<T>, StoreError> {
    let mut object = Map::new();
    for (col, value) in T::table().columns.iter().zip(&row.values) {
        let json = value.to_json();
        if !json.is_null() {
            object.insert(col.name.to_string(), json);
        }
    }
    let data: T = serde_json::from_value(Json::Object(object))
        .map_err(|e| StoreError::Corrupt(format!("{} {}: {e}", T::KIND, row.meta.id)))?;
    Ok(Record {
        meta: row.meta,
        data,
    })
}

fn data_json<T: Serialize>(data: &T) -> Json {
    serde_json::to_value(data).unwrap_or(Json::Null)
}

/// Writes that will be committed together, each with its audit entry.
pub struct Batch {
    actor: AuditActor,
    now: OffsetDateTime,
    inner: WriteBatch,
    references: Vec<Reference>,
    inserted: HashSet<Uuid>,
}

impl Batch {
    /// Starts an empty batch on behalf of `actor`.
    pub fn new(actor: &AuditActor) -> Self {
        Batch {
            actor: actor.clone(),
            now: now(),
            inner: WriteBatch::default(),
            references: Vec::new(),
            inserted: HashSet::new(),
        }
    }

    /// How many writes the batch holds.
    pub fn len(&self) -> usize {
        self.inner.ops.len()
    }

    /// Whether the batch holds no writes.
    pub fn is_empty(&self) -> bool {
        self.inner.ops.is_empty()
    }

    /// Refuses dates of things that have happened (see [`saisei_domain::Entity::past_dates`])
    /// when they are after today in Japan.
    fn check_past<T: Stored>(&self, data: &T) -> Result<(), StoreError> {
        let today = saisei_domain::dates::today_jst(self.now);
        let mut errors = ValidationErrors::default();
        for (field, date) in data.past_dates() {
            if date > today {
                errors.push(
                    field,
                    format!("{date} is in the future (today is {today} in Japan)"),
                );
            }
        }
        errors.into_result().map_err(StoreError::Invalid)
    }

    /// Adds a new record; its references are checked at commit.
    pub fn insert<T: Stored>(&mut self, data: T) -> Result<Record<T>, StoreError> {
        data.validate()?;
        self.check_past(&data)?;
        let meta = RecordMeta::new(self.now);
        let row = to_row(meta.clone(), &data)?;
        self.references.extend(data.references());
        self.inserted.insert(meta.id);
        let record = Record { meta, data };
        if T::AUDITED {
            self.inner.audit.push(AuditDraft {
                actor: self.actor.clone(),
                action: AuditAction::Create,
                entity: T::KIND.to_string(),
                entity_id: Some(record.meta.id),
                before: None,
                after: Some(audit::without_nulls(record.data.audit_view())),
                reason: None,
            });
        }
        self.inner.ops.push(WriteOp::Insert {
            table: T::table(),
            row,
        });
        Ok(record)
    }

    /// Replaces a record's data, if nobody changed it since `current` was read.
    pub fn update<T: Stored>(
        &mut self,
        current: &Record<T>,
        data: T,
        action: AuditAction,
        reason: Option<String>,
    ) -> Result<Record<T>, StoreError> {
        data.validate()?;
        self.check_past(&data)?;
        let mut meta = current.meta.clone();
        meta.version += 1;
        meta.updated_at = self.now;
        let row = to_row(meta.clone(), &data)?;
        let table = T::table();
        let frozen = table.frozen_by_scope();
        // The stored row is rebuilt only for a kind whose columns others copy.
        let before = if frozen.is_empty() {
            Vec::new()
        } else {
            to_row(current.meta.clone(), &current.data)?.values
        };
        for column in frozen {
            if let Some(i) = table.columns.iter().position(|c| c.name == column)
                && row.values.get(i) != before.get(i)
            {
                return Err(StoreError::invalid(
                    column,
                    "cannot change once recorded (the records that depend on it belong to its organisation)",
                ));
            }
        }
        self.references.extend(data.references());
        if T::AUDITED {
            let (before, after) =
                audit::changed_fields(current.data.audit_view(), data.audit_view());
            self.inner.audit.push(AuditDraft {
                actor: self.actor.clone(),
                action,
                entity: T::KIND.to_string(),
                entity_id: Some(meta.id),
                before: Some(before),
                after: Some(after),
                reason,
            });
        }
        self.inner.ops.push(WriteOp::Update {
            table: T::table(),
            row,
            expected_version: current.meta.version,
        });
        Ok(Record { meta, data })
    }

    /// Marks a record withdrawn, keeping it.
    pub fn withdraw<T: Stored>(
        &mut self,
        current: &Record<T>,
        reason: String,
    ) -> Result<Record<T>, StoreError> {
        if current.meta.withdrawn_at.is_some() {
            return Err(StoreError::invalid(
                "id",
                format!("{} is already withdrawn", T::KIND),
            ));
        }
        let mut meta = current.meta.clone();
        meta.version += 1;
        meta.updated_at = self.now;
        meta.withdrawn_at = Some(self.now);
        meta.withdrawal_reason = Some(reason.clone());
        let row = to_row(meta.clone(), &current.data)?;
        self.inner.audit.push(AuditDraft {
            actor: self.actor.clone(),
            action: AuditAction::Withdraw,
            entity: T::KIND.to_string(),
            entity_id: Some(meta.id),
            // The content does not change; the entry's reason says why it was withdrawn.
            before: None,
            after: None,
            reason: Some(reason),
        });
        self.inner.ops.push(WriteOp::Update {
            table: T::table(),
            row,
            expected_version: current.meta.version,
        });
        Ok(Record {
            meta,
            data: current.data.clone(),
        })
    }

    /// Requires `record` to be unchanged when the batch commits.
    pub fn check<T: Stored>(&mut self, record: &Record<T>) {
        self.inner.ops.push(WriteOp::Check {
            table: T::table(),
            id: record.meta.id,
            expected_version: record.meta.version,
        });
    }

    /// Requires a row of any table to still have `version` when the batch commits.
    pub fn check_row(&mut self, table: &'static TableDef, id: Uuid, version: i64) {
        self.inner.ops.push(WriteOp::Check {
            table,
            id,
            expected_version: version,
        });
    }

    /// Adds an audit entry that is not about a stored change (an export, a sign-in).
    pub fn audit(&mut self, draft: AuditDraft) {
        self.inner.audit.push(draft);
    }
}

/// `column IN (…)` filters over the distinct `ids`, 500 keys each: one statement a chunk
/// keeps every backend under its limit on bound parameters.
fn key_chunks(column: &'static str, ids: &[Uuid]) -> Vec<Filter> {
    let mut unique: Vec<Uuid> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    unique
        .chunks(500)
        .map(|chunk| Filter::one_of(column, chunk.iter().map(|id| crate::Value::Uuid(*id))))
        .collect()
}

impl Store {
    /// Wraps a connected backend.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Store { backend }
    }

    /// The backend, for health checks and audit reads.
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// One record, or `NotFound`.
    pub async fn get<T: Stored>(&self, id: Uuid) -> Result<Record<T>, StoreError> {
        self.find(id).await?.ok_or(StoreError::NotFound {
            entity: T::KIND,
            id,
        })
    }

    /// One record, if it exists.
    pub async fn find<T: Stored>(&self, id: Uuid) -> Result<Option<Record<T>>, StoreError> {
        match self.backend.get(T::table(), id).await? {
            Some(row) => Ok(Some(from_row(row)?)),
            None => Ok(None),
        }
    }

    /// One page of records.
    pub async fn list<T: Stored>(&self, query: &ListQuery) -> Result<Page<T>, StoreError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let q = ListQuery {
            limit,
            ..query.clone()
        };
        let rows = self.backend.list(T::table(), &q).await?;
        let next_cursor = if rows.len() as u32 == limit {
            rows.last()
                .map(|r| crate::sql::cursor_after(T::table(), q.order.as_ref(), r))
        } else {
            None
        };
        let items = rows
            .into_iter()
            .map(from_row)
            .collect::<Result<Vec<Record<T>>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Every record matching `filters` (not withdrawn), across pages.
    pub async fn all<T: Stored>(&self, filters: Vec<Filter>) -> Result<Vec<Record<T>>, StoreError> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let q = ListQuery {
                filters: filters.clone(),
                after,
                limit: MAX_PAGE,
                include_withdrawn: false,
                order: None,
            };
            let page = self.list::<T>(&q).await?;
            let done = page.next_cursor.is_none();
            after = page.items.last().map(|r| r.meta.id);
            out.extend(page.items);
            if done {
                return Ok(out);
            }
        }
    }

    /// Every record (not withdrawn) whose `column` holds one of `ids`, fetched in
    /// chunks so that statements stay within the databases' parameter limits.
    pub async fn all_in<T: Stored>(
        &self,
        column: &'static str,
        ids: &[Uuid],
        filters: Vec<Filter>,
    ) -> Result<Vec<Record<T>>, StoreError> {
        let mut out = Vec::new();
        for key in key_chunks(column, ids) {
            let mut f = filters.clone();
            f.push(key);
            out.extend(self.all::<T>(f).await?);
        }
        Ok(out)
    }

    /// [`Store::columns`] of the rows whose `column` is one of `ids`, a few hundred keys
    /// a statement, as [`Store::all_in`] reads records.
    pub async fn columns_in(
        &self,
        table: &'static TableDef,
        columns: &[&'static str],
        column: &'static str,
        ids: &[Uuid],
    ) -> Result<Vec<Vec<crate::Value>>, StoreError> {
        let mut out = Vec::new();
        for key in key_chunks(column, ids) {
            out.extend(self.columns(table, columns, &[key]).await?);
        }
        Ok(out)
    }

    /// Some columns of every row of `table` that matches (not withdrawn), in id order,
    /// each as its typed value; the first column must be `id`. For a workflow that reads
    /// a few fields of very many rows (the deadlines of a whole registry): building and
    /// re-checking every record would cost more than the query. The caller parses what
    /// it reads as strictly as a record would. Read a page at a time, so the driver never
    /// holds more than a page of rows beside what has been decoded.
    pub async fn columns(
        &self,
        table: &'static TableDef,
        columns: &[&'static str],
        filters: &[Filter],
    ) -> Result<Vec<Vec<crate::Value>>, StoreError> {
        const PAGE: u32 = 5000;
        let bug = |what: &str| StoreError::Corrupt(format!("{}: {what}", table.name));
        if columns.first() != Some(&"id") {
            return Err(bug("a projection must read `id` first"));
        }
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let (statement, binds, types) =
                crate::sql::columns(table, columns, filters, after, PAGE)
                    .ok_or_else(|| bug("asked for a column it does not have"))?;
            let page = self.backend.select(&statement, &binds, &types).await?;
            let full = page.len() == PAGE as usize;
            after = match page.last().and_then(|r| r.first()) {
                Some(crate::Value::Uuid(id)) => Some(*id),
                Some(_) => return Err(bug("an id does not read back")),
                None => None,
            };
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    /// How many records match.
    pub async fn count<T: Stored>(&self, filters: &[Filter]) -> Result<u64, StoreError> {
        self.backend.count(T::table(), filters, false).await
    }

    /// How many rows a table holds (not withdrawn).
    pub async fn count_table(&self, table: &'static TableDef) -> Result<u64, StoreError> {
        self.backend.count(table, &[], false).await
    }

    /// Creates one record.
    pub async fn create<T: Stored>(
        &self,
        actor: &AuditActor,
        data: T,
    ) -> Result<Record<T>, StoreError> {
        let mut batch = Batch::new(actor);
        let record = batch.insert(data)?;
        self.commit(batch).await?;
        Ok(record)
    }

    /// Replaces a record's data if it still has `expected_version`.
    pub async fn update<T: Stored>(
        &self,
        actor: &AuditActor,
        id: Uuid,
        expected_version: i64,
        data: T,
        reason: Option<String>,
    ) -> Result<Record<T>, StoreError> {
        let current = self.get::<T>(id).await?;
        if current.meta.version != expected_version {
            return Err(StoreError::Conflict {
                entity: T::KIND,
                id,
                expected: expected_version,
                current: current.meta.version,
            });
        }
        let mut batch = Batch::new(actor);
        let record = batch.update(&current, data, AuditAction::Update, reason)?;
        self.commit(batch).await?;
        Ok(record)
    }

    /// Withdraws a record (it stays, marked, with the reason).
    pub async fn withdraw<T: Stored>(
        &self,
        actor: &AuditActor,
        id: Uuid,
        expected_version: i64,
        reason: String,
    ) -> Result<Record<T>, StoreError> {
        let current = self.get::<T>(id).await?;
        if current.meta.version != expected_version {
            return Err(StoreError::Conflict {
                entity: T::KIND,
                id,
                expected: expected_version,
                current: current.meta.version,
            });
        }
        let mut batch = Batch::new(actor);
        let record = batch.withdraw(&current, reason)?;
        self.commit(batch).await?;
        Ok(record)
    }

    /// Checks a batch's references, then applies it as one transaction.
    pub async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.check_references(&batch).await?;
        self.backend.apply(batch.inner).await
    }

    async fn check_references(&self, batch: &Batch) -> Result<(), StoreError> {
        let mut errors = ValidationErrors::default();
        let mut seen = HashSet::new();
        for r in &batch.references {
            if batch.inserted.contains(&r.id) || !seen.insert((r.table.name, r.id, r.kinds.len())) {
                continue;
            }
            match self.backend.get(r.table, r.id).await? {
                None => errors.push(r.field, format!("no {} with id {}", r.table.entity, r.id)),
                Some(row) if row.meta.withdrawn_at.is_some() => {
                    errors.push(r.field, format!("{} {} is withdrawn", r.table.entity, r.id))
                }
                Some(row) if !r.kinds.is_empty() => {
                    let org: Record<Organisation> = from_row(row)?;
                    if !r.kinds.contains(&org.data.kind) {
                        let kinds: Vec<String> = r
                            .kinds
                            .iter()
                            .map(|k| data_json(k).as_str().unwrap_or_default().to_string())
                            .collect();
                        errors.push(
                            r.field,
                            format!(
                                "organisation {} is a {}, expected {}",
                                r.id,
                                data_json(&org.data.kind).as_str().unwrap_or_default(),
                                kinds.join(" or ")
                            ),
                        );
                    }
                }
                Some(_) => {}
            }
        }
        errors.into_result().map_err(StoreError::Invalid)
    }

    /// Whether `data` (not yet stored, or about to change) would satisfy `filters`:
    /// the access policy asks this before a write, with the same filters it uses to
    /// scope reads, so a user can only write what they could then read.
    pub async fn satisfies<T: Stored>(
        &self,
        id: Uuid,
        data: &T,
        filters: &[Filter],
    ) -> Result<bool, StoreError> {
        let row = to_row(RecordMeta::new(now()), data)?;
        self.row_satisfies(T::table(), id, &row.values, filters)
            .await
    }

    /// [`Store::satisfies`] for a row of any table (values in the table's column order).
    pub async fn row_satisfies(
        &self,
        table: &'static TableDef,
        id: Uuid,
        values: &[crate::Value],
        filters: &[Filter],
    ) -> Result<bool, StoreError> {
        for f in filters {
            if !self.filter_holds(table, id, values, f).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether record `id` of `table` exists (withdrawn or not) and satisfies `filters`.
    ///
    /// The access policy asks this of every record a write points at. It runs the same
    /// statements whether or not the record exists — a missing record is looked at as
    /// a row of nil ids — so neither the answer nor its timing tells a record outside
    /// the reach from one that does not exist.
    pub async fn within(
        &self,
        table: &'static TableDef,
        id: Uuid,
        filters: &[Filter],
    ) -> Result<bool, StoreError> {
        Ok(self.row_within(table, id, filters).await?.is_some())
    }

    /// One record if it exists and satisfies `filters` (a reader's reach); `None`
    /// otherwise, with the same statements run either way (see [`Store::within`]).
    pub async fn find_within<T: Stored>(
        &self,
        id: Uuid,
        filters: &[Filter],
    ) -> Result<Option<Record<T>>, StoreError> {
        match self.row_within(T::table(), id, filters).await? {
            Some(row) => Ok(Some(from_row(row)?)),
            None => Ok(None),
        }
    }

    /// The row of record `id` of `table` if it exists and satisfies `filters`, with the
    /// same statements run either way (see [`Store::within`]).
    pub async fn row_within(
        &self,
        table: &'static TableDef,
        id: Uuid,
        filters: &[Filter],
    ) -> Result<Option<Row>, StoreError> {
        let row = self.backend.get(table, id).await?;
        let values = match &row {
            Some(r) => r.values.clone(),
            None => table
                .columns
                .iter()
                .map(|c| match c.ty {
                    crate::ColumnType::Uuid => crate::Value::Uuid(Uuid::nil()),
                    _ => crate::Value::Null,
                })
                .collect(),
        };
        let holds = self.row_satisfies(table, id, &values, filters).await?;
        Ok(row.filter(|_| holds))
    }

    fn filter_holds<'a>(
        &'a self,
        table: &'static TableDef,
        id: Uuid,
        values: &'a [crate::Value],
        f: &'a Filter,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, StoreError>> + Send + 'a>>
    {
        Box::pin(async move {
            use crate::FilterOp;
            if f.op == FilterOp::Any {
                // Every alternative is evaluated, so the work does not depend on which
                // one (if any) holds.
                let mut any = false;
                for group in &f.any {
                    let mut all = true;
                    for g in group {
                        all &= self.filter_holds(table, id, values, g).await?;
                    }
                    any |= all;
                }
                return Ok(any);
            }
            // The scope column is not among a row's values (the database copies it from
            // the parent): the same question is asked of the parent, so a record not yet
            // written is judged exactly as it will be stored.
            if let Some(scope) = table.scope.filter(|s| s.column == f.column) {
                let Some(parent) = crate::tables::by_name(scope.parent) else {
                    return Ok(false);
                };
                if f.op != FilterOp::Eq {
                    return Ok(false);
                }
                let through = Filter::in_select(
                    scope.via,
                    parent,
                    "id",
                    vec![Filter::eq(scope.source, f.value.clone())],
                );
                return self.filter_holds(table, id, values, &through).await;
            }
            let value = if f.column == "id" {
                crate::Value::Uuid(id)
            } else {
                match table.columns.iter().position(|c| c.name == f.column) {
                    Some(i) => values.get(i).cloned().unwrap_or(crate::Value::Null),
                    None => return Ok(false),
                }
            };
            Ok(match f.op {
                FilterOp::Any => false,
                FilterOp::Eq => value == f.value,
                FilterOp::IsNull => value == crate::Value::Null,
                FilterOp::NotNull => value != crate::Value::Null,
                FilterOp::In => match &f.value {
                    crate::Value::Json(Json::Array(items)) => items.contains(&value.to_json()),
                    _ => false,
                },
                FilterOp::InSelect => {
                    let Some(sub) = &f.select else {
                        return Ok(false);
                    };
                    // The value looked up: the column itself, or the id held under a key
                    // of a JSON column. Absent values are looked up as the nil id, which
                    // no record has, so the same statement runs either way.
                    let looked_up = match (f.key, &value) {
                        (Some(key), crate::Value::Json(j)) => j
                            .get(key)
                            .and_then(Json::as_str)
                            .and_then(|s| Uuid::parse_str(s).ok())
                            .map(crate::Value::Uuid),
                        (Some(_), _) => None,
                        (None, crate::Value::Null) => None,
                        (None, v) => Some(v.clone()),
                    };
                    let found = looked_up.is_some();
                    let mut inner = sub.filters.clone();
                    inner.push(Filter::eq(
                        sub.column,
                        looked_up.unwrap_or(crate::Value::Uuid(Uuid::nil())),
                    ));
                    let n = self.backend.count(sub.table, &inner, false).await?;
                    found && n > 0
                }
                FilterOp::Gte | FilterOp::Lte => {
                    let (a, b) = (value.to_json(), f.value.to_json());
                    let ord = match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) => x.partial_cmp(&y),
                        _ => a.as_str().zip(b.as_str()).map(|(x, y)| x.cmp(y)),
                    };
                    match (f.op, ord) {
                        (FilterOp::Gte, Some(o)) => o != std::cmp::Ordering::Less,
                        (FilterOp::Lte, Some(o)) => o != std::cmp::Ordering::Greater,
                        _ => false,
                    }
                }
            })
        })
    }

    /// One row of any table, untyped (for signatures over any kind of record).
    pub async fn get_row(
        &self,
        table: &'static TableDef,
        id: Uuid,
    ) -> Result<Option<crate::Row>, StoreError> {
        self.backend.get(table, id).await
    }

    /// How many rows of `table` match `filters` (not withdrawn).
    pub async fn count_where(
        &self,
        table: &'static TableDef,
        filters: &[Filter],
    ) -> Result<u64, StoreError> {
        self.backend.count(table, filters, false).await
    }

    /// Appends audit entries that record no data change (sign-ins, exports).
    pub async fn record_audit(&self, drafts: Vec<AuditDraft>) -> Result<(), StoreError> {
        self.backend
            .apply(WriteBatch {
                ops: Vec::new(),
                audit: drafts,
            })
            .await
    }

    /// Audit entries in sequence order.
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        self.backend.audit(query).await
    }

    /// Appends entries to the access log (one statement per chunk, each durable before
    /// this returns).
    pub async fn append_access_log(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        use crate::ColumnType as T;
        for chunk in entries.chunks(crate::sql::INSERT_CHUNK) {
            let mut binds = Vec::with_capacity(chunk.len() * 10);
            for e in chunk {
                let opt = |u: Option<Uuid>| u.map(crate::Value::Uuid).unwrap_or(crate::Value::Null);
                binds.extend([
                    (crate::Value::Timestamp(e.at), T::Timestamp),
                    (crate::Value::Uuid(e.request_id), T::Uuid),
                    (crate::Value::Text(e.actor.clone()), T::Text),
                    (crate::Value::Text(e.role.clone()), T::Text),
                    (opt(e.organisation_id), T::Uuid),
                    (crate::Value::Text(e.action.clone()), T::Text),
                    (crate::Value::Text(e.path.clone()), T::Text),
                    (crate::Value::Text(e.entity.clone()), T::Text),
                    (crate::Value::Uuid(e.record_id), T::Uuid),
                    (opt(e.patient_id), T::Uuid),
                ]);
            }
            self.backend
                .execute(&crate::sql::access_log_insert(chunk.len()), &binds)
                .await?;
        }
        Ok(())
    }

    /// Access-log entries in order.
    pub async fn access_log(&self, query: &AccessQuery) -> Result<Vec<AccessEntry>, StoreError> {
        let (text, binds) = crate::sql::access_log(query);
        let rows = self
            .backend
            .select(&text, &binds, &crate::sql::ACCESS_LOG_TYPES)
            .await?;
        rows.into_iter().map(access_entry).collect()
    }
}
