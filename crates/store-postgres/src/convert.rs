//! Between the store's typed values and PostgreSQL's native types.

use saisei_domain::RecordMeta;
use saisei_store::{ColumnType, Row, StoreError, TableDef, Value};
use sqlx::Row as _;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

type Q = Query<'static, sqlx::Postgres, PgArguments>;

/// Binds one value as its column type (NULLs typed, as PostgreSQL requires).
pub fn bind(q: Q, v: &Value, ty: ColumnType) -> Q {
    match v {
        Value::Null => match ty {
            ColumnType::Uuid => q.bind(None::<Uuid>),
            ColumnType::Text => q.bind(None::<String>),
            ColumnType::Int => q.bind(None::<i64>),
            ColumnType::Real => q.bind(None::<f64>),
            ColumnType::Bool => q.bind(None::<bool>),
            ColumnType::Date => q.bind(None::<Date>),
            ColumnType::Timestamp => q.bind(None::<OffsetDateTime>),
            ColumnType::Json => q.bind(None::<Json<serde_json::Value>>),
        },
        Value::Uuid(u) => q.bind(*u),
        Value::Text(s) => q.bind(s.clone()),
        Value::Int(i) => q.bind(*i),
        Value::Real(f) => q.bind(*f),
        Value::Bool(b) => q.bind(*b),
        Value::Date(d) => q.bind(*d),
        Value::Timestamp(t) => q.bind(*t),
        Value::Json(j) => q.bind(Json(j.clone())),
    }
}

/// Binds a row: with `insert`, all meta columns then data; otherwise the update's
/// version, updated_at, withdrawn_at, withdrawal_reason, then data.
pub fn bind_row(mut q: Q, table: &TableDef, row: &Row, insert: bool) -> Q {
    if insert {
        q = q
            .bind(row.meta.id)
            .bind(row.meta.version)
            .bind(row.meta.created_at);
    } else {
        q = q.bind(row.meta.version);
    }
    q = q
        .bind(row.meta.updated_at)
        .bind(row.meta.withdrawn_at)
        .bind(row.meta.withdrawal_reason.clone());
    for (c, v) in table.columns.iter().zip(&row.values) {
        q = bind(q, v, c.ty);
    }
    if let Some((v, ty)) = saisei_store::sql::scope_bind(table, &row.values) {
        q = bind(q, &v, ty);
    }
    q
}

fn corrupt(i: usize, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {i}: {e}"))
}

/// Reads the metadata columns (the first six).
pub fn decode_meta(r: &PgRow) -> Result<RecordMeta, StoreError> {
    Ok(RecordMeta {
        id: r.try_get(0).map_err(|e| corrupt(0, e))?,
        version: r.try_get(1).map_err(|e| corrupt(1, e))?,
        created_at: r
            .try_get::<OffsetDateTime, _>(2)
            .map_err(|e| corrupt(2, e))?,
        updated_at: r
            .try_get::<OffsetDateTime, _>(3)
            .map_err(|e| corrupt(3, e))?,
        withdrawn_at: r.try_get(4).map_err(|e| corrupt(4, e))?,
        withdrawal_reason: r.try_get(5).map_err(|e| corrupt(5, e))?,
    })
}

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
    v.map(f).unwrap_or(Value::Null)
}

/// Reads one data column as its type.
pub fn decode(r: &PgRow, i: usize, ty: ColumnType) -> Result<Value, StoreError> {
    let e = |e: sqlx::Error| corrupt(i, e);
    Ok(match ty {
        ColumnType::Uuid => opt(r.try_get::<Option<Uuid>, _>(i).map_err(e)?, Value::Uuid),
        ColumnType::Text => opt(r.try_get::<Option<String>, _>(i).map_err(e)?, Value::Text),
        ColumnType::Int => opt(r.try_get::<Option<i64>, _>(i).map_err(e)?, Value::Int),
        ColumnType::Real => opt(r.try_get::<Option<f64>, _>(i).map_err(e)?, Value::Real),
        ColumnType::Bool => opt(r.try_get::<Option<bool>, _>(i).map_err(e)?, Value::Bool),
        ColumnType::Date => opt(r.try_get::<Option<Date>, _>(i).map_err(e)?, Value::Date),
        ColumnType::Timestamp => opt(
            r.try_get::<Option<OffsetDateTime>, _>(i).map_err(e)?,
            Value::Timestamp,
        ),
        ColumnType::Json => opt(
            r.try_get::<Option<Json<serde_json::Value>>, _>(i)
                .map_err(e)?,
            |j| Value::Json(j.0),
        ),
    })
}
