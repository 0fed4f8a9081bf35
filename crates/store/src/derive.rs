//! Columns derived from an entity's type: the JSON schema its `ToSchema` derive writes
//! (the same one the API documents) says each field's name, its type and whether it may
//! be absent, which is all a column needs. So a field is declared once, on the type.

use crate::value::ColumnType;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// One derived column: name, storage type, and whether it may be NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedColumn {
    /// The field's name.
    pub name: String,
    /// How it is stored.
    pub ty: ColumnType,
    /// Whether it may be absent.
    pub nullable: bool,
}

/// The columns of entity `T`, in the order its schema lists its fields.
pub fn columns_of<T: utoipa::ToSchema>() -> Vec<DerivedColumn> {
    let mut refs: Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )> = Vec::new();
    T::schemas(&mut refs);
    let components: BTreeMap<String, Json> = refs
        .into_iter()
        .map(|(n, s)| (n, serde_json::to_value(s).unwrap_or(Json::Null)))
        .collect();
    let schema = serde_json::to_value(T::schema()).unwrap_or(Json::Null);
    let schema = resolve(&schema, &components);
    schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let (ty, null) = storage(s, &components, 0);
            // A field is written whenever the record is (serde writes every field); only
            // one whose type admits null (an `Option`) may be NULL. `required` speaks of
            // input, where `#[serde(default)]` fields may be left out.
            DerivedColumn {
                name: name.clone(),
                ty,
                nullable: null,
            }
        })
        .collect()
}

fn resolve<'a>(s: &'a Json, components: &'a BTreeMap<String, Json>) -> &'a Json {
    match s.get("$ref").and_then(Json::as_str) {
        Some(r) => components
            .get(r.rsplit('/').next().unwrap_or(r))
            .map(|t| resolve(t, components))
            .unwrap_or(s),
        None => s,
    }
}

/// How a field of this schema is stored, and whether the schema admits null.
fn storage(s: &Json, components: &BTreeMap<String, Json>, depth: usize) -> (ColumnType, bool) {
    let s = resolve(s, components);
    if depth > 8 {
        return (ColumnType::Json, false);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(parts) = s.get(key).and_then(Json::as_array) {
            let null = parts
                .iter()
                .any(|p| p.get("type") == Some(&Json::from("null")));
            let rest: Vec<(ColumnType, bool)> = parts
                .iter()
                .filter(|p| p.get("type") != Some(&Json::from("null")))
                .map(|p| storage(p, components, depth + 1))
                .collect();
            return match rest.as_slice() {
                [(ty, n)] => (*ty, null || *n),
                // Alternatives of one scalar type (an enum's variants) store as that type.
                [first, more @ ..]
                    if more.iter().all(|m| m.0 == first.0) && first.0 != ColumnType::Json =>
                {
                    (first.0, null)
                }
                _ => (ColumnType::Json, null),
            };
        }
    }
    if let Some(parts) = s.get("allOf").and_then(Json::as_array)
        && parts.len() == 1
    {
        return storage(&parts[0], components, depth + 1);
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    let null = types.contains(&"null");
    let main: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    let ty = match (main.as_slice(), s.get("format").and_then(Json::as_str)) {
        (["string"], Some("uuid")) => ColumnType::Uuid,
        (["string"], Some("date")) => ColumnType::Date,
        (["string"], Some("date-time")) => ColumnType::Timestamp,
        (["string"], _) => ColumnType::Text,
        (["integer"], _) => ColumnType::Int,
        (["number"], _) => ColumnType::Real,
        (["boolean"], _) => ColumnType::Bool,
        ([], _) if s.get("enum").is_some() => ColumnType::Text,
        _ => ColumnType::Json,
    };
    (ty, null)
}
