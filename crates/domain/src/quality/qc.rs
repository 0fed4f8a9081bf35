//! Quality-control results: what was measured on a lot, how, with what, and when.
//!
//! A result names the attribute it measures (the code rules use), carries either a number
//! with its unit, a qualitative reading (negative, no growth, present…), or a reference to
//! evidence such as an electron-microscopy image, and records the method, the instrument
//! and the test date, because a rule may accept only some methods and an investigation
//! needs to know which instrument produced a number.

use super::identifiers::{AttributeCode, MethodCode};
use super::measure::{FiniteNumber, Unit};
use crate::text::{Code, Name};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use time::Date;
use utoipa::ToSchema;

/// A qualitative test reading. Rules list the readings they accept, so the vocabulary is
/// closed: sterility reads `no_growth`/`growth`, mycoplasma `negative`/`positive` or
/// `not_detected`/`detected`, markers `present`/`absent`, identity tests `conforms`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum QualitativeResult {
    /// The test was negative.
    Negative,
    /// The test was positive.
    Positive,
    /// No microbial growth (sterility).
    NoGrowth,
    /// Microbial growth (sterility).
    Growth,
    /// The marker or feature is present.
    Present,
    /// The marker or feature is absent.
    Absent,
    /// The analyte was detected.
    Detected,
    /// The analyte was not detected.
    NotDetected,
    /// The result conforms to the described appearance or behaviour.
    Conforms,
    /// The result does not conform.
    DoesNotConform,
}

impl QualitativeResult {
    /// The snake_case word used in JSON, TOML and explanations.
    pub fn word(self) -> &'static str {
        match self {
            QualitativeResult::Negative => "negative",
            QualitativeResult::Positive => "positive",
            QualitativeResult::NoGrowth => "no_growth",
            QualitativeResult::Growth => "growth",
            QualitativeResult::Present => "present",
            QualitativeResult::Absent => "absent",
            QualitativeResult::Detected => "detected",
            QualitativeResult::NotDetected => "not_detected",
            QualitativeResult::Conforms => "conforms",
            QualitativeResult::DoesNotConform => "does_not_conform",
        }
    }

    /// Parses the snake_case word; `None` if unknown.
    pub fn from_word(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.trim().to_string())).ok()
    }
}

impl fmt::Display for QualitativeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// The value of one QC result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum QcValue {
    /// A measured number with its unit, e.g. 97.2 `%`.
    Numeric {
        /// The number (finite).
        value: FiniteNumber,
        /// Its unit; compared exactly with the rule's unit.
        unit: Unit,
    },
    /// A qualitative reading, e.g. `no_growth`.
    Qualitative {
        /// The reading.
        result: QualitativeResult,
    },
    /// Evidence held elsewhere, e.g. an EM image or a report, by reference (file id,
    /// archive number or URL).
    Evidence {
        /// Where the evidence is.
        reference: Code,
    },
}

impl QcValue {
    /// A numeric value; `None` if `value` is NaN or infinite.
    pub fn numeric(value: f64, unit: Unit) -> Option<Self> {
        FiniteNumber::new(value).map(|value| QcValue::Numeric { value, unit })
    }

    /// A total order used to list observations independently of input order.
    fn canonical_cmp(&self, other: &Self) -> Ordering {
        fn rank(v: &QcValue) -> u8 {
            match v {
                QcValue::Numeric { .. } => 0,
                QcValue::Qualitative { .. } => 1,
                QcValue::Evidence { .. } => 2,
            }
        }
        match (self, other) {
            (QcValue::Numeric { value: a, unit: ua }, QcValue::Numeric { value: b, unit: ub }) => {
                ua.cmp(ub).then(a.get().total_cmp(&b.get()))
            }
            (QcValue::Qualitative { result: a }, QcValue::Qualitative { result: b }) => a.cmp(b),
            (QcValue::Evidence { reference: a }, QcValue::Evidence { reference: b }) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl fmt::Display for QcValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QcValue::Numeric { value, unit } => write!(f, "{value} {unit}"),
            QcValue::Qualitative { result } => write!(f, "{result}"),
            QcValue::Evidence { reference } => write!(f, "evidence {reference}"),
        }
    }
}

/// One QC result recorded for a lot (or a sample of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QcResult {
    /// The attribute measured, e.g. `cd73_positive`, `endotoxin`, `sterility`.
    pub attribute: AttributeCode,
    /// The value.
    pub value: QcValue,
    /// The analytical method, e.g. `flow_cytometry`, `nta`, `bca`, `lal_kinetic_turbidimetric`.
    pub method: MethodCode,
    /// The instrument (name, model or asset number), when one was used.
    #[serde(default)]
    pub instrument: Option<Name>,
    /// The day the test was performed.
    pub tested_on: Date,
    /// The sample tested, e.g. a retained-sample or QC-aliquot number.
    #[serde(default)]
    pub sample_id: Option<Code>,
}

impl QcResult {
    /// A total order over results, so that the check's output never depends on the order
    /// in which results were stored or submitted.
    pub fn canonical_cmp(&self, other: &Self) -> Ordering {
        self.attribute
            .cmp(&other.attribute)
            .then(self.tested_on.cmp(&other.tested_on))
            .then(self.method.cmp(&other.method))
            .then(self.value.canonical_cmp(&other.value))
            .then(self.instrument.cmp(&other.instrument))
            .then(self.sample_id.cmp(&other.sample_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_deserialise_strictly() {
        let r: QcResult = serde_json::from_str(
            r#"{"attribute":"CD73_positive","value":{"type":"numeric","value":97.5,"unit":"%"},
                "method":"flow_cytometry","instrument":"FACSCanto II","tested_on":"2025-03-01"}"#,
        )
        .unwrap();
        assert_eq!(r.attribute.as_str(), "cd73_positive");
        assert_eq!(r.value, QcValue::numeric(97.5, Unit::Percent).unwrap());
        let q: QcResult = serde_json::from_str(
            r#"{"attribute":"sterility","value":{"type":"qualitative","result":"no_growth"},
                "method":"jp_sterility_membrane_filtration","tested_on":"2025-03-15","sample_id":"S-1"}"#,
        )
        .unwrap();
        assert_eq!(q.value.to_string(), "no_growth");
        for bad in [
            // unknown field
            r#"{"attribute":"a","value":{"type":"qualitative","result":"negative"},"method":"m","tested_on":"2025-01-01","x":1}"#,
            // unknown unit
            r#"{"attribute":"a","value":{"type":"numeric","value":1,"unit":"fraction"},"method":"m","tested_on":"2025-01-01"}"#,
            // unknown reading
            r#"{"attribute":"a","value":{"type":"qualitative","result":"maybe"},"method":"m","tested_on":"2025-01-01"}"#,
            // bad attribute code
            r#"{"attribute":"","value":{"type":"qualitative","result":"negative"},"method":"m","tested_on":"2025-01-01"}"#,
        ] {
            assert!(serde_json::from_str::<QcResult>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn qualitative_words_round_trip() {
        for q in [
            QualitativeResult::NoGrowth,
            QualitativeResult::NotDetected,
            QualitativeResult::DoesNotConform,
        ] {
            assert_eq!(QualitativeResult::from_word(q.word()), Some(q));
        }
        assert_eq!(QualitativeResult::from_word("maybe"), None);
    }
}
