//! Reading the columns a command needs from a CSV file (or stdin).
//!
//! Only the named columns are parsed; numbers go straight from the csv crate's
//! `ByteRecord` into `Vec<f64>` without a per-row allocation, which is what keeps a
//! million-row file in the few-hundred-millisecond range. Problems are reported as
//! input errors naming the column, the line and the value, because the analyst has to
//! fix the file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};

use saisei_stats::survival::Grouping;

use crate::exit::CliError;

/// How a column is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number per row.
    Numeric,
    /// A label per row (groups, strata, clusters), kept as integer codes.
    Label,
    /// Raw text per row (identifiers), kept verbatim.
    Text,
}

/// Raw text values stored back to back.
#[derive(Debug, Default)]
pub struct TextColumn {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl TextColumn {
    /// The value of row `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        std::str::from_utf8(&self.bytes[start..self.ends[i]]).unwrap_or("?")
    }
}

enum Sink {
    Numeric(Vec<f64>),
    Label {
        index: HashMap<Box<[u8]>, u32>,
        labels: Vec<String>,
        codes: Vec<u32>,
    },
    Text(TextColumn),
}

/// The parsed columns of one file.
pub struct Table {
    rows: usize,
    numeric: HashMap<String, Vec<f64>>,
    labels: HashMap<String, Grouping>,
    text: HashMap<String, TextColumn>,
}

impl Table {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Takes a numeric column out of the table.
    pub fn numeric(&mut self, name: &str) -> Vec<f64> {
        self.numeric.remove(name).unwrap_or_default()
    }

    /// Takes a label column out of the table, groups sorted (numerically when every
    /// label is a number, as R orders factor levels of a numeric column).
    pub fn labels(&mut self, name: &str) -> Grouping {
        self.labels.remove(name).unwrap_or(Grouping {
            labels: Vec::new(),
            codes: Vec::new(),
        })
    }

    /// Takes a text column out of the table.
    pub fn text(&mut self, name: &str) -> TextColumn {
        self.text.remove(name).unwrap_or_default()
    }
}

fn is_missing(field: &[u8]) -> bool {
    field.is_empty() || field == b"NA" || field == b"NaN" || field == b"." || field == b"nan"
}

fn trim(field: &[u8]) -> &[u8] {
    field.trim_ascii()
}

/// Files below this size are parsed on one thread; above it, on two.
const PARALLEL_BYTES: usize = 8 << 20;

/// Reads `columns` from `path` (`-` for stdin).
///
/// The file is read into memory once; when it is large and has no quoted fields (so
/// every record is one line) the body is split at a line break and the halves are
/// parsed on two threads, which halves the parsing time of a million-row file.
pub fn load(path: &str, columns: &[(&str, Kind)]) -> Result<Table, CliError> {
    let mut bytes = Vec::new();
    if path == "-" {
        io::stdin().lock().read_to_end(&mut bytes)?;
    } else {
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| CliError::input(format!("cannot read CSV file '{path}': {e}")))?;
    }
    let mut header_reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let headers = header_reader
        .byte_headers()
        .map_err(|e| CliError::input(format!("cannot read the header row of '{path}': {e}")))?
        .clone();
    let body_start = usize::try_from(header_reader.position().byte()).unwrap_or(bytes.len());
    let header_names: Vec<String> = headers
        .iter()
        .map(|h| String::from_utf8_lossy(trim(h)).into_owned())
        .collect();

    let mut plan: Vec<(usize, String, Kind)> = Vec::new();
    for &(name, kind) in columns {
        if plan.iter().any(|(_, n, _)| n == name) {
            continue;
        }
        let Some(index) = header_names.iter().position(|h| h == name) else {
            return Err(CliError::input(format!(
                "column '{name}' not found in '{path}'; the columns are: {}",
                header_names.join(", ")
            )));
        };
        plan.push((index, name.to_owned(), kind));
    }

    let body = &bytes[body_start.min(bytes.len())..];
    let header_lines = 1 + bytes[..body_start.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1) as u64;
    let chunks = split_body(body);
    let results: Vec<Result<Chunk, CliError>> = if chunks.len() == 1 {
        vec![parse_chunk(path, chunks[0], &plan, header_lines)]
    } else {
        let first_lines = chunks[0].iter().filter(|&&b| b == b'\n').count() as u64;
        std::thread::scope(|scope| {
            let second =
                scope.spawn(|| parse_chunk(path, chunks[1], &plan, header_lines + first_lines));
            let first = parse_chunk(path, chunks[0], &plan, header_lines);
            vec![
                first,
                second.join().unwrap_or_else(|_| {
                    Err(CliError::Failure(anyhow::anyhow!(
                        "CSV parser thread panicked"
                    )))
                }),
            ]
        })
    };
    let mut merged: Option<Chunk> = None;
    for result in results {
        let chunk = result?;
        merged = Some(match merged {
            None => chunk,
            Some(acc) => acc.append(chunk),
        });
    }
    let chunk = merged.unwrap_or_else(|| Chunk::empty(&plan));

    let mut table = Table {
        rows: chunk.rows,
        numeric: HashMap::new(),
        labels: HashMap::new(),
        text: HashMap::new(),
    };
    for ((_, name, _), sink) in plan.into_iter().zip(chunk.sinks) {
        match sink {
            Sink::Numeric(v) => {
                table.numeric.insert(name, v);
            }
            Sink::Label { labels, codes, .. } => {
                table.labels.insert(name, sorted_grouping(labels, codes));
            }
            Sink::Text(t) => {
                table.text.insert(name, t);
            }
        }
    }
    Ok(table)
}

/// Splits a large, quote-free CSV body at the line break nearest its middle.
fn split_body(body: &[u8]) -> Vec<&[u8]> {
    if body.len() < PARALLEL_BYTES || body.contains(&b'"') {
        return vec![body];
    }
    match body[body.len() / 2..].iter().position(|&b| b == b'\n') {
        Some(offset) => {
            let cut = body.len() / 2 + offset + 1;
            vec![&body[..cut], &body[cut..]]
        }
        None => vec![body],
    }
}

/// The parsed columns of one slice of the body.
struct Chunk {
    rows: usize,
    sinks: Vec<Sink>,
}

impl Chunk {
    fn empty(plan: &[(usize, String, Kind)]) -> Chunk {
        Chunk {
            rows: 0,
            sinks: plan.iter().map(|(_, _, k)| Sink::new(*k)).collect(),
        }
    }

    /// Appends a later chunk, re-coding its labels into this chunk's codes.
    fn append(mut self, later: Chunk) -> Chunk {
        for (sink, other) in self.sinks.iter_mut().zip(later.sinks) {
            match (sink, other) {
                (Sink::Numeric(a), Sink::Numeric(b)) => a.extend(b),
                (Sink::Text(a), Sink::Text(b)) => {
                    let shift = a.bytes.len();
                    a.bytes.extend(b.bytes);
                    a.ends.extend(b.ends.into_iter().map(|e| e + shift));
                }
                (
                    Sink::Label {
                        index,
                        labels,
                        codes,
                    },
                    Sink::Label {
                        labels: other_labels,
                        codes: other_codes,
                        ..
                    },
                ) => {
                    let remap: Vec<u32> = other_labels
                        .into_iter()
                        .map(|l| {
                            *index.entry(l.as_bytes().into()).or_insert_with(|| {
                                labels.push(l.clone());
                                (labels.len() - 1) as u32
                            })
                        })
                        .collect();
                    codes.extend(other_codes.into_iter().map(|c| remap[c as usize]));
                }
                _ => {}
            }
        }
        self.rows += later.rows;
        self
    }
}

impl Sink {
    fn new(kind: Kind) -> Sink {
        match kind {
            Kind::Numeric => Sink::Numeric(Vec::new()),
            Kind::Label => Sink::Label {
                index: HashMap::new(),
                labels: Vec::new(),
                codes: Vec::new(),
            },
            Kind::Text => Sink::Text(TextColumn::default()),
        }
    }
}

/// Parses the records of `bytes` (no header); lines are reported as `line_offset` plus
/// the line within the slice.
fn parse_chunk(
    path: &str,
    bytes: &[u8],
    plan: &[(usize, String, Kind)],
    line_offset: u64,
) -> Result<Chunk, CliError> {
    let mut sinks: Vec<Sink> = plan.iter().map(|(_, _, k)| Sink::new(*k)).collect();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut rows = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(CliError::input(format!("malformed CSV in '{path}': {e}")));
            }
        }
        let line = line_offset + record.position().map_or(rows as u64 + 1, |p| p.line());
        for ((index, name, _), sink) in plan.iter().zip(&mut sinks) {
            let field = trim(record.get(*index).unwrap_or(b""));
            match sink {
                Sink::Numeric(values) => {
                    if is_missing(field) {
                        return Err(CliError::input(format!(
                            "column '{name}' has a missing value at line {line}; rows with missing values are not dropped silently, remove or impute them first"
                        )));
                    }
                    let parsed = std::str::from_utf8(field)
                        .ok()
                        .and_then(|s| s.parse::<f64>().ok())
                        .filter(|v| v.is_finite());
                    match parsed {
                        Some(v) => values.push(v),
                        None => {
                            return Err(CliError::input(format!(
                                "column '{name}' has a non-numeric value '{}' at line {line}",
                                String::from_utf8_lossy(field)
                            )));
                        }
                    }
                }
                Sink::Label {
                    index,
                    labels,
                    codes,
                } => {
                    if is_missing(field) {
                        return Err(CliError::input(format!(
                            "column '{name}' has a missing value at line {line}; remove or recode those rows first"
                        )));
                    }
                    let code = match index.get(field) {
                        Some(&c) => c,
                        None => {
                            let c = labels.len() as u32;
                            index.insert(field.into(), c);
                            labels.push(String::from_utf8_lossy(field).into_owned());
                            c
                        }
                    };
                    codes.push(code);
                }
                Sink::Text(col) => {
                    col.bytes.extend_from_slice(field);
                    col.ends.push(col.bytes.len());
                }
            }
        }
        rows += 1;
    }
    Ok(Chunk { rows, sinks })
}

/// Re-codes labels in sorted order: numerically when all are numbers, else as text.
fn sorted_grouping(labels: Vec<String>, codes: Vec<u32>) -> Grouping {
    let numbers: Option<Vec<f64>> = labels.iter().map(|l| l.parse::<f64>().ok()).collect();
    let mut order: Vec<usize> = (0..labels.len()).collect();
    match &numbers {
        Some(n) => order.sort_by(|&a, &b| n[a].total_cmp(&n[b])),
        None => order.sort_by(|&a, &b| labels[a].cmp(&labels[b])),
    }
    let mut new_code = vec![0u32; labels.len()];
    for (rank, &old) in order.iter().enumerate() {
        new_code[old] = rank as u32;
    }
    Grouping {
        labels: order.iter().map(|&i| labels[i].clone()).collect(),
        codes: codes.into_iter().map(|c| new_code[c as usize]).collect(),
    }
}
