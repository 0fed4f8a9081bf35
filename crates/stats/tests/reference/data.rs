//! Loading the committed datasets and reference JSON.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;

/// `tests/data/` at the repository root.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

/// A CSV file as columns of raw strings.
pub struct Csv {
    columns: HashMap<String, Vec<String>>,
}

impl Csv {
    pub fn load(name: &str) -> Csv {
        let mut reader = csv::Reader::from_path(dir().join(name)).expect("dataset present");
        let headers: Vec<String> = reader
            .headers()
            .expect("header row")
            .iter()
            .map(str::to_owned)
            .collect();
        let mut columns: HashMap<String, Vec<String>> =
            headers.iter().map(|h| (h.clone(), Vec::new())).collect();
        for record in reader.records() {
            let record = record.expect("well-formed CSV");
            for (h, v) in headers.iter().zip(record.iter()) {
                columns.get_mut(h).expect("known header").push(v.to_owned());
            }
        }
        Csv { columns }
    }

    pub fn text(&self, name: &str) -> &[String] {
        &self.columns[name]
    }

    pub fn num(&self, name: &str) -> Vec<f64> {
        self.columns[name]
            .iter()
            .map(|v| v.parse().expect("numeric column"))
            .collect()
    }
}

/// `reference_r.json` or `reference_python.json`.
pub fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(name)).expect("reference file present");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Asserts |a − b| ≤ tol·max(|b|, floor) with a readable message.
#[track_caller]
pub fn assert_rel(what: &str, got: f64, want: f64, tol: f64) {
    let scale = want.abs().max(1e-12);
    let rel = (got - want).abs() / scale;
    assert!(
        rel <= tol,
        "{what}: got {got:.15e}, reference {want:.15e}, relative difference {rel:.3e} > {tol:e}"
    );
}

/// A JSON number.
pub fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// A JSON number or null.
pub fn of(v: &Value) -> Option<f64> {
    v.as_f64()
}
