//! Every table, and which entity lives in it, grouped by the part of Saisei that owns
//! them. Each group lists its tables in dependency order (a table only refers to tables
//! before it, or in groups before it).

pub mod evaluation;
pub mod quality;
pub mod registry;
pub mod trust;

pub use registry::*;

/// Every table of every group, in dependency order.
pub fn all() -> Vec<&'static crate::TableDef> {
    registry::TABLES
        .iter()
        .chain(quality::TABLES.iter())
        .chain(evaluation::TABLES.iter())
        .chain(trust::TABLES.iter())
        .copied()
        .collect()
}
