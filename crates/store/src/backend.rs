//! The contract every database backend fulfils.
//!
//! A backend knows how to run one [`WriteBatch`] as one transaction, how to read rows
//! back, and how to append to the audit chain under a lock. It knows nothing of
//! entities: those are mapped to rows by the [`crate::Store`] façade above it.

use crate::error::StoreError;
use crate::schema::TableDef;
use crate::value::Value;
use async_trait::async_trait;
use saisei_domain::RecordMeta;
use saisei_domain::audit::{AuditDraft, AuditEntry};
use uuid::Uuid;

/// A stored row: its metadata and its data column values in table order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Id, version, timestamps, withdrawal.
    pub meta: RecordMeta,
    /// One value per data column of the table, in order.
    pub values: Vec<Value>,
}

/// One write within a batch.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Insert a new row.
    Insert {
        /// The table.
        table: &'static TableDef,
        /// The row (its `meta.version` is 1).
        row: Row,
    },
    /// Replace a row's data, only if it still has `expected_version`; the row's
    /// `meta.version` is the new version.
    Update {
        /// The table.
        table: &'static TableDef,
        /// The new row.
        row: Row,
        /// The version the writer read.
        expected_version: i64,
    },
    /// Require a row to still have a version, without changing it: guards a decision
    /// taken on data read before the transaction.
    Check {
        /// The table.
        table: &'static TableDef,
        /// The row.
        id: Uuid,
        /// The version the decision was based on.
        expected_version: i64,
    },
}

/// Writes and audit entries that succeed or fail together.
#[derive(Debug, Clone, Default)]
pub struct WriteBatch {
    /// Writes, applied in order.
    pub ops: Vec<WriteOp>,
    /// Audit entries, appended to the chain in order after the writes.
    pub audit: Vec<AuditDraft>,
}

impl WriteBatch {
    /// Whether the batch does nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.audit.is_empty()
    }
}

/// A comparison in a list filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// Equal.
    Eq,
    /// Greater than or equal.
    Gte,
    /// Less than or equal.
    Lte,
    /// The column is NULL (the value is ignored).
    IsNull,
    /// The column is not NULL (the value is ignored).
    NotNull,
    /// The column equals one of a list (the value holds the list; see [`Filter::one_of`]).
    In,
    /// The column equals a value selected from another table (see [`Filter::in_select`]).
    InSelect,
    /// At least one of several groups of conditions holds (see [`Filter::any`]); the
    /// column and value are unused.
    Any,
}

/// `SELECT column FROM table WHERE filters…`, for a filter that follows a reference to
/// another table (a treatment's patient's institution, a unit's lot's facility).
#[derive(Debug, Clone, PartialEq)]
pub struct SubSelect {
    /// The table selected from.
    pub table: &'static TableDef,
    /// The column selected (`id` or a data column).
    pub column: &'static str,
    /// Conditions on that table's rows.
    pub filters: Vec<Filter>,
}

/// One condition on a column.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Column name (checked against the table before it reaches SQL).
    pub column: &'static str,
    /// Comparison.
    pub op: FilterOp,
    /// Value to compare with.
    pub value: Value,
    /// For [`FilterOp::InSelect`], what the column must be among.
    pub select: Option<Box<SubSelect>>,
    /// For [`FilterOp::InSelect`] on a JSON column: the object key whose text is compared
    /// (`column ->> key`), e.g. the patient a unit is made for inside its `recipient`.
    pub key: Option<&'static str>,
    /// For [`FilterOp::Any`]: the alternatives, each a list of conditions that must all
    /// hold. No alternatives match nothing.
    pub any: Vec<Vec<Filter>>,
    /// For [`FilterOp::InSelect`]: ask row by row (see [`Filter::probe_select`]) rather
    /// than gather every selected value first. The rows matched are the same.
    pub probe: bool,
}

impl Filter {
    /// A comparison of a column with a value.
    pub fn new(column: &'static str, op: FilterOp, value: Value) -> Self {
        Filter {
            column,
            op,
            value,
            select: None,
            key: None,
            any: Vec::new(),
            probe: false,
        }
    }

    /// `column IN (SELECT select_column FROM table WHERE filters…)`.
    pub fn in_select(
        column: &'static str,
        table: &'static TableDef,
        select_column: &'static str,
        filters: Vec<Filter>,
    ) -> Self {
        Filter {
            column,
            op: FilterOp::InSelect,
            value: Value::Null,
            select: Some(Box::new(SubSelect {
                table,
                column: select_column,
                filters,
            })),
            key: None,
            any: Vec::new(),
            probe: false,
        }
    }

    /// The rows of [`Filter::in_select`], asked row by row: `EXISTS (SELECT 1 FROM table
    /// WHERE table.select_column = outer.column AND filters…)`, which the database answers
    /// with one index search of `table` per row it considers.
    ///
    /// For a reach that is a large share of the registry (a marketing-authorisation
    /// holder's patients: everyone treated with or enrolled as a control for its
    /// products). SQLite answers `IN (SELECT …)` by first gathering every selected value
    /// into a temporary index, so a page would cost the whole reach; asked row by row, a
    /// page walks the listed table in id order and stops when it is full, so it costs the
    /// page divided by the share of rows that match. PostgreSQL plans both forms as the
    /// same semi-join. `table` needs an index on `select_column`.
    pub fn probe_select(
        column: &'static str,
        table: &'static TableDef,
        select_column: &'static str,
        filters: Vec<Filter>,
    ) -> Self {
        Filter {
            probe: true,
            ..Filter::in_select(column, table, select_column, filters)
        }
    }

    /// `column ->> key IN (SELECT select_column FROM table WHERE filters…)`: the text
    /// held under `key` in a JSON column is one of the selected ids. `key` is a static
    /// name of lowercase letters and underscores, never input.
    pub fn json_in_select(
        column: &'static str,
        key: &'static str,
        table: &'static TableDef,
        select_column: &'static str,
        filters: Vec<Filter>,
    ) -> Self {
        Filter {
            key: Some(key),
            ..Filter::in_select(column, table, select_column, filters)
        }
    }

    /// At least one of `groups` holds (each group: all of its conditions).
    pub fn any(groups: Vec<Vec<Filter>>) -> Self {
        Filter {
            any: groups,
            ..Filter::new("id", FilterOp::Any, Value::Null)
        }
    }

    /// `column IN (values…)`. The list travels as a JSON array and is bound value by
    /// value with the column's type; an empty list matches nothing.
    pub fn one_of(column: &'static str, values: impl IntoIterator<Item = Value>) -> Self {
        Filter::new(
            column,
            FilterOp::In,
            Value::Json(serde_json::Value::Array(
                values.into_iter().map(|v| v.to_json()).collect(),
            )),
        )
    }

    /// `column = value`.
    pub fn eq(column: &'static str, value: Value) -> Self {
        Filter::new(column, FilterOp::Eq, value)
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// Only rows with an id greater than this (the cursor).
    pub after: Option<Uuid>,
    /// At most this many rows (the backend caps it).
    pub limit: u32,
    /// Include withdrawn rows.
    pub include_withdrawn: bool,
    /// The order of the rows: by a column, then by id; by id alone when `None`.
    pub order: Option<Order>,
}

/// A list ordered by a column (ties broken by id), paged by keyset: the cursor carries
/// the last row's value and id, so a page costs what the page costs and a cursor never
/// makes the store look up a row the caller might not be allowed to see.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The column: a data column that is never NULL, or `created_at` / `updated_at`.
    pub column: &'static str,
    /// Largest first (ties by id, largest first too, so one comparison pages both).
    pub descending: bool,
    /// The previous page's last value in `column` (with [`ListQuery::after`] its id).
    pub after_value: Option<Value>,
}

/// Which audit entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only entries with a sequence number greater than this.
    pub after_seq: i64,
    /// At most this many.
    pub limit: u32,
    /// Only entries about this kind of record.
    pub entity: Option<String>,
    /// Only entries about this record.
    pub entity_id: Option<Uuid>,
}

/// A table as the database holds it: for checking the migrations against the catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableShape {
    /// Each column: name, the database's type name (lowercase), and whether it may be NULL.
    pub columns: Vec<(String, String, bool)>,
    /// Each foreign key: the column and the table it refers to.
    pub foreign_keys: Vec<(String, String)>,
}

/// A database that can hold the registry.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;

    /// Brings the schema up to date.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Brings the query planner's statistics up to date (`ANALYZE`), after a bulk load:
    /// without them a planner guesses how many rows an organisation holds and may sort
    /// every one of them to find a page it could have read off an index.
    async fn refresh_statistics(&self) -> Result<(), StoreError>;

    /// Applies a batch as one transaction: all writes and audit entries, or none.
    async fn apply(&self, batch: WriteBatch) -> Result<(), StoreError>;

    /// One row by id.
    async fn get(&self, table: &'static TableDef, id: Uuid) -> Result<Option<Row>, StoreError>;

    /// Rows in id order.
    async fn list(
        &self,
        table: &'static TableDef,
        query: &ListQuery,
    ) -> Result<Vec<Row>, StoreError>;

    /// How many rows match.
    async fn count(
        &self,
        table: &'static TableDef,
        filters: &[Filter],
        include_withdrawn: bool,
    ) -> Result<u64, StoreError>;

    /// Audit entries in sequence order.
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// One kind of record's audit entries ordered by record id, then sequence, after
    /// `(entity_id, seq)`: the history every row is verified against.
    async fn audit_history(
        &self,
        entity: &str,
        after: (Uuid, i64),
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Writes a consistent copy of the whole database to the file `path` while writers
    /// go on (SQLite's `VACUUM INTO`). Backends backed up by their server's own tools
    /// (PostgreSQL's `pg_dump`) say so.
    async fn backup_to(&self, path: &str) -> Result<(), StoreError>;

    /// Runs one statement of [`crate::sql`]'s shared text on its own (outside a batch),
    /// returning the rows it affected: appends to the access log.
    async fn execute(
        &self,
        statement: &str,
        binds: &[(Value, crate::ColumnType)],
    ) -> Result<u64, StoreError>;

    /// Rows of one query of [`crate::sql`]'s shared text, each column decoded as the
    /// matching type of `types`.
    async fn select(
        &self,
        statement: &str,
        binds: &[(Value, crate::ColumnType)],
        types: &[crate::ColumnType],
    ) -> Result<Vec<Vec<Value>>, StoreError>;

    /// How the database would run one query of [`crate::sql`]'s shared text: one line
    /// per step of its plan, as the database words it (SQLite's `EXPLAIN QUERY PLAN`,
    /// PostgreSQL's `EXPLAIN`). PostgreSQL is asked with sequential and bitmap scans
    /// priced out, so its plan shows whether an index can answer the query at all,
    /// whatever the size of the tables when it is asked.
    async fn explain(
        &self,
        statement: &str,
        binds: &[(Value, crate::ColumnType)],
    ) -> Result<Vec<String>, StoreError>;

    /// Closes connections cleanly.
    async fn close(&self);

    /// How the migrated database holds a table (`None` when it has no such table).
    async fn describe(&self, table: &str) -> Result<Option<TableShape>, StoreError>;

    /// The names of the migrated database's own tables (not the migrator's), so the
    /// conformance suite can tell a table the catalogue does not know.
    async fn table_names(&self) -> Result<Vec<String>, StoreError>;

    /// The type name (lowercase, as [`Backend::describe`] reports it) this backend
    /// stores a column type as.
    fn storage_type(&self, ty: crate::ColumnType) -> &'static str;
}

/// The largest page a backend returns, whatever was asked.
pub const MAX_PAGE: u32 = 1000;

/// One statement's worth of a batch: a run of inserts into one table (sent as one
/// multi-row statement), a guarded update, or a check.
#[derive(Debug)]
pub enum Step<'a> {
    /// Insert these rows.
    Insert {
        /// The table.
        table: &'static TableDef,
        /// The rows (at most [`crate::sql::INSERT_CHUNK`]).
        rows: Vec<&'a Row>,
    },
    /// Update a row if it still has `expected_version`.
    Update {
        /// The table.
        table: &'static TableDef,
        /// The new row.
        row: &'a Row,
        /// The version the writer read.
        expected_version: i64,
    },
    /// Require a row to still have `expected_version`.
    Check {
        /// The table.
        table: &'static TableDef,
        /// The row.
        id: Uuid,
        /// The version.
        expected_version: i64,
    },
}

/// Groups a batch's writes into statements, in order: consecutive inserts into the same
/// table become one multi-row insert. Both backends execute the same plan.
pub fn steps(ops: &[WriteOp]) -> Vec<Step<'_>> {
    let mut out: Vec<Step<'_>> = Vec::new();
    for op in ops {
        match op {
            WriteOp::Insert { table, row } => {
                if let Some(Step::Insert { table: t, rows }) = out.last_mut()
                    && t.name == table.name
                    && rows.len() < crate::sql::INSERT_CHUNK
                {
                    rows.push(row);
                    continue;
                }
                out.push(Step::Insert {
                    table,
                    rows: vec![row],
                });
            }
            WriteOp::Update {
                table,
                row,
                expected_version,
            } => out.push(Step::Update {
                table,
                row,
                expected_version: *expected_version,
            }),
            WriteOp::Check {
                table,
                id,
                expected_version,
            } => out.push(Step::Check {
                table,
                id: *id,
                expected_version: *expected_version,
            }),
        }
    }
    out
}

/// Like [`steps`], but within each run of consecutive inserts the rows are gathered by
/// table, so a batch that interleaves tables — a patient, their visits and
/// observations, the next patient… — becomes a handful of multi-row statements. Only for
/// a backend that checks foreign keys at commit (SQLite with `defer_foreign_keys`),
/// since a child row may now be inserted before its parent. The one order that still
/// matters is the scope's: a row's organisation is copied from its parent as it is
/// inserted, so tables go parents first along their scope chains (a lot's, then its
/// units', then their custody events'), and otherwise in the order they first appear.
/// Without it a group that joins one request's visit with another's new patient and
/// their visits would insert those visits before their patient, with no institution.
pub fn steps_by_table(ops: &[WriteOp]) -> Vec<Step<'_>> {
    /// How many scope parents stand above a table's rows.
    fn scope_depth(table: &TableDef) -> usize {
        let mut depth = 0;
        let mut scope = table.scope;
        while let Some(s) = scope {
            depth += 1;
            scope = crate::tables::by_name(s.parent).and_then(|p| p.scope);
        }
        depth
    }
    fn flush<'a>(run: &mut Vec<(&'static TableDef, Vec<&'a Row>)>, out: &mut Vec<Step<'a>>) {
        // Stable: tables of one depth keep the order they first appeared in.
        run.sort_by_cached_key(|(table, _)| scope_depth(table));
        for (table, rows) in run.drain(..) {
            for chunk in rows.chunks(crate::sql::INSERT_CHUNK) {
                out.push(Step::Insert {
                    table,
                    rows: chunk.to_vec(),
                });
            }
        }
    }
    let mut out: Vec<Step<'_>> = Vec::new();
    let mut run: Vec<(&'static TableDef, Vec<&Row>)> = Vec::new();
    for op in ops {
        match op {
            WriteOp::Insert { table, row } => {
                match run.iter_mut().find(|(t, _)| t.name == table.name) {
                    Some((_, rows)) => rows.push(row),
                    None => run.push((table, vec![row])),
                }
            }
            other => {
                flush(&mut run, &mut out);
                out.extend(steps(std::slice::from_ref(other)));
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Seals audit drafts onto the chain after the entry `(seq, hash)`, in order.
pub fn seal_all(
    drafts: Vec<AuditDraft>,
    head: Option<(i64, String)>,
    at: time::OffsetDateTime,
) -> Vec<AuditEntry> {
    let (mut seq, mut prev) = head.unwrap_or((0, saisei_domain::audit::GENESIS_HASH.to_string()));
    drafts
        .into_iter()
        .map(|d| {
            let e = d.seal(seq, &prev, at);
            seq = e.seq;
            prev = e.hash.clone();
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{PATIENTS, PLANS};
    use saisei_domain::RecordMeta;

    fn row() -> Row {
        Row {
            meta: RecordMeta::new(time::OffsetDateTime::UNIX_EPOCH),
            values: vec![],
        }
    }

    #[test]
    fn runs_of_inserts_are_grouped() {
        let r = row();
        let mut ops: Vec<WriteOp> = (0..70)
            .map(|_| WriteOp::Insert {
                table: &PATIENTS,
                row: r.clone(),
            })
            .collect();
        ops.push(WriteOp::Insert {
            table: &PLANS,
            row: r.clone(),
        });
        ops.push(WriteOp::Check {
            table: &PLANS,
            id: Uuid::nil(),
            expected_version: 1,
        });
        ops.push(WriteOp::Insert {
            table: &PLANS,
            row: r.clone(),
        });
        let s = steps(&ops);
        let shape: Vec<String> = s
            .iter()
            .map(|s| match s {
                Step::Insert { table, rows } => format!("{}x{}", table.name, rows.len()),
                Step::Update { .. } => "update".into(),
                Step::Check { .. } => "check".into(),
            })
            .collect();
        assert_eq!(
            shape,
            ["patientsx64", "patientsx6", "plansx1", "check", "plansx1"]
        );
    }
    #[test]
    fn interleaved_inserts_gather_by_table() {
        let r = row();
        let mut ops = Vec::new();
        for _ in 0..3 {
            ops.push(WriteOp::Insert {
                table: &PATIENTS,
                row: r.clone(),
            });
            ops.push(WriteOp::Insert {
                table: &PLANS,
                row: r.clone(),
            });
        }
        ops.push(WriteOp::Check {
            table: &PLANS,
            id: Uuid::nil(),
            expected_version: 1,
        });
        ops.push(WriteOp::Insert {
            table: &PLANS,
            row: r.clone(),
        });
        let shape: Vec<String> = steps_by_table(&ops)
            .iter()
            .map(|s| match s {
                Step::Insert { table, rows } => format!("{}x{}", table.name, rows.len()),
                Step::Update { .. } => "update".into(),
                Step::Check { .. } => "check".into(),
            })
            .collect();
        assert_eq!(shape, ["patientsx3", "plansx3", "check", "plansx1"]);
    }

    #[test]
    fn scope_parents_are_inserted_first() {
        use crate::tables::VISITS;
        use crate::tables::quality::{CUSTODY_EVENTS, LOTS, UNITS};
        let r = row();
        let insert = |table: &'static TableDef| WriteOp::Insert {
            table,
            row: r.clone(),
        };
        // One request's visit, then another's new patient and their visit; a unit's
        // custody step before the unit and its lot.
        let ops = vec![
            insert(&VISITS),
            insert(&PATIENTS),
            insert(&VISITS),
            insert(&CUSTODY_EVENTS),
            insert(&UNITS),
            insert(&LOTS),
        ];
        let shape: Vec<String> = steps_by_table(&ops)
            .iter()
            .map(|s| match s {
                Step::Insert { table, rows } => format!("{}x{}", table.name, rows.len()),
                _ => "other".into(),
            })
            .collect();
        let at = |name: &str| shape.iter().position(|s| s.starts_with(name)).unwrap();
        assert!(at("patients") < at("visits"), "{shape:?}");
        assert!(
            at("lots") < at("units") && at("units") < at("custody_events"),
            "{shape:?}"
        );
        assert_eq!(shape.len(), 5);
    }
}
