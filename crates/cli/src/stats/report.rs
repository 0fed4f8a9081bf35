//! Output shared by the stats commands: JSON on request, otherwise an aligned table;
//! and the one mapping from the stats crate's errors to the CLI's exit code 2.

use std::io::Write;

use saisei_stats::StatsError;
use serde::Serialize;

use crate::exit::CliError;

/// Maps a stats error to an input error, turning zero-based data rows into CSV line
/// numbers (the header is line 1).
pub fn stats_error(e: StatsError) -> CliError {
    let line = |row: usize| row + 2;
    let message = match e {
        StatsError::NonFinite { name, row, value } => {
            format!(
                "column '{name}' has a non-finite value ({value}) at line {}",
                line(row)
            )
        }
        StatsError::NotBinary { name, row, value } => format!(
            "column '{name}' must be 0 or 1 (status may also be coded 1/2 as in R) but has {value} at line {}",
            line(row)
        ),
        StatsError::InvalidValue {
            name,
            row,
            value,
            reason,
        } => format!(
            "column '{name}' has an invalid value {value} at line {}: {reason}",
            line(row)
        ),
        other => other.to_string(),
    };
    CliError::Input(message)
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| CliError::Failure(e.into()))?;
    writeln!(out)?;
    Ok(())
}

/// Formats a number for a table: fixed for moderate magnitudes, scientific otherwise.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        "NA".to_owned()
    } else if v == 0.0 || (v.abs() >= 1e-4 && v.abs() < 1e7) {
        format!("{v:.6}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    } else {
        format!("{v:.4e}")
    }
}

/// Formats an optional number ("NA" when absent).
pub fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "NA".to_owned(), num)
}

/// A p-value, as R prints very small ones.
pub fn pval(p: f64) -> String {
    if p < 2e-16 {
        "<2e-16".to_owned()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// Prints rows as a table with right-aligned columns under `headers`.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let line = |cells: Vec<&str>| -> String {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(headers.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// Prints a line on stdout.
pub fn say(text: &str) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}
