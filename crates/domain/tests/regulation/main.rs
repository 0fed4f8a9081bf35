//! Integration tests of the regulatory engine (`saisei_domain::regulation`), through its
//! public API only: the embedded rule sets, the classifier table, deadlines, lifecycle
//! checks and properties over the whole description space.

mod classification;
mod common;
mod deadlines;
mod lifecycle;
mod properties;
mod rule_sets;
