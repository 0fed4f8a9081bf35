//! The CLI integration tests: one binary, one module per command group.

mod durability;
mod evaluate;
mod keys;
mod report;
mod stats;
mod trace;
