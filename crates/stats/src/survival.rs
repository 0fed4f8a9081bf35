//! Survival outcomes: event indicators and follow-up times, checked once.
//!
//! R's `Surv()` accepts status coded 0/1 (1 = event) or 1/2 (2 = event; R's `lung`
//! dataset uses it); so do we, so a CSV exported from R works unchanged.

use crate::error::{Result, StatsError};

/// A grouping of rows (strata, clusters, arms) into labelled integer codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// One label per code; code `c` is `labels[c]`.
    pub labels: Vec<String>,
    /// The code of each row, `0..labels.len()`.
    pub codes: Vec<u32>,
}

impl Grouping {
    /// Builds a grouping, checking every code has a label.
    pub fn new(labels: Vec<String>, codes: Vec<u32>) -> Result<Self> {
        if let Some(c) = codes.iter().find(|&&c| c as usize >= labels.len()) {
            return Err(StatsError::InvalidArgument(format!(
                "group code {c} has no label ({} labels)",
                labels.len()
            )));
        }
        Ok(Grouping { labels, codes })
    }

    /// Groups rows by the distinct values of a numeric column, labels sorted numerically.
    pub fn from_values(values: &[f64]) -> Self {
        let mut distinct: Vec<f64> = values.to_vec();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let codes = values
            .iter()
            .map(|v| distinct.partition_point(|d| d.total_cmp(v).is_lt()) as u32)
            .collect();
        Grouping {
            labels: distinct.iter().map(|v| format!("{v}")).collect(),
            codes,
        }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no groups.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Reads a status column as event indicators: 0/1 (1 = event) or 1/2 (2 = event).
pub fn event_indicator(name: &str, status: &[f64]) -> Result<Vec<bool>> {
    let zero_one = status.iter().all(|&s| s == 0.0 || s == 1.0);
    if zero_one {
        return Ok(status.iter().map(|&s| s == 1.0).collect());
    }
    let one_two = status.iter().all(|&s| s == 1.0 || s == 2.0);
    if one_two {
        return Ok(status.iter().map(|&s| s == 2.0).collect());
    }
    // Either a value no coding allows, or the first 2 in a column that also has 0s.
    let row = status
        .iter()
        .position(|&s| !(s == 0.0 || s == 1.0 || s == 2.0))
        .or_else(|| status.iter().position(|&s| s == 2.0))
        .unwrap_or(0);
    Err(StatsError::NotBinary {
        name: name.to_owned(),
        row,
        value: status[row],
    })
}

/// Refuses negative or non-finite follow-up times.
pub fn check_times(name: &str, time: &[f64]) -> Result<()> {
    crate::covariates::check_finite(name, time)?;
    match time.iter().position(|&t| t < 0.0) {
        Some(row) => Err(StatsError::InvalidValue {
            name: name.to_owned(),
            row,
            value: time[row],
            reason: "survival times must be zero or positive",
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codings() {
        assert_eq!(
            event_indicator("s", &[0.0, 1.0]).unwrap(),
            vec![false, true]
        );
        assert_eq!(
            event_indicator("s", &[1.0, 2.0, 2.0]).unwrap(),
            vec![false, true, true]
        );
        assert!(matches!(
            event_indicator("s", &[0.0, 2.0]),
            Err(StatsError::NotBinary { row: 1, .. })
        ));
    }

    #[test]
    fn negative_time_refused() {
        assert!(check_times("t", &[1.0, -1.0]).is_err());
    }

    #[test]
    fn grouping_from_values_sorts_numerically() {
        let g = Grouping::from_values(&[10.0, 2.0, 10.0]);
        assert_eq!(g.labels, vec!["2", "10"]);
        assert_eq!(g.codes, vec![1, 0, 1]);
    }
}
