//! `/api/v1/docs`: the API reference as a page, rendered from the same finished OpenAPI
//! document the server serves and checks requests against — no CDN, no script, so it
//! cannot say anything the document does not.

use askama::Template;
use serde_json::Value as Json;

/// One parameter of an operation.
pub struct ParamRow {
    name: String,
    location: String,
    ty: String,
    required: bool,
    description: String,
}

/// One response of an operation.
pub struct ResponseRow {
    status: String,
    description: String,
    media: String,
    schema: Option<String>,
}

/// One operation.
pub struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    public: bool,
    params: Vec<ParamRow>,
    body: Option<String>,
    responses: Vec<ResponseRow>,
}

/// The operations of one tag.
pub struct TagView {
    name: String,
    operations: Vec<OperationView>,
}

/// One field of a schema.
pub struct FieldRow {
    name: String,
    ty: String,
    required: bool,
    description: String,
}

/// One schema.
pub struct SchemaView {
    name: String,
    description: String,
    kind: String,
    fields: Vec<FieldRow>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct ApiDocs {
    title: String,
    version: String,
    description: String,
    tags: Vec<TagView>,
    schemas: Vec<SchemaView>,
}

fn ref_name(r: &str) -> String {
    r.rsplit('/').next().unwrap_or(r).to_string()
}

/// A schema as one line of words.
fn type_words(s: &Json) -> String {
    if let Some(r) = s.get("$ref").and_then(Json::as_str) {
        return ref_name(r);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = s.get(key).and_then(Json::as_array) {
            let words: Vec<String> = parts
                .iter()
                .map(type_words)
                .filter(|w| w != "null")
                .collect();
            let nullable = parts
                .iter()
                .any(|p| p.get("type") == Some(&Json::from("null")));
            let joined = words.join(if key == "allOf" { " and " } else { " or " });
            return if nullable {
                format!("{joined} or null")
            } else {
                joined
            };
        }
    }
    if let Some(values) = s.get("enum").and_then(Json::as_array) {
        let v: Vec<String> = values
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect();
        return format!("one of {}", v.join(", "));
    }
    let types: Vec<String> = match s.get("type") {
        Some(Json::String(t)) => vec![t.clone()],
        Some(Json::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let main: Vec<String> = types
        .iter()
        .filter(|t| *t != "null")
        .map(
            |t| match (t.as_str(), s.get("format").and_then(Json::as_str)) {
                ("array", _) => format!(
                    "array of {}",
                    s.get("items")
                        .map(type_words)
                        .unwrap_or_else(|| "values".into())
                ),
                (t, Some(f)) => format!("{t} ({f})"),
                (t, None) => t.to_string(),
            },
        )
        .collect();
    let mut words = if main.is_empty() {
        "any".to_string()
    } else {
        main.join(" or ")
    };
    if types.iter().any(|t| t == "null") {
        words.push_str(" or null");
    }
    words
}

fn text(v: Option<&Json>) -> String {
    v.and_then(Json::as_str).unwrap_or_default().to_string()
}

/// Renders the reference page from a finished document.
pub fn render(doc: &Json) -> String {
    let mut tags: std::collections::BTreeMap<String, Vec<OperationView>> = Default::default();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
            let params = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| ParamRow {
                    name: text(p.get("name")),
                    location: text(p.get("in")),
                    ty: type_words(&p["schema"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    description: text(p.get("description")),
                })
                .collect();
            let body = op
                .pointer("/requestBody/content/application~1json/schema")
                .map(type_words);
            let mut responses: Vec<ResponseRow> = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| {
                    let (media, schema) = r["content"]
                        .as_object()
                        .and_then(|c| c.iter().next())
                        .map(|(m, c)| (m.clone(), c.get("schema").map(type_words)))
                        .unwrap_or_default();
                    ResponseRow {
                        status: status.clone(),
                        description: text(r.get("description")),
                        media,
                        schema: schema.filter(|s| s != "any"),
                    }
                })
                .collect();
            responses.sort_by(|a, b| a.status.cmp(&b.status));
            tags.entry(tag).or_default().push(OperationView {
                anchor: format!("op-{}", op["operationId"].as_str().unwrap_or("unnamed")),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(op.get("summary")),
                public: op.get("security") == Some(&Json::Array(Vec::new())),
                params,
                body,
                responses,
            });
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let required: Vec<&str> = s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .collect();
            let fields = s["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(f, fs)| FieldRow {
                    name: f.clone(),
                    ty: type_words(fs),
                    required: required.contains(&f.as_str()),
                    description: text(fs.get("description")),
                })
                .collect();
            SchemaView {
                name: name.clone(),
                description: text(s.get("description")),
                kind: type_words(s),
                fields,
            }
        })
        .collect();
    let page = ApiDocs {
        title: text(doc.pointer("/info/title")),
        version: text(doc.pointer("/info/version")),
        description: text(doc.pointer("/info/description")),
        tags: tags
            .into_iter()
            .map(|(name, operations)| TagView { name, operations })
            .collect(),
        schemas,
    };
    page.render()
        .unwrap_or_else(|e| format!("<!doctype html><title>API</title><p>{e}</p>"))
}
