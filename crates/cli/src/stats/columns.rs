//! Turning loaded columns into the inputs the models take: covariate sets and the
//! treated/control split that matching and weighting share.

use saisei_stats::Covariates;

use super::report::stats_error;
use super::table::{Kind, Table};
use crate::exit::CliError;

/// Builds the named covariates from a loaded table.
pub fn covariates_from(table: &mut Table, names: &[String]) -> Result<Covariates, CliError> {
    let columns = names.iter().map(|n| table.numeric(n)).collect();
    Covariates::new(names.to_vec(), columns).map_err(stats_error)
}

/// The `(name, Numeric)` requests for a list of covariates.
pub fn numeric_columns(names: &[String]) -> Vec<(&str, Kind)> {
    names.iter().map(|n| (n.as_str(), Kind::Numeric)).collect()
}

/// Splits a 0/1 treatment column into arms, refusing a column with an empty arm
/// (a non-binary column is left for the propensity model to report).
pub fn treated_arms(name: &str, treatment: &[f64]) -> Result<Vec<bool>, CliError> {
    let treated: Vec<bool> = treatment.iter().map(|&t| t == 1.0).collect();
    let binary = treatment.iter().all(|&t| t == 0.0 || t == 1.0);
    for (arm, flag) in [("treated", true), ("control", false)] {
        if binary && !treated.contains(&flag) {
            return Err(CliError::input(format!(
                "empty group: there are no {arm} rows ({name} = {})",
                u8::from(flag)
            )));
        }
    }
    Ok(treated)
}
