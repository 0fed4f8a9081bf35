//! Named numeric columns: the covariates of a model, checked once.
//!
//! Models take a [`Covariates`] rather than raw slices so that the checks every model
//! needs (equal lengths, finite values, no constant column) are done in one place and
//! errors name the column the analyst wrote.

use crate::error::{Result, StatsError};

/// Equal-length, finite, named columns of `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariates {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
    rows: usize,
}

impl Covariates {
    /// Builds a covariate set, refusing unequal lengths and non-finite values.
    ///
    /// Zero columns is allowed (an intercept-only or null model).
    pub fn new(names: Vec<String>, columns: Vec<Vec<f64>>) -> Result<Self> {
        if names.len() != columns.len() {
            return Err(StatsError::InvalidArgument(format!(
                "{} covariate names for {} columns",
                names.len(),
                columns.len()
            )));
        }
        let rows = columns.first().map_or(0, Vec::len);
        for (name, col) in names.iter().zip(&columns) {
            if col.len() != rows {
                return Err(StatsError::LengthMismatch {
                    name: name.clone(),
                    got: col.len(),
                    expected: rows,
                });
            }
            check_finite(name, col)?;
        }
        Ok(Covariates {
            names,
            columns,
            rows,
        })
    }

    /// An empty covariate set over `rows` rows (the null model).
    pub fn empty(rows: usize) -> Self {
        Covariates {
            names: Vec::new(),
            columns: Vec::new(),
            rows,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of covariates.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True when there are no covariates.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The covariate names, in model order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The columns, in model order.
    pub fn columns(&self) -> &[Vec<f64>] {
        &self.columns
    }

    /// Refuses a covariate that takes a single value, which no model can estimate.
    pub fn check_not_constant(&self) -> Result<()> {
        for (name, col) in self.names.iter().zip(&self.columns) {
            if let Some(&first) = col.first()
                && col.iter().all(|&v| v == first)
            {
                return Err(StatsError::ConstantCovariate {
                    name: name.clone(),
                    value: first,
                });
            }
        }
        Ok(())
    }

    /// Row-major copy (`rows × len`), optionally with a leading column of ones;
    /// the hot loops read one row at a time.
    pub(crate) fn row_major(&self, intercept: bool) -> Vec<f64> {
        let k = self.len() + usize::from(intercept);
        let mut out = vec![0.0; self.rows * k];
        if intercept {
            for r in 0..self.rows {
                out[r * k] = 1.0;
            }
        }
        let offset = usize::from(intercept);
        for (j, col) in self.columns.iter().enumerate() {
            for (r, &v) in col.iter().enumerate() {
                out[r * k + offset + j] = v;
            }
        }
        out
    }
}

/// Refuses NaN and infinities in a named column.
pub(crate) fn check_finite(name: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(row) => Err(StatsError::NonFinite {
            name: name.to_owned(),
            row,
            value: values[row],
        }),
        None => Ok(()),
    }
}

/// Refuses anything but 0 and 1 in a named column.
pub(crate) fn check_binary(name: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|&v| v != 0.0 && v != 1.0) {
        Some(row) => Err(StatsError::NotBinary {
            name: name.to_owned(),
            row,
            value: values[row],
        }),
        None => Ok(()),
    }
}

/// Refuses a column whose length differs from `expected`.
pub(crate) fn check_len(name: &str, values: &[f64], expected: usize) -> Result<()> {
    if values.len() == expected {
        Ok(())
    } else {
        Err(StatsError::LengthMismatch {
            name: name.to_owned(),
            got: values.len(),
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unequal_lengths() {
        let err = Covariates::new(
            vec!["a".into(), "b".into()],
            vec![vec![1.0, 2.0], vec![1.0]],
        )
        .unwrap_err();
        assert!(
            matches!(err, StatsError::LengthMismatch { ref name, got: 1, expected: 2 } if name == "b")
        );
    }

    #[test]
    fn refuses_nan_naming_the_row() {
        let err = Covariates::new(vec!["a".into()], vec![vec![1.0, f64::NAN]]).unwrap_err();
        assert!(matches!(err, StatsError::NonFinite { row: 1, .. }));
    }

    #[test]
    fn constant_covariate_is_named() {
        let c = Covariates::new(
            vec!["a".into(), "k".into()],
            vec![vec![1.0, 2.0], vec![3.0, 3.0]],
        )
        .unwrap();
        let err = c.check_not_constant().unwrap_err();
        assert_eq!(
            err,
            StatsError::ConstantCovariate {
                name: "k".into(),
                value: 3.0
            }
        );
    }

    #[test]
    fn row_major_with_intercept() {
        let c = Covariates::new(
            vec!["a".into(), "b".into()],
            vec![vec![1.0, 2.0], vec![3.0, 4.0]],
        )
        .unwrap();
        assert_eq!(c.row_major(true), vec![1.0, 1.0, 3.0, 1.0, 2.0, 4.0]);
        assert_eq!(c.row_major(false), vec![1.0, 3.0, 2.0, 4.0]);
    }
}
