//! Statement text shared by both SQL backends.
//!
//! SQLite and PostgreSQL both accept `$n` placeholders and double-quoted identifiers, so
//! the statements for the generic record operations are written once here, from the
//! table map. Identifiers come only from the static [`TableDef`]s, never from input;
//! values are always bound. Backends add the driver, type binding, DDL and locking.

use crate::backend::{AuditQuery, Filter, FilterOp, ListQuery, Order, Row};
use crate::schema::TableDef;
use crate::value::{ColumnType, Value};

/// The metadata columns, in the order every statement reads and writes them.
pub const META_COLUMNS: [&str; 6] = [
    "id",
    "version",
    "created_at",
    "updated_at",
    "withdrawn_at",
    "withdrawal_reason",
];

fn column_list(table: &TableDef) -> String {
    META_COLUMNS
        .iter()
        .copied()
        .chain(table.columns.iter().map(|c| c.name))
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns an insert writes: meta columns, data columns, then the scope column.
fn insert_columns(table: &TableDef) -> String {
    let mut cols = column_list(table);
    if let Some(s) = table.scope {
        cols.push_str(&format!(", \"{}\"", s.column));
    }
    cols
}

/// The value of a table's scope column, copied from the parent the row points at; the
/// placeholder is bound to the pointing field's value a second time (the backends'
/// `bind_row` does so), since SQLite binds positionally.
fn scope_value(scope: &crate::schema::ScopeColumn, placeholder: usize) -> String {
    format!(
        "(SELECT \"{}\" FROM \"{}\" WHERE \"id\" = ${placeholder})",
        scope.source, scope.parent
    )
}

/// The placeholders of one row of an insert, numbered from `first`.
fn row_placeholders(table: &TableDef, first: usize) -> String {
    let width = META_COLUMNS.len() + table.columns.len();
    let mut ps: Vec<String> = (first..first + width).map(|i| format!("${i}")).collect();
    if let Some(s) = &table.scope {
        ps.push(scope_value(s, first + width));
    }
    format!("({})", ps.join(", "))
}

/// The value bound for a row's scope column (after its data columns): the field the
/// scope is copied through, or nothing when the table keeps no scope.
pub fn scope_bind(table: &TableDef, values: &[Value]) -> Option<(Value, ColumnType)> {
    let scope = table.scope?;
    let value = table
        .columns
        .iter()
        .position(|c| c.name == scope.via)
        .and_then(|i| values.get(i))
        .cloned()
        .unwrap_or(Value::Null);
    Some((value, ColumnType::Uuid))
}

/// How many values one row binds: meta and data columns, and the scope's source again.
pub fn row_width(table: &TableDef) -> usize {
    META_COLUMNS.len() + table.columns.len() + usize::from(table.scope.is_some())
}

/// `INSERT` of a full row: meta columns then data columns (and the scope column, copied
/// from the parent).
pub fn insert(table: &TableDef) -> String {
    insert_many(table, 1)
}

/// Rows per multi-row `INSERT`: long runs of inserts into one table (a patient's
/// visits, a demo batch) go in statements of this many rows, far fewer round trips.
/// Kept well under both databases' bound-parameter limits.
pub const INSERT_CHUNK: usize = 64;

/// `INSERT` of `rows` full rows in one statement.
pub fn insert_many(table: &TableDef, rows: usize) -> String {
    let width = row_width(table);
    let groups: Vec<String> = (0..rows)
        .map(|r| row_placeholders(table, r * width + 1))
        .collect();
    format!(
        "INSERT INTO \"{}\" ({}) VALUES {}",
        table.name,
        insert_columns(table),
        groups.join(", ")
    )
}

/// `UPDATE` of everything but id and created_at, guarded by the expected version.
/// Binds: version, updated_at, withdrawn_at, withdrawal_reason, data columns…, (the
/// scope's source again,) id, expected version.
pub fn update(table: &TableDef) -> String {
    let mut sets = vec![
        "\"version\" = $1".to_string(),
        "\"updated_at\" = $2".to_string(),
        "\"withdrawn_at\" = $3".to_string(),
        "\"withdrawal_reason\" = $4".to_string(),
    ];
    let mut i = 5;
    for c in table.columns {
        sets.push(format!("\"{}\" = ${i}", c.name));
        i += 1;
    }
    if let Some(s) = &table.scope {
        sets.push(format!("\"{}\" = {}", s.column, scope_value(s, i)));
        i += 1;
    }
    format!(
        "UPDATE \"{}\" SET {} WHERE \"id\" = ${} AND \"version\" = ${}",
        table.name,
        sets.join(", "),
        i,
        i + 1
    )
}

/// The current version of a row (for conflict messages and `Check` ops).
pub fn version(table: &TableDef) -> String {
    format!(
        "SELECT \"version\" FROM \"{}\" WHERE \"id\" = $1",
        table.name
    )
}

/// One row by id.
pub fn get(table: &TableDef) -> String {
    format!(
        "SELECT {} FROM \"{}\" WHERE \"id\" = $1",
        column_list(table),
        table.name
    )
}

/// Resolves a filter's column on `table`: a data column, the scope column or the `id`
/// metadata column.
fn resolve(table: &TableDef, name: &str) -> Option<crate::schema::Col> {
    if name == "id" {
        Some(crate::schema::Col {
            name: "id",
            ty: ColumnType::Uuid,
            nullable: false,
        })
    } else if let Some(s) = table.scope.filter(|s| s.column == name) {
        Some(s.col())
    } else {
        table.column(name).copied()
    }
}

/// Whether a JSON key may be written into a statement: lowercase letters and
/// underscores only. Keys come from the access policy's code, never from input; this
/// is the backstop that keeps it so.
fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Appends one condition per filter, binding values into `binds` (numbered in order).
/// `name` is how the statement calls `table` (its name, or the alias of a probe), which a
/// probe below it needs to name the row it asks about; `depth` numbers probe aliases.
fn conditions(
    table: &TableDef,
    name: &str,
    depth: usize,
    filters: &[Filter],
    binds: &mut Vec<(Value, ColumnType)>,
    conds: &mut Vec<String>,
) {
    for f in filters {
        // Filters are built from TableDef columns (or the `id` metadata column) by the
        // caller. An unknown name is a bug; it matches nothing rather than everything,
        // and is never interpolated.
        let Some(col) = resolve(table, f.column) else {
            conds.push("1 = 0".to_string());
            continue;
        };
        match f.op {
            FilterOp::IsNull => conds.push(format!("\"{}\" IS NULL", col.name)),
            FilterOp::NotNull => conds.push(format!("\"{}\" IS NOT NULL", col.name)),
            FilterOp::In => {
                let items = match &f.value {
                    Value::Json(serde_json::Value::Array(items)) => items.as_slice(),
                    _ => &[],
                };
                let mut placeholders = Vec::with_capacity(items.len());
                for item in items {
                    // The list was built from typed values; one that no longer parses
                    // as the column's type cannot match, so it is left out.
                    if let Ok(v) = Value::from_json(col.name, col.ty, item) {
                        binds.push((v, col.ty));
                        placeholders.push(format!("${}", binds.len()));
                    }
                }
                if placeholders.is_empty() {
                    conds.push("1 = 0".to_string());
                } else {
                    conds.push(format!("\"{}\" IN ({})", col.name, placeholders.join(", ")));
                }
            }
            FilterOp::InSelect => {
                let Some(sub) = &f.select else {
                    conds.push("1 = 0".to_string());
                    continue;
                };
                let Some(sub_col) = resolve(sub.table, sub.column) else {
                    conds.push("1 = 0".to_string());
                    continue;
                };
                let mut inner = vec!["\"withdrawn_at\" IS NULL".to_string()];
                if f.probe {
                    if f.key.is_some() {
                        conds.push("1 = 0".to_string());
                        continue;
                    }
                    // The probed table is aliased, so its own name inside the probe
                    // names the row outside, even when both are the same table.
                    let alias = format!("probe_{depth}");
                    conditions(
                        sub.table,
                        &alias,
                        depth + 1,
                        &sub.filters,
                        binds,
                        &mut inner,
                    );
                    conds.push(format!(
                        "EXISTS (SELECT 1 FROM \"{}\" AS \"{alias}\" WHERE \"{alias}\".\"{}\" = \"{name}\".\"{}\" AND {})",
                        sub.table.name,
                        sub_col.name,
                        col.name,
                        inner.join(" AND ")
                    ));
                    continue;
                }
                conditions(
                    sub.table,
                    sub.table.name,
                    depth,
                    &sub.filters,
                    binds,
                    &mut inner,
                );
                match f.key {
                    None => conds.push(format!(
                        "\"{}\" IN (SELECT \"{}\" FROM \"{}\" WHERE {})",
                        col.name,
                        sub_col.name,
                        sub.table.name,
                        inner.join(" AND ")
                    )),
                    // A key inside a JSON column: both dialects read it as text with
                    // `->>`, so the selected ids are compared as text too.
                    Some(key) if col.ty == ColumnType::Json && is_plain_key(key) => {
                        conds.push(format!(
                            "(\"{}\" ->> '{key}') IN (SELECT CAST(\"{}\" AS TEXT) FROM \"{}\" WHERE {})",
                            col.name,
                            sub_col.name,
                            sub.table.name,
                            inner.join(" AND ")
                        ))
                    }
                    Some(_) => conds.push("1 = 0".to_string()),
                }
            }
            FilterOp::Any => {
                let mut alternatives = Vec::with_capacity(f.any.len());
                for group in &f.any {
                    let mut inner = Vec::new();
                    conditions(table, name, depth, group, binds, &mut inner);
                    if inner.is_empty() {
                        inner.push("1 = 1".to_string());
                    }
                    alternatives.push(format!("({})", inner.join(" AND ")));
                }
                if alternatives.is_empty() {
                    conds.push("1 = 0".to_string());
                } else {
                    conds.push(format!("({})", alternatives.join(" OR ")));
                }
            }
            op => {
                let sym = match op {
                    FilterOp::Eq => "=",
                    FilterOp::Gte => ">=",
                    _ => "<=",
                };
                binds.push((f.value.clone(), col.ty));
                conds.push(format!("\"{}\" {sym} ${}", col.name, binds.len()));
            }
        }
    }
}

/// The columns a list may be ordered by, with their types: `id` (ids are UUIDv7, so
/// this is the order records were stored in) and the data columns that are never NULL
/// and have an order (a NULL has no place in a keyset comparison). Instants are left
/// out: SQLite keeps them as RFC 3339 text, whose fraction of a second has a varying
/// length, so text order is not time order there.
pub fn sortable(table: &TableDef) -> Vec<(&'static str, ColumnType)> {
    std::iter::once(("id", ColumnType::Uuid))
        .chain(
            table
                .columns
                .iter()
                .filter(|c| {
                    !c.nullable
                        && !matches!(
                            c.ty,
                            ColumnType::Json | ColumnType::Bool | ColumnType::Timestamp
                        )
                })
                .map(|c| (c.name, c.ty)),
        )
        .collect()
}

/// The type of `column` when a list may be ordered by it.
pub fn sort_type(table: &TableDef, column: &str) -> Option<ColumnType> {
    sortable(table)
        .into_iter()
        .find(|(c, _)| *c == column)
        .map(|(_, t)| t)
}

/// A row's value in a sortable data column (`None` for `id`, which the cursor carries
/// anyway, and for a column that is not one).
fn sort_value(table: &TableDef, row: &Row, column: &str) -> Option<Value> {
    table
        .columns
        .iter()
        .position(|c| c.name == column)
        .and_then(|i| row.values.get(i).cloned())
}

/// The cursor that continues a list after `row`: its id, and for an ordered list a dot
/// and its value in the order's column as a filter would write it (ids have no dot).
pub fn cursor_after(table: &TableDef, order: Option<&Order>, row: &Row) -> String {
    let id = row.meta.id;
    match order.and_then(|o| sort_value(table, row, o.column)) {
        Some(v) => format!("{id}.{}", cursor_text(&v)),
        None => id.to_string(),
    }
}

fn cursor_text(v: &Value) -> String {
    match v.to_json() {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A `WHERE` clause and its bind values (with their column types).
fn where_clause(
    table: &TableDef,
    filters: &[Filter],
    include_withdrawn: bool,
    after: Option<uuid::Uuid>,
    order: Option<&Order>,
) -> (String, Vec<(Value, ColumnType)>) {
    let mut conds = Vec::new();
    let mut binds = Vec::new();
    if !include_withdrawn {
        conds.push("\"withdrawn_at\" IS NULL".to_string());
    }
    conditions(table, table.name, 0, filters, &mut binds, &mut conds);
    if let Some(a) = after {
        let sym = if order.is_some_and(|o| o.descending) {
            "<"
        } else {
            ">"
        };
        let keyset = order.and_then(|o| {
            Some((
                o.column,
                o.after_value.clone()?,
                sort_type(table, o.column)?,
            ))
        });
        match keyset {
            Some((column, v, ty)) => {
                binds.push((v, ty));
                binds.push((Value::Uuid(a), ColumnType::Uuid));
                conds.push(format!(
                    "(\"{column}\", \"id\") {sym} (${}, ${})",
                    binds.len() - 1,
                    binds.len()
                ));
            }
            None => {
                binds.push((Value::Uuid(a), ColumnType::Uuid));
                conds.push(format!("\"id\" {sym} ${}", binds.len()));
            }
        }
    }
    let clause = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (clause, binds)
}

/// A projection's statement, its binds and the types of the columns it reads.
pub type Projection = (String, Vec<(Value, ColumnType)>, Vec<ColumnType>);

/// Some columns of a page of the rows that match (not withdrawn), in id order after
/// `after`, with the types to decode them as; `None` when a column is not the table's (a
/// bug in the caller). For a workflow that reads a few fields of many rows: no record is
/// built, so nothing is decoded that is not asked for.
pub fn columns(
    table: &TableDef,
    columns: &[&str],
    filters: &[Filter],
    after: Option<uuid::Uuid>,
    limit: u32,
) -> Option<Projection> {
    let cols = columns
        .iter()
        .map(|c| resolve(table, c))
        .collect::<Option<Vec<_>>>()?;
    let (clause, binds) = where_clause(table, filters, false, after, None);
    let names: Vec<String> = cols.iter().map(|c| format!("\"{}\"", c.name)).collect();
    Some((
        format!(
            "SELECT {} FROM \"{}\"{} ORDER BY \"id\" LIMIT {}",
            names.join(", "),
            table.name,
            clause,
            limit.max(1)
        ),
        binds,
        cols.iter().map(|c| c.ty).collect(),
    ))
}

/// A page of rows in id order, or in the query's order then id.
pub fn list(table: &TableDef, query: &ListQuery) -> (String, Vec<(Value, ColumnType)>) {
    let order = query
        .order
        .as_ref()
        .filter(|o| sort_type(table, o.column).is_some());
    let (clause, binds) = where_clause(
        table,
        &query.filters,
        query.include_withdrawn,
        query.after,
        order,
    );
    let by = match order {
        Some(o) if o.column == "id" && o.descending => "\"id\" DESC".to_string(),
        Some(o) if o.column == "id" => "\"id\"".to_string(),
        Some(o) if o.descending => format!("\"{}\" DESC, \"id\" DESC", o.column),
        Some(o) => format!("\"{}\", \"id\"", o.column),
        None => "\"id\"".to_string(),
    };
    (
        format!(
            "SELECT {} FROM \"{}\"{} ORDER BY {by} LIMIT {}",
            column_list(table),
            table.name,
            clause,
            query.limit
        ),
        binds,
    )
}

/// A count of matching rows.
pub fn count(
    table: &TableDef,
    filters: &[Filter],
    include_withdrawn: bool,
) -> (String, Vec<(Value, ColumnType)>) {
    let (clause, binds) = where_clause(table, filters, include_withdrawn, None, None);
    (
        format!("SELECT COUNT(*) FROM \"{}\"{}", table.name, clause),
        binds,
    )
}

/// Columns of the audit table, in order.
pub const AUDIT_COLUMNS: &str = "seq, at, actor, role, organisation_id, action, entity, entity_id, before_data, after_data, reason, prev_hash, hash";

/// Insert one audit entry.
pub const AUDIT_INSERT: &str = "INSERT INTO audit_log (seq, at, actor, role, organisation_id, action, entity, entity_id, before_data, after_data, reason, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// Insert `rows` audit entries in one statement.
pub fn audit_insert_many(rows: usize) -> String {
    let groups: Vec<String> = (0..rows)
        .map(|r| {
            let ps: Vec<String> = (1..=13).map(|i| format!("${}", r * 13 + i)).collect();
            format!("({})", ps.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES {}",
        groups.join(", ")
    )
}

/// The chain's last entry.
pub const AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

/// Audit entries by sequence, optionally for one entity; binds follow the clause.
pub fn audit(query: &AuditQuery) -> (String, Vec<(Value, ColumnType)>) {
    let mut conds = vec!["seq > $1".to_string()];
    let mut binds = vec![(Value::Int(query.after_seq), ColumnType::Int)];
    if let Some(e) = &query.entity {
        binds.push((Value::Text(e.clone()), ColumnType::Text));
        conds.push(format!("entity = ${}", binds.len()));
    }
    if let Some(id) = query.entity_id {
        binds.push((Value::Uuid(id), ColumnType::Uuid));
        conds.push(format!("entity_id = ${}", binds.len()));
    }
    (
        format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {} ORDER BY seq LIMIT {}",
            conds.join(" AND "),
            query.limit.max(1)
        ),
        binds,
    )
}

/// One kind of record's audit entries, by record then sequence, after the position
/// `(entity_id, seq)`; binds: entity, entity_id, seq.
pub fn audit_history(limit: u32) -> String {
    format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE entity = $1 AND entity_id IS NOT NULL \
         AND (entity_id > $2 OR (entity_id = $2 AND seq > $3)) ORDER BY entity_id, seq LIMIT {}",
        limit.clamp(1, 10_000)
    )
}

/// Columns of the access log, in the order statements read them.
pub const ACCESS_LOG_COLUMNS: &str = "seq, at, request_id, actor, role, organisation_id, action, path, entity, record_id, patient_id";

/// The types of [`ACCESS_LOG_COLUMNS`], for decoding.
pub const ACCESS_LOG_TYPES: [ColumnType; 11] = [
    ColumnType::Int,
    ColumnType::Timestamp,
    ColumnType::Uuid,
    ColumnType::Text,
    ColumnType::Text,
    ColumnType::Uuid,
    ColumnType::Text,
    ColumnType::Text,
    ColumnType::Text,
    ColumnType::Uuid,
    ColumnType::Uuid,
];

/// Appends `rows` access-log entries (the database numbers them).
pub fn access_log_insert(rows: usize) -> String {
    let groups: Vec<String> = (0..rows)
        .map(|r| {
            let ps: Vec<String> = (1..=10).map(|i| format!("${}", r * 10 + i)).collect();
            format!("({})", ps.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO access_log (at, request_id, actor, role, organisation_id, action, path, entity, record_id, patient_id) VALUES {}",
        groups.join(", ")
    )
}

/// Access-log entries by position, filtered.
pub fn access_log(
    q: &saisei_domain::access_log::AccessQuery,
) -> (String, Vec<(Value, ColumnType)>) {
    let mut conds = vec!["seq > $1".to_string()];
    let mut binds = vec![(Value::Int(q.after_seq), ColumnType::Int)];
    let mut push = |cond: &str, v: Value, ty: ColumnType| {
        binds.push((v, ty));
        conds.push(format!("{cond} ${}", binds.len()));
    };
    if let Some(a) = &q.actor {
        push("actor =", Value::Text(a.clone()), ColumnType::Text);
    }
    if let Some(e) = &q.entity {
        push("entity =", Value::Text(e.clone()), ColumnType::Text);
    }
    if let Some(r) = q.record_id {
        push("record_id =", Value::Uuid(r), ColumnType::Uuid);
    }
    if let Some(p) = q.patient_id {
        push("patient_id =", Value::Uuid(p), ColumnType::Uuid);
    }
    if let Some(f) = q.from {
        push("at >=", Value::Timestamp(f), ColumnType::Timestamp);
    }
    if let Some(t) = q.to {
        push("at <", Value::Timestamp(t), ColumnType::Timestamp);
    }
    (
        format!(
            "SELECT {ACCESS_LOG_COLUMNS} FROM access_log WHERE {} ORDER BY seq LIMIT {}",
            conds.join(" AND "),
            q.limit.clamp(1, 1000)
        ),
        binds,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::PLAN_TRANSITIONS;

    #[test]
    fn quotes_reserved_words() {
        let s = insert(&PLAN_TRANSITIONS);
        assert!(s.contains("\"on\""));
        assert!(s.ends_with("$12)"));
    }

    #[test]
    fn in_lists_bind_each_value() {
        use crate::tables::PATIENTS;
        let ids = [uuid::Uuid::nil(), uuid::Uuid::max()];
        let q = ListQuery {
            filters: vec![
                Filter::one_of("id_unused", []),
                Filter::one_of("institution_id", ids.map(Value::Uuid)),
            ],
            limit: 5,
            ..Default::default()
        };
        let (text, binds) = list(&PATIENTS, &q);
        assert!(text.contains("\"institution_id\" IN ($1, $2)"), "{text}");
        assert_eq!(binds.len(), 2);
        let (text, _) = list(
            &PATIENTS,
            &ListQuery {
                filters: vec![Filter::one_of("sex", [])],
                limit: 5,
                ..Default::default()
            },
        );
        assert!(text.contains("1 = 0"), "{text}");
    }

    #[test]
    fn sub_selects_nest_and_number_binds() {
        use crate::tables::{PATIENTS, TREATMENTS};
        let inst = uuid::Uuid::nil();
        let q = ListQuery {
            filters: vec![
                Filter::eq("route", Value::Text("intravenous".into())),
                Filter::in_select(
                    "patient_id",
                    &PATIENTS,
                    "id",
                    vec![Filter::eq("institution_id", Value::Uuid(inst))],
                ),
            ],
            after: Some(uuid::Uuid::max()),
            limit: 5,
            ..Default::default()
        };
        let (text, binds) = list(&TREATMENTS, &q);
        assert!(
            text.contains("\"patient_id\" IN (SELECT \"id\" FROM \"patients\" WHERE \"withdrawn_at\" IS NULL AND \"institution_id\" = $2)"),
            "{text}"
        );
        assert!(text.contains("\"id\" > $3"), "{text}");
        assert_eq!(binds.len(), 3);
    }

    #[test]
    fn alternatives_and_json_keys() {
        use crate::tables::{PATIENTS, TREATMENTS, quality::UNITS};
        let org = Value::Uuid(uuid::Uuid::nil());
        let own = || vec![Filter::eq("institution_id", org.clone())];
        let q = ListQuery {
            filters: vec![Filter::any(vec![
                vec![Filter::in_select(
                    "id",
                    &TREATMENTS,
                    "unit_id",
                    vec![Filter::in_select("patient_id", &PATIENTS, "id", own())],
                )],
                vec![Filter::json_in_select(
                    "recipient",
                    "patient_id",
                    &PATIENTS,
                    "id",
                    own(),
                )],
            ])],
            limit: 5,
            ..Default::default()
        };
        let (text, binds) = list(&UNITS, &q);
        assert!(text.contains(" OR "), "{text}");
        assert!(
            text.contains("(\"recipient\" ->> 'patient_id') IN (SELECT CAST(\"id\" AS TEXT) FROM \"patients\" WHERE \"withdrawn_at\" IS NULL AND \"institution_id\" = $2)"),
            "{text}"
        );
        assert_eq!(binds.len(), 2);
        let none = list(
            &UNITS,
            &ListQuery {
                filters: vec![Filter::any(vec![])],
                limit: 5,
                ..Default::default()
            },
        );
        assert!(none.0.contains("1 = 0"));
        let bad = Filter {
            key: Some("x'; DROP"),
            ..Filter::json_in_select("recipient", "patient_id", &PATIENTS, "id", vec![])
        };
        let (text, _) = list(
            &UNITS,
            &ListQuery {
                filters: vec![bad],
                limit: 5,
                ..Default::default()
            },
        );
        assert!(text.contains("1 = 0") && !text.contains("DROP"), "{text}");
    }

    #[test]
    fn multi_row_inserts_number_every_row() {
        let s = insert_many(&PLAN_TRANSITIONS, 3);
        assert!(
            s.ends_with("($25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36)"),
            "{s}"
        );
        let a = audit_insert_many(2);
        assert!(
            a.ends_with("($14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)"),
            "{a}"
        );
    }

    #[test]
    fn update_guards_version() {
        let s = update(&PLAN_TRANSITIONS);
        assert!(
            s.ends_with("WHERE \"id\" = $11 AND \"version\" = $12"),
            "{s}"
        );
    }
}
