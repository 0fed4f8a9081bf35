//! Helpers shared by the regulation tests.

use saisei_domain::regulation::{RuleBook, RuleSet, TherapyDescription};
use serde_json::{Value, json};

/// The embedded catalogue; every test relies on it loading.
pub fn book() -> &'static RuleBook {
    RuleBook::embedded().expect("embedded rule sets load")
}

/// An embedded rule set by id.
pub fn set(id: &str) -> &'static RuleSet {
    book().get(id).expect("embedded rule set exists")
}

/// The text of the 2014 rule set file, to derive broken variants from.
pub const ASRM_2014: &str = include_str!("../../../../rules/asrm/asrm-2014.toml");

/// The in-force and proposal set ids in chronological order.
pub const CHRONOLOGY: [&str; 4] = [
    "asrm-2014",
    "asrm-2020-genome-editing",
    "asrm-2025",
    "proposal-ev-supernatant",
];

/// Answers about administered cells.
pub struct Cells {
    pub source: &'static str,
    pub kind: &'static str,
    pub gene_introduced: bool,
    pub genome_edited: bool,
    pub cultured: bool,
    pub homologous_use: bool,
    pub purpose: &'static str,
    pub procedure: Option<&'static str>,
}

impl Cells {
    pub fn json(&self) -> Value {
        json!({
            "material": "cells",
            "cell_source": self.source,
            "cell_kind": self.kind,
            "gene_introduced": self.gene_introduced,
            "genome_edited": self.genome_edited,
            "cultured": self.cultured,
            "homologous_use": self.homologous_use,
            "purpose": self.purpose,
            "procedure": self.procedure,
        })
    }
}

/// An EV or culture supernatant made from the given source cells.
pub fn derived(
    material: &str,
    source: &str,
    kind: &str,
    gene_modified: bool,
    cultured: bool,
    purpose: &str,
) -> Value {
    json!({
        "material": material,
        "purpose": purpose,
        "source": {
            "cell_source": source,
            "cell_kind": kind,
            "gene_introduced": gene_modified,
            "genome_edited": false,
            "cultured": cultured,
        }
    })
}

/// Parses a description, panicking with the error (tests only).
pub fn therapy(v: Value) -> TherapyDescription {
    match serde_json::from_value(v.clone()) {
        Ok(d) => d,
        Err(e) => panic!("invalid test therapy {v}: {e}"),
    }
}
