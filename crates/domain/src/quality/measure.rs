//! Units of measure, finite numbers and storage temperature ranges.
//!
//! QC results and rules meet on a unit: a result is only compared with a limit when both
//! carry the *same* unit. We deliberately do not convert (not even `%` ↔ fraction): a
//! result typed as `0.97 %` that was meant as `97 %` is a 100-fold error that must be fixed
//! at the source, and guessing would hide it. The list of units is closed so that
//! spelling variants (`ug/ml`, `μg/mL`) collapse to one canonical symbol.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// A unit of measure for QC results, limits and doses (canonical symbol in JSON and TOML;
/// common ASCII spellings are accepted as aliases).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Unit {
    /// Percent (of cells, of events, of viability).
    #[serde(rename = "%", alias = "percent", alias = "pct")]
    Percent,
    /// Endotoxin units per millilitre.
    #[serde(rename = "EU/mL", alias = "EU/ml")]
    EuPerMl,
    /// Endotoxin units per kilogram of body mass (the threshold pyrogenic dose K).
    #[serde(rename = "EU/kg")]
    EuPerKg,
    /// Nanometres (particle size).
    #[serde(rename = "nm")]
    Nanometre,
    /// Particles per millilitre (particle concentration).
    #[serde(rename = "particles/mL", alias = "particles/ml")]
    ParticlesPerMl,
    /// Particles per microgram of protein (a purity ratio).
    #[serde(
        rename = "particles/µg",
        alias = "particles/ug",
        alias = "particles/μg"
    )]
    ParticlesPerUg,
    /// Milligrams per millilitre.
    #[serde(rename = "mg/mL", alias = "mg/ml")]
    MgPerMl,
    /// Micrograms per millilitre.
    #[serde(rename = "µg/mL", alias = "ug/mL", alias = "ug/ml", alias = "μg/mL")]
    UgPerMl,
    /// Nanograms per millilitre.
    #[serde(rename = "ng/mL", alias = "ng/ml")]
    NgPerMl,
    /// Picograms per millilitre.
    #[serde(rename = "pg/mL", alias = "pg/ml")]
    PgPerMl,
    /// A count of cells.
    #[serde(rename = "cells")]
    Cells,
    /// Cells per millilitre.
    #[serde(rename = "cells/mL", alias = "cells/ml")]
    CellsPerMl,
    /// Cells per kilogram of body mass (a dose).
    #[serde(rename = "cells/kg")]
    CellsPerKg,
    /// Colony-forming units per millilitre.
    #[serde(rename = "CFU/mL", alias = "CFU/ml")]
    CfuPerMl,
    /// Copies per millilitre (nucleic-acid tests).
    #[serde(rename = "copies/mL", alias = "copies/ml")]
    CopiesPerMl,
    /// Millilitres (a volume).
    #[serde(rename = "mL", alias = "ml")]
    Ml,
    /// Millilitres per kilogram of body mass (a dose volume).
    #[serde(rename = "mL/kg", alias = "ml/kg")]
    MlPerKg,
    /// Kilograms (body mass).
    #[serde(rename = "kg")]
    Kg,
    /// Degrees Celsius.
    #[serde(rename = "°C", alias = "degC")]
    Celsius,
}

impl Unit {
    /// Every unit, for listings and tests.
    pub const ALL: [Unit; 19] = [
        Unit::Percent,
        Unit::EuPerMl,
        Unit::EuPerKg,
        Unit::Nanometre,
        Unit::ParticlesPerMl,
        Unit::ParticlesPerUg,
        Unit::MgPerMl,
        Unit::UgPerMl,
        Unit::NgPerMl,
        Unit::PgPerMl,
        Unit::Cells,
        Unit::CellsPerMl,
        Unit::CellsPerKg,
        Unit::CfuPerMl,
        Unit::CopiesPerMl,
        Unit::Ml,
        Unit::MlPerKg,
        Unit::Kg,
        Unit::Celsius,
    ];

    /// The canonical symbol, as written in JSON, TOML and explanations.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Percent => "%",
            Unit::EuPerMl => "EU/mL",
            Unit::EuPerKg => "EU/kg",
            Unit::Nanometre => "nm",
            Unit::ParticlesPerMl => "particles/mL",
            Unit::ParticlesPerUg => "particles/µg",
            Unit::MgPerMl => "mg/mL",
            Unit::UgPerMl => "µg/mL",
            Unit::NgPerMl => "ng/mL",
            Unit::PgPerMl => "pg/mL",
            Unit::Cells => "cells",
            Unit::CellsPerMl => "cells/mL",
            Unit::CellsPerKg => "cells/kg",
            Unit::CfuPerMl => "CFU/mL",
            Unit::CopiesPerMl => "copies/mL",
            Unit::Ml => "mL",
            Unit::MlPerKg => "mL/kg",
            Unit::Kg => "kg",
            Unit::Celsius => "°C",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Why a unit or number was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    /// The unit symbol is not in the closed list.
    #[error("unit: {0:?} is not a known unit (known: {known})", known = known_units())]
    UnknownUnit(String),
    /// NaN or infinity where a measured number is required.
    #[error("{field}: must be a finite number")]
    NotFinite {
        /// The field.
        field: &'static str,
    },
    /// A storage bound below absolute zero.
    #[error("{field}: {value} °C is below absolute zero")]
    BelowAbsoluteZero {
        /// The field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A storage range whose minimum is not below its maximum.
    #[error("storage range: min_celsius ({min}) must be below max_celsius ({max})")]
    EmptyRange {
        /// The minimum given.
        min: f64,
        /// The maximum given.
        max: f64,
    },
    /// A quantity that must be positive was zero or negative.
    #[error("{field}: must be greater than zero (got {value})")]
    NotPositive {
        /// The field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
}

fn known_units() -> String {
    Unit::ALL
        .iter()
        .map(|u| u.symbol())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Unit {
    type Err = MeasureError;
    /// Parses a symbol or alias, the same spellings serde accepts.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        serde_json::from_value(serde_json::Value::String(t.to_string()))
            .map_err(|_| MeasureError::UnknownUnit(t.to_string()))
    }
}

/// A finite `f64` (no NaN, no infinity): measured values and limits are compared with
/// `<`/`>`, and NaN would make every comparison silently false.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "f64", into = "f64")]
pub struct FiniteNumber(f64);

impl FiniteNumber {
    /// Wraps a finite number; `None` for NaN or infinity.
    pub fn new(v: f64) -> Option<Self> {
        v.is_finite().then_some(FiniteNumber(v))
    }
    /// The number.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for FiniteNumber {
    type Error = MeasureError;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        FiniteNumber::new(v).ok_or(MeasureError::NotFinite { field: "value" })
    }
}

impl From<FiniteNumber> for f64 {
    fn from(v: FiniteNumber) -> f64 {
        v.0
    }
}

impl fmt::Display for FiniteNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A finite number greater than zero, e.g. a dose volume or a body mass: the endotoxin
/// limit divides by it, so zero or a negative value must never get that far.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "f64", into = "f64")]
pub struct PositiveNumber(f64);

impl PositiveNumber {
    /// Wraps a finite positive number; `None` otherwise.
    pub fn new(v: f64) -> Option<Self> {
        (v.is_finite() && v > 0.0).then_some(PositiveNumber(v))
    }
    /// The number.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for PositiveNumber {
    type Error = MeasureError;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        if !v.is_finite() {
            return Err(MeasureError::NotFinite { field: "value" });
        }
        PositiveNumber::new(v).ok_or(MeasureError::NotPositive {
            field: "value",
            value: v,
        })
    }
}

impl From<PositiveNumber> for f64 {
    fn from(v: PositiveNumber) -> f64 {
        v.0
    }
}

/// Absolute zero in °C: no storage bound can be colder.
const ABSOLUTE_ZERO_C: f64 = -273.15;

/// The temperature range a unit must be kept in, inclusive at both ends (e.g. 2–8 °C for
/// fresh cells, −196 to −150 °C for vapour-phase liquid nitrogen). Temperature logs are
/// checked against it to find excursions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "RawStorageRange")]
pub struct StorageRange {
    /// The lowest acceptable temperature, °C.
    min_celsius: f64,
    /// The highest acceptable temperature, °C.
    max_celsius: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorageRange {
    min_celsius: f64,
    max_celsius: f64,
}

impl TryFrom<RawStorageRange> for StorageRange {
    type Error = MeasureError;
    fn try_from(r: RawStorageRange) -> Result<Self, Self::Error> {
        StorageRange::new(r.min_celsius, r.max_celsius)
    }
}

impl StorageRange {
    /// Builds a range; both bounds finite, not below absolute zero, and `min < max`.
    pub fn new(min_celsius: f64, max_celsius: f64) -> Result<Self, MeasureError> {
        for (field, v) in [("min_celsius", min_celsius), ("max_celsius", max_celsius)] {
            if !v.is_finite() {
                return Err(MeasureError::NotFinite { field });
            }
            if v < ABSOLUTE_ZERO_C {
                return Err(MeasureError::BelowAbsoluteZero { field, value: v });
            }
        }
        if min_celsius >= max_celsius {
            return Err(MeasureError::EmptyRange {
                min: min_celsius,
                max: max_celsius,
            });
        }
        Ok(StorageRange {
            min_celsius,
            max_celsius,
        })
    }
    /// The lowest acceptable temperature, °C.
    pub fn min_celsius(&self) -> f64 {
        self.min_celsius
    }
    /// The highest acceptable temperature, °C.
    pub fn max_celsius(&self) -> f64 {
        self.max_celsius
    }
    /// Whether `celsius` is inside the range (bounds included).
    pub fn contains(&self, celsius: f64) -> bool {
        celsius >= self.min_celsius && celsius <= self.max_celsius
    }
}

impl fmt::Display for StorageRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {} °C", self.min_celsius, self.max_celsius)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_symbols_and_aliases() {
        for u in Unit::ALL {
            assert_eq!(u.symbol().parse::<Unit>().unwrap(), u);
            assert_eq!(serde_json::to_value(u).unwrap(), u.symbol());
        }
        assert_eq!("ug/mL".parse::<Unit>().unwrap(), Unit::UgPerMl);
        assert_eq!("percent".parse::<Unit>().unwrap(), Unit::Percent);
        assert!(matches!(
            "fraction".parse::<Unit>(),
            Err(MeasureError::UnknownUnit(_))
        ));
    }

    #[test]
    fn storage_ranges() {
        let r = StorageRange::new(2.0, 8.0).unwrap();
        assert!(r.contains(2.0) && r.contains(8.0) && !r.contains(8.01));
        assert!(matches!(
            StorageRange::new(8.0, 2.0),
            Err(MeasureError::EmptyRange { .. })
        ));
        assert!(StorageRange::new(5.0, 5.0).is_err());
        assert!(matches!(
            StorageRange::new(-300.0, -150.0),
            Err(MeasureError::BelowAbsoluteZero {
                field: "min_celsius",
                ..
            })
        ));
        assert!(StorageRange::new(f64::NAN, 1.0).is_err());
        let json: Result<StorageRange, _> =
            serde_json::from_str(r#"{"min_celsius": 8, "max_celsius": 2}"#);
        assert!(json.unwrap_err().to_string().contains("must be below"));
        let ok: StorageRange =
            serde_json::from_str(r#"{"min_celsius": -196, "max_celsius": -150}"#).unwrap();
        assert_eq!(ok.max_celsius(), -150.0);
        let unknown: Result<StorageRange, _> =
            serde_json::from_str(r#"{"min_celsius": 2, "max_celsius": 8, "x": 1}"#);
        assert!(unknown.is_err());
    }

    #[test]
    fn finite_numbers() {
        assert!(FiniteNumber::new(f64::INFINITY).is_none());
        assert_eq!(FiniteNumber::new(1.5).unwrap().get(), 1.5);
        let n: FiniteNumber = serde_json::from_str("2.5").unwrap();
        assert_eq!(f64::from(n), 2.5);
    }
}
