//! Observations recorded at visits: outcome measures, labs, scores.

use crate::entity::Entity;
use crate::error::{Validate, ValidationErrors};
use crate::text::{Code, Text};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// One measured or assessed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// The patient.
    pub patient_id: Uuid,
    /// The visit it was recorded at, if any.
    #[serde(default)]
    pub visit_id: Option<Uuid>,
    /// What was observed: a code, e.g. `KOOS`, `HbA1c`, `6MWD`, or a LOINC code.
    pub code: Code,
    /// The code system (e.g. `http://loinc.org`); local codes when absent.
    #[serde(default)]
    pub system: Option<Code>,
    /// A numeric value (give this or `value_text`).
    #[serde(default)]
    pub value_number: Option<f64>,
    /// A coded or textual value (give this or `value_number`).
    #[serde(default)]
    pub value_text: Option<Text>,
    /// Unit of a numeric value (UCUM where possible).
    #[serde(default)]
    pub unit: Option<Code>,
    /// When it was observed.
    pub observed_on: Date,
}

impl Validate for Observation {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        crate::dates::check_plausible("observed_on", self.observed_on, &mut errors);
        match (&self.value_number, &self.value_text) {
            (Some(_), Some(_)) => {
                errors.push("value_number", "give value_number or value_text, not both")
            }
            (None, None) => errors.push("value_number", "give value_number or value_text"),
            (Some(v), None) if !v.is_finite() => errors.push("value_number", "must be finite"),
            _ => {}
        }
        if self.unit.is_some() && self.value_number.is_none() {
            errors.push("unit", "only a numeric value has a unit");
        }
        errors.into_result()
    }
}

impl Entity for Observation {
    const KIND: &'static str = "observation";
    fn past_dates(&self) -> Vec<(String, time::Date)> {
        vec![("observed_on".into(), self.observed_on)]
    }
}
