//! Web pages. For now the overview at `/`: counts per kind of record and links to the
//! API; the full web UI comes later.

use crate::problem::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use saisei_store::tables;

/// One row of the overview table.
pub struct CountRow {
    /// Human label.
    pub label: &'static str,
    /// API path segment.
    pub path: &'static str,
    /// How many records (not withdrawn).
    pub count: u64,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    database: &'static str,
    version: &'static str,
    rows: Vec<CountRow>,
}

/// The tables shown, with their labels and API paths.
const SHOWN: &[(&str, &str, &saisei_store::TableDef)] = &[
    ("Organisations", "organisations", &tables::ORGANISATIONS),
    ("Practitioners", "practitioners", &tables::PRACTITIONERS),
    ("Provision plans", "plans", &tables::PLANS),
    ("Products", "products", &tables::PRODUCTS),
    ("Patients", "patients", &tables::PATIENTS),
    ("Enrolments", "enrollments", &tables::ENROLLMENTS),
    ("Consents", "consents", &tables::CONSENTS),
    ("Treatments", "treatments", &tables::TREATMENTS),
    ("Follow-up visits", "visits", &tables::VISITS),
    ("Observations", "observations", &tables::OBSERVATIONS),
    ("Adverse events", "adverse-events", &tables::ADVERSE_EVENTS),
];

/// `GET /`.
pub async fn overview(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let mut rows = Vec::with_capacity(SHOWN.len());
    for (label, path, table) in SHOWN {
        rows.push(CountRow {
            label,
            path,
            count: state.store.count_table(table).await?,
        });
    }
    let page = Overview {
        database: state.store.backend().kind(),
        version: env!("CARGO_PKG_VERSION"),
        rows,
    };
    page.render()
        .map(Html)
        .map_err(|e| ApiError::new(crate::problem::Code::Internal, e.to_string()))
}
