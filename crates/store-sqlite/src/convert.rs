//! Between the store's typed values and SQLite's storage classes.
//!
//! UUIDs, dates and instants are stored as text (UUIDs hyphenated lowercase, so text
//! order is UUIDv7 creation order; dates `YYYY-MM-DD`; instants RFC 3339 UTC), JSON as
//! text, booleans as 0/1.

use saisei_domain::RecordMeta;
use saisei_store::value::{format_date, parse_date};
use saisei_store::{ColumnType, Row, StoreError, TableDef, Value};
use sqlx::Row as _;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

type Q = Query<'static, sqlx::Sqlite, SqliteArguments>;

/// Formats an instant for storage.
pub fn format_ts(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Parses a stored instant.
pub fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp '{s}': {e}")))
}

/// Binds one value as its column type.
pub fn bind(q: Q, v: &Value, ty: ColumnType) -> Q {
    match v {
        Value::Null => match ty {
            ColumnType::Int | ColumnType::Bool => q.bind(None::<i64>),
            ColumnType::Real => q.bind(None::<f64>),
            _ => q.bind(None::<String>),
        },
        Value::Uuid(u) => q.bind(u.to_string()),
        Value::Text(s) => q.bind(s.clone()),
        Value::Int(i) => q.bind(*i),
        Value::Real(f) => q.bind(*f),
        Value::Bool(b) => q.bind(*b),
        Value::Date(d) => q.bind(format_date(*d)),
        Value::Timestamp(t) => q.bind(format_ts(*t)),
        Value::Json(j) => q.bind(j.to_string()),
    }
}

/// Binds a row: with `insert`, all meta columns then data; otherwise the update's
/// version, updated_at, withdrawn_at, withdrawal_reason, then data.
pub fn bind_row(mut q: Q, table: &TableDef, row: &Row, insert: bool) -> Q {
    if insert {
        q = q
            .bind(row.meta.id.to_string())
            .bind(row.meta.version)
            .bind(format_ts(row.meta.created_at));
    } else {
        q = q.bind(row.meta.version);
    }
    q = q
        .bind(format_ts(row.meta.updated_at))
        .bind(row.meta.withdrawn_at.map(format_ts))
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
pub fn decode_meta(r: &SqliteRow) -> Result<RecordMeta, StoreError> {
    let id: String = r.try_get(0).map_err(|e| corrupt(0, e))?;
    let withdrawn: Option<String> = r.try_get(4).map_err(|e| corrupt(4, e))?;
    Ok(RecordMeta {
        id: Uuid::parse_str(&id).map_err(|e| corrupt(0, e))?,
        version: r.try_get(1).map_err(|e| corrupt(1, e))?,
        created_at: parse_ts(&r.try_get::<String, _>(2).map_err(|e| corrupt(2, e))?)?,
        updated_at: parse_ts(&r.try_get::<String, _>(3).map_err(|e| corrupt(3, e))?)?,
        withdrawn_at: withdrawn.as_deref().map(parse_ts).transpose()?,
        withdrawal_reason: r.try_get(5).map_err(|e| corrupt(5, e))?,
    })
}

/// Reads one data column as its type.
pub fn decode(r: &SqliteRow, i: usize, ty: ColumnType) -> Result<Value, StoreError> {
    Ok(match ty {
        ColumnType::Int => match r.try_get::<Option<i64>, _>(i).map_err(|e| corrupt(i, e))? {
            Some(v) => Value::Int(v),
            None => Value::Null,
        },
        ColumnType::Bool => match r.try_get::<Option<bool>, _>(i).map_err(|e| corrupt(i, e))? {
            Some(v) => Value::Bool(v),
            None => Value::Null,
        },
        ColumnType::Real => match r.try_get::<Option<f64>, _>(i).map_err(|e| corrupt(i, e))? {
            Some(v) => Value::Real(v),
            None => Value::Null,
        },
        _ => {
            let Some(s) = r
                .try_get::<Option<String>, _>(i)
                .map_err(|e| corrupt(i, e))?
            else {
                return Ok(Value::Null);
            };
            match ty {
                ColumnType::Uuid => Value::Uuid(Uuid::parse_str(&s).map_err(|e| corrupt(i, e))?),
                ColumnType::Date => Value::Date(
                    parse_date(&s).ok_or_else(|| corrupt(i, format!("bad date '{s}'")))?,
                ),
                ColumnType::Timestamp => Value::Timestamp(parse_ts(&s)?),
                ColumnType::Json => {
                    Value::Json(serde_json::from_str(&s).map_err(|e| corrupt(i, e))?)
                }
                _ => Value::Text(s),
            }
        }
    })
}
