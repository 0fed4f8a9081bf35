//! Forms: a form's field names are the API's JSON field names, so a submitted form
//! becomes the same JSON object the API takes and goes through the same function. What
//! comes back wrong is shown as the GOV.UK pattern has it: a summary at the top linking
//! to each field, and each field marked `aria-invalid` with its message beside it.

use crate::i18n::Ui;
use saisei_server::problem::{ApiError, Code};
use serde_json::{Map, Value};

/// Percent-encodes a query value (for `?next=`).
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A submitted form as name/value pairs.
pub type Fields = Vec<(String, String)>;

/// The value a form sent for `name` (the first, trimmed), if any.
pub fn value<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The electronic signature a form sent, as the API's `signature` object: the password
/// exactly as typed (never trimmed) and the code.
pub fn signature_json(fields: &Fields) -> Value {
    let password = fields
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    serde_json::json!({
        "password": password,
        "code": value(fields, "code").unwrap_or(""),
    })
}

/// The errors of a refused signed write: a wrong password or code is the signature's
/// problem, said in words (which of the two is never told).
pub fn signed_errors(ui: &Ui, error: &ApiError, labels: &[(&str, &str)]) -> FormErrors {
    if matches!(error.code, Code::Unauthenticated | Code::TooManyAttempts) {
        FormErrors {
            fields: Vec::new(),
            general: Some(ui.t("signature-invalid")),
        }
    } else {
        FormErrors::from_api(ui, error, labels)
    }
}

/// The JSON object the API would take: each named field that was filled in, as a
/// string (the API parses ids, dates and codes from strings). Empty fields are left
/// out, so a required one is reported as missing, as the API reports it.
pub fn json_of(fields: &Fields, names: &[&str]) -> Value {
    let mut map = Map::new();
    for name in names {
        if let Some(v) = value(fields, name) {
            map.insert((*name).to_string(), Value::String(v.to_string()));
        }
    }
    Value::Object(map)
}

/// One field's message.
#[derive(Debug, Clone)]
pub struct FieldMessage {
    /// The field's name (also its element id).
    pub field: String,
    /// Its label, in the page's language.
    pub label: String,
    /// What is wrong, in the page's language.
    pub message: String,
}

/// What went wrong with a submitted form.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    /// Messages by field, in the form's order.
    pub fields: Vec<FieldMessage>,
    /// A message about the whole form (not tied to a field).
    pub general: Option<String>,
}

impl FormErrors {
    /// Whether there is anything to show.
    pub fn any(&self) -> bool {
        !self.fields.is_empty() || self.general.is_some()
    }

    /// The status a form page answers with: 422 when anything was refused, else 200.
    pub fn status(&self) -> axum::http::StatusCode {
        if self.any() {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        } else {
            axum::http::StatusCode::OK
        }
    }

    /// The message for `field`, if it has one.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.as_str())
    }

    /// Adds the page's own message (catalogue key `message`) for `field`, labelled by
    /// the catalogue key `label`: a check the page makes before anything is sent.
    pub fn add(&mut self, ui: &Ui, field: &str, label: &str, message: &str) {
        self.fields.push(FieldMessage {
            field: field.to_string(),
            label: ui.t(label),
            message: ui.t(message),
        });
    }

    /// Puts the page's own words (catalogue key `message`) on `field`'s message, when
    /// it has one: for a refusal whose cause the form itself makes plain.
    pub fn reword(&mut self, ui: &Ui, field: &str, message: &str) {
        for f in self.fields.iter_mut().filter(|f| f.field == field) {
            f.message = ui.t(message);
        }
    }

    /// `aria-invalid` and `aria-describedby` for a field's input.
    pub fn aria(&self, field: &str, help: &str) -> String {
        let mut described: Vec<String> = Vec::new();
        if !help.is_empty() {
            described.push(help.to_string());
        }
        let invalid = self.of(field).is_some();
        if invalid {
            described.push(format!("{field}-error"));
        }
        let mut out = String::new();
        if invalid {
            out.push_str(" aria-invalid=\"true\"");
        }
        if !described.is_empty() {
            out.push_str(&format!(" aria-describedby=\"{}\"", described.join(" ")));
        }
        out
    }

    /// The errors of a refused write, in the page's language: each field the form has
    /// gets its message (`labels` maps field names to label keys); anything else
    /// becomes the general message.
    pub fn from_api(ui: &Ui, error: &ApiError, labels: &[(&str, &str)]) -> Self {
        let mut out = FormErrors::default();
        let mut others = Vec::new();
        let mut problems: Vec<(String, String)> = error
            .errors
            .iter()
            .map(|e| (e.field.clone(), e.problem.clone()))
            .collect();
        // A body the API could not parse names its field in the detail ("missing field
        // `sex`", "birth_year_month: …").
        if problems.is_empty() && error.code == Code::ValidationFailed {
            for (name, _) in labels {
                if error.detail.contains(&format!("`{name}`"))
                    || error.detail.starts_with(&format!("{name}:"))
                {
                    problems.push((name.to_string(), error.detail.clone()));
                }
            }
        }
        for (field, problem) in problems {
            // The field itself when the form has it (`therapy.cell_kind`), else the
            // top-level field it is part of (`items[2].code` on an `items` field).
            let root = field.split(['.', '[']).next().unwrap_or(&field).to_string();
            let found = labels
                .iter()
                .find(|(name, _)| *name == field)
                .or_else(|| labels.iter().find(|(name, _)| *name == root));
            match found {
                Some((name, label)) => {
                    if out.of(name).is_none() {
                        out.fields.push(FieldMessage {
                            field: name.to_string(),
                            label: ui.t(label),
                            message: field_message(ui, &problem),
                        });
                    }
                }
                None => others.push(problem),
            }
        }
        // Keep the form's order.
        out.fields.sort_by_key(|f| {
            labels
                .iter()
                .position(|(n, _)| *n == f.field)
                .unwrap_or(usize::MAX)
        });
        if !out.fields.is_empty() || !others.is_empty() {
            if !others.is_empty() {
                out.general = Some(others.join(" "));
            }
        } else {
            out.general = Some(ui.t(&format!(
                "error-{}-detail",
                error.code.name().replace('_', "-")
            )));
        }
        out
    }
}

/// A field's problem in the page's language: the common ones have words of their own;
/// the rest keep the check's own explanation after a translated lead.
fn field_message(ui: &Ui, problem: &str) -> String {
    let p = problem.to_ascii_lowercase();
    if p.contains("missing field") || p.contains("is required") {
        ui.t("field-required")
    } else if p.contains("already in use") || p.contains("already registered") {
        ui.t("field-duplicate")
    } else {
        ui.t1("field-invalid", "problem", problem)
    }
}

/// How a form field becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string (ids, dates, codes and words are parsed by the API from strings).
    Text,
    /// A number (a decimal). What does not read as one is sent as typed, and the API
    /// names the field.
    Number,
    /// A whole number.
    Integer,
    /// Every value sent under the name (checkboxes), as a list; none is an empty list.
    List,
}

/// The JSON object the API would take, from fields of the given kinds. Empty text and
/// number fields are left out.
pub fn typed_json(fields: &Fields, spec: &[(&str, Kind)]) -> Value {
    let mut map = Map::new();
    for (name, kind) in spec {
        let v = match kind {
            Kind::List => Some(Value::Array(
                fields
                    .iter()
                    .filter(|(k, v)| k == name && !v.trim().is_empty())
                    .map(|(_, v)| Value::String(v.trim().to_string()))
                    .collect(),
            )),
            Kind::Text => value(fields, name).map(|v| Value::String(v.to_string())),
            Kind::Number => value(fields, name).map(|v| {
                v.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(v.to_string()))
            }),
            Kind::Integer => value(fields, name).map(|v| {
                v.parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(v.to_string()))
            }),
        };
        if let Some(v) = v {
            map.insert((*name).to_string(), v);
        }
    }
    Value::Object(map)
}

/// Every value of an enumerated type, by its serialised name, from the type's own
/// schema (the list the API documents), so a new variant reaches every select.
pub fn enum_values<T: utoipa::PartialSchema>() -> Vec<String> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    match T::schema() {
        RefOr::T(Schema::Object(o)) => o
            .enum_values
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A choice of a select, a radio group or a checkbox list.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The value sent.
    pub value: String,
    /// Its words.
    pub label: String,
    /// Whether it is chosen.
    pub selected: bool,
}

/// The choices of an enumerated type, labelled from the catalogue group `group`, with
/// those in `chosen` selected.
pub fn enum_choices<T: utoipa::PartialSchema>(
    ui: &Ui,
    group: &str,
    chosen: &[&str],
) -> Vec<Choice> {
    enum_values::<T>()
        .into_iter()
        .map(|v| Choice {
            label: ui.t(&format!("{group}-{}", v.replace('_', "-"))),
            selected: chosen.contains(&v.as_str()),
            value: v,
        })
        .collect()
}

/// Every value a form sent under `name`.
pub fn values<'a>(fields: &'a Fields, name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}
