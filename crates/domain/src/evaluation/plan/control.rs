//! The control group: where controls come from, who is eligible, which covariates make
//! them comparable and by which adjustment method.

use crate::registry::{ControlSource, Sex};
use crate::text::{Code, Text};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

/// Whether control data are collected forward or taken from the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataDirection {
    /// Collected prospectively, concurrently with the treated patients.
    Prospective,
    /// Taken retrospectively from existing data.
    Retrospective,
}

/// A baseline covariate for adjustment, written `age`, `sex`, `index_year` or
/// `baseline:<code>` (the baseline value of an observation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CovariateSpec {
    /// Age in years at the index date.
    Age,
    /// Female sex (1) or not (0).
    Sex,
    /// Calendar year of the index date (secular trends in care).
    IndexYear,
    /// Baseline value of an observation code.
    Baseline(Code),
}

impl CovariateSpec {
    /// The column name used in datasets and balance tables.
    pub fn column(&self) -> String {
        match self {
            CovariateSpec::Age => "age".into(),
            CovariateSpec::Sex => "female".into(),
            CovariateSpec::IndexYear => "index_year".into(),
            CovariateSpec::Baseline(c) => format!("baseline {c}"),
        }
    }
}

impl TryFrom<String> for CovariateSpec {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.trim() {
            "age" => Ok(CovariateSpec::Age),
            "sex" => Ok(CovariateSpec::Sex),
            "index_year" => Ok(CovariateSpec::IndexYear),
            other => match other.strip_prefix("baseline:") {
                Some(code) => Code::try_from(code)
                    .map(CovariateSpec::Baseline)
                    .map_err(|e| format!("baseline code {e}")),
                None => Err(format!(
                    "'{other}' is not a covariate: use age, sex, index_year or baseline:<code>"
                )),
            },
        }
    }
}

impl From<CovariateSpec> for String {
    fn from(c: CovariateSpec) -> String {
        c.to_string()
    }
}

impl fmt::Display for CovariateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CovariateSpec::Age => f.write_str("age"),
            CovariateSpec::Sex => f.write_str("sex"),
            CovariateSpec::IndexYear => f.write_str("index_year"),
            CovariateSpec::Baseline(c) => write!(f, "baseline:{c}"),
        }
    }
}

impl utoipa::PartialSchema for CovariateSpec {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^(age|sex|index_year|baseline:.+)$"))
            .examples(["baseline:KOOS-pain"])
            .into()
    }
}

impl utoipa::ToSchema for CovariateSpec {}

/// The estimand of weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeightingEstimand {
    /// Effect in the treated (controls weighted e/(1 − e)).
    Att,
    /// Effect in the whole population.
    Ate,
    /// Effect in the overlap population (overlap weights).
    Ato,
}

/// How the control group is made comparable (item 6 D-⑦: matching, propensity scores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdjustmentMethod {
    /// Nearest-neighbour matching on the logit of the propensity score.
    Matching {
        /// Controls per treated patient.
        ratio: u32,
        /// Caliper in SDs of the logit of the propensity score.
        #[serde(default)]
        caliper: Option<f64>,
    },
    /// Inverse probability of treatment weighting.
    Weighting {
        /// The estimand.
        estimand: WeightingEstimand,
        /// Truncate weights at this quantile (e.g. 0.99).
        #[serde(default)]
        truncate: Option<f64>,
    },
    /// Stratification on propensity-score quantiles.
    Stratification {
        /// Number of strata (e.g. 5).
        strata: u32,
    },
}

impl AdjustmentMethod {
    /// A short name for reports.
    pub fn label(&self) -> String {
        match self {
            AdjustmentMethod::Matching { ratio, caliper } => format!(
                "1:{ratio} propensity-score matching{}",
                caliper
                    .map(|c| format!(" (caliper {c} SD of the logit)"))
                    .unwrap_or_default()
            ),
            AdjustmentMethod::Weighting { estimand, .. } => format!(
                "inverse probability of treatment weighting ({})",
                match estimand {
                    WeightingEstimand::Att => "ATT",
                    WeightingEstimand::Ate => "ATE",
                    WeightingEstimand::Ato => "overlap",
                }
            ),
            AdjustmentMethod::Stratification { strata } => {
                format!("stratification on {strata} propensity-score strata")
            }
        }
    }
}

/// Who may enter the analysis, treated and controls alike.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// Youngest age at the index date.
    #[serde(default)]
    pub min_age: Option<u32>,
    /// Oldest age at the index date.
    #[serde(default)]
    pub max_age: Option<u32>,
    /// Sexes eligible; empty: all.
    #[serde(default)]
    pub sexes: Vec<Sex>,
    /// Earliest index date.
    #[serde(default)]
    pub index_from: Option<Date>,
    /// Latest index date.
    #[serde(default)]
    pub index_to: Option<Date>,
    /// Controls only from the sites that use the product.
    #[serde(default)]
    pub same_sites_only: bool,
    /// How many days before the index date a baseline value may be (default 60).
    #[serde(default)]
    pub baseline_window_days: Option<u32>,
}

impl Eligibility {
    /// The baseline window in days.
    pub fn baseline_window(&self) -> u32 {
        self.baseline_window_days.unwrap_or(60)
    }
}

/// Item (6): the control group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlGroup {
    /// Where controls come from.
    #[serde(default)]
    pub source: Option<ControlSource>,
    /// Prospective or retrospective collection.
    #[serde(default)]
    pub direction: Option<DataDirection>,
    /// Why this source is appropriate, required unless controls are concurrent at the
    /// same sites (item 6 B).
    #[serde(default)]
    pub source_justification: Option<Text>,
    /// For retrospective controls: that the data the evaluation needs were confirmed to
    /// exist beforehand (item 6 E).
    #[serde(default)]
    pub data_availability_confirmed: bool,
    /// Who may enter the analysis.
    #[serde(default)]
    pub eligibility: Eligibility,
    /// Baseline covariates for the propensity score.
    #[serde(default)]
    pub covariates: Vec<CovariateSpec>,
    /// How controls are made comparable.
    #[serde(default)]
    pub method: Option<AdjustmentMethod>,
}
