//! The CLI integration tests: one binary, one module per command group.

mod durability;
mod evaluate;
mod stats;
mod trace;
