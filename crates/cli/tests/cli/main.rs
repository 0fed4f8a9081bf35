//! The CLI integration tests: one binary, one module per command group.

mod backup;
mod browser;
mod durability;
mod evaluate;
mod integrity;
mod keys;
mod report;
mod stats;
mod trace;
