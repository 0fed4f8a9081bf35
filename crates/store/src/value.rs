//! Column values: the one shape in which records cross into a backend.
//!
//! Entities are serialised with serde to a JSON object, and each table column picks its
//! field out of that object and converts it to a typed [`Value`]. Reading goes back the
//! same way, and the entity's own `Deserialize` re-checks every value, so a corrupted row
//! cannot come back as a valid record.

use crate::error::StoreError;
use saisei_domain::dates::{EARLIEST, LATEST};
use serde_json::{Map, Value as Json};
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// The storage type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// A UUID (TEXT in SQLite, `uuid` in PostgreSQL).
    Uuid,
    /// Text, including enum names.
    Text,
    /// A 64-bit integer.
    Int,
    /// A double.
    Real,
    /// A boolean (INTEGER 0/1 in SQLite).
    Bool,
    /// A civil date (ISO text in SQLite, `date` in PostgreSQL).
    Date,
    /// An instant (RFC 3339 UTC text in SQLite, `timestamptz` in PostgreSQL).
    Timestamp,
    /// Nested data: lists and objects (TEXT in SQLite, `jsonb` in PostgreSQL).
    Json,
}

/// One typed value for one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A UUID.
    Uuid(Uuid),
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A double.
    Real(f64),
    /// A boolean.
    Bool(bool),
    /// A civil date.
    Date(Date),
    /// An instant.
    Timestamp(OffsetDateTime),
    /// Nested JSON.
    Json(Json),
}

impl Value {
    /// Converts a JSON field to the column's storage type.
    pub fn from_json(column: &str, ty: ColumnType, v: &Json) -> Result<Value, StoreError> {
        let bad = |what: &str| {
            StoreError::Corrupt(format!("column {column}: expected {what}, found {v}"))
        };
        if v.is_null() {
            return Ok(Value::Null);
        }
        Ok(match ty {
            ColumnType::Uuid => {
                let s = v.as_str().ok_or_else(|| bad("a UUID string"))?;
                Value::Uuid(Uuid::parse_str(s).map_err(|_| bad("a UUID"))?)
            }
            ColumnType::Text => Value::Text(v.as_str().ok_or_else(|| bad("a string"))?.to_string()),
            ColumnType::Int => Value::Int(v.as_i64().ok_or_else(|| bad("an integer"))?),
            ColumnType::Real => Value::Real(v.as_f64().ok_or_else(|| bad("a number"))?),
            ColumnType::Bool => Value::Bool(v.as_bool().ok_or_else(|| bad("a boolean"))?),
            // A date or time outside the registry's range is the client's mistake (a
            // negative or five-digit year parses as a date), so it is named, not corrupt.
            ColumnType::Date => {
                let s = v.as_str().ok_or_else(|| bad("a date string"))?;
                match parse_date(s) {
                    Some(d) if (EARLIEST..=LATEST).contains(&d) => Value::Date(d),
                    _ => return Err(out_of_range(column)),
                }
            }
            ColumnType::Timestamp => {
                let s = v
                    .as_str()
                    .ok_or_else(|| bad("an RFC 3339 timestamp string"))?;
                match OffsetDateTime::parse(s, &Rfc3339) {
                    Ok(t) if (EARLIEST..=LATEST).contains(&t.date()) => Value::Timestamp(t),
                    _ => return Err(out_of_range(column)),
                }
            }
            ColumnType::Json => Value::Json(v.clone()),
        })
    }

    /// Converts a stored value back to JSON for the entity's deserialiser.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Uuid(u) => Json::String(u.to_string()),
            Value::Text(s) => Json::String(s.clone()),
            Value::Int(i) => Json::from(*i),
            Value::Real(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::Bool(b) => Json::Bool(*b),
            Value::Date(d) => Json::String(format_date(*d)),
            Value::Timestamp(t) => Json::String(format_timestamp(*t)),
            Value::Json(j) => j.clone(),
        }
    }

    /// Parses a query-string value for a filter on a column of type `ty`.
    pub fn parse_filter(ty: ColumnType, raw: &str) -> Result<Value, String> {
        match ty {
            ColumnType::Uuid => Uuid::parse_str(raw)
                .map(Value::Uuid)
                .map_err(|_| format!("'{raw}' is not a UUID")),
            ColumnType::Text => Ok(Value::Text(raw.to_string())),
            ColumnType::Int => raw
                .parse()
                .map(Value::Int)
                .map_err(|_| format!("'{raw}' is not an integer")),
            ColumnType::Real => raw
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::Real)
                .ok_or_else(|| format!("'{raw}' is not a number")),
            ColumnType::Bool => match raw {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!("'{raw}' is not true or false")),
            },
            ColumnType::Date => parse_date(raw)
                .map(Value::Date)
                .ok_or_else(|| format!("'{raw}' is not a YYYY-MM-DD date")),
            ColumnType::Timestamp => OffsetDateTime::parse(raw, &Rfc3339)
                .map(Value::Timestamp)
                .map_err(|_| format!("'{raw}' is not an RFC 3339 timestamp")),
            ColumnType::Json => Err("this field cannot be filtered on".to_string()),
        }
    }
}

/// The refusal of a date outside the registry's range, naming the field.
fn out_of_range(column: &str) -> StoreError {
    StoreError::invalid(
        column,
        format!("must be a date from {EARLIEST} to {LATEST} (YYYY-MM-DD)"),
    )
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    Date::parse(s, &Iso8601::DATE).ok()
}

/// Formats `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Formats an instant as RFC 3339 in UTC (the form every backend stores and returns).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Picks each column's field out of a serialised entity. A field without a column is an
/// error, never dropped: the catalogue derives columns from the type, so it means a
/// type and its table disagree.
pub fn row_values(
    table: &crate::schema::TableDef,
    object: &Map<String, Json>,
) -> Result<Vec<Value>, StoreError> {
    if let Some(extra) = object.keys().find(|k| table.column(k).is_none()) {
        return Err(StoreError::Corrupt(format!(
            "{}: the field {extra} has no column",
            table.name
        )));
    }
    table
        .columns
        .iter()
        .map(|c| Value::from_json(c.name, c.ty, object.get(c.name).unwrap_or(&Json::Null)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let d = parse_date("2024-02-29").unwrap();
        assert_eq!(format_date(d), "2024-02-29");
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("20240229").is_none());
    }

    #[test]
    fn filter_values_parse() {
        assert_eq!(Value::parse_filter(ColumnType::Int, "3"), Ok(Value::Int(3)));
        assert!(Value::parse_filter(ColumnType::Uuid, "x").is_err());
        assert!(Value::parse_filter(ColumnType::Real, "NaN").is_err());
    }
}
