//! The API's contract, finished: what every operation may answer, how it is signed in
//! to, its path parameters, and the query parameters it takes (anything else is a 400).
//!
//! The document is generated from the handlers' types as routes are mounted (see
//! [`super::openapi`]); this module completes it with what is the same for every
//! operation, so no handler can forget it: problem responses by kind of operation,
//! security, path parameters from the path template, flat record schemas (the record's
//! bookkeeping, its data and its derived fields in one object), nullable cursors. The
//! finished document is then the source of the query-parameter check that every request
//! passes.

use crate::problem::{ApiError, Code};
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Derived fields of records, by record schema name: `(field, schema)`.
pub type Derived = BTreeMap<String, Vec<(String, Json)>>;

/// Change bodies: patch schema name → (data schema name, fields that cannot change).
pub type Patches = BTreeMap<String, (String, Vec<String>)>;

fn problem(description: &str) -> Json {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemBody"}}}
    })
}

fn path_parameter(path: &str, name: &str) -> Json {
    let (schema, description) = match name {
        "n" => (
            json!({"type": "integer", "minimum": 1}),
            "The period number (1 = the first year from filing)",
        ),
        "lot" => (json!({"type": "string"}), "A lot number, or a lot's id"),
        "key" => (json!({"type": "string"}), "The specification's key"),
        "id" if path.starts_with("/api/v1/rule-sets/") => {
            (json!({"type": "string"}), "The rule set's id")
        }
        _ => (
            json!({"type": "string", "format": "uuid"}),
            "The record's id (UUID)",
        ),
    };
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
}

fn template_names(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

/// Whether an operation's request body asks for credentials (a password, a one-time
/// code or a signature): it may then be refused as 401 or slowed as 429.
fn takes_credentials(op: &Json, schemas: &Map<String, Json>) -> bool {
    let Some(r) = op
        .pointer("/requestBody/content/application~1json/schema/$ref")
        .and_then(Json::as_str)
    else {
        return false;
    };
    let name = r.rsplit('/').next().unwrap_or_default();
    schemas
        .get(name)
        .and_then(|s| s.get("properties"))
        .and_then(Json::as_object)
        .is_some_and(|p| p.contains_key("password") || p.contains_key("signature"))
}

/// Completes the generated document (see the module docs).
pub fn finish(
    mut doc: Json,
    public: &[&str],
    derived: &Derived,
    read_only: &BTreeMap<String, Vec<String>>,
    patches: &Patches,
) -> Json {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    doc["components"]["securitySchemes"] = json!({
        "bearer": {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/sign-in, POST /api/v1/tokens or `saisei token create`"},
        "session": {"type": "apiKey", "in": "cookie", "name": "saisei_session", "description": "The browser session of /sign-in; unsafe requests must also send X-CSRF-Token"}
    });
    doc["security"] = json!([{"bearer": []}, {"session": []}]);
    if let Some(paths) = doc.get_mut("paths").and_then(Json::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let names = template_names(path);
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                finish_operation(path, method, op, &names, public, &schemas);
            }
        }
    }
    if let Some(s) = doc
        .pointer_mut("/components/schemas")
        .and_then(Json::as_object_mut)
    {
        // Fields only the server sets are shown in answers and refused in requests.
        for (name, fields) in read_only {
            for f in fields {
                if let Some(p) = s
                    .get_mut(name)
                    .and_then(|x| x.get_mut("properties"))
                    .and_then(|p| p.get_mut(f))
                    .and_then(Json::as_object_mut)
                {
                    p.insert("readOnly".into(), Json::Bool(true));
                }
            }
        }
        add_patches(s, patches);
        flatten_records(s, derived);
    }
    doc
}

/// Whether a schema already admits null.
fn admits_null(s: &Json) -> bool {
    match s.get("type") {
        Some(Json::String(t)) => t == "null",
        Some(Json::Array(ts)) => ts.iter().any(|t| t == "null"),
        _ => s
            .get("oneOf")
            .or_else(|| s.get("anyOf"))
            .and_then(Json::as_array)
            .is_some_and(|a| a.iter().any(admits_null)),
    }
}

/// The body of a change: every field that may change, none required, optional ones
/// clearable with null; the version read, and a reason where the record needs one.
fn add_patches(schemas: &mut Map<String, Json>, patches: &Patches) {
    for (patch, (data_name, fixed)) in patches {
        let Some(data) = schemas.get(data_name) else {
            continue;
        };
        let required: Vec<&str> = data["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        let mut properties = Map::new();
        for (name, s) in data["properties"].as_object().into_iter().flatten() {
            if fixed.contains(name) {
                continue;
            }
            let s = if required.contains(&name.as_str()) || admits_null(s) {
                s.clone()
            } else {
                json!({"oneOf": [s, {"type": "null"}]})
            };
            properties.insert(name.clone(), s);
        }
        properties.insert(
            "version".into(),
            json!({"type": "integer", "minimum": 1, "description": "The version read: a change to an older version is refused (409)"}),
        );
        properties.insert(
            "reason".into(),
            json!({"type": ["string", "null"], "minLength": 1, "maxLength": 10000, "description": "Why: required to change a submitted, locked or signed record"}),
        );
        schemas.insert(
            patch.clone(),
            json!({
                "type": "object",
                "description": format!("A change of a {data_name}: the fields to change (null clears an optional one), the version read and, for submitted, locked or signed records, a reason"),
                "properties": properties,
                "required": ["version"],
                "additionalProperties": false,
            }),
        );
    }
}

fn finish_operation(
    path: &str,
    method: &str,
    op: &mut Json,
    names: &[String],
    public: &[&str],
    schemas: &Map<String, Json>,
) {
    let is_public = public.contains(&path);
    // Path parameters from the template, declared once each.
    let mut params: Vec<Json> = op
        .get("parameters")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    params.retain(|p| !(p["in"] == "path" && names.iter().any(|n| p["name"] == n.as_str())));
    let mut full: Vec<Json> = names.iter().map(|n| path_parameter(path, n)).collect();
    full.extend(params);
    op["parameters"] = Json::Array(full);
    if is_public {
        op["security"] = json!([]);
    }
    let has_body = op.get("requestBody").is_some();
    let credentials = takes_credentials(op, schemas);
    let responses = op
        .as_object_mut()
        .map(|o| o.entry("responses").or_insert_with(|| json!({})))
        .and_then(Json::as_object_mut);
    let Some(responses) = responses else {
        return;
    };
    // Problem responses replace any bare description written for the same status.
    let mut add = |status: &str, description: &str| {
        let d = responses
            .get(status)
            .and_then(|r| r.get("description"))
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| description.to_string());
        responses.insert(status.to_string(), problem(&d));
    };
    let db = !matches!(path, "/api/v1/openapi.json" | "/api/v1/docs");
    add(
        "400",
        "A query parameter, path parameter or the body is malformed",
    );
    if !is_public {
        add(
            "401",
            "Not signed in, or the token is unknown, expired or revoked",
        );
        add("403", "The role may not do this");
    }
    if !names.is_empty() {
        add("404", "No such record within your reach");
    }
    if has_body {
        add("413", "The body is larger than 1 MiB");
        add("415", "The body is not JSON");
        add("422", "A field is invalid; each is named in `errors`");
    }
    if method == "patch" || path.ends_with("/withdraw") || (method == "post" && has_body) {
        add(
            "409",
            "The record changed since it was read, or a unique value is taken",
        );
    }
    if credentials || path == "/api/v1/auth/sign-in" {
        add("401", "The password or code is not right");
        add(
            "429",
            "Too many failed attempts: wait the Retry-After seconds",
        );
    }
    if db {
        add("503", "The database is unavailable");
    }
}

/// Replaces each `XRecord` schema (record bookkeeping + data) by one flat object holding
/// both and the derived fields, so a record validates against its own schema.
fn flatten_records(schemas: &mut Map<String, Json>, derived: &Derived) {
    let meta = schemas.get("RecordMeta").cloned().unwrap_or_default();
    let names: Vec<String> = schemas
        .keys()
        .filter(|k| k.ends_with("Record") && *k != "RecordMeta")
        .cloned()
        .collect();
    for name in names {
        let data_name = name.trim_end_matches("Record");
        let Some(data) = schemas.get(data_name).cloned() else {
            continue;
        };
        let mut properties = Map::new();
        let mut required: Vec<Json> = Vec::new();
        for part in [&meta, &data] {
            if let Some(p) = part.get("properties").and_then(Json::as_object) {
                properties.extend(p.clone());
            }
            if let Some(r) = part.get("required").and_then(Json::as_array) {
                required.extend(r.iter().cloned());
            }
        }
        for (field, schema) in derived.get(&name).into_iter().flatten() {
            properties.insert(field.clone(), schema.clone());
            required.push(Json::String(field.clone()));
        }
        let mut record = json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
        if let Some(d) = data.get("description") {
            record["description"] = d.clone();
        }
        schemas.insert(name, record);
    }
}

/// The query parameters each operation takes, from the finished document, keyed by
/// method and path template.
#[derive(Debug, Default, Clone)]
pub struct QueryContract {
    allowed: HashMap<(String, String), HashSet<String>>,
}

impl QueryContract {
    /// Reads the contract off a finished document.
    pub fn of(doc: &Json) -> Self {
        let mut allowed = HashMap::new();
        if let Some(paths) = doc.get("paths").and_then(Json::as_object) {
            for (path, item) in paths {
                for (method, op) in item.as_object().into_iter().flatten() {
                    let names: HashSet<String> = op
                        .get("parameters")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(str::to_string))
                        .collect();
                    allowed.insert((method.to_uppercase(), path.clone()), names);
                }
            }
        }
        QueryContract { allowed }
    }

    /// The first query parameter of a request that its operation does not take.
    fn unknown(&self, method: &str, path: &str, query: &str) -> Option<(String, Vec<String>)> {
        let allowed = self.allowed.get(&(method.to_string(), path.to_string()))?;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let raw = pair.split('=').next().unwrap_or_default();
            let name = percent_decode(raw);
            if !allowed.contains(&name) {
                let mut names: Vec<String> = allowed.iter().cloned().collect();
                names.sort();
                return Some((name, names));
            }
        }
        None
    }
}

/// Decodes a query-string name (`%XX` escapes and `+`), as the handlers' parser does.
fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses a query parameter the operation does not declare (400, naming it), so a
/// mistyped filter is an error rather than a silently unfiltered answer.
pub async fn refuse_unknown_parameters(
    contract: Arc<QueryContract>,
    req: Request,
    next: Next,
) -> Response {
    if let (Some(query), Some(matched)) = (req.uri().query(), req.extensions().get::<MatchedPath>())
    {
        let path = matched.as_str();
        let path = if path.starts_with("/api/v1") {
            path.to_string()
        } else {
            format!("/api/v1{path}")
        };
        if let Some((name, allowed)) = contract.unknown(req.method().as_str(), &path, query) {
            let problem = if allowed.is_empty() {
                "unknown parameter; this operation takes no query parameters".to_string()
            } else {
                format!(
                    "unknown parameter; this operation takes {}",
                    allowed.join(", ")
                )
            };
            return ApiError::field(Code::BadParameter, crate::extract::truncate(&name), problem)
                .into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names_are_decoded_and_checked() {
        let doc = json!({"paths": {"/api/v1/x/{id}": {"get": {"parameters": [
            {"name": "id", "in": "path"}, {"name": "as_of", "in": "query"}, {"name": "a.gte", "in": "query"}
        ]}}}});
        let c = QueryContract::of(&doc);
        assert_eq!(
            c.unknown("GET", "/api/v1/x/{id}", "as_of=2025-01-01&a.gte=3"),
            None
        );
        assert_eq!(c.unknown("GET", "/api/v1/x/{id}", "a%2Egte=3"), None);
        assert_eq!(
            c.unknown("GET", "/api/v1/x/{id}", "as_of=1&asof=2")
                .map(|u| u.0),
            Some("asof".to_string())
        );
        assert_eq!(c.unknown("GET", "/api/v1/x/{id}", ""), None);
        assert_eq!(percent_decode("a%20b+c%"), "a b c%");
    }

    /// Every kind the catalogue puts under `/api/v1` is mounted: its list and record
    /// paths are in the finished document, and the generic change exactly when its entry
    /// says the kind is writable (some kinds are created only through their workflow's
    /// own route).
    #[test]
    fn every_catalogued_kind_is_mounted() {
        let (_, doc) = crate::api::router();
        let paths = &doc["paths"];
        for t in saisei_store::tables::all() {
            let Some(api) = t.api else { continue };
            let list = &paths[format!("/api/v1/{}", api.path)];
            let one = &paths[format!("/api/v1/{}/{{id}}", api.path)];
            assert!(list["get"].is_object(), "{}: no list operation", t.name);
            assert!(one["get"].is_object(), "{}: no read operation", t.name);
            assert_eq!(
                one["patch"].is_object(),
                api.writable,
                "{}: the generic change mounted or missing against the catalogue",
                t.name
            );
        }
    }
}
